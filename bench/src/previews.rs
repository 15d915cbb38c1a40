//! Section 9, previews beside sharp (libvips): the same three images to a 256 px
//! thumbnail, one at a time, each side in a process of its own (its peak RSS its own).
//!
//! Ours runs what the preview function runs (`thumbnail::PdfIsolated`: images in
//! process, PDFs in a child of the preview binary): decode, resize, EXIF orientation,
//! encode, one thread (these images start no child). Sharp runs
//! `rotate().resize(256, 256, inside)` and the same output format, its result cache off. The images are made by
//! `bench/node/preview.mjs fixtures` (deterministic) into target/bench-previews.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use shared::ports::{DecodeLimits, Fit, Thumbnailer};

use crate::{root, Options, Row, Stats};

const IMAGES: [(&str, &str); 3] = [
    ("camera.jpg", "12 MP camera JPEG, EXIF-rotated"),
    ("large.png", "6 MP PNG with alpha"),
    ("photo.webp", "12 MP lossy WebP"),
];
const SIDE: u32 = 256;

/// `bench preview-child <file> <runs>`: our side, as a process of its own.
pub fn child(file: &str, runs: usize) {
    let source = std::fs::read(file).expect("the image");
    let fit = Fit::new(Some(SIDE), Some(SIDE)).expect("a fit");
    let limits = DecodeLimits {
        max_pixels: shared::config::PreviewLimits::default().max_pixels,
        max_draw_operations: shared::config::PreviewLimits::default().max_draw_operations,
    };
    let isolated = thumbnail::PdfIsolated {
        pdf: thumbnail::Isolated {
            program: crate::binary("preview"),
            max_memory: 384 * 1024 * 1024,
            time_limit: std::time::Duration::from_secs(20),
        },
    };
    let mut ms = Vec::new();
    for i in 0..runs + 2 {
        let started = Instant::now();
        let thumbnail = isolated
            .render(source.clone(), fit, limits)
            .expect("a thumbnail");
        std::hint::black_box(thumbnail);
        if i >= 2 {
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let peak = crate::peak_rss_mib(std::process::id()).unwrap_or(f64::NAN);
    println!("{}", serde_json::json!({"ms": ms, "max_rss_mib": peak}));
}

fn fixtures() -> PathBuf {
    let dir = root().join("target/bench-previews");
    if !IMAGES.iter().all(|(name, _)| dir.join(name).exists()) {
        let status = Command::new("bash")
            .arg(root().join("bench/node/run.sh"))
            .args(["--script", "preview.mjs", "fixtures"])
            .arg(&dir)
            .status()
            .expect("node");
        assert!(status.success(), "the preview images could not be made");
    }
    dir
}

fn measured(mut command: Command) -> (Vec<f64>, f64) {
    let output = command.output().expect("start the benchmark side");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let json: Value = serde_json::from_str(line.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {line}"));
    let ms = json["ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    (ms, json["max_rss_mib"].as_f64().unwrap_or(f64::NAN))
}

fn p90(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() as f64 * 0.9).ceil() as usize).clamp(1, sorted.len()) - 1]
}

pub fn previews(options: &Options) -> Vec<Row> {
    let runs = if options.quick { 9 } else { 31 };
    let dir = fixtures();
    let mut rows = Vec::new();
    for (name, what) in IMAGES {
        let file = dir.join(name);
        let size_mb = std::fs::metadata(&file).map_or(0.0, |m| m.len() as f64 / 1e6);
        let mut ours = Command::new(std::env::current_exe().expect("bench"));
        ours.arg("preview-child").arg(&file).arg(runs.to_string());
        let (our_ms, our_rss) = measured(ours);
        let our = Stats::of(&our_ms);
        let mut row = |who: &str, stats: Stats, note: String| {
            rows.push(Row {
                section: "9. previews: a 256 px thumbnail",
                name: format!("{name} ({what}, {size_mb:.1} MB): {who}"),
                unit: "ms",
                stats,
                note,
            })
        };
        if options.skip_node {
            row(
                "ours",
                our,
                format!("p90 {:.1} ms, peak RSS {our_rss:.0} MiB", p90(&our_ms)),
            );
            continue;
        }
        let mut sharp = Command::new("bash");
        sharp
            .arg(root().join("bench/node/run.sh"))
            .args(["--script", "preview.mjs", "run"])
            .arg(&file)
            .arg(runs.to_string())
            .args([SIDE.to_string(), SIDE.to_string()]);
        let (sharp_ms, sharp_rss) = measured(sharp);
        let theirs = Stats::of(&sharp_ms);
        row(
            "ours",
            our,
            format!(
                "p90 {:.1} ms, peak RSS {our_rss:.0} MiB; {:.2}x sharp's speed (median), {:.2}x (p90)",
                p90(&our_ms),
                theirs.median / our.median,
                p90(&sharp_ms) / p90(&our_ms)
            ),
        );
        row(
            "sharp 0.35.5 (libvips 8.18)",
            theirs,
            format!("p90 {:.1} ms, peak RSS {sharp_rss:.0} MiB", p90(&sharp_ms)),
        );
        eprintln!(
            "  {name}: ours {:.1} ms, sharp {:.1} ms",
            our.median, theirs.median
        );
    }
    rows
}
