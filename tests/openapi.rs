//! docs/openapi.json against the running API: the local API serves it (and the console),
//! and schemathesis (pinned in scripts/requirements-schemathesis.txt, installed by
//! `make test` into .venv-schemathesis) fuzzes every operation it describes, from a
//! fixed seed with a bounded number of examples, checking that no answer is a server
//! error and that every status, content type and body is the one documented, and that
//! routes which need a token refuse a request without one.

use std::path::Path;
use std::time::Duration;

use integration_tests::{new_org, stack};

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,ignored_auth";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_local_api_serves_its_openapi_document_and_the_console() {
    let stack = stack().await;
    let doc = stack
        .http
        .get(stack.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), 200);
    assert_eq!(doc.headers()["content-type"], "application/json");
    let served = doc.bytes().await.unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(
        served,
        std::fs::read(root.join("docs/openapi.json")).unwrap()
    );
    let page = stack.http.get(stack.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("<script type=\"module\" src=\"app.js\">"));
    // Anything else is still the API's JSON 404.
    let missing = stack.http.get(stack.url("/app.css")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["error"],
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_failure_in_any_documented_operation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let st = root.join(".venv-schemathesis/bin/st");
    assert!(
        st.exists(),
        "schemathesis is missing: `make test` installs it (scripts/venv.sh \
         scripts/requirements-schemathesis.txt .venv-schemathesis)"
    );
    let stack = stack().await;
    let report = std::env::temp_dir().join(format!("schemathesis-{}", std::process::id()));
    // Run in a folder of its own: schemathesis keeps a cache of past failures in its
    // working folder and replays them, and each run must start from the seed alone.
    std::fs::create_dir_all(&report).expect("a folder for the run");
    let run = tokio::process::Command::new(&st)
        .current_dir(&report)
        .arg("run")
        .arg(root.join("docs/openapi.json"))
        .args(["--url", &stack.base])
        .args([
            "-H",
            &format!("Authorization: Bearer {}", stack.token(&new_org())),
        ])
        .args(["--checks", CHECKS])
        // Bounded: a fixed seed, 20 examples an operation, no shrinking; the phases
        // (coverage, fuzzing, stateful) stop when their examples are spent.
        .args([
            "--seed",
            "20261124",
            "--max-examples",
            "20",
            "--no-shrink",
            // One worker: with two threads, CPython 3.11's ast.parse (which hypothesis
            // calls to describe filters) races on its recursion counter and fails
            // with "AST constructor recursion depth mismatch", a fault of the tool.
            "--workers",
            "1",
        ])
        .args([
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "too_slow",
        ])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(420), run)
        .await
        .expect("schemathesis ends within its time limit")
        .expect("schemathesis starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{stderr}"
    );
    // Every operation was tested, none was skipped for want of a valid example.
    let all = format!(
        "{} passed",
        shared::api::all_routes::<shared::AwsBackend>().len()
    );
    assert!(
        stdout.contains(&all),
        "not every operation passed:\n{stdout}"
    );
    let _ = std::fs::remove_dir_all(report);
}
