//! Warm per-request cost through the real handler code, and presigning throughput.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use lambda_http::Request;
use serde_json::Value;
use shared::adapters::memory::MemoryBackend;
use shared::api::{handle, handle_with, router, Function, Serving};
use shared::aws::{AwsClients, AwsSettings};
use shared::config::Config;
use shared::custom_url::SigningKeys;
use shared::domain::{AccessControl, FileRecord, StoredVersion};
use shared::ports::{FileRepository, ObjectStore, ResponseHeaders};
use shared::service::FileService;
use shared::time::Clock;
use uuid::Uuid;

use crate::{
    alloc, env_or, sample, sample_id, sample_key, sample_signed_url, Options, Row, Stats, ORG,
    SIGNING_KEY,
};

const OPERATIONS: &[(&str, Function)] = &[
    ("upload", Function::Upload),
    ("save", Function::Save),
    ("download", Function::Download),
    ("verify", Function::VerifyCustomUrl),
];

fn bucket() -> String {
    env_or("FILES_BUCKET", "file-service-local")
}

fn config() -> Config {
    let mut config = Config::for_tests(&bucket(), &env_or("FILES_TABLE", "file-service-local"));
    config.custom_url_keys = Some(SigningKeys::new(SIGNING_KEY.as_bytes(), None).expect("key"));
    config
}

/// S3's endpoint (LocalStack under `make bench`), else the one endpoint.
pub fn s3_endpoint() -> String {
    env_or(
        "AWS_ENDPOINT_URL_S3",
        &env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
    )
}

/// DynamoDB's endpoint (moto under `make bench`), else the one endpoint.
pub fn dynamodb_endpoint() -> String {
    env_or(
        "AWS_ENDPOINT_URL_DYNAMODB",
        &env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
    )
}

fn clients() -> AwsClients {
    let mut settings = AwsSettings::emulator(&s3_endpoint());
    settings.dynamodb_endpoint = Some(dynamodb_endpoint());
    AwsClients::new(settings)
}

fn parse(text: &str) -> Request {
    lambda_http::request::from_str(text).expect("an API Gateway event")
}

fn temp_key() -> String {
    format!("temp/{ORG}/{}/example.pdf", Uuid::new_v4())
}

fn signed_url() -> String {
    let keys = SigningKeys::new(SIGNING_KEY.as_bytes(), None).expect("key");
    let url = "https://archive.example.com/contracts/2024/contract.pdf?tenant=acme";
    shared::custom_url::sign(
        &keys,
        ORG,
        url,
        Clock::system().now_millis(),
        Duration::from_secs(3600),
    )
    .expect("signed")
}

/// The event text of one request of `operation` (upload, save, download, verify).
fn event(operation: &str, file_id: &str, temp_key: &str) -> String {
    match operation {
        "upload" => sample("upload.json", &[]),
        "save" => sample(
            "save.json",
            &[(sample_key(), temp_key), ("file-service-local", &bucket())],
        ),
        "download" => sample("download.json", &[(sample_id(), file_id)]),
        "verify" => sample(
            "verify-custom-url.json",
            &[(sample_signed_url(), &signed_url())],
        ),
        other => unreachable!("{other}"),
    }
}

fn check(operation: &str, response: &lambda_http::Response<lambda_http::Body>) {
    let status = response.status().as_u16();
    assert!(
        (200..300).contains(&status),
        "{operation} answered {status}: {:?}",
        std::str::from_utf8(response.body().as_ref())
    );
}

pub async fn in_memory(options: &Options) -> Vec<Row> {
    let (rounds, n) = if options.quick { (3, 1000) } else { (7, 5000) };
    let service = std::sync::Arc::new(FileService::new(
        MemoryBackend::in_memory(&bucket()),
        config(),
        Clock::system(),
    ));
    // One stored file to download.
    let key = temp_key();
    service
        .store()
        .put(&key, b"%PDF-bench".to_vec(), Some("application/pdf"))
        .await
        .unwrap();
    let saved = handle(&service, Function::Save, parse(&event("save", "", &key))).await;
    check("save", &saved);
    let body: Value = serde_json::from_slice(saved.body().as_ref()).unwrap();
    let file_id = body["_id"].as_str().unwrap().to_owned();

    let mut rows = Vec::new();
    for (operation, function) in OPERATIONS {
        let (mut micros, mut allocations) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut requests = Vec::with_capacity(n);
            for _ in 0..n {
                let key = temp_key();
                if *operation == "save" {
                    service
                        .store()
                        .put(&key, b"%PDF-bench".to_vec(), Some("application/pdf"))
                        .await
                        .unwrap();
                }
                requests.push(parse(&event(operation, &file_id, &key)));
            }
            // The router is built once per cold start, as the function's main does.
            let app = router(function.routes(), service.clone(), Serving::OneFunction);
            let allocations_before = alloc::allocations();
            let started = Instant::now();
            for request in requests {
                let response = handle_with(&app, request).await;
                check(operation, &response);
            }
            let elapsed = started.elapsed();
            micros.push(elapsed.as_secs_f64() * 1e6 / n as f64);
            allocations.push((alloc::allocations() - allocations_before) as f64 / n as f64);
        }
        let stats = Stats::of(&micros);
        eprintln!("  {operation} (memory): {stats:?} µs");
        rows.push(Row {
            section: "2a. warm, in-memory adapters",
            name: operation.to_string(),
            unit: "µs/request",
            stats,
            note: format!(
                "{:.0} allocations/request; {n} requests a run",
                Stats::of(&allocations).median
            ),
        });
    }
    rows
}

/// The bare SDK calls one request of `operation` needs, made directly.
async fn bare(clients: &AwsClients, operation: &str, file_id: &str, temp_key: &str) {
    let bucket = bucket();
    let table = env_or("FILES_TABLE", "file-service-local");
    let presigning = || PresigningConfig::expires_in(Duration::from_secs(900)).unwrap();
    match operation {
        "upload" => {
            clients
                .s3
                .put_object()
                .bucket(&bucket)
                .key(temp_key)
                .content_type("application/pdf")
                .presigned(presigning())
                .await
                .unwrap();
        }
        "save" => {
            let s3 = &clients.s3;
            let dynamodb = &clients.dynamodb;
            let upload_pk = AttributeValue::S(format!("UPLOAD#{temp_key}"));
            let target = format!(
                "files/{ORG}/{}/{}/example.pdf",
                Uuid::new_v4(),
                Uuid::new_v4()
            );
            // What the handler does, one call after another: it makes the first two at once.
            dynamodb
                .get_item()
                .table_name(&table)
                .key("pk", upload_pk.clone())
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            let head = s3
                .head_object()
                .bucket(&bucket)
                .key(temp_key)
                .send()
                .await
                .unwrap();
            s3.copy_object()
                .bucket(&bucket)
                .copy_source(format!("{bucket}/{temp_key}"))
                .copy_source_if_match(head.e_tag().unwrap_or_default())
                .key(&target)
                .send()
                .await
                .unwrap();
            let file = Put::builder()
                .table_name(&table)
                .item("pk", AttributeValue::S(format!("BENCH#{}", Uuid::new_v4())))
                .item("key", AttributeValue::S(target))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .unwrap();
            let claim = Update::builder()
                .table_name(&table)
                .key("pk", upload_pk)
                .update_expression("SET consumed_by = :by")
                .condition_expression("attribute_not_exists(consumed_by)")
                .expression_attribute_values(":by", AttributeValue::S("bench".into()))
                .build()
                .unwrap();
            dynamodb
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(file).build())
                .transact_items(TransactWriteItem::builder().update(claim).build())
                .send()
                .await
                .unwrap();
            s3.delete_object()
                .bucket(&bucket)
                .key(temp_key)
                .send()
                .await
                .unwrap();
        }
        "download" => {
            let item = clients
                .dynamodb
                .get_item()
                .table_name(&table)
                .key("pk", AttributeValue::S(format!("FILE#{file_id}")))
                .send()
                .await
                .unwrap();
            assert!(item.item().is_some(), "the benchmark's file exists");
            clients
                .s3
                .get_object()
                .bucket(&bucket)
                .key(temp_key)
                .response_content_disposition("attachment; filename=\"example.pdf\"")
                .response_content_type("application/pdf")
                .presigned(presigning())
                .await
                .unwrap();
        }
        "verify" => {}
        other => unreachable!("{other}"),
    }
}

pub async fn against_emulator(options: &Options) -> Vec<Row> {
    let (rounds, n) = if options.quick { (3, 20) } else { (5, 60) };
    let service = std::sync::Arc::new(shared::aws_service(config(), clients()));
    let sdk = clients();
    let fixtures = Fixtures::new();
    let file_id = fixtures.file().await.id.to_string();
    let mut rows = Vec::new();
    for (operation, function) in OPERATIONS {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let keys: Vec<String> = (0..2 * n).map(|_| temp_key()).collect();
            if *operation == "save" {
                for key in &keys {
                    fixtures.put_temp(key).await;
                }
            }
            let requests: Vec<Request> = keys[..n]
                .iter()
                .map(|key| parse(&event(operation, &file_id, key)))
                .collect();
            let app = router(function.routes(), service.clone(), Serving::OneFunction);
            let started = Instant::now();
            for request in requests {
                let response = handle_with(&app, request).await;
                check(operation, &response);
            }
            ours.push(started.elapsed().as_secs_f64() * 1e6 / n as f64);

            let started = Instant::now();
            for key in &keys[n..] {
                bare(&sdk, operation, &file_id, key).await;
            }
            theirs.push(started.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
        let (ours, theirs) = (Stats::of(&ours), Stats::of(&theirs));
        let ratio = ours.median / theirs.median;
        eprintln!(
            "  {operation} (emulator): {:.0} µs vs bare {:.0} µs",
            ours.median, theirs.median
        );
        let calls = match *operation {
            "upload" => "presign PUT (no network)",
            "save" => "GetItem, HeadObject, CopyObject, TransactWriteItems, DeleteObject",
            "download" => "GetItem, presign GET",
            _ => "none: pure computation",
        };
        rows.push(Row {
            section: "2b. warm, against the emulator (loopback)",
            name: format!("{operation}: handler"),
            unit: "µs/request",
            stats: ours,
            note: if operation == &"verify" {
                "no AWS call".into()
            } else {
                format!("handler ÷ bare SDK = {ratio:.2}")
            },
        });
        if *operation != "verify" {
            rows.push(Row {
                section: "2b. warm, against the emulator (loopback)",
                name: format!("{operation}: bare SDK"),
                unit: "µs/request",
                stats: theirs,
                note: calls.into(),
            });
        }
    }
    rows
}

pub async fn presigning(options: &Options) -> Vec<Row> {
    let (rounds, n) = if options.quick {
        (3, 5_000)
    } else {
        (7, 20_000)
    };
    // As bench/node/presign.mjs: AWS's own endpoint (virtual-hosted), the same key and credentials.
    let clients = AwsClients::new(AwsSettings {
        region: "us-east-1".into(),
        credentials: aws_sdk_s3::config::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "bench",
        ),
        s3_endpoint: None,
        dynamodb_endpoint: None,
        lambda_endpoint: None,
        events_endpoint: None,
        sqs_endpoint: None,
    });
    let store = shared::adapters::s3::S3Store::new(
        clients.s3.clone(),
        clients.credentials.clone(),
        "file-service-bench",
    );
    let key = "files/org/0b6f6c1e-5d4a-4c47-9a39-2f1f3e8a9b10/7d2c9e4b-8a51-4f0e-b6d3-91c5a0e4f2a7/report 2026.pdf";
    let headers = ResponseHeaders {
        content_disposition: Some("attachment; filename=\"report 2026.pdf\"".into()),
        content_type: Some("application/pdf".into()),
    };
    let ttl = Duration::from_secs(900);
    let (mut ours, mut sdk) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(store.presign_get(key, &headers, ttl).await.unwrap());
        }
        ours.push(n as f64 / started.elapsed().as_secs_f64());

        let m = n / 10;
        let started = Instant::now();
        for _ in 0..m {
            let presigned = clients
                .s3
                .get_object()
                .bucket("file-service-bench")
                .key(key)
                .response_content_disposition("attachment; filename=\"report 2026.pdf\"")
                .response_content_type("application/pdf")
                .presigned(PresigningConfig::expires_in(ttl).unwrap())
                .await
                .unwrap();
            std::hint::black_box(presigned);
        }
        sdk.push(m as f64 / started.elapsed().as_secs_f64());
    }
    let ours = Stats::of(&ours);
    let sdk = Stats::of(&sdk);
    let mut rows = vec![
        Row {
            section: "3. presigned GET URLs per second",
            name: "ours (shared::presign)".into(),
            unit: "URLs/s",
            stats: ours,
            note: "one thread, one at a time".into(),
        },
        Row {
            section: "3. presigned GET URLs per second",
            name: "AWS SDK for Rust".into(),
            unit: "URLs/s",
            stats: sdk,
            note: format!("ours ÷ this = {:.1}", ours.median / sdk.median),
        },
    ];
    if options.skip_node {
        return rows;
    }
    match node_presigning(rounds, n) {
        Ok((node, version)) => {
            let node_stats = Stats::of(&node);
            rows.push(Row {
                section: "3. presigned GET URLs per second",
                name: format!("AWS SDK for JavaScript v3 on Node.js {version}"),
                unit: "URLs/s",
                stats: node_stats,
                note: format!(
                    "@aws-sdk/s3-request-presigner; ours ÷ this = {:.1}",
                    ours.median / node_stats.median
                ),
            });
        }
        Err(e) => eprintln!("  Node.js presigning skipped: {e}"),
    }
    rows
}

/// Runs bench/node/run.sh `rounds` times; URLs per second of each run and Node's version.
fn node_presigning(rounds: usize, n: usize) -> Result<(Vec<f64>, String), String> {
    let script = crate::root().join("bench/node/run.sh");
    let mut figures = Vec::new();
    let mut version = String::new();
    for _ in 0..rounds {
        let output = std::process::Command::new("bash")
            .arg(&script)
            .args(["--iterations", &n.to_string()])
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let line = String::from_utf8_lossy(&output.stdout);
        let answer: Value = serde_json::from_str(line.trim())
            .map_err(|e| format!("unexpected output {line:?}: {e}"))?;
        figures.push(
            answer["get_per_second"]
                .as_f64()
                .ok_or("no get_per_second")?,
        );
        version = answer["node"].as_str().unwrap_or_default().to_owned();
    }
    Ok((figures, version))
}

/// Objects and entities the emulator-backed benchmarks work on.
pub struct Fixtures {
    clients: AwsClients,
    repo: shared::adapters::dynamodb::DynamoFiles,
}

impl Fixtures {
    pub fn new() -> Self {
        let clients = clients();
        let repo = shared::adapters::dynamodb::DynamoFiles::new(
            clients.dynamodb.clone(),
            env_or("FILES_TABLE", "file-service-local"),
        );
        Fixtures { clients, repo }
    }

    pub async fn put_temp(&self, key: &str) {
        self.clients
            .s3
            .put_object()
            .bucket(bucket())
            .key(key)
            .content_type("application/pdf")
            .body(ByteStream::from_static(b"%PDF-bench"))
            .send()
            .await
            .expect("PutObject to the emulator");
    }

    /// A stored file of organisation ORG with one version.
    pub async fn file(&self) -> FileRecord {
        let id = Uuid::new_v4();
        let key = format!("files/{ORG}/{id}/{}/example.pdf", Uuid::new_v4());
        self.put_temp(&key).await;
        let now = Clock::system().now_rfc3339();
        let record = FileRecord {
            id,
            org: ORG.into(),
            created_at: now.clone(),
            updated_at: now.clone(),
            filename: "example.pdf".into(),
            mime_type: "application/pdf".into(),
            access_control: AccessControl::Private,
            custom_download_url: None,
            attributes: Default::default(),
            versions: vec![StoredVersion {
                key,
                filename: "example.pdf".into(),
                mime_type: "application/pdf".into(),
                size_bytes: 10,
                etag: "bench".into(),
                created_at: now,
                ..StoredVersion::default()
            }],
            ..FileRecord::default()
        };
        self.repo.create(&record, None).await.expect("PutItem");
        record
    }

    /// `n` Runtime API events for `function`, with what they need already stored.
    pub async fn events(&self, function: &str, n: usize) -> Vec<String> {
        let mut events = Vec::with_capacity(n);
        match function {
            "upload" | "verify-custom-url" => {
                let operation = if function == "upload" {
                    "upload"
                } else {
                    "verify"
                };
                for _ in 0..n {
                    events.push(event(operation, "", ""));
                }
            }
            "get" | "download" => {
                let id = self.file().await.id.to_string();
                let name = format!("{function}.json");
                for _ in 0..n {
                    events.push(sample(&name, &[(sample_id(), &id)]));
                }
            }
            "save" => {
                for _ in 0..n {
                    let key = temp_key();
                    self.put_temp(&key).await;
                    events.push(event("save", "", &key));
                }
            }
            "delete" => {
                for _ in 0..n {
                    let id = self.file().await.id.to_string();
                    events.push(sample("delete.json", &[(sample_id(), &id)]));
                }
            }
            "expire" => {
                for _ in 0..n {
                    let fresh = Uuid::new_v4().to_string();
                    events.push(sample(
                        "s3-batch.json",
                        &[("5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a", &fresh)],
                    ));
                }
            }
            other => unreachable!("{other}"),
        }
        events
    }
}
