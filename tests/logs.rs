//! What a function logs, as Lambda's JSON log format shows it: every line of a request
//! carries its request id, its route and the caller's organisation.

use std::io::Write;
use std::sync::{Arc, Mutex};

use integration_tests::service;
use serde_json::Value;
use shared::api::{handle, Function};

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_line_carries_the_request_id_route_and_organisation() {
    // As Lambda sets it when the template's LoggingConfig says LogFormat: JSON.
    std::env::set_var("AWS_LAMBDA_LOG_FORMAT", "JSON");
    let captured = Captured::default();
    let sink = captured.clone();
    lambda_http::tracing::init_default_subscriber_with_writer(move || sink.clone());

    let text =
        std::fs::read_to_string(format!("{}/../events/get.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .replace(
                "4ffdc191-f32c-404a-8520-c403b7408afa",
                &uuid::Uuid::new_v4().to_string(),
            );
    let request = lambda_http::request::from_str(&text).unwrap();
    let response = handle(&std::sync::Arc::new(service()), Function::Get, request).await;
    assert_eq!(response.status().as_u16(), 404);

    let bytes = captured.0.lock().unwrap().clone();
    let lines: Vec<Value> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 2, "a refusal and the answer: {lines:?}");
    for line in &lines {
        let span = &line["span"];
        assert_eq!(span["route"], "GET /v2/files/{id}", "{line}");
        assert_eq!(span["org"], "123", "{line}");
        assert!(
            span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l["fields"]["status"] == 404),
        "{lines:?}"
    );
}
