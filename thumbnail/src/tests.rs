//! Each format end to end: sizes, orientation, transparency, and refusals.

use shared::error::Result;
use shared::ports::{DecodeLimits, Fit, ImageFormat, Thumbnail, Thumbnailer};

use crate::samples::{self, MARK, REST};
use crate::{render, Renderer};

const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 40_000_000,
    max_draw_operations: 500_000,
};

fn fit(w: Option<u32>, h: Option<u32>) -> Fit {
    Fit::new(w, h).unwrap()
}

fn thumb(source: Vec<u8>, fit: Fit) -> Thumbnail {
    render(source, fit, LIMITS).unwrap()
}

/// The thumbnail's pixels, RGBA.
fn pixels(t: &Thumbnail) -> Vec<[u8; 4]> {
    match t.format {
        ImageFormat::Jpeg => {
            let mut d = jpeg_decoder::Decoder::new(&t.bytes[..]);
            let data = d.decode().unwrap();
            let info = d.info().unwrap();
            assert_eq!(
                (u32::from(info.width), u32::from(info.height)),
                (t.width, t.height)
            );
            data.chunks_exact(3)
                .map(|p| [p[0], p[1], p[2], 255])
                .collect()
        }
        ImageFormat::Png => {
            let mut r = png::Decoder::new(std::io::Cursor::new(&t.bytes[..]))
                .read_info()
                .unwrap();
            let mut data = vec![0; r.output_buffer_size().unwrap()];
            let info = r.next_frame(&mut data).unwrap();
            assert_eq!((info.width, info.height), (t.width, t.height));
            assert_eq!(info.color_type, png::ColorType::Rgba);
            data.chunks_exact(4)
                .map(|p| [p[0], p[1], p[2], p[3]])
                .collect()
        }
    }
}

fn at(t: &Thumbnail, x: u32, y: u32) -> [u8; 4] {
    pixels(t)[(y * t.width + x) as usize]
}

fn near(p: [u8; 4], c: [u8; 3]) -> bool {
    (0..3).all(|i| p[i].abs_diff(c[i]) < 40)
}

/// The corner a marked image's red quadrant shows up in: (left?, top?).
fn mark_corner(t: &Thumbnail) -> (bool, bool) {
    let (w, h) = (t.width - 1, t.height - 1);
    let corners = [(0, 0), (w, 0), (0, h), (w, h)];
    let marked: Vec<_> = corners
        .iter()
        .filter(|(x, y)| near(at(t, *x, *y), MARK))
        .collect();
    assert_eq!(marked.len(), 1, "one marked corner in {corners:?}");
    (marked[0].0 == 0, marked[0].1 == 0)
}

#[test]
fn jpeg_thumbnails_fit_and_keep_the_aspect_ratio() {
    let t = thumb(samples::jpeg(1600, 1200, None), fit(Some(256), None));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 256, 192));
    assert_eq!(mark_corner(&t), (true, true));
    let t = thumb(samples::jpeg(1600, 1200, None), fit(None, None));
    assert_eq!((t.width, t.height), (300, 225));
    let t = thumb(samples::jpeg(1600, 1200, None), fit(Some(1000), Some(100)));
    assert_eq!((t.width, t.height), (133, 100));
    assert!(near(at(&t, 120, 90), REST));
}

#[test]
fn small_images_are_never_enlarged() {
    let t = thumb(samples::jpeg(40, 30, None), fit(Some(2048), Some(2048)));
    assert_eq!((t.width, t.height), (40, 30));
    let t = thumb(samples::png(10, 20, false), fit(Some(500), None));
    assert_eq!((t.width, t.height), (10, 20));
}

#[test]
fn exif_orientation_turns_jpegs_upright() {
    // Stored 400 x 200 with the mark top-left; each orientation says how to show it.
    let expected = [
        (1, (400, 200), (true, true)),
        (2, (400, 200), (false, true)),
        (3, (400, 200), (false, false)),
        (4, (400, 200), (true, false)),
        (5, (200, 400), (true, true)),
        (6, (200, 400), (false, true)),
        (7, (200, 400), (false, false)),
        (8, (200, 400), (true, false)),
    ];
    for (orientation, size, corner) in expected {
        let t = thumb(
            samples::jpeg(400, 200, Some(orientation)),
            fit(Some(2048), None),
        );
        assert_eq!((t.width, t.height), size, "orientation {orientation}");
        assert_eq!(mark_corner(&t), corner, "orientation {orientation}");
    }
    // Small thumbnails of large photos come from the DC coefficients alone (1/8
    // scale): the same sizes and orientation.
    for (orientation, size, corner) in
        [(1, (100, 75), (true, true)), (6, (100, 133), (false, true))]
    {
        let t = thumb(
            samples::jpeg(1600, 1200, Some(orientation)),
            fit(Some(100), None),
        );
        assert_eq!((t.width, t.height), size, "orientation {orientation}");
        assert_eq!(mark_corner(&t), corner, "orientation {orientation}");
    }
    // The box applies to the upright image: a turned 4000 x 3000 is 3 wide for 4 high.
    let t = thumb(samples::jpeg(800, 600, Some(6)), fit(Some(150), None));
    assert_eq!((t.width, t.height), (150, 200));
}

#[test]
fn transparent_pngs_stay_png_with_their_alpha() {
    let t = thumb(samples::png(800, 400, true), fit(Some(200), None));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Png, 200, 100));
    let left = at(&t, 10, 10);
    let right = at(&t, 190, 90);
    assert!(near(left, MARK) && left[3] == 255, "{left:?}");
    assert!(near(right, REST) && right[3].abs_diff(128) < 8, "{right:?}");
    // An opaque PNG becomes a JPEG.
    let t = thumb(samples::png(800, 400, false), fit(Some(200), None));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 200, 100));
    assert_eq!(mark_corner(&t), (true, true));
}

#[test]
fn gifs_give_their_first_frame() {
    let t = thumb(samples::gif(200, 100), fit(Some(100), None));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Png, 100, 50));
    assert!(near(at(&t, 5, 5), MARK));
    assert!(near(at(&t, 5, 45), REST));
    assert_eq!(at(&t, 95, 5)[3], 0, "the first frame's transparent half");
}

#[test]
fn webps_with_and_without_alpha() {
    let t = thumb(samples::webp(600, 300, false), fit(None, Some(100)));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 200, 100));
    assert_eq!(mark_corner(&t), (true, true));
    let t = thumb(samples::webp(600, 300, true), fit(None, Some(100)));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Png, 200, 100));
    assert!(at(&t, 190, 50)[3].abs_diff(128) < 8);
    // Large enough to be scaled on load.
    let t = thumb(samples::webp(1600, 1200, false), fit(Some(100), None));
    assert_eq!(
        (t.width, t.height, mark_corner(&t)),
        (100, 75, (true, true))
    );
    // An animation: its first frame (the second is all green).
    let t = thumb(samples::animated_webp(60, 40), fit(Some(30), None));
    assert_eq!((t.width, t.height, mark_corner(&t)), (30, 20, (true, true)));
}

#[test]
fn pdfs_show_their_first_page() {
    let t = thumb(samples::pdf(200, 100), fit(Some(300), None));
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 300, 150));
    assert!(near(at(&t, 20, 20), MARK), "{:?}", at(&t, 20, 20));
    assert!(near(at(&t, 280, 130), [255, 255, 255]));
    let t = thumb(samples::pdf(595, 842), fit(Some(256), Some(256)));
    assert_eq!((t.width, t.height), (181, 256));
}

fn refusal(source: Vec<u8>) -> (u16, String) {
    let e: shared::error::Error = Renderer
        .render(source, fit(Some(256), None), LIMITS)
        .unwrap_err();
    (e.status(), e.code().as_str().to_owned())
}

#[test]
fn headers_claiming_too_many_pixels_are_refused_before_decoding() {
    let bombs = [
        samples::png_claiming(100_000, 100_000),
        samples::jpeg_claiming(65_000, 65_000),
        samples::gif_claiming(65_535, 65_535),
        samples::webp_claiming(16_383, 16_383),
    ];
    for (i, bomb) in bombs.into_iter().enumerate() {
        let (status, code) = refusal(bomb);
        assert_eq!(
            (status, code.as_str()),
            (422, "image_too_large"),
            "bomb {i}"
        );
    }
}

#[test]
fn other_types_and_damaged_files_are_refused() {
    assert_eq!(refusal(b"hello, world".to_vec()).0, 415);
    assert_eq!(refusal(Vec::new()).0, 415);
    for signature in [
        &b"\xff\xd8\xff\xe0"[..],
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPVP8 ",
        b"%PDF-1.7\n",
    ] {
        // Noise in a header may also claim a size past the limit: 422 either way.
        let (status, code) = refusal(samples::garbage_after(signature, 4096));
        assert_eq!(status, 422, "{signature:?}");
        assert!(["unreadable_image", "image_too_large"].contains(&code.as_str()));
    }
}

/// Every cut of every sample: an answer or a refusal, never a panic or a fault.
#[test]
fn truncated_files_never_fail_the_service() -> Result<()> {
    let sources = [
        samples::jpeg(64, 48, Some(6)),
        samples::png(64, 48, true),
        samples::gif(64, 48),
        samples::webp(64, 48, true),
        samples::pdf(64, 48),
    ];
    for source in sources {
        for cut in (0..source.len()).step_by(7) {
            match Renderer.render(source[..cut].to_vec(), fit(Some(32), None), LIMITS) {
                Ok(t) => assert!(t.width <= 32 && !t.bytes.is_empty()),
                Err(e) => assert!(matches!(e.status(), 415 | 422), "{e}"),
            }
        }
    }
    Ok(())
}
