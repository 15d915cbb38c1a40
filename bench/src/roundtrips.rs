//! Section 5, round trips on the wire per operation: every storage call waits a fixed
//! delay (the fault-injecting backend of `shared::testing`, around the in-memory
//! adapters), so an operation's wall time divided by the delay is the number of calls it
//! makes one after another, whatever runs alongside.

use std::time::{Duration, Instant};

use lambda_http::Request;
use shared::adapters::memory::MemoryBackend;
use shared::api::{handle, Function};
use shared::ports::ObjectStore;
use shared::service::FileService;
use shared::testing::faulty;
use shared::time::Clock;
use uuid::Uuid;

use crate::{sample, sample_id, sample_key, Options, Row, Stats, ORG};

/// Each storage call's added latency: far above the in-memory adapters' own cost.
const DELAY: Duration = Duration::from_millis(25);

fn request(name: &str, file_id: &str, temp_key: &str) -> Request {
    let text = sample(name, &[(sample_id(), file_id), (sample_key(), temp_key)]);
    lambda_http::request::from_str(&text).expect("an API Gateway event")
}

fn temp_key() -> String {
    format!("temp/{ORG}/{}/example.pdf", Uuid::new_v4())
}

pub async fn round_trips(options: &Options) -> Vec<Row> {
    let rounds = if options.quick { 3 } else { 7 };
    let mut config = shared::config::Config::for_tests("file-service-local", "table");
    config.custom_url_keys = None;
    let (backend, faults) = faulty(MemoryBackend::in_memory("file-service-local"));
    let service = std::sync::Arc::new(FileService::new(backend, config, Clock::system()));
    let store = &service.backend.store.inner;
    let put_temp = |key: String| async move {
        store
            .put(&key, b"%PDF-bench".to_vec(), Some("application/pdf"))
            .await
            .expect("put");
        key
    };
    let operations: &[(&str, &str, Function)] = &[
        ("uploadFileV2", "upload.json", Function::Upload),
        ("saveFileV2, new file", "save.json", Function::Save),
        (
            "saveFileV2, new version",
            "save-version.json",
            Function::Save,
        ),
        ("getFile", "get.json", Function::Get),
        ("downloadFile", "download.json", Function::Download),
        (
            "deleteFile, to the trash (two versions)",
            "delete.json",
            Function::Delete,
        ),
        (
            "restoreFile (two versions)",
            "restore.json",
            Function::Delete,
        ),
        (
            "deleteFile ?purge=true (two versions)",
            "delete-purge.json",
            Function::Delete,
        ),
    ];
    let mut rows = Vec::new();
    for (operation, event, function) in operations {
        let mut trips = Vec::new();
        let mut calls = Vec::new();
        for _ in 0..rounds {
            // A file with one version (two for the delete) to work on; not timed.
            faults.delay_each_call(Duration::ZERO);
            let saved = handle(
                &service,
                Function::Save,
                request("save.json", "", &put_temp(temp_key()).await),
            )
            .await;
            let body: serde_json::Value = serde_json::from_slice(saved.body().as_ref()).unwrap();
            let file_id = body["_id"].as_str().expect("saved").to_owned();
            if operation.contains("two versions") {
                let key = put_temp(temp_key()).await;
                handle(
                    &service,
                    Function::Save,
                    request("save-version.json", &file_id, &key),
                )
                .await;
            }
            if operation.starts_with("restore") {
                let trashed = request("delete.json", &file_id, "");
                handle(&service, Function::Delete, trashed).await;
            }
            let key = put_temp(temp_key()).await;
            let timed = request(event, &file_id, &key);
            faults.reset();
            faults.delay_each_call(DELAY);
            let started = Instant::now();
            let response = handle(&service, *function, timed).await;
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            assert!(
                (200..300).contains(&status),
                "{operation} answered {status}"
            );
            trips.push(elapsed.as_secs_f64() / DELAY.as_secs_f64());
            calls = faults.calls();
        }
        let stats = Stats::of(&trips);
        eprintln!(
            "  {operation}: {:.2} round trips, calls {calls:?}",
            stats.median
        );
        rows.push(Row {
            section: "5. round trips on the wire (25 ms added to every AWS call)",
            name: operation.to_string(),
            unit: "round trips",
            stats,
            note: if calls.is_empty() {
                "no AWS call (presigning is local)".into()
            } else {
                format!("{} calls: {}", calls.len(), calls.join(", "))
            },
        });
    }
    faults.delay_each_call(Duration::ZERO);
    rows
}
