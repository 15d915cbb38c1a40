//! Thumbnails. The port is here; the decoders live in the `thumbnail` crate, which
//! only the preview function (and the local API) links, so no other binary carries
//! image or PDF code.

use crate::error::{Error, ErrorCode, Result};

/// The largest `w` or `h` a preview may ask for.
pub const MAX_PREVIEW_SIDE: u32 = 2048;
/// The width of a preview that names neither `w` nor `h`.
pub const DEFAULT_PREVIEW_WIDTH: u32 = 300;

/// The box a thumbnail fits in: one side, or both; aspect ratio kept, never enlarged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fit {
    width: Option<u32>,
    height: Option<u32>,
}

impl Fit {
    /// `w`/`h` as asked: each 1..=2048; neither means 300 wide.
    pub fn new(width: Option<u32>, height: Option<u32>) -> Result<Fit> {
        for side in [width, height].into_iter().flatten() {
            if !(1..=MAX_PREVIEW_SIDE).contains(&side) {
                return Err(Error::new(
                    ErrorCode::InvalidQuery,
                    format!("w and h must be between 1 and {MAX_PREVIEW_SIDE}"),
                ));
            }
        }
        Ok(match (width, height) {
            (None, None) => Fit {
                width: Some(DEFAULT_PREVIEW_WIDTH),
                height: None,
            },
            _ => Fit { width, height },
        })
    }

    pub fn width(&self) -> Option<u32> {
        self.width
    }

    pub fn height(&self) -> Option<u32> {
        self.height
    }

    /// The size of a `source_width` × `source_height` image fitted in the box: the
    /// largest that fits with the same aspect ratio, never larger than the source, at
    /// least 1 × 1.
    pub fn size_of(&self, source_width: u32, source_height: u32) -> (u32, u32) {
        let (sw, sh) = (source_width.max(1) as f64, source_height.max(1) as f64);
        let scale = [
            self.width.map(|w| w as f64 / sw),
            self.height.map(|h| h as f64 / sh),
            Some(1.0),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
        let side = |s: f64| ((s * scale).round() as u32).max(1);
        (side(sw), side(sh))
    }

    /// The size of a drawing (a PDF page: `width` × `height` points) fitted in the box.
    /// Unlike pixels, a vector page may be drawn larger than its natural size, but
    /// neither side past 2048.
    pub fn size_of_drawing(&self, width: f32, height: f32) -> (u32, u32) {
        let (w, h) = (f64::from(width.max(1.0)), f64::from(height.max(1.0)));
        let most = f64::from(MAX_PREVIEW_SIDE);
        let scale = [
            self.width.map(|b| b as f64 / w),
            self.height.map(|b| b as f64 / h),
            Some(most / w),
            Some(most / h),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
        let side = |s: f64| ((s * scale).round() as u32).clamp(1, MAX_PREVIEW_SIDE);
        (side(w), side(h))
    }

    /// The name of this box in a cached preview's key: `300x0` (0: that side is free).
    pub fn key_part(&self) -> String {
        format!(
            "{}x{}",
            self.width.unwrap_or_default(),
            self.height.unwrap_or_default()
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

impl ImageFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }

    /// The format of encoded bytes, by their signature.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else {
            None
        }
    }
}

/// An encoded thumbnail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// What a decoder may spend on one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most pixels a source may have, read from its header before anything is decoded.
    pub max_pixels: u64,
    /// Most drawing operations a PDF page may make (checked where PDFs are drawn in a
    /// child process, which stops itself past it).
    pub max_draw_operations: u64,
}

/// Turns the bytes of an image or PDF into a thumbnail. Refusals are errors with the
/// codes `unsupported_media_type` (415), `image_too_large` and `unreadable_image` (422).
/// Runs on a blocking thread: it takes its time and never awaits.
pub trait Thumbnailer: Send + Sync {
    fn render(&self, source: Vec<u8>, fit: Fit, limits: DecodeLimits) -> Result<Thumbnail>;
}

/// Whether a stored content type may be an image or PDF a thumbnailer reads: anything
/// else is refused (415) before a byte is fetched. Generic types are let through and
/// judged by their bytes.
pub fn may_preview(mime_type: &str) -> bool {
    let essence = crate::domain::mime_essence(mime_type);
    matches!(
        essence.as_str(),
        "" | "application/octet-stream"
            | "binary/octet-stream"
            | "application/pdf"
            | "application/x-pdf"
    ) || essence.starts_with("image/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_keep_the_aspect_ratio_and_never_enlarge() {
        let default = Fit::new(None, None).unwrap();
        assert_eq!(default.size_of(4000, 3000), (300, 225));
        assert_eq!(default.size_of(200, 100), (200, 100));
        let both = Fit::new(Some(256), Some(256)).unwrap();
        assert_eq!(both.size_of(4000, 3000), (256, 192));
        assert_eq!(both.size_of(3000, 4000), (192, 256));
        let tall = Fit::new(None, Some(10)).unwrap();
        assert_eq!(tall.size_of(10_000, 10), (10_000, 10));
        assert_eq!(tall.size_of(10_000, 20), (5000, 10));
        assert_eq!(Fit::new(Some(1), None).unwrap().size_of(1, 1000), (1, 1000));
        assert_eq!(Fit::new(Some(1), Some(1)).unwrap().size_of(1, 1000), (1, 1));
        assert_eq!(both.size_of_drawing(595.0, 842.0), (181, 256));
        assert_eq!(
            Fit::new(Some(2048), None)
                .unwrap()
                .size_of_drawing(100.0, 10_000.0),
            (20, 2048)
        );
        assert_eq!(both.key_part(), "256x256");
        assert_eq!(default.key_part(), "300x0");
    }

    #[test]
    fn sides_outside_one_to_2048_are_refused() {
        for (w, h) in [(Some(0), None), (None, Some(2049)), (Some(5), Some(0))] {
            assert_eq!(Fit::new(w, h).unwrap_err().status(), 400);
        }
        assert!(Fit::new(Some(2048), Some(1)).is_ok());
    }

    #[test]
    fn only_images_pdfs_and_unknown_types_are_read() {
        for mime in [
            "image/png",
            "IMAGE/JPEG; q=1",
            "application/pdf",
            "",
            "binary/octet-stream",
        ] {
            assert!(may_preview(mime), "{mime}");
        }
        for mime in ["text/plain", "application/zip", "video/mp4"] {
            assert!(!may_preview(mime), "{mime}");
        }
    }
}
