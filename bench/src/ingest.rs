//! Section 6, streaming a large source into S3: the ingest path (fetch, hash, multipart
//! upload) in a process of its own, beside the AWS SDK's own managed multipart upload (boto3's
//! `upload_fileobj`) of the same bytes from the same local HTTP source into the same
//! bucket. Throughput, and how much the process's peak RSS grew while streaming.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::{env_or, root, warm, Options, Row, Stats, ORG};

const SECTION: &str = "6. streaming a source into S3";

/// Serves `size` bytes at any path, generated on the fly (the server holds 1 MiB).
async fn source_server(size: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let block = block.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
                let mut left = size;
                while left > 0 {
                    let n = left.min(block.len() as u64) as usize;
                    if stream.write_all(&block[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    base
}

fn vm_hwm_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

/// `bench ingest-child URL`: one fetch through `FileService::run_ingest`, in this process
/// alone, printing the same JSON line as the SDK peer.
pub async fn child(url: &str) {
    use shared::ingest::{Fetcher, IngestJob};
    use shared::ports::FileRepository;
    let mut config = shared::config::Config::for_tests(
        &env_or("FILES_BUCKET", "file-service-local"),
        &env_or("FILES_TABLE", "file-service-local"),
    );
    config.fetch_limits.total = Duration::from_secs(600);
    let clients = shared::aws::AwsClients::new({
        let mut s = shared::aws::AwsSettings::emulator(&warm::s3_endpoint());
        s.dynamodb_endpoint = Some(warm::dynamodb_endpoint());
        s
    });
    let service = shared::aws_service(config.clone(), clients);
    let fetcher = Fetcher::new(config.url_policy, config.fetch_limits).expect("fetcher");
    let (file, job) = (Uuid::new_v4(), Uuid::new_v4());
    let now = service.clock.now_rfc3339();
    let record = shared::domain::FileRecord {
        id: file,
        org: ORG.into(),
        created_at: now.clone(),
        updated_at: now,
        filename: "source.bin".into(),
        mime_type: "application/octet-stream".into(),
        status: shared::domain::FileStatus::Pending,
        ingest_job: Some(job),
        ..Default::default()
    };
    service
        .files()
        .create(&record, None)
        .await
        .expect("pending file");
    let job = IngestJob {
        org: ORG.into(),
        file,
        job,
        source: shared::service::SourceRequest {
            url: url.into(),
            ..Default::default()
        },
        filename: None,
        mime_type: None,
        uploaded_by: None,
    };
    let before = vm_hwm_kib();
    let started = Instant::now();
    service.run_ingest(job, &fetcher).await.expect("ingest");
    let seconds = started.elapsed().as_secs_f64();
    let after = vm_hwm_kib();
    let stored = service
        .files()
        .get(file)
        .await
        .expect("GetItem")
        .expect("file");
    assert_eq!(
        stored.status,
        shared::domain::FileStatus::Ready,
        "{:?}",
        stored.status_reason
    );
    let caller = shared::service::Caller {
        org: shared::domain::OrgId::parse(ORG).expect("org"),
        sub: None,
    };
    service
        .delete(&caller, file, shared::service::DeleteMode::Purge)
        .await
        .expect("delete");
    println!(
        "{}",
        json!({"seconds": seconds, "bytes": stored.versions[0].size_bytes,
               "hwm_before_kib": before, "hwm_after_kib": after})
    );
}

fn run_json(command: &mut Command) -> Value {
    let out = command.output().expect("start the streaming process");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).expect("one JSON line")
}

pub async fn streaming(options: &Options) -> Vec<Row> {
    let mib: u64 = if options.quick { 64 } else { 256 };
    let rounds = if options.quick { 1 } else { 3 };
    let base = source_server(mib * 1024 * 1024).await;
    let url = format!("{base}/source.bin");
    let bucket = env_or("FILES_BUCKET", "file-service-local");
    let python = root().join(".venv/bin/python");
    let mut rows = Vec::new();
    for (name, is_ours) in [
        ("ours: ingest (fetch, SHA-256, multipart)", true),
        ("AWS SDK: boto3 upload_fileobj", false),
    ] {
        let (mut rates, mut growth, mut peaks) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let url = url.clone();
            let bucket = bucket.clone();
            let python = python.clone();
            let answer = tokio::task::spawn_blocking(move || {
                if is_ours {
                    run_json(
                        Command::new(std::env::current_exe().expect("exe"))
                            .args(["ingest-child", &url])
                            .env("AWS_ACCESS_KEY_ID", "test")
                            .env("AWS_SECRET_ACCESS_KEY", "test"),
                    )
                } else {
                    run_json(
                        Command::new(&python).args([
                            root()
                                .join("bench/python/sdk_upload.py")
                                .to_str()
                                .unwrap_or_default(),
                            &url,
                            &bucket,
                            &warm::s3_endpoint(),
                        ]),
                    )
                }
            })
            .await
            .expect("join");
            let bytes = answer["bytes"].as_f64().unwrap_or(f64::NAN);
            let seconds = answer["seconds"].as_f64().unwrap_or(f64::NAN);
            let before = answer["hwm_before_kib"].as_f64().unwrap_or(f64::NAN);
            let after = answer["hwm_after_kib"].as_f64().unwrap_or(f64::NAN);
            assert_eq!(bytes as u64, mib * 1024 * 1024, "{name} stored every byte");
            rates.push(bytes / seconds / 1_048_576.0);
            growth.push((after - before) / 1024.0);
            peaks.push(after / 1024.0);
        }
        eprintln!(
            "  {name}: {:?} MiB/s, +{:?} MiB",
            Stats::of(&rates),
            Stats::of(&growth)
        );
        rows.push(Row {
            section: SECTION,
            name: name.to_string(),
            unit: "MiB/s",
            stats: Stats::of(&rates),
            note: format!("{mib} MiB from a local HTTP server into the emulator's S3"),
        });
        rows.push(Row {
            section: SECTION,
            name: format!("{name}: peak RSS growth"),
            unit: "MiB",
            stats: Stats::of(&growth),
            note: format!(
                "VmHWM/ru_maxrss after minus before the transfer; peak {:.0} MiB in all",
                Stats::of(&peaks).median
            ),
        });
    }
    rows
}
