//! From decoded pixels to the answer: resized to fit (SIMD), turned upright, encoded.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use shared::error::{Error, Result};
use shared::ports::{Fit, ImageFormat, Thumbnail};

use crate::pixels::{Layout, Pixels};

/// JPEG quality of thumbnails: small, and without visible blocks at thumbnail sizes.
const JPEG_QUALITY: u8 = 82;

/// `pixels` (stored with EXIF `orientation`) as an upright thumbnail fitted in `fit`.
pub fn finish(pixels: Pixels, fit: Fit, orientation: u8) -> Result<Thumbnail> {
    let turned = orientation >= 5;
    let (w, h) = if turned {
        let (h, w) = fit.size_of(pixels.height, pixels.width);
        (w, h)
    } else {
        fit.size_of(pixels.width, pixels.height)
    };
    let small = resize(pixels, w, h)?;
    let upright = orient(small, orientation);
    encode(upright)
}

/// Lanczos3 after a box reduction to twice the target (what libvips does too): the
/// cost follows the target's size more than the source's.
pub fn resize(pixels: Pixels, width: u32, height: u32) -> Result<Pixels> {
    if (pixels.width, pixels.height) == (width, height) {
        return Ok(pixels);
    }
    let pixel_type = match pixels.layout {
        Layout::Rgb => PixelType::U8x3,
        Layout::Rgba => PixelType::U8x4,
    };
    let failed = |e: &dyn std::fmt::Display| Error::internal("resize", e.to_string());
    let source = Image::from_vec_u8(pixels.width, pixels.height, pixels.data, pixel_type)
        .map_err(|e| failed(&e))?;
    let mut target = Image::new(width, height, pixel_type);
    let options =
        ResizeOptions::new().resize_alg(ResizeAlg::SuperSampling(FilterType::Lanczos3, 2));
    Resizer::new()
        .resize(&source, &mut target, &options)
        .map_err(|e| failed(&e))?;
    Ok(Pixels {
        width,
        height,
        layout: pixels.layout,
        data: target.into_vec(),
    })
}

/// Applies an EXIF orientation (2–8; anything else leaves the pixels as they are).
pub fn orient(pixels: Pixels, orientation: u8) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return pixels;
    }
    let (w, h) = (pixels.width as usize, pixels.height as usize);
    let c = pixels.layout.channels();
    let turned = orientation >= 5;
    let out_w = if turned { h } else { w };
    let mut data = vec![0u8; pixels.data.len()];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (h - 1 - y, x),
                7 => (h - 1 - y, w - 1 - x),
                _ => (y, w - 1 - x),
            };
            let from = (y * w + x) * c;
            let to = (dy * out_w + dx) * c;
            data[to..to + c].copy_from_slice(&pixels.data[from..from + c]);
        }
    }
    let (width, height) = if turned {
        (pixels.height, pixels.width)
    } else {
        (pixels.width, pixels.height)
    };
    Pixels {
        width,
        height,
        layout: pixels.layout,
        data,
    }
}

/// PNG where some pixel is less than opaque, JPEG otherwise.
pub fn encode(pixels: Pixels) -> Result<Thumbnail> {
    let (width, height) = (pixels.width, pixels.height);
    let encoded = |bytes, format| Thumbnail {
        bytes,
        format,
        width,
        height,
    };
    if pixels.has_transparency() {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder
            .write_header()
            .and_then(|mut writer| writer.write_image_data(&pixels.data))
            .map_err(|e| Error::internal("encode PNG", e.to_string()))?;
        return Ok(encoded(bytes, ImageFormat::Png));
    }
    let rgb = pixels.into_rgb();
    let side = |s: u32| u16::try_from(s).map_err(|_| Error::internal("encode JPEG", "too wide"));
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, JPEG_QUALITY)
        .encode(
            &rgb.data,
            side(width)?,
            side(height)?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| Error::internal("encode JPEG", e.to_string()))?;
    Ok(encoded(bytes, ImageFormat::Jpeg))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 x 2 image whose pixels are numbered 0..6 (in the red channel).
    fn numbered() -> Pixels {
        Pixels {
            width: 3,
            height: 2,
            layout: Layout::Rgb,
            data: (0..6u8).flat_map(|i| [i, 0, 0]).collect(),
        }
    }

    fn reds(p: &Pixels) -> Vec<u8> {
        p.data.chunks_exact(3).map(|c| c[0]).collect()
    }

    #[test]
    fn every_orientation_turns_the_image_upright() {
        // Source rows: [0 1 2] [3 4 5].
        let cases: [(u8, (u32, u32), [u8; 6]); 8] = [
            (1, (3, 2), [0, 1, 2, 3, 4, 5]),
            (2, (3, 2), [2, 1, 0, 5, 4, 3]),
            (3, (3, 2), [5, 4, 3, 2, 1, 0]),
            (4, (3, 2), [3, 4, 5, 0, 1, 2]),
            (5, (2, 3), [0, 3, 1, 4, 2, 5]),
            (6, (2, 3), [3, 0, 4, 1, 5, 2]),
            (7, (2, 3), [5, 2, 4, 1, 3, 0]),
            (8, (2, 3), [2, 5, 1, 4, 0, 3]),
        ];
        for (orientation, size, expected) in cases {
            let turned = orient(numbered(), orientation);
            assert_eq!((turned.width, turned.height), size, "{orientation}");
            assert_eq!(reds(&turned), expected, "{orientation}");
        }
    }
}
