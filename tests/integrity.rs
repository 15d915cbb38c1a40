//! Core integrity, as an attacker and a busy client try it: each numbered problem found
//! that way, reproduced over HTTP against the local stack. Races run many trials,
//! bounded in time.

use std::time::{Duration, Instant};

use futures::future::join_all;
use integration_tests::{config, new_org, stack, stack_with, stack_with_timeouts, Stack};
use local_api::jwt::sign_hs256;
use reqwest::Method;
use serde_json::{json, Map, Value};
use shared::ports::ObjectStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Trials of each race, and the time they may take together.
const TRIALS: usize = 14;
const RACE_BUDGET: Duration = Duration::from_secs(120);

fn id_of(entity: &Value) -> String {
    entity["_id"].as_str().expect("an _id").to_owned()
}

/// The objects stored under an organisation's (or one file's) prefix.
async fn objects(s: &Stack, prefix: &str) -> Vec<String> {
    s.service.store().list(prefix).await.expect("list")
}

/// A visible file is whole: every listed version downloads its own bytes.
async fn assert_whole(s: &Stack, org: &str, id: &str) {
    let file = s
        .call(org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let versions = file["versions"].as_array().expect("versions");
    for (i, version) in versions.iter().enumerate() {
        let url = s
            .download_url(org, id, &format!("?version={}", i + 1))
            .await;
        let (status, _, bytes) = s.fetch(&url).await;
        assert_eq!(status, 200, "version {} of {id} downloads", i + 1);
        assert_eq!(
            bytes.len() as u64,
            version["size_bytes"].as_u64().unwrap(),
            "version {} has its bytes",
            i + 1
        );
    }
}

/// `count` new versions of file `id`, uploaded now; the saves start `step_ms` apart
/// when the returned future runs, and it yields their statuses.
async fn staggered_version_saves<'a>(
    s: &'a Stack,
    org: &'a str,
    id: &'a str,
    count: usize,
    step_ms: u64,
) -> impl std::future::Future<Output = Vec<u16>> + 'a {
    let mut uploads = Vec::new();
    for i in 0..count {
        let body = format!("version {}", i + 2);
        uploads.push(
            s.upload(org, "race.txt", "text/plain", body.as_bytes())
                .await,
        );
    }
    let saves = uploads
        .into_iter()
        .enumerate()
        .map(move |(i, s3ref)| async move {
            tokio::time::sleep(Duration::from_millis(step_ms * i as u64)).await;
            s.save(org, json!({"s3ref": s3ref, "_id": id})).await.status
        });
    join_all(saves)
}

// 1. A delete racing with version saves answered 409 and left versions without objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletes_racing_with_version_saves_never_leave_a_broken_file() {
    let s = stack().await;
    let started = Instant::now();
    let mut trials = 0;
    while trials < TRIALS && started.elapsed() < RACE_BUDGET {
        trials += 1;
        let org = new_org();
        let id = id_of(&s.new_file(&org, "race.txt", "text/plain", b"v1").await);
        let saves = staggered_version_saves(&s, &org, &id, 10, 10).await;
        let delete = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.call(
                &org,
                Method::DELETE,
                &format!("/v2/files/{id}?purge=true"),
                None,
            )
            .await
        };
        let (saved, deleted) = tokio::join!(saves, delete);
        for status in &saved {
            assert!(
                matches!(status, 201 | 404),
                "trial {trials}: a save answered {status}"
            );
        }
        assert_eq!(deleted.status, 200, "trial {trials}: {}", deleted.json);
        let after = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await;
        assert_eq!(after.status, 404, "trial {trials}: deleted means gone");
        let left = objects(&s, &format!("files/{org}/")).await;
        assert!(left.is_empty(), "trial {trials}: objects left: {left:?}");
    }
    assert!(trials >= 5, "only {trials} trials ran in the time budget");
}

// 1b. The same race with the trash: a save that lands after the delete answers 404 and
// leaves nothing behind; the restored file holds exactly the saves that answered 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn version_saves_racing_a_move_to_the_trash_land_whole_or_not_at_all() {
    let s = stack().await;
    let started = Instant::now();
    let mut trials = 0;
    while trials < TRIALS && started.elapsed() < RACE_BUDGET {
        trials += 1;
        let org = new_org();
        let id = id_of(&s.new_file(&org, "race.txt", "text/plain", b"v1").await);
        let saves = staggered_version_saves(&s, &org, &id, 8, 8).await;
        let trash = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
                .await
        };
        let (saved, trashed) = tokio::join!(saves, trash);
        assert_eq!(trashed.status, 200, "trial {trials}: {}", trashed.json);
        for status in &saved {
            assert!(
                matches!(status, 201 | 404),
                "trial {trials}: a save answered {status}"
            );
        }
        let landed = saved.iter().filter(|s| **s == 201).count();
        let restored = s
            .call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
            .await
            .expect(200);
        let versions = restored["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 1 + landed, "trial {trials}");
        assert_whole(&s, &org, &id).await;
        // Nothing under the file's prefix but its versions' objects.
        let mut left = objects(&s, &format!("files/{org}/{id}/")).await;
        let mut kept: Vec<String> = versions
            .iter()
            .map(|v| v["s3ref"]["key"].as_str().unwrap().to_owned())
            .collect();
        left.sort();
        kept.sort();
        assert_eq!(left, kept, "trial {trials}: nothing left behind");
    }
    assert!(trials >= 5, "only {trials} trials ran in the time budget");
}

/// `count` saves of one upload at once, with bodies from `body`; the statuses.
async fn saves_at_once(s: &Stack, orgs: &[&str], body: Value, count: usize) -> Vec<u16> {
    let saves = (0..count).map(|i| {
        let (s, org, body) = (s, orgs[i % orgs.len()], body.clone());
        async move { s.save(org, body).await.status }
    });
    join_all(saves).await
}

// 2. Ten concurrent saves of one s3ref made ten files; a public upload landed in two organisations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_upload_is_consumed_once_however_many_save_it() {
    let s = stack().await;
    for trial in 0..5 {
        // As new files.
        let org = new_org();
        let s3ref = s.upload(&org, "once.txt", "text/plain", b"once").await;
        let statuses = saves_at_once(&s, &[&org], json!({ "s3ref": s3ref }), 10).await;
        assert_eq!(
            statuses.iter().filter(|st| **st == 201).count(),
            1,
            "trial {trial}: {statuses:?}"
        );
        // The others learn the upload was saved (409), or find it already gone (404:
        // the winner removed the temp object); either way they store nothing.
        assert!(
            statuses.iter().all(|st| matches!(st, 201 | 404 | 409)),
            "{statuses:?}"
        );
        assert_eq!(objects(&s, &format!("files/{org}/")).await.len(), 1);

        // As versions of one file.
        let id = id_of(&s.new_file(&org, "base.txt", "text/plain", b"base").await);
        let s3ref = s.upload(&org, "v.txt", "text/plain", b"version").await;
        let body = json!({ "s3ref": s3ref, "_id": id });
        let statuses = saves_at_once(&s, &[&org], body, 10).await;
        assert_eq!(
            statuses.iter().filter(|st| **st == 201).count(),
            1,
            "{statuses:?}"
        );
        let file = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .expect(200);
        assert_eq!(
            file["versions"].as_array().unwrap().len(),
            2,
            "one version added"
        );
        assert_whole(&s, &org, &id).await;
        assert_eq!(objects(&s, &format!("files/{org}/{id}/")).await.len(), 2);

        // A public upload, claimed by two organisations at once: the first one owns it.
        let (a, b) = (new_org(), new_org());
        let ticket = s
            .send(
                s.http
                    .post(s.url("/v1/files/public/upload"))
                    .json(&json!({"filename": "form.pdf", "mime_type": "application/pdf"})),
            )
            .await
            .expect(201);
        let url = ticket["upload_url"].as_str().unwrap();
        s.put_bytes(url, "application/pdf", b"%PDF-public").await;
        let body = json!({ "s3ref": ticket["s3ref"] });
        let statuses = saves_at_once(&s, &[&a, &b], body, 2).await;
        assert_eq!(
            statuses.iter().filter(|st| **st == 201).count(),
            1,
            "{statuses:?}"
        );
        let stored = objects(&s, &format!("files/{a}/")).await.len()
            + objects(&s, &format!("files/{b}/")).await.len();
        assert_eq!(stored, 1, "the upload landed in one organisation");
    }
}

fn token(s: &Stack, claims: &[(&str, Value)]) -> String {
    let now = shared::time::Clock::system().now_millis() / 1000;
    let mut all = Map::new();
    all.insert("iss".into(), s.jwt.issuer.clone().into());
    all.insert("aud".into(), s.jwt.audience.clone().into());
    all.insert("exp".into(), (now + 600).into());
    all.insert("org_id".into(), "123".into());
    for (name, value) in claims {
        all.insert((*name).into(), value.clone());
    }
    sign_hs256(&all, &s.jwt.secret)
}

// 3. Organisation claims null, true, 1.5 or 123 became tenants; non-numeric nbf was
//    ignored; a fractional exp was refused.
#[tokio::test]
async fn tokens_name_an_organisation_with_a_string_and_dates_with_numbers() {
    let s = stack().await;
    let path = format!("/v2/files/{}", uuid::Uuid::new_v4());
    let status = |token: String| {
        let request = s.http.get(s.url(&path)).bearer_auth(token);
        async { s.send(request).await }
    };
    for org in [
        json!(null),
        json!(true),
        json!(1.5),
        json!(123),
        json!(""),
        json!(["1"]),
    ] {
        let answer = status(token(&s, &[("org_id", org.clone())])).await;
        assert_eq!(answer.expect_error(401), "unauthorized", "org_id {org}");
    }
    for (claim, value) in [
        ("nbf", json!("later")),
        ("exp", json!("9999999999")),
        ("iat", json!(null)),
    ] {
        let answer = status(token(&s, &[(claim, value.clone())])).await;
        assert_eq!(answer.expect_error(401), "unauthorized", "{claim} {value}");
    }
    let now = shared::time::Clock::system().now_millis() as f64 / 1000.0;
    let fractional = token(
        &s,
        &[("exp", json!(now + 600.5)), ("nbf", json!(now - 0.5))],
    );
    assert_eq!(
        status(fractional).await.expect_error(404),
        "not_found",
        "accepted"
    );
}

// 4. Timestamps varied in width and a later version got an earlier created_at.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timestamps_have_one_width_and_versions_strictly_increase() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "t.txt", "text/plain", b"1").await;
    let id = id_of(&file);
    let mut uploads = Vec::new();
    for i in 0..8 {
        uploads.push(
            s.upload(&org, "t.txt", "text/plain", format!("{i}").as_bytes())
                .await,
        );
    }
    let saves = uploads
        .into_iter()
        .map(|s3ref| s.save(&org, json!({"s3ref": s3ref, "_id": id})));
    for answer in join_all(saves).await {
        answer.expect(201);
    }
    let file = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let fixed_width = |t: &str| {
        t.len() == 24
            && t.as_bytes()[19] == b'.'
            && t.ends_with('Z')
            && t[20..23].bytes().all(|b| b.is_ascii_digit())
    };
    for field in ["_created_at", "_updated_at"] {
        let t = file[field].as_str().unwrap();
        assert!(fixed_width(t), "{field} {t}");
    }
    let stamps: Vec<&str> = file["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(stamps.len(), 9);
    for pair in stamps.windows(2) {
        assert!(fixed_width(pair[1]), "{}", pair[1]);
        assert!(pair[0] < pair[1], "versions in order of time: {stamps:?}");
    }
    assert_whole(&s, &org, &id).await;
}

// 5. public_url was built from the request's Host header.
#[tokio::test]
async fn public_url_never_comes_from_the_host_header() {
    let s = stack().await;
    let org = new_org();
    let s3ref = s.upload(&org, "h.txt", "text/plain", b"h").await;
    let saved = s
        .send(
            s.http
                .post(s.url("/v2/files"))
                .bearer_auth(s.token(&org))
                .header("host", "evil.example")
                .header("x-forwarded-proto", "http")
                .json(&json!({ "s3ref": s3ref })),
        )
        .await
        .expect(201);
    let id = id_of(&saved);
    assert_eq!(
        saved["public_url"],
        s.url(&format!("/v1/files/public/{id}"))
    );
}

// 6. External URLs accepted metadata and private addresses, userinfo and line breaks.
#[tokio::test]
async fn external_urls_point_only_to_public_addresses() {
    // As deployed: loopback is open only with the local-development setting.
    let mut strict = config();
    strict.url_policy.allow_http_loopback = false;
    let s = stack_with(strict).await;
    let org = new_org();
    for url in [
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://10.0.0.1/internal",
        "https://[::ffff:127.0.0.1]/x",
        "https://100.64.1.1/x",
        "https://[fd12::1]/x",
        "https://localhost/x",
        "https://user:secret@example.com/x",
        "https://example.com/a\r\nLocation: https://evil.example",
        "https://exa\tmple.com/x",
    ] {
        let answer = s
            .save(
                &org,
                json!({ "custom_download_url": url, "access_control": "public-read" }),
            )
            .await;
        assert_eq!(
            answer.expect_error(400),
            "invalid_custom_download_url",
            "{url:?}"
        );
    }
    assert!(objects(&s, &format!("files/{org}/")).await.is_empty());
}

/// Sends raw bytes to the local API; the answer's status and body, as it came.
async fn raw(s: &Stack, request: &[u8]) -> (u16, String) {
    let address = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    if complete(&answer) {
                        break;
                    }
                }
            }
        }
    });
    read.await.expect("an answer within 5 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Whether a whole answer (head and a body of its content-length) has arrived.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

fn is_json_error(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .is_some_and(|v| v["error"].is_string() && v["message"].is_string())
}

// 7. The local API answered parse errors with empty bodies, read oversized bodies before
//    its 413, kept slow clients forever, and showed Rust debug formatting.
#[tokio::test]
async fn the_local_api_answers_every_error_in_json_and_bounds_every_read() {
    let s = stack_with_timeouts(local_api::Timeouts {
        header: Duration::from_millis(700),
        body: Duration::from_millis(700),
    })
    .await;
    let (status, body) = raw(&s, b"NOT A REQUEST\r\n\r\n").await;
    assert_eq!(status, 400, "{body}");
    assert!(is_json_error(&body), "a parse error in JSON: {body:?}");
    let long_header = format!(
        "GET /v2/files HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(600_000)
    );
    let (status, body) = raw(&s, long_header.as_bytes()).await;
    assert_eq!(status, 431, "{body}");
    assert!(is_json_error(&body), "{body:?}");

    // An oversized Content-Length is refused before a byte of the body is sent.
    let token = s.token(&new_org());
    let oversized = format!(
        "POST /v2/files HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        local_api::MAX_BODY_BYTES + 1
    );
    let (status, body) = raw(&s, oversized.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    assert!(is_json_error(&body), "{body:?}");

    // A body that stops coming: 408 after the body timeout.
    let slow_body = format!(
        "POST /v2/files HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"s3"
    );
    let (status, body) = raw(&s, slow_body.as_bytes()).await;
    assert_eq!(status, 408, "{body}");
    assert!(is_json_error(&body), "{body:?}");

    // Headers that stop coming: the connection is closed after the header timeout.
    let address = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /v2/files/x HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "a client that never finishes its headers is let go"
    );

    // Messages never show Rust debug formatting.
    let org = new_org();
    let s3ref = s.upload(&org, "m.txt", "text/plain", b"m").await;
    let answer = s
        .save(&org, json!({ "s3ref": s3ref, "k\u{202e}é": 1 }))
        .await;
    let message = answer.json["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(answer.expect_error(400), "invalid_attribute");
    assert!(
        !message.contains("\\u{") && !message.contains('\u{202e}'),
        "{message:?}"
    );
}
