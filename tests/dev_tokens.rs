//! Development tokens are for `sam local` only. A function finds `DEV_JWT_SECRET` set
//! when it runs under SAM (which sets `AWS_SAM_LOCAL=true`) and checks the tokens itself;
//! on Lambda, the same variable makes it refuse to start: an init error, before it asks
//! the runtime API for work.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const REFUSAL: &str = "development tokens are for sam local only";

/// The `get` function's binary, built as `cargo test --workspace` resolves features.
fn get_binary() -> PathBuf {
    integration_tests::built(&["--workspace", "--all-targets"]).join("get")
}

/// Runs the binary as Lambda would start it, with a runtime API nobody answers; kills
/// it after `wait` if it is still running (waiting for work).
fn start(binary: &Path, env: &[(&str, &str)], wait: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_FUNCTION_NAME", "GetFunction")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        // A closed port: the runtime API never answers.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("FILES_BUCKET", "bucket")
        .env("FILES_TABLE", "table")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    while started.elapsed() < wait {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let Output {
        status,
        stdout,
        stderr,
        ..
    } = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code(), text)
}

#[test]
fn a_function_on_lambda_refuses_to_start_with_a_development_secret() {
    let binary = get_binary();
    let (code, output) = start(
        &binary,
        &[("DEV_JWT_SECRET", "anyone-can-mint-with-this")],
        Duration::from_secs(20),
    );
    assert!(
        code.is_some_and(|c| c != 0),
        "exits with an error: {code:?}\n{output}"
    );
    assert!(output.contains(REFUSAL), "says why: {output}");

    // SAM's own marker must say `true`: any other value is Lambda.
    let (code, output) = start(
        &binary,
        &[("DEV_JWT_SECRET", "x"), ("AWS_SAM_LOCAL", "1")],
        Duration::from_secs(20),
    );
    assert!(
        code.is_some_and(|c| c != 0) && output.contains(REFUSAL),
        "{output}"
    );
}

#[test]
fn under_sam_local_or_without_the_secret_the_function_starts() {
    let binary = get_binary();
    for env in [
        &[
            ("DEV_JWT_SECRET", "local-secret"),
            ("AWS_SAM_LOCAL", "true"),
        ][..],
        &[][..],
    ] {
        // It gets past its configuration and asks the runtime API for work (which nobody
        // answers here): no refusal.
        let (_, output) = start(&binary, env, Duration::from_secs(2));
        assert!(!output.contains(REFUSAL), "{env:?}: {output}");
        assert!(!output.contains("configuration"), "{env:?}: {output}");
    }
}
