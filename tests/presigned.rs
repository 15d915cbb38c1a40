//! Presigned URLs against an S3 that checks signatures as AWS does (`make test` runs
//! LocalStack's S3 with signature validation on): the right request passes, and a
//! tampered, expired, wrong-Content-Type, wrong-Content-Length or altered-response-header
//! one is refused.

use std::time::Duration;

use integration_tests::{config, new_org, stack, stack_with, Stack};
use reqwest::Method;
use serde_json::json;

/// The URL with one query parameter's value replaced.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

/// A signature with its last character changed.
fn tampered(url: &str) -> String {
    let signature = param(url, "X-Amz-Signature");
    let last = if signature.ends_with('0') { "1" } else { "0" };
    with_param(
        url,
        "X-Amz-Signature",
        &format!("{}{last}", &signature[..signature.len() - 1]),
    )
}

async fn put(s: &Stack, url: &str, content_type: &str, body: &[u8]) -> u16 {
    s.http
        .put(url)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("PUT")
        .status()
        .as_u16()
}

/// uploadFileV2 declaring `size` bytes of text: the presigned PUT.
async fn upload_url(s: &Stack, org: &str, size: u64) -> String {
    let ticket = s
        .call(
            org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({"filename": "p.txt", "mime_type": "text/plain", "size_bytes": size})),
        )
        .await
        .expect(201);
    ticket["upload_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn upload_urls_are_checked_as_aws_checks_them() {
    let s = stack().await;
    let org = new_org();
    let url = upload_url(&s, &org, 5).await;
    assert_eq!(
        put(&s, &tampered(&url), "text/plain", b"hello").await,
        403,
        "tampered"
    );
    assert_eq!(
        put(&s, &url, "application/pdf", b"hello").await,
        403,
        "other Content-Type"
    );
    assert_eq!(
        put(&s, &url, "text/plain", b"hello!").await,
        403,
        "other Content-Length"
    );
    let other_key = url.replacen("p.txt", "q.txt", 1);
    assert_eq!(
        put(&s, &other_key, "text/plain", b"hello").await,
        403,
        "other key"
    );
    assert_eq!(
        put(&s, &url, "text/plain", b"hello").await,
        200,
        "as signed"
    );

    let mut short = config();
    short.upload_url_ttl = Duration::from_secs(1);
    let s = stack_with(short).await;
    let url = upload_url(&s, &org, 5).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(put(&s, &url, "text/plain", b"hello").await, 403, "expired");
}

#[tokio::test]
async fn download_urls_are_checked_as_aws_checks_them() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "d.txt", "text/plain", b"bytes").await;
    let id = file["_id"].as_str().unwrap();
    let url = s.download_url(&org, id, "").await;
    let get = |url: String| {
        let s = &s;
        async move { s.fetch(&url).await.0 }
    };
    assert_eq!(get(tampered(&url)).await, 403, "tampered");
    let disposition = "attachment; filename=\"other.exe\"";
    assert_eq!(
        get(with_param(
            &url,
            "response-content-disposition",
            disposition
        ))
        .await,
        403,
        "altered response header"
    );
    assert_eq!(
        get(with_param(&url, "response-content-type", "text/html")).await,
        403,
        "altered response type"
    );
    let (status, headers, bytes) = s.fetch(&url).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (200, &b"bytes"[..]),
        "as signed"
    );
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("d.txt"));
}
