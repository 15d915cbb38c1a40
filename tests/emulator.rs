//! `scripts/emulator.sh ensure` reuses no endpoint without asking what it is. Another
//! checkout's moto answering at `AWS_ENDPOINT_URL` is no S3 (it checks no signature and
//! ignores conditional copies) and may stop in the middle of this checkout's tests, so
//! the script starts its own emulators on free ports; a LocalStack there (its health
//! lists the service) is reused. Each test runs the script from a checkout of its own
//! (the scripts copied, the installed venvs shared), so it never touches the emulators
//! `make test` itself runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A checkout of its own in a temporary folder.
fn checkout(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emulator-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    for script in [
        "emulator.sh",
        "moto_server.py",
        "venv.sh",
        "requirements.txt",
        "requirements-localstack.txt",
    ] {
        std::fs::copy(
            root().join("scripts").join(script),
            dir.join("scripts").join(script),
        )
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    }
    for venv in [".venv", ".venv-localstack"] {
        std::os::unix::fs::symlink(root().join(venv), dir.join(venv)).unwrap();
    }
    dir
}

/// A server on a free loopback port that answers every request 200, like moto's root,
/// and `/_localstack/health` with `health` when given one.
async fn stranger(health: Option<&'static str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]).to_string();
                let body = match health {
                    Some(health) if head.starts_with("GET /_localstack/health ") => health,
                    _ => "<ok/>",
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

/// `emulator.sh COMMAND --owner FILE` in `dir` with `AWS_ENDPOINT_URL` at `general`
/// and no per-service endpoint set; its stdout.
fn emulator(dir: &Path, command: &str, general: &str) -> String {
    let out = Command::new("bash")
        .arg(dir.join("scripts/emulator.sh"))
        .args([command, "--owner"])
        .arg(dir.join("owner"))
        .env("AWS_ENDPOINT_URL", general)
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .output()
        .expect("emulator.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "emulator.sh {command}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The endpoints `ensure` settled on: (S3, DynamoDB).
fn endpoints(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(dir.join(".local/endpoints.env")).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_owned()
    };
    (
        value("AWS_ENDPOINT_URL_S3"),
        value("AWS_ENDPOINT_URL_DYNAMODB"),
    )
}

async fn get(url: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client.get(url).send().await.ok()?.text().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_checkouts_emulator_is_not_taken_for_s3_or_dynamodb() {
    let dir = checkout("stranger");
    let other = stranger(None).await;
    let said = emulator(&dir, "ensure", &other);
    let (s3, dynamodb) = endpoints(&dir);
    assert_ne!(s3, other, "S3 is not the stranger: {said}");
    assert_ne!(dynamodb, other, "DynamoDB is not the stranger: {said}");
    // Its own: a LocalStack that runs S3 and a moto, both started by this checkout.
    let health = get(&format!("{s3}/_localstack/health"))
        .await
        .unwrap_or_default();
    assert!(
        health.contains("\"s3\""),
        "S3 at {s3} is a LocalStack: {health}"
    );
    assert!(
        get(&dynamodb).await.is_some(),
        "DynamoDB answers at {dynamodb}"
    );
    let owned = std::fs::read_to_string(dir.join("owner")).unwrap();
    assert_eq!(owned.lines().collect::<Vec<_>>(), ["moto", "localstack"]);
    emulator(&dir, "stop", &other);
    assert!(get(&dynamodb).await.is_none(), "its moto stopped");
    assert!(get(&s3).await.is_none(), "its LocalStack stopped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_localstack_at_the_endpoint_is_reused_for_the_services_it_lists() {
    let dir = checkout("localstack");
    let running = stranger(Some(
        r#"{"services": {"s3": "running", "dynamodb": "available", "sqs": "disabled"}}"#,
    ))
    .await;
    emulator(&dir, "ensure", &running);
    assert_eq!(endpoints(&dir), (running.clone(), running.clone()));
    let owned = std::fs::read_to_string(dir.join("owner")).unwrap_or_default();
    assert_eq!(owned, "", "nothing of its own was started");
    let _ = std::fs::remove_dir_all(&dir);
}
