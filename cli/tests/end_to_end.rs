//! The `files` binary against the local stack, as a user runs it: a 100 MiB upload
//! killed part-way and resumed, then downloaded byte-exact; info, rm, and errors.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use integration_tests::source::pattern;
use integration_tests::{new_org, stack, Stack};
use reqwest::Method;
use serde_json::Value;
use shared::service::sha256_base64;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_files");

fn files(stack: &Stack, org: &str, state: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("FILES_API_URL", &stack.base)
        .env("FILES_TOKEN", stack.token(org))
        .env("FILES_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn run(mut command: Command) -> Run {
    let out = command.output().await.expect("files runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The upload id in the state file the CLI writes once its upload has started.
fn started_upload(state: &Path) -> Option<String> {
    let entry = std::fs::read_dir(state)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))?;
    let saved: Value = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
    saved["upload_id"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_100_mib_upload_killed_part_way_resumes_and_downloads_byte_exact() {
    let stack = stack().await;
    let org = new_org();
    let dir = std::env::temp_dir().join(format!("files-cli-{org}"));
    let state = dir.join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("archive.tar");
    let body = pattern(100 * 1024 * 1024);
    std::fs::write(&path, &body).unwrap();

    // At 20 MB/s the upload takes about 5 s: long enough to kill it half-way.
    let mut first = files(&stack, &org, &state);
    first.args([
        "upload",
        path.to_str().unwrap(),
        "--parallel",
        "2",
        "--limit-rate",
        "20000000",
        "--quiet",
    ]);
    let mut child = first.spawn().unwrap();
    let mut held = 0;
    for _ in 0..400 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let Some(upload) = started_upload(&state) else {
            continue;
        };
        let status = stack
            .call(
                &org,
                Method::GET,
                &format!("/v2/files/uploads/{upload}"),
                None,
            )
            .await
            .expect(200);
        held = status["parts"].as_array().unwrap().len();
        if held >= 3 {
            break;
        }
    }
    child.kill().await.unwrap();
    assert!(
        (3..13).contains(&held),
        "killed with {held} of 13 parts uploaded"
    );

    let mut second = files(&stack, &org, &state);
    second.args(["upload", path.to_str().unwrap(), "--json", "--public"]);
    let resumed = run(second).await;
    assert!(resumed.ok, "{}", resumed.stderr);
    let note = resumed
        .stderr
        .lines()
        .find(|l| l.starts_with("resuming: "))
        .unwrap_or_else(|| panic!("no resume note in {}", resumed.stderr));
    let already: usize = note["resuming: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        already >= held,
        "{note}: the parts S3 held were not sent again"
    );
    let entity: Value = serde_json::from_str(resumed.stdout.trim()).unwrap();
    assert_eq!(entity["size_bytes"], body.len());
    assert_eq!(entity["checksum_sha256"], sha256_base64(&body).as_str());
    assert_eq!(entity["access_control"], "public-read");
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        0,
        "the state file is gone"
    );
    let id = entity["_id"].as_str().unwrap();

    let out = dir.join("downloaded.tar");
    let mut download = files(&stack, &org, &state);
    download.args(["download", id, "-o", out.to_str().unwrap()]);
    let downloaded = run(download).await;
    assert!(downloaded.ok, "{}", downloaded.stderr);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(sha256_base64(&bytes), sha256_base64(&body));
    assert!(bytes == body, "byte-exact");

    let mut info = files(&stack, &org, &state);
    info.args(["info", id]);
    let info = run(info).await;
    assert!(info.ok);
    assert!(
        info.stdout.contains("archive.tar") && info.stdout.contains(id),
        "{}",
        info.stdout
    );

    let mut rm = files(&stack, &org, &state);
    rm.args(["rm", id]);
    assert!(run(rm).await.ok);
    let mut gone = files(&stack, &org, &state);
    gone.args(["info", id]);
    let gone = run(gone).await;
    assert!(!gone.ok);
    assert_eq!(gone.stderr.lines().count(), 1, "one line: {}", gone.stderr);
    assert!(
        gone.stderr.starts_with("files: error: ") && gone.stderr.contains("(not_found, HTTP 404)"),
        "{}",
        gone.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn small_files_go_in_one_put_and_errors_are_one_line() {
    let stack = stack().await;
    let org = new_org();
    let dir = std::env::temp_dir().join(format!("files-cli-small-{org}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("note.txt");
    std::fs::write(&path, b"a small note").unwrap();
    let mut upload = files(&stack, &org, &dir);
    upload.args(["upload", path.to_str().unwrap(), "--json", "--ttl", "3600"]);
    let uploaded = run(upload).await;
    assert!(uploaded.ok, "{}", uploaded.stderr);
    let entity: Value = serde_json::from_str(uploaded.stdout.trim()).unwrap();
    assert_eq!(
        entity["checksum_sha256"],
        sha256_base64(b"a small note").as_str()
    );
    assert!(entity["expires_at"].is_string());

    let mut no_token = files(&stack, &org, &dir);
    no_token.env_remove("FILES_TOKEN").args(["info", "x"]);
    let refused = run(no_token).await;
    assert!(!refused.ok);
    assert_eq!(
        refused.stderr.trim(),
        "files: error: no token: pass --token or set FILES_TOKEN"
    );

    let mut missing = files(&stack, &org, &dir);
    missing.args(["upload", dir.join("nope.bin").to_str().unwrap()]);
    let missing = run(missing).await;
    assert!(!missing.ok);
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);

    let mut unreachable = files(&stack, &org, &dir);
    unreachable.args(["--api", "http://127.0.0.1:9", "info", "x"]);
    let unreachable = run(unreachable).await;
    assert!(!unreachable.ok);
    assert!(
        unreachable.stderr.contains("cannot reach the API"),
        "{}",
        unreachable.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn ls_pages_through_every_file_in_the_order_asked() {
    let stack = stack().await;
    let org = new_org();
    let dir = std::env::temp_dir().join(format!("files-cli-ls-{org}"));
    std::fs::create_dir_all(&dir).unwrap();
    // More files than one page of the listing the CLI asks for with -n.
    for (i, name) in ["b.txt", "A.txt", "c.png", "d.txt"].iter().enumerate() {
        stack
            .new_file(&org, name, "text/plain", &vec![b'x'; 10 * (i + 1)])
            .await;
    }
    let mut ls = files(&stack, &org, &dir);
    ls.args(["ls", "--sort", "filename", "--asc"]);
    let listed = run(ls).await;
    assert!(listed.ok, "{}", listed.stderr);
    let names: Vec<&str> = listed
        .stdout
        .lines()
        .map(|l| l.rsplit("  ").next().unwrap())
        .collect();
    assert_eq!(names, ["A.txt", "b.txt", "c.png", "d.txt"]);
    assert_eq!(listed.stderr.trim(), "4 files");

    let mut some = files(&stack, &org, &dir);
    some.args([
        "ls",
        "--json",
        "-n",
        "3",
        "--sort",
        "size_bytes",
        "--search",
        "T",
    ]);
    let some = run(some).await;
    assert!(some.ok, "{}", some.stderr);
    let sizes: Vec<u64> = some
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["size_bytes"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        sizes,
        [40, 20, 10],
        "the largest .txt files first, three of them"
    );

    let mut bad = files(&stack, &org, &dir);
    bad.args(["ls", "--sort", "colour"]);
    let bad = run(bad).await;
    assert!(!bad.ok);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    std::fs::remove_dir_all(&dir).ok();
}
