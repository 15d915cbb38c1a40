//! PDF: the first page drawn at the thumbnail's size on white (hayro, pure Rust).

use std::sync::Arc;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{render, PixmapSettings, RenderCache, RenderSettings};
use shared::error::Result;
use shared::ports::Fit;

use crate::pixels::{Layout, Pixels};
use crate::unreadable;

pub fn render_first_page(source: Vec<u8>, fit: Fit) -> Result<Pixels> {
    let pdf =
        Pdf::new(Arc::new(source)).map_err(|e| unreadable(format!("not a readable PDF: {e:?}")))?;
    let page = pdf
        .pages()
        .first()
        .ok_or_else(|| unreadable("not a readable PDF: it has no pages"))?;
    let (page_w, page_h) = page.render_dimensions();
    if !(page_w.is_finite() && page_h.is_finite() && page_w >= 1.0 && page_h >= 1.0) {
        return Err(unreadable("not a readable PDF: the first page has no size"));
    }
    let (w, h) = fit.size_of_drawing(page_w, page_h);
    let settings = PixmapSettings {
        x_scale: w as f32 / page_w,
        y_scale: h as f32 / page_h,
        bg_color: WHITE,
    };
    let cache = RenderCache::new();
    let pixmap = render(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &settings,
    );
    let (width, height) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    if width == 0 || height == 0 {
        return Err(unreadable("not a readable PDF: the first page has no size"));
    }
    // Drawn on white, every pixel is opaque: premultiplied equals straight.
    let data = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok(Pixels {
        width,
        height,
        layout: Layout::Rgb,
        data,
    })
}
