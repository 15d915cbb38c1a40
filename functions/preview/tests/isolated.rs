//! The decoder child of the preview binary: answers and refusals come back through the
//! pipe; a child that runs out of memory or time is ended and answers 422.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use shared::ports::{DecodeLimits, Fit, ImageFormat, Thumbnailer};
use thumbnail::samples;
use thumbnail::{Isolated, PdfIsolated};

fn isolated(max_memory: u64, time_limit: Duration) -> Isolated {
    Isolated {
        program: PathBuf::from(env!("CARGO_BIN_EXE_preview")),
        max_memory,
        time_limit,
    }
}

const LIMITS: DecodeLimits = DecodeLimits {
    max_pixels: 50_000_000,
    max_draw_operations: 500_000,
};

fn fit(w: u32) -> Fit {
    Fit::new(Some(w), None).unwrap()
}

#[test]
fn thumbnails_and_refusals_come_back_from_the_child() {
    let child = isolated(384 << 20, Duration::from_secs(20));
    let t = child
        .render(samples::jpeg(800, 600, Some(6)), fit(60), LIMITS)
        .unwrap();
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 60, 80));
    let t = child
        .render(samples::png(80, 40, true), fit(40), LIMITS)
        .unwrap();
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Png, 40, 20));
    let refused = |source: Vec<u8>| {
        let e = child.render(source, fit(40), LIMITS).unwrap_err();
        (e.status(), e.code().as_str())
    };
    assert_eq!(
        refused(b"plain text".to_vec()),
        (415, "unsupported_media_type")
    );
    assert_eq!(
        refused(samples::png_claiming(100_000, 100_000)),
        (422, "image_too_large")
    );
    assert_eq!(
        refused(samples::garbage_after(b"%PDF-1.7\n", 4096)),
        (422, "unreadable_image")
    );
    // A large source goes through the pipes whole.
    let big = samples::png(3000, 2000, false);
    let t = child.render(big, fit(300), LIMITS).unwrap();
    assert_eq!((t.width, t.height), (300, 200));
}

#[test]
fn a_child_past_its_memory_or_time_is_ended_and_the_file_refused() {
    // 24 MB of RGBA pixels in a 16 MiB address space: the allocation fails, the child
    // aborts, the parent answers.
    let small = isolated(16 << 20, Duration::from_secs(20));
    let e = small
        .render(samples::png(3000, 2000, true), fit(100), LIMITS)
        .unwrap_err();
    assert_eq!((e.status(), e.code().as_str()), (422, "unreadable_image"));
    assert!(
        e.public_message().contains("memory"),
        "{}",
        e.public_message()
    );

    let hurried = isolated(384 << 20, Duration::from_millis(1));
    let started = Instant::now();
    let e = hurried
        .render(
            samples::pdf(2000, 1000),
            Fit::new(Some(2048), None).unwrap(),
            LIMITS,
        )
        .unwrap_err();
    assert_eq!((e.status(), e.code().as_str()), (422, "unreadable_image"));
    assert!(e.public_message().contains("longer than"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "killed, not waited for"
    );
}

#[test]
fn the_function_draws_pdfs_in_a_child_and_decodes_images_itself() {
    // A 1 ms budget: only a child is held to it.
    let function = PdfIsolated {
        pdf: isolated(384 << 20, Duration::from_millis(1)),
    };
    let e = function
        .render(
            samples::pdf(2000, 1000),
            Fit::new(Some(2048), None).unwrap(),
            LIMITS,
        )
        .unwrap_err();
    assert!(e.public_message().contains("longer than"));
    let t = function
        .render(samples::png(3000, 2000, false), fit(300), LIMITS)
        .unwrap();
    assert_eq!((t.width, t.height), (300, 200));
    let relaxed = PdfIsolated {
        pdf: isolated(384 << 20, Duration::from_secs(20)),
    };
    let t = relaxed
        .render(samples::pdf(200, 100), fit(100), LIMITS)
        .unwrap();
    assert_eq!((t.format, t.width, t.height), (ImageFormat::Jpeg, 100, 50));
}
