//! `make bench`: the figures of BENCHMARKS.md, measured on this machine in one run.
//!
//! 1. cold init of each function binary, from process start to its first poll of a
//!    local stand-in of the Lambda Runtime API (SDK clients built, no network calls);
//! 2. warm cost per request of upload, save, download and verify through the real
//!    handler code: with in-memory adapters (µs and allocations), and against the
//!    emulator next to the bare SDK calls each one needs (the overhead as a ratio);
//! 3. presigned URLs per second: ours, the Rust SDK's, and the JavaScript SDK v3's on
//!    Node.js (`bench/node`);
//! 4. peak memory (VmHWM) of each function binary serving 1,000 requests;
//! 5. round trips on the wire per operation, with a fixed delay added to every AWS call;
//! 6. streaming a large source into S3 (the ingest path) beside the AWS SDK's own
//!    multipart upload of the same bytes: throughput and peak RSS growth;
//! 8. listing and counting 10,000 files;
//! 9. previews: a 256 px thumbnail of a camera JPEG, a large PNG and a WebP beside
//!    sharp (libvips) on Node.js, latency and peak memory.
//!
//! Needs the function binaries built with `--release` beside this one and, for 2 and 4,
//! the emulator at `AWS_ENDPOINT_URL` with the local bucket and table (`make bench`
//! does both). `--quick` runs fewer rounds; `--skip-node` leaves out Node.js; `--only N`
//! runs section N alone (5 needs neither the binaries nor the emulator).

mod alloc;
mod ingest;
mod listing;
mod previews;
mod roundtrips;
mod runtime_api;
mod warm;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runtime_api::RuntimeApi;
use serde_json::{json, Value};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

pub const FUNCTIONS: &[&str] = &[
    "upload",
    "save",
    "get",
    "download",
    "delete",
    "verify-custom-url",
    "expire",
];
/// Functions without sample work for section 4: started for their cold init only.
pub const INIT_ONLY_FUNCTIONS: &[&str] = &["ingest", "sweep", "events", "webhooks", "scan"];
pub const SIGNING_KEY: &str = "benchmark-signing-key-0123456789abcdef";
pub const ORG: &str = "123";
const SAMPLE_ID: &str = "4ffdc191-f32c-404a-8520-c403b7408afa";
const SAMPLE_KEY: &str = "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf";
const SAMPLE_SIGNED_URL: &str = "https://archive.example.com/contracts/2024/contract.pdf?tenant=acme&expires_at=1795338900000&signature=REPLACE_WITH_THE_SIGNATURE_FROM_DOWNLOAD";

pub struct Options {
    pub quick: bool,
    pub skip_node: bool,
    /// Run only this section.
    pub only: Option<u8>,
}

/// min / median / max of repeated measurements.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub runs: usize,
}

impl Stats {
    pub fn of(values: &[f64]) -> Stats {
        let mut sorted = values.to_vec();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let n = sorted.len();
        let median = if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Stats {
            min: sorted.first().copied().unwrap_or(f64::NAN),
            median,
            max: sorted.last().copied().unwrap_or(f64::NAN),
            runs: n,
        }
    }
}

/// One line of the report.
pub struct Row {
    pub section: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub stats: Stats,
    pub note: String,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn event_text(name: &str) -> String {
    let path = root().join("events").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("preview-child") {
        let runs = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10);
        previews::child(args.get(1).expect("an image"), runs);
        return;
    }
    if args.first().map(String::as_str) == Some("ingest-child") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(ingest::child(args.get(1).expect("a source URL")));
        return;
    }
    let options = Options {
        quick: args.iter().any(|a| a == "--quick"),
        skip_node: args.iter().any(|a| a == "--skip-node"),
        only: args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let rows = runtime.block_on(run(&options));
    print_report(&rows);
}

async fn run(options: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    let runs = |n: u8| options.only.is_none_or(|only| only == n);
    if runs(1) {
        eprintln!("== 1. cold init");
        rows.extend(cold_init(options).await);
    }
    if runs(2) {
        eprintln!("== 2. warm cost per request");
        rows.extend(warm::in_memory(options).await);
        rows.extend(warm::against_emulator(options).await);
    }
    if runs(3) {
        eprintln!("== 3. presigning");
        rows.extend(warm::presigning(options).await);
    }
    if runs(4) {
        eprintln!("== 4. peak memory");
        rows.extend(peak_memory(options).await);
    }
    if runs(5) {
        eprintln!("== 5. round trips");
        rows.extend(roundtrips::round_trips(options).await);
    }
    if runs(6) {
        eprintln!("== 6. streaming a source into S3");
        rows.extend(ingest::streaming(options).await);
    }
    if runs(8) {
        eprintln!("== 8. listing 10,000 files");
        rows.extend(listing::listing(options).await);
    }
    if runs(9) {
        eprintln!("== 9. previews beside sharp");
        rows.extend(previews::previews(options));
    }
    rows
}

pub fn binary(function: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| root().join("target/release"));
    let path = dir.join(function);
    assert!(
        path.exists(),
        "{} is missing: build the functions with `cargo build --release` (make bench does)",
        path.display()
    );
    path
}

/// The function as Lambda starts it: its environment, our Runtime API.
fn spawn(function: &str, api: &RuntimeApi) -> Child {
    Command::new(binary(function))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env(
            "AWS_ENDPOINT_URL",
            env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        )
        .env("AWS_ENDPOINT_URL_S3", warm::s3_endpoint())
        .env("AWS_ENDPOINT_URL_DYNAMODB", warm::dynamodb_endpoint())
        .env("FILES_BUCKET", env_or("FILES_BUCKET", "file-service-local"))
        .env("FILES_TABLE", env_or("FILES_TABLE", "file-service-local"))
        .env("CUSTOM_URL_SIGNING_KEY", SIGNING_KEY)
        .env("EVENT_BUS_NAME", "file-service-local-files")
        .env(
            "WEBHOOK_QUEUE_URL",
            "http://127.0.0.1:4566/123456789012/file-service-local-webhooks",
        )
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {function}: {e}"))
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn cold_init(options: &Options) -> Vec<Row> {
    let runs = if options.quick { 5 } else { 20 };
    let api = RuntimeApi::start().await.expect("runtime API");
    let mut rows = Vec::new();
    for function in FUNCTIONS.iter().chain(INIT_ONLY_FUNCTIONS) {
        let mut millis = Vec::with_capacity(runs);
        for _ in 0..runs {
            api.load(Vec::new());
            let started = Instant::now();
            let child = spawn(function, &api);
            let polled = tokio::time::timeout(Duration::from_secs(10), api.first_poll())
                .await
                .unwrap_or_else(|_| panic!("{function} never asked for work"));
            millis.push(polled.duration_since(started).as_secs_f64() * 1000.0);
            stop(child);
        }
        rows.push(Row {
            section: "1. cold init",
            name: function.to_string(),
            unit: "ms",
            stats: Stats::of(&millis),
            note: "process start → first poll of the Runtime API".into(),
        });
        eprintln!("  {function}: {:?}", Stats::of(&millis));
    }
    rows
}

/// Peak RSS (VmHWM) of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn peak_memory(options: &Options) -> Vec<Row> {
    const REQUESTS: usize = 1000;
    let rounds = if options.quick { 1 } else { 3 };
    let api = RuntimeApi::start().await.expect("runtime API");
    let fixtures = warm::Fixtures::new();
    let mut rows = Vec::new();
    for function in FUNCTIONS {
        let (mut peaks, mut rates) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let events = fixtures.events(function, REQUESTS).await;
            api.load(events);
            let started = Instant::now();
            let child = spawn(function, &api);
            let finished = tokio::time::timeout(Duration::from_secs(600), api.all_answered()).await;
            let elapsed = started.elapsed();
            let peak = peak_rss_mib(child.id());
            let (answered, failed) = api.counts();
            stop(child);
            assert!(finished.is_ok(), "{function}: {answered} answered in 600 s");
            assert_eq!(
                failed, 0,
                "{function}: {failed} of {REQUESTS} requests failed"
            );
            peaks.push(peak.expect("VmHWM"));
            rates.push(REQUESTS as f64 / elapsed.as_secs_f64());
        }
        eprintln!("  {function}: {:?} MiB", Stats::of(&peaks));
        rows.push(Row {
            section: "4. peak memory",
            name: function.to_string(),
            unit: "MiB",
            stats: Stats::of(&peaks),
            note: format!(
                "VmHWM after {REQUESTS} requests against the emulator ({:.0} req/s)",
                Stats::of(&rates).median
            ),
        });
    }
    rows
}

fn fmt(value: f64) -> String {
    if value.is_nan() {
        "–".into()
    } else if value >= 1000.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn print_report(rows: &[Row]) {
    let mut section = "";
    for row in rows {
        if row.section != section {
            section = row.section;
            println!("\n### {section}\n");
            println!("| what | unit | min | median | max | runs | note |");
            println!("|---|---|---|---|---|---|---|");
        }
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.unit,
            fmt(row.stats.min),
            fmt(row.stats.median),
            fmt(row.stats.max),
            row.stats.runs,
            row.note
        );
    }
    let json: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"section": r.section, "name": r.name, "unit": r.unit, "min": r.stats.min,
                   "median": r.stats.median, "max": r.stats.max, "runs": r.stats.runs, "note": r.note})
        })
        .collect();
    let out = root().join("target/bench-report.json");
    if std::fs::write(
        &out,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .is_ok()
    {
        eprintln!("figures also in {}", out.display());
    }
}

pub fn sample(name: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = event_text(name);
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    text
}

pub fn sample_id() -> &'static str {
    SAMPLE_ID
}

pub fn sample_key() -> &'static str {
    SAMPLE_KEY
}

pub fn sample_signed_url() -> &'static str {
    SAMPLE_SIGNED_URL
}
