//! Ingest over HTTP against the local stack: saves from a URL served by a local HTTP
//! server (headers, large, missing, redirects, slow), refused URLs, direct uploads
//! (form and raw) and files with a time to live.

use std::time::Duration;

use integration_tests::source::{pattern, SourceServer, SOURCE_TOKEN, SOURCE_TOKEN_HEADER};
use integration_tests::{config, new_org, stack, stack_at, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;
use shared::service::sha256_base64;
use shared::time::Clock;

async fn download(stack: &Stack, org: &str, id: &str) -> Vec<u8> {
    let url = stack.download_url(org, id, "").await;
    let (status, _, bytes) = stack.fetch(&url).await;
    assert_eq!(status, 200);
    bytes
}

fn id_of(entity: &Value) -> String {
    entity["_id"].as_str().expect("_id").to_owned()
}

#[tokio::test]
async fn a_source_that_needs_headers_is_fetched_with_them_and_they_are_never_returned() {
    let (stack, source) = (stack().await, SourceServer::start().await);
    let org = new_org();
    let body = json!({
        "source_url": source.url("/secret.bin"),
        "source_headers": { SOURCE_TOKEN_HEADER: SOURCE_TOKEN },
        "colour": "green",
    });
    let answer = stack.save(&org, body).await;
    let text = answer.json.to_string();
    let entity = answer.expect(201);
    assert!(!text.contains(SOURCE_TOKEN), "the headers are not returned");
    assert_eq!(entity["status"], "ready");
    assert_eq!(
        entity["filename"], "Report 2026.pdf",
        "from Content-Disposition"
    );
    assert_eq!(entity["mime_type"], "application/pdf", "from Content-Type");
    assert_eq!(entity["size_bytes"], 100_000);
    assert_eq!(entity["colour"], "green");
    let expected = pattern(100_000);
    assert_eq!(entity["checksum_sha256"], sha256_base64(&expected));
    assert_eq!(
        entity["versions"][0]["checksum_sha256"],
        sha256_base64(&expected)
    );
    let id = id_of(&entity);
    assert_eq!(download(&stack, &org, &id).await, expected, "byte-exact");
    let stored = stack
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await;
    assert!(
        !stored.json.to_string().contains(SOURCE_TOKEN),
        "nor stored"
    );

    // Without the header the source refuses, and so does the save: nothing is left.
    let refused = stack
        .save(&org, json!({ "source_url": source.url("/secret.bin") }))
        .await;
    assert_eq!(refused.expect_error(422), "source_failed");
    // The caller names the file and its type over what the source says.
    let named = stack
        .save(
            &org,
            json!({
                "source_url": source.url("/secret.bin"),
                "source_headers": { SOURCE_TOKEN_HEADER: SOURCE_TOKEN },
                "filename": "mine.bin",
                "mime_type": "application/x-mine",
            }),
        )
        .await
        .expect(201);
    assert_eq!(
        (named["filename"].as_str(), named["mime_type"].as_str()),
        (Some("mine.bin"), Some("application/x-mine"))
    );
}

#[tokio::test]
async fn a_24_mib_source_streams_into_several_parts_byte_exact() {
    let (stack, source) = (stack().await, SourceServer::start().await);
    let org = new_org();
    let size = 24 * 1024 * 1024;
    let entity = stack
        .save(
            &org,
            json!({ "source_url": source.url(&format!("/bytes/{size}/big%20data.bin")) }),
        )
        .await
        .expect(201);
    assert_eq!(
        entity["filename"], "big data.bin",
        "from the URL's last segment"
    );
    assert_eq!(entity["mime_type"], "application/octet-stream");
    assert_eq!(entity["size_bytes"], size);
    let expected = pattern(size);
    assert_eq!(entity["checksum_sha256"], sha256_base64(&expected));
    // A multipart upload's ETag says how many parts: 24 MiB in 8 MiB parts is 3.
    assert!(
        entity["etag"].as_str().unwrap().ends_with("-3"),
        "{}",
        entity["etag"]
    );
    let bytes = download(&stack, &org, &id_of(&entity)).await;
    assert_eq!(bytes.len(), size);
    assert!(bytes == expected, "byte-exact");
}

#[tokio::test]
async fn failing_sources_answer_422_and_leave_no_file() {
    let (stack, source) = (stack().await, SourceServer::start().await);
    let org = new_org();
    for (path, says) in [
        ("/missing", "404"),
        ("/to-metadata", "refused"),
        ("/hops/6", "more than 5"),
        ("/post-only", "405"),
    ] {
        let answer = stack
            .save(&org, json!({ "source_url": source.url(path) }))
            .await;
        let message = answer.json["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(answer.expect_error(422), "source_failed", "{path}");
        assert!(message.contains(says), "{path}: {message}");
    }
    // Nothing was stored for any of them: no entity, no object.
    let left = stack
        .service
        .store()
        .list(&format!("files/{org}/"))
        .await
        .unwrap();
    assert!(left.is_empty(), "no partial object: {left:?}");
    // Five redirects are followed; POST is sent when asked.
    let hops = stack
        .save(&org, json!({ "source_url": source.url("/hops/5") }))
        .await
        .expect(201);
    assert_eq!(hops["filename"], "after-hops.bin");
    let posted = stack
        .save(
            &org,
            json!({ "source_url": source.url("/post-only"), "source_method": "POST", "filename": "t.csv" }),
        )
        .await
        .expect(201);
    assert_eq!(download(&stack, &org, &id_of(&posted)).await, b"a,b\n1,2\n");
}

#[tokio::test]
async fn urls_inside_the_network_and_other_schemes_are_refused_at_once() {
    let stack = stack().await;
    let org = new_org();
    for url in [
        "http://10.0.0.8/a",
        "http://172.16.3.4/a",
        "http://192.168.1.20/a",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.1.1/a",
        "http://224.0.0.251/a",
        "http://0.0.0.0/a",
        "http://[fc00::1]/a",
        "http://[fd12:3456::1]/a",
        "http://[fe80::1]/a",
        "http://[ff02::1]/a",
        "http://[::ffff:127.0.0.1]/a",
        "http://[::ffff:169.254.169.254]/a",
        "file:///etc/passwd",
        "ftp://example.com/a",
        "https://user:password@example.com/a",
        "https://token@example.com/a",
        "not a url",
    ] {
        let answer = stack.save(&org, json!({ "source_url": url })).await;
        assert_eq!(answer.expect_error(400), "invalid_source_url", "{url}");
    }
    for (body, code) in [
        (
            json!({ "source_url": "https://example.com/a", "source_method": "PUT" }),
            "invalid_body",
        ),
        (
            json!({ "source_url": "https://example.com/a", "source_headers": ["x"] }),
            "invalid_body",
        ),
        (
            json!({ "source_url": "https://example.com/a", "source_headers": { "Host": "x" } }),
            "invalid_body",
        ),
        (
            json!({ "source_url": "https://example.com/a", "source_headers": { "X-A": 1 } }),
            "invalid_body",
        ),
        (json!({ "source_headers": { "X-A": "1" } }), "invalid_body"),
        (
            json!({ "source_url": "https://example.com/a", "custom_download_url": "https://example.com/b" }),
            "invalid_body",
        ),
        (
            json!({ "source_url": "https://example.com/a", "ttl_seconds": 59 }),
            "invalid_ttl",
        ),
        (
            json!({ "source_url": "https://example.com/a", "ttl_seconds": 604_801 }),
            "invalid_ttl",
        ),
    ] {
        assert_eq!(
            stack.save(&org, body.clone()).await.expect_error(400),
            code,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_slow_source_answers_202_pending_then_turns_ready_or_failed() {
    let mut config = config();
    config.ingest_wait = Duration::from_millis(500);
    let (stack, source) = (stack_with(config).await, SourceServer::start().await);
    let org = new_org();
    let pending = stack
        .save(
            &org,
            json!({ "source_url": source.url("/slow/2500"), "filename": "slow.bin" }),
        )
        .await
        .expect(202);
    assert_eq!(pending["status"], "pending");
    let id = id_of(&pending);
    let not_yet = stack
        .call(&org, Method::GET, &format!("/v1/files/{id}/download"), None)
        .await;
    assert_eq!(not_yet.expect_error(409), "not_ready");
    // A change made while the fetch runs is kept when it ends.
    stack
        .save(
            &org,
            json!({ "_id": id, "access_control": "public-read", "stage": "draft" }),
        )
        .await
        .expect(201);
    let ready = stack.until_settled(&org, &id).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["access_control"], "public-read", "{ready}");
    assert_eq!(ready["stage"], "draft");
    assert_eq!(ready["size_bytes"], 64 * 1024);
    assert_eq!(download(&stack, &org, &id).await, pattern(64 * 1024));

    let failing = stack
        .save(&org, json!({ "source_url": source.url("/slow-fail/1500") }))
        .await
        .expect(202);
    let id = id_of(&failing);
    let failed = stack.until_settled(&org, &id).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["status_reason"].as_str().unwrap().contains("503"),
        "{failed}"
    );
    let refused = stack
        .call(&org, Method::GET, &format!("/v1/files/{id}/download"), None)
        .await;
    assert_eq!(refused.expect_error(409), "not_ready");
    let left = stack
        .service
        .store()
        .list(&format!("files/{org}/{id}/"))
        .await
        .unwrap();
    assert!(left.is_empty(), "a failed fetch leaves no object");
}

#[tokio::test]
async fn a_source_adds_a_version_to_an_existing_file_which_stays_readable_meanwhile() {
    let (stack, source) = (stack().await, SourceServer::start().await);
    let org = new_org();
    let first = stack.new_file(&org, "a.txt", "text/plain", b"first").await;
    let id = id_of(&first);
    let second = stack
        .save(
            &org,
            json!({ "_id": id, "source_url": source.url("/bytes/5000/b.bin") }),
        )
        .await
        .expect(201);
    assert_eq!(second["versions"].as_array().unwrap().len(), 2);
    assert_eq!(second["filename"], "b.bin");
    assert_eq!(download(&stack, &org, &id).await, pattern(5000));
    // Another organisation cannot fetch into it.
    let other = stack
        .save(
            &new_org(),
            json!({ "_id": id, "source_url": source.url("/bytes/10/x") }),
        )
        .await;
    assert_eq!(other.expect_error(404), "not_found");
}

/// A `multipart/form-data` body with the given text fields and one file part.
fn form(
    fields: &[(&str, &str)],
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----formboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_file(
    stack: &Stack,
    org: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> integration_tests::Answer {
    let mut request = stack
        .http
        .post(stack.url(&format!("/v2/files{query}")))
        .bearer_auth(stack.token(org))
        .header("content-type", content_type)
        .body(body);
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    stack.send(request).await
}

#[tokio::test]
async fn direct_uploads_by_form_and_raw_body_store_the_bytes_and_link_them() {
    let stack = stack().await;
    let org = new_org();
    let bytes = pattern(300_000);
    let (content_type, body) = form(
        &[
            ("access_control", "public-read"),
            ("project", "apollo"),
            ("ttl_seconds", "3600"),
        ],
        "photo \"one\".png",
        "image/png",
        &bytes,
    );
    let entity = post_file(&stack, &org, "", &content_type, body, &[])
        .await
        .expect(201);
    assert_eq!(entity["filename"], "photo \"one\".png");
    assert_eq!(entity["mime_type"], "image/png");
    assert_eq!(entity["access_control"], "public-read");
    assert_eq!(entity["project"], "apollo");
    assert_eq!(entity["size_bytes"], 300_000);
    assert!(entity["expires_at"].is_string());
    assert_eq!(entity["checksum_sha256"], sha256_base64(&bytes));
    let (status, _, got) = stack.fetch(entity["download_url"].as_str().unwrap()).await;
    assert_eq!(
        (status, got == bytes),
        (200, true),
        "download_url serves the bytes"
    );

    // A raw body named by the query; the type is the Content-Type.
    let raw = b"plain text, sent as it is".to_vec();
    let entity = post_file(
        &stack,
        &org,
        "?filename=notes.txt&tag=x&delete_temp_file=true&version_only=false",
        "text/plain",
        raw.clone(),
        &[],
    )
    .await
    .expect(201);
    assert_eq!(
        (entity["filename"].as_str(), entity["mime_type"].as_str()),
        (Some("notes.txt"), Some("text/plain"))
    );
    assert_eq!(entity["tag"], "x");
    // saveFileV2's options are options, never the file's attributes (schemathesis found them kept).
    assert_eq!(
        (&entity["delete_temp_file"], &entity["version_only"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(download(&stack, &org, &id_of(&entity)).await, raw);
    // ... or by Content-Disposition; and a new version of that file by _id.
    let id = id_of(&entity);
    let version = post_file(
        &stack,
        &org,
        &format!("?_id={id}"),
        "application/pdf",
        b"%PDF-1.7 v2".to_vec(),
        &[(
            "content-disposition",
            "attachment; filename*=UTF-8''%C3%BCbersicht.pdf",
        )],
    )
    .await
    .expect(201);
    assert_eq!(version["filename"], "übersicht.pdf");
    assert_eq!(version["versions"].as_array().unwrap().len(), 2);
    assert_eq!(download(&stack, &org, &id).await, b"%PDF-1.7 v2");

    // Refusals: no name, a form without its file, forged ids, another organisation.
    let unnamed = post_file(
        &stack,
        &org,
        "",
        "application/octet-stream",
        b"x".to_vec(),
        &[],
    )
    .await;
    assert_eq!(unnamed.expect_error(400), "invalid_filename");
    let (content_type, body) = form(&[("a", "b")], "f.txt", "text/plain", b"x");
    let body = String::from_utf8(body)
        .unwrap()
        .replace("name=\"file\"", "name=\"other\"");
    let no_file = post_file(&stack, &org, "", &content_type, body.into_bytes(), &[]).await;
    assert_eq!(no_file.expect_error(400), "invalid_body");
    let broken = post_file(
        &stack,
        &org,
        "",
        "multipart/form-data; boundary=zz",
        b"garbage".to_vec(),
        &[],
    )
    .await;
    assert_eq!(broken.expect_error(400), "invalid_body");
    let foreign = post_file(
        &stack,
        &new_org(),
        &format!("?_id={id}&filename=a.txt"),
        "text/plain",
        b"x".to_vec(),
        &[],
    )
    .await;
    assert_eq!(foreign.expect_error(404), "not_found");
}

#[tokio::test]
async fn a_direct_upload_over_the_limit_answers_413_naming_the_other_routes() {
    let stack = stack().await;
    let org = new_org();
    let limit = config().direct_upload_max_bytes as usize;
    let answer = post_file(
        &stack,
        &org,
        "?filename=big.bin",
        "application/octet-stream",
        vec![7u8; limit + 1],
        &[],
    )
    .await;
    let message = answer.json["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(answer.expect_error(413), "payload_too_large");
    assert!(message.contains("/v2/files/uploads"), "{message}");
    // Exactly the limit is fine.
    post_file(
        &stack,
        &org,
        "?filename=edge.bin",
        "application/octet-stream",
        vec![7u8; limit],
        &[],
    )
    .await
    .expect(201);
    // A form whose file part alone is over it too.
    let (content_type, body) = form(
        &[],
        "big.bin",
        "application/octet-stream",
        &vec![1u8; limit + 1],
    );
    assert_eq!(
        post_file(&stack, &org, "", &content_type, body, &[])
            .await
            .expect_error(413),
        "payload_too_large"
    );
}

/// Many clients (Python's urllib, several SDKs) send the whole body before they read an
/// answer. API Gateway reads the body (up to its 10 MB) and the function answers 413, so
/// they get the answer; a server that answered early and closed would break their pipe.
#[tokio::test]
async fn a_client_that_sends_the_whole_body_first_still_reads_the_413() {
    let stack = stack().await;
    let org = new_org();
    let limit = config().direct_upload_max_bytes as usize;
    let address = stack.base.trim_start_matches("http://").to_owned();
    let token = stack.token(&org);
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut socket = std::net::TcpStream::connect(address).expect("connect");
        let body = vec![7u8; limit + 1];
        let head = format!(
            "POST /v2/files?filename=big.bin HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).expect("the head is sent");
        socket
            .write_all(&body)
            .expect("the whole body is sent before any answer is read");
        let mut answer = String::new();
        socket
            .read_to_string(&mut answer)
            .expect("the answer is read");
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
}

/// How long a presigned URL lives, as it says.
fn x_amz_expires(url: &str) -> u64 {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Expires")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_file_with_a_time_to_live_is_gone_everywhere_once_it_ends() {
    let clock = Clock::manual(Clock::system().now_millis());
    let stack = stack_at(config(), clock.clone()).await;
    let org = new_org();
    let s3ref = stack
        .upload(&org, "brief.txt", "text/plain", b"short-lived")
        .await;
    let entity = stack
        .save(
            &org,
            json!({ "s3ref": s3ref, "ttl_seconds": 60, "access_control": "public-read" }),
        )
        .await
        .expect(201);
    let id = id_of(&entity);
    let expires_at = entity["expires_at"].as_str().unwrap().to_owned();
    assert_eq!(
        shared::time::parse_rfc3339(&expires_at),
        Some(clock.now_millis() + 60_000)
    );
    // Readable before; a link lives no longer than the file.
    let url = stack.download_url(&org, &id, "").await;
    let lifetime = x_amz_expires(&url);
    assert!(lifetime <= 60, "X-Amz-Expires={lifetime}");
    assert_eq!(stack.fetch(&url).await.2, b"short-lived");
    clock.advance_millis(30_000);
    let later = stack.download_url(&org, &id, "").await;
    let lifetime = x_amz_expires(&later);
    assert!(lifetime <= 30, "capped at what is left: {lifetime}");

    clock.advance_millis(30_001);
    for (method, path, body) in [
        (Method::GET, format!("/v2/files/{id}"), None),
        (Method::GET, format!("/v1/files/{id}/download"), None),
        (
            Method::POST,
            "/v1/files:downloadFiles".to_owned(),
            Some(json!([{ "id": id }])),
        ),
        (
            Method::POST,
            "/v2/files".to_owned(),
            Some(json!({ "_id": id, "access_control": "private" })),
        ),
        (Method::DELETE, format!("/v2/files/{id}"), None),
    ] {
        let answer = stack.call(&org, method.clone(), &path, body).await;
        assert_eq!(answer.expect_error(404), "not_found", "{method} {path}");
    }
    let public = stack
        .send(stack.http.get(stack.url(&format!("/v1/files/public/{id}"))))
        .await;
    assert_eq!(public.status, 404, "public link");
}
