//! Thumbnails of images and PDFs: the decoders behind `shared::ports::Thumbnailer`.
//!
//! The format is judged by the bytes, never by the name or the stored type. Each
//! decoder reads the header first and refuses more pixels than the limit before it
//! allocates anything for them; JPEGs are decoded at a reduced scale (the IDCT gives
//! 1/2, 1/4 or 1/8 of the size directly), then every image is resized with SIMD
//! (`fast_image_resize`), turned upright (EXIF orientation, on the small image) and
//! encoded: JPEG, or PNG where transparency is left.

mod exif;
pub mod isolated;
mod jpeg;
mod jpeg_dc;
mod output;
mod pdf;
mod pixels;
mod raster;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
mod webp;

use std::panic::{catch_unwind, AssertUnwindSafe};

use shared::error::{Error, ErrorCode, Result};
use shared::ports::{DecodeLimits, Fit, Thumbnail, Thumbnailer};

pub use isolated::{Isolated, PdfIsolated};
pub use pixels::{Layout, Pixels};

/// The formats a thumbnail is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Jpeg,
    Png,
    Gif,
    WebP,
    Pdf,
}

impl SourceKind {
    /// The kind of `bytes` by their signature; `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<SourceKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(SourceKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(SourceKind::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(SourceKind::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(SourceKind::WebP)
        } else if bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            // The PDF header may follow some junk in its first kilobyte (readers allow it).
            Some(SourceKind::Pdf)
        } else {
            None
        }
    }
}

/// The thumbnailer of the preview function.
#[derive(Clone, Copy, Debug, Default)]
pub struct Renderer;

impl Thumbnailer for Renderer {
    fn render(&self, source: Vec<u8>, fit: Fit, limits: DecodeLimits) -> Result<Thumbnail> {
        // A decoder bug must answer like a corrupt file, not take the process down.
        catch_unwind(AssertUnwindSafe(|| render(source, fit, limits))).unwrap_or_else(|_| {
            Err(unreadable(
                "the file could not be decoded (the decoder failed)",
            ))
        })
    }
}

/// A thumbnail of `source` fitted in `fit`.
pub fn render(source: Vec<u8>, fit: Fit, limits: DecodeLimits) -> Result<Thumbnail> {
    let kind = SourceKind::sniff(&source).ok_or_else(|| {
        Error::new(
            ErrorCode::UnsupportedMediaType,
            "previews are made of JPEG, PNG, GIF and WebP images and PDF documents",
        )
    })?;
    let decoded = match kind {
        SourceKind::Jpeg => jpeg::decode(&source, fit, limits)?,
        SourceKind::Png => raster::decode_png(&source, limits)?,
        SourceKind::Gif => raster::decode_gif(&source, limits)?,
        SourceKind::WebP => webp::decode(&source, fit, limits)?,
        SourceKind::Pdf => pdf::render_first_page(source, fit)?.into(),
    };
    output::finish(decoded.pixels, fit, decoded.orientation)
}

/// What a decoder hands on: the pixels and the EXIF orientation to apply (1: upright).
pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub orientation: u8,
}

impl From<Pixels> for Decoded {
    fn from(pixels: Pixels) -> Self {
        Decoded {
            pixels,
            orientation: 1,
        }
    }
}

pub(crate) fn unreadable(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::UnreadableImage, message)
}

/// A decoder's failure on a damaged file, in words of our own: its own text (which may
/// hold the debug form of its structures) goes only to the log, as the source.
pub(crate) fn damaged(format: &'static str, cause: impl std::fmt::Display) -> Error {
    Error::with_source(
        ErrorCode::UnreadableImage,
        format!("not a readable {format}: the file is damaged or cut short"),
        "decode",
        std::sync::Arc::new(std::io::Error::other(cause.to_string())),
    )
}

/// Refuses a source whose header claims more pixels than the limit.
pub(crate) fn check_pixels(width: u64, height: u64, limits: DecodeLimits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(unreadable("the image has no pixels"));
    }
    if width.saturating_mul(height) > limits.max_pixels {
        return Err(Error::new(
            ErrorCode::ImageTooLarge,
            format!(
                "the image is {width} x {height} pixels; previews are made of images of at most {} megapixels",
                limits.max_pixels / 1_000_000
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
