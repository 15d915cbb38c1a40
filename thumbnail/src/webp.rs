//! WebP through libwebp: decoded and scaled in one pass (its rescaler works row by
//! row as the frame is decoded), to twice the thumbnail's size at most, with its SIMD.
//! Animations (which libwebp's simple API does not open) give their first frame
//! through image-webp.

use std::ffi::c_int;

use libwebp_sys::{
    VP8StatusCode, WebPDecode, WebPDecoderConfig, WebPFreeDecBuffer, WebPGetFeatures,
    WebPInitDecoderConfig, WEBP_CSP_MODE,
};
use shared::error::{Error, Result};
use shared::ports::{DecodeLimits, Fit};

use crate::pixels::{Layout, Pixels};
use crate::{check_pixels, raster, unreadable, Decoded};

pub fn decode(source: &[u8], fit: Fit, limits: DecodeLimits) -> Result<Decoded> {
    // SAFETY: a zeroed config is what WebPInitDecoderConfig expects to fill; libwebp
    // reads `source` within the length given; the output buffer is libwebp's own, read
    // within its stated size and freed once, on every path, by `Output`'s drop.
    let mut config: WebPDecoderConfig = unsafe { std::mem::zeroed() };
    if !unsafe { WebPInitDecoderConfig(&mut config) } {
        return Err(Error::internal("WebP", "libwebp's ABI does not match"));
    }
    let status = unsafe { WebPGetFeatures(source.as_ptr(), source.len(), &mut config.input) };
    if status != VP8StatusCode::VP8_STATUS_OK {
        return Err(unreadable(format!("not a readable WebP ({status:?})")));
    }
    let (width, height) = (config.input.width, config.input.height);
    check_pixels(width.max(0) as u64, height.max(0) as u64, limits)?;
    if config.input.has_animation != 0 {
        return raster::decode_webp(source, limits);
    }
    let (w, h) = (width as u32, height as u32);
    let (tw, th) = fit.size_of(w, h);
    // Twice the thumbnail (never more than the source): the Lanczos resize after it
    // keeps the detail libwebp's area averaging would soften.
    let (sw, sh) = if tw * 2 < w && th * 2 < h {
        (tw * 2, th * 2)
    } else {
        (w, h)
    };
    let alpha = config.input.has_alpha != 0;
    config.options.use_scaling = c_int::from((sw, sh) != (w, h));
    config.options.scaled_width = sw as c_int;
    config.options.scaled_height = sh as c_int;
    config.output.colorspace = if alpha {
        WEBP_CSP_MODE::MODE_RGBA
    } else {
        WEBP_CSP_MODE::MODE_RGB
    };
    let status = unsafe { WebPDecode(source.as_ptr(), source.len(), &mut config) };
    let output = Output(&mut config);
    if status != VP8StatusCode::VP8_STATUS_OK {
        return Err(unreadable(format!("not a readable WebP ({status:?})")));
    }
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    let data = output.pixels(sw as usize, sh as usize, layout.channels())?;
    Ok(Pixels {
        width: sw,
        height: sh,
        layout,
        data,
    }
    .into())
}

/// libwebp's output buffer, freed when dropped.
struct Output<'a>(&'a mut WebPDecoderConfig);

impl Output<'_> {
    /// The rows without their stride padding.
    fn pixels(&self, width: usize, height: usize, channels: usize) -> Result<Vec<u8>> {
        let buffer = &self.0.output;
        // SAFETY: the decode succeeded in an RGB(A) mode, so `RGBA` is the union's member.
        let rgba = unsafe { buffer.u.RGBA };
        let stride = usize::try_from(rgba.stride).unwrap_or(0);
        let row = width * channels;
        let fits = buffer.width as usize == width
            && buffer.height as usize == height
            && stride >= row
            && rgba.size >= stride * (height - 1) + row
            && !rgba.rgba.is_null();
        if !fits {
            return Err(Error::internal("WebP", "libwebp answered another size"));
        }
        // SAFETY: `rgba.size` bytes from `rgba.rgba` are libwebp's, alive until freed.
        let all = unsafe { std::slice::from_raw_parts(rgba.rgba, rgba.size) };
        Ok((0..height)
            .flat_map(|y| &all[y * stride..y * stride + row])
            .copied()
            .collect())
    }
}

impl Drop for Output<'_> {
    fn drop(&mut self) {
        // SAFETY: frees what WebPDecode allocated (a no-op when it allocated nothing).
        unsafe { WebPFreeDecBuffer(&mut self.0.output) };
    }
}
