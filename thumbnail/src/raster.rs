//! PNG, GIF (first frame) and WebP: each header is read and its pixel count checked
//! before the pixels are.

use std::io::Cursor;

use shared::error::Result;
use shared::ports::DecodeLimits;

use crate::pixels::{gray_to_rgb, Layout, Pixels};
use crate::{check_pixels, damaged, unreadable, Decoded};

pub fn decode_png(source: &[u8], limits: DecodeLimits) -> Result<Decoded> {
    let mut decoder = png::Decoder::new(Cursor::new(source));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let bad = |e: png::DecodingError| damaged("PNG", e);
    // The header alone: nothing is decoded before the size is known.
    let header = decoder.read_header_info().map_err(bad)?;
    check_pixels(header.width.into(), header.height.into(), limits)?;
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| unreadable("not a readable PNG: too large a buffer"))?;
    let mut data = vec![0; size];
    let frame = reader.next_frame(&mut data).map_err(bad)?;
    data.truncate(frame.buffer_size());
    let (layout, data) = match frame.color_type {
        png::ColorType::Rgb => (Layout::Rgb, data),
        png::ColorType::Rgba => (Layout::Rgba, data),
        png::ColorType::Grayscale => (Layout::Rgb, gray_to_rgb(&data, false)),
        png::ColorType::GrayscaleAlpha => (Layout::Rgba, gray_to_rgb(&data, true)),
        png::ColorType::Indexed => return Err(unreadable("not a readable PNG: palette left")),
    };
    Ok(Pixels {
        width: frame.width,
        height: frame.height,
        layout,
        data,
    }
    .into())
}

/// The first frame, drawn where it belongs on the logical screen (transparent elsewhere).
pub fn decode_gif(source: &[u8], limits: DecodeLimits) -> Result<Decoded> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let bad = |e: gif::DecodingError| damaged("GIF", e);
    let mut decoder = options.read_info(Cursor::new(source)).map_err(bad)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    check_pixels(width.into(), height.into(), limits)?;
    let frame = decoder
        .read_next_frame()
        .map_err(bad)?
        .ok_or_else(|| unreadable("not a readable GIF: no frame"))?;
    let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    if frame.buffer.len() < fw * fh * 4 {
        return Err(unreadable("not a readable GIF: truncated frame"));
    }
    let (w, h) = (width as usize, height as usize);
    let mut data = vec![0u8; w * h * 4];
    // The part of the frame that lies on the screen.
    for row in 0..fh.min(h.saturating_sub(top)) {
        let cols = fw.min(w.saturating_sub(left));
        let from = row * fw * 4;
        let to = ((top + row) * w + left) * 4;
        data[to..to + cols * 4].copy_from_slice(&frame.buffer[from..from + cols * 4]);
    }
    Ok(Pixels {
        width,
        height,
        layout: Layout::Rgba,
        data,
    }
    .into())
}

/// Lossy or lossless; of an animation, the first frame.
pub fn decode_webp(source: &[u8], limits: DecodeLimits) -> Result<Decoded> {
    let bad = |e: image_webp::DecodingError| damaged("WebP", e);
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(source)).map_err(bad)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width.into(), height.into(), limits)?;
    let layout = if decoder.has_alpha() {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let size = width as usize * height as usize * layout.channels();
    let mut data = vec![0; size];
    if decoder.is_animated() {
        decoder.read_frame(&mut data).map_err(bad)?;
    } else {
        decoder.read_image(&mut data).map_err(bad)?;
    }
    Ok(Pixels {
        width,
        height,
        layout,
        data,
    }
    .into())
}
