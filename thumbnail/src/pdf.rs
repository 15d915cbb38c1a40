//! PDF: the first page drawn at the thumbnail's size on white (hayro, pure Rust).

use std::sync::Arc;

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image,
    ImageDrawProps, InterpreterCache, InterpreterSettings, SoftMask,
};
use hayro::hayro_syntax::Pdf;
use hayro::kurbo::{Affine, BezPath, Rect};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{render, PixmapSettings, RenderCache, RenderSettings};
use shared::error::Result;
use shared::ports::Fit;

use crate::pixels::{Layout, Pixels};
use crate::{damaged, unreadable};

pub fn render_first_page(source: Vec<u8>, fit: Fit) -> Result<Pixels> {
    let pdf = Pdf::new(Arc::new(source)).map_err(|e| damaged("PDF", format!("{e:?}")))?;
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

/// A device that draws nothing and counts; past its budget it calls `exceeded`, which
/// does not return (the decoder child exits: hayro's interpreter has no way to stop).
struct DrawCounter {
    count: u64,
    budget: u64,
    exceeded: fn() -> !,
}

impl DrawCounter {
    fn tick(&mut self) {
        self.count += 1;
        if self.count > self.budget {
            (self.exceeded)()
        }
    }
}

impl<'a> Device<'a> for DrawCounter {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, _: &DrawMode) {
        self.tick()
    }
    fn push_clip_path(&mut self, _: &ClipPath) {
        self.tick()
    }
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {
        self.tick()
    }
    fn draw_glyph_run(&mut self, _: &GlyphRun<'_, 'a>, _: DrawProps<'a>, _: &DrawMode) {
        self.tick()
    }
    fn draw_image(&mut self, _: Image<'a, '_>, _: ImageDrawProps<'a>) {
        self.tick()
    }
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}

/// Interprets the first page without drawing it and counts its operations, calling
/// `exceeded` past `budget`: the bound on draw counts that recursion through form
/// XObjects (hayro nests them at most 50 deep) would otherwise multiply without end.
/// A PDF that does not open counts 0 (drawing it reports why).
pub fn count_draw_operations(source: &[u8], budget: u64, exceeded: fn() -> !) -> u64 {
    let Ok(pdf) = Pdf::new(Arc::new(source.to_vec())) else {
        return 0;
    };
    let Some(page) = pdf.pages().first() else {
        return 0;
    };
    let (w, h) = page.render_dimensions();
    let cache = InterpreterCache::new();
    let mut context = Context::new(
        Affine::IDENTITY,
        Rect::new(0.0, 0.0, f64::from(w), f64::from(h)),
        &cache,
        page.xref(),
        InterpreterSettings::default(),
    );
    let mut counter = DrawCounter {
        count: 0,
        budget,
        exceeded,
    };
    interpret_page(page, &mut context, &mut counter);
    counter.count
}
