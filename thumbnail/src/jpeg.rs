//! JPEG: decoded straight at the smallest scale (1/8, 1/4, 1/2 or whole) that still
//! covers the thumbnail, so a 12-megapixel photo costs the entropy decoding and
//! little else.

use std::io::Cursor;

use jpeg_decoder::{Decoder, PixelFormat};
use shared::error::Result;
use shared::ports::{DecodeLimits, Fit};

use crate::pixels::{gray_to_rgb, Layout, Pixels};
use crate::{check_pixels, damaged, exif, jpeg_dc, unreadable, Decoded};

pub fn decode(source: &[u8], fit: Fit, limits: DecodeLimits) -> Result<Decoded> {
    if let Ok(header) = jpeg_dc::read_header(source) {
        check_pixels(header.width.into(), header.height.into(), limits)?;
        let orientation = header.exif.map_or(1, exif::orientation);
        let (w, h) = stored_size(fit, header.width, header.height, orientation);
        // 1/8 is enough: the DC coefficients alone. Anything the fast path declines
        // (or finds damaged) goes to the general decoder, which judges it.
        if header.width.div_ceil(8) >= w && header.height.div_ceil(8) >= h {
            if let Ok(pixels) = jpeg_dc::decode_eighth(&header) {
                return Ok(Decoded {
                    pixels,
                    orientation,
                });
            }
        }
    }
    let mut decoder = Decoder::new(Cursor::new(source));
    decoder.read_info().map_err(|e| damaged("JPEG", e))?;
    let info = decoder
        .info()
        .ok_or_else(|| unreadable("not a readable JPEG: no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_pixels(width.into(), height.into(), limits)?;
    let orientation = decoder.exif_data().map_or(1, exif::orientation);
    let (w, h) = stored_size(fit, width, height, orientation);
    let clamp = |side: u32| u16::try_from(side).unwrap_or(u16::MAX);
    let (scaled_w, scaled_h) = decoder
        .scale(clamp(w), clamp(h))
        .map_err(|e| damaged("JPEG", e))?;
    let data = decoder.decode().map_err(|e| damaged("JPEG", e))?;
    let (width, height) = (u32::from(scaled_w), u32::from(scaled_h));
    let data = match info.pixel_format {
        PixelFormat::RGB24 => data,
        PixelFormat::L8 => gray_to_rgb(&data, false),
        PixelFormat::L16 => data.chunks_exact(2).flat_map(|p| [p[0]; 3]).collect(),
        PixelFormat::CMYK32 => cmyk_to_rgb(&data),
    };
    if data.len() != width as usize * height as usize * 3 {
        return Err(unreadable("not a readable JPEG: truncated pixels"));
    }
    Ok(Decoded {
        pixels: Pixels {
            width,
            height,
            layout: Layout::Rgb,
            data,
        },
        orientation,
    })
}

/// The thumbnail's size in the stored (not yet turned) orientation.
fn stored_size(fit: Fit, width: u32, height: u32, orientation: u8) -> (u32, u32) {
    if orientation >= 5 {
        let (h, w) = fit.size_of(height, width);
        (w, h)
    } else {
        fit.size_of(width, height)
    }
}

/// jpeg-decoder answers CMYK as stored by Adobe (inverted): each channel times K.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let k = u16::from(p[3]);
            [0, 1, 2].map(|i| ((u16::from(p[i]) * k + 127) / 255) as u8)
        })
        .collect()
}
