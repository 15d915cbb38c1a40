//! External files over HTTP: save a custom_download_url, download a signed link,
//! and let the external server verify what it received.

use integration_tests::{config, new_org, stack, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::custom_url::SigningKeys;

const EXTERNAL: &str = "https://external-url.io/archive/contract.pdf?fileID=42&tenant=acme";

async fn external_file(s: &Stack, org: &str) -> Value {
    s.save(org, json!({"custom_download_url": EXTERNAL, "filename": "contract.pdf", "access_control": "private"}))
        .await
        .expect(201)
}

async fn verify(s: &Stack, org: &str, url: &str) -> bool {
    let answer = s
        .call(
            org,
            Method::POST,
            "/v1/files/download:verify",
            Some(json!({"custom_download_url": url})),
        )
        .await
        .expect(200);
    answer["valid"].as_bool().expect("valid is a boolean")
}

fn reordered(url: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let mut pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    pairs.reverse();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[tokio::test]
async fn an_external_file_is_saved_without_bytes_and_downloads_as_a_signed_link() {
    let s = stack().await;
    let org = new_org();
    let file = external_file(&s, &org).await;
    assert_eq!(file["custom_download_url"], EXTERNAL);
    assert_eq!(file["size_bytes"], 0);
    assert_eq!(file["versions"], json!([]));
    assert_eq!(file["filename"], "contract.pdf");
    assert_eq!(file["mime_type"], "application/pdf");
    assert!(file.get("s3ref").is_none());
    let id = file["_id"].as_str().unwrap();

    let before = shared::time::Clock::system().now_millis();
    let link = s.download_url(&org, id, "").await;
    let parsed = url::Url::parse(&link).unwrap();
    assert_eq!(parsed.host_str(), Some("external-url.io"));
    assert_eq!(parsed.path(), "/archive/contract.pdf");
    let params: std::collections::HashMap<String, String> =
        parsed.query_pairs().into_owned().collect();
    assert_eq!(params["fileID"], "42", "the URL's own parameters are kept");
    assert_eq!(params["tenant"], "acme");
    let expires_at: i64 = params["expires_at"].parse().unwrap();
    assert!(
        (before + 899_000..=before + 905_000).contains(&expires_at),
        "15 minutes ahead: {expires_at}"
    );
    assert!(
        params["signature"].len() >= 40 && !params["signature"].contains(['+', '/', '=']),
        "URL-safe"
    );

    let many = s
        .call(
            &org,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id}])),
        )
        .await
        .expect(200);
    assert!(many[0]["download_url"]
        .as_str()
        .unwrap()
        .contains("signature="));

    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    s.call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect_error(404);
}

#[tokio::test]
async fn verify_accepts_only_the_untouched_url_for_the_signing_organisation() {
    let s = stack().await;
    let org = new_org();
    let file = external_file(&s, &org).await;
    let link = s
        .download_url(&org, file["_id"].as_str().unwrap(), "")
        .await;

    assert!(verify(&s, &org, &link).await, "a fresh link verifies");
    assert!(
        verify(&s, &org, &reordered(&link)).await,
        "parameter order does not matter"
    );
    let tampered = [
        link.replace("fileID=42", "fileID=43"),
        link.replace("tenant=acme&", ""),
        format!("{link}&extra=1"),
        link.replace("/archive/", "/other/"),
        link.replace("external-url.io", "evil.example.com"),
        link[..link.len() - 3].to_owned(),
    ];
    for url in &tampered {
        assert!(
            !verify(&s, &org, url).await,
            "tampered link verified: {url}"
        );
    }
    assert!(
        !verify(&s, &new_org(), &link).await,
        "another organisation's link"
    );
    assert!(!verify(&s, &org, EXTERNAL).await, "an unsigned URL");

    for body in [
        json!({}),
        json!({"custom_download_url": 5}),
        json!({"custom_download_url": "not a url"}),
        json!("x"),
    ] {
        let answer = s
            .call(
                &org,
                Method::POST,
                "/v1/files/download:verify",
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, 400, "{body} -> {}", answer.json);
        answer.expect_error(400);
    }
}

#[tokio::test]
async fn expired_links_and_retired_keys_do_not_verify_but_the_previous_key_does_during_rotation() {
    let old_key = b"old-signing-key-0123456789abcdef-old".to_vec();
    let new_key = b"new-signing-key-0123456789abcdef-new".to_vec();
    let mut old_config = config();
    old_config.custom_url_keys = Some(SigningKeys::new(&old_key, None).unwrap());
    let mut short_config = old_config.clone();
    short_config.custom_url_ttl = std::time::Duration::from_secs(1);
    let mut rotating = config();
    rotating.custom_url_keys = Some(SigningKeys::new(&new_key, Some(&old_key)).unwrap());
    let mut retired = config();
    retired.custom_url_keys = Some(SigningKeys::new(&new_key, None).unwrap());

    let (old, short, rotating, retired) = (
        stack_with(old_config).await,
        stack_with(short_config).await,
        stack_with(rotating).await,
        stack_with(retired).await,
    );
    let org = new_org();
    let id = external_file(&old, &org).await["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = old.download_url(&org, &id, "").await;
    assert!(
        verify(&rotating, &org, &link).await,
        "the previous key still verifies"
    );
    assert!(
        !verify(&retired, &org, &link).await,
        "a retired key does not"
    );
    let fresh = rotating.download_url(&org, &id, "").await;
    assert!(
        verify(&retired, &org, &fresh).await,
        "new links use the new key"
    );

    let short_link = short.download_url(&org, &id, "").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(!verify(&short, &org, &short_link).await, "an expired link");
}

#[tokio::test]
async fn only_https_custom_urls_are_accepted() {
    let s = stack().await;
    let org = new_org();
    for url in [
        "http://example.com/f.pdf",
        "ftp://example.com/f",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://u:p@x.io/f",
        "x",
    ] {
        let answer = s.save(&org, json!({"custom_download_url": url})).await;
        assert_eq!(
            answer.expect_error(400),
            "invalid_custom_download_url",
            "{url}"
        );
    }
    // Loopback http is allowed only by the local-development setting (on in these tests).
    s.save(
        &org,
        json!({"custom_download_url": "http://127.0.0.1:8080/f.txt"}),
    )
    .await
    .expect(201);
    let mut strict = config();
    strict.url_policy.allow_http_loopback = false;
    let strict = stack_with(strict).await;
    strict
        .save(
            &org,
            json!({"custom_download_url": "http://127.0.0.1:8080/f.txt"}),
        )
        .await
        .expect_error(400);

    let file = external_file(&s, &org).await;
    let again = s
        .save(
            &org,
            json!({"_id": file["_id"], "custom_download_url": EXTERNAL}),
        )
        .await;
    assert_eq!(again.expect_error(409), "conflict");
    let both = s
        .save(
            &org,
            json!({"custom_download_url": EXTERNAL, "s3ref": {"bucket": "b", "key": "k"}}),
        )
        .await;
    both.expect_error(400);
}

#[tokio::test]
async fn a_deployment_without_a_signing_key_refuses_external_files_clearly() {
    let (with_key, org) = (stack().await, new_org());
    let earlier = external_file(&with_key, &org).await;
    let id = earlier["_id"].as_str().unwrap();
    let mut config = config();
    config.custom_url_keys = None;
    let s = stack_with(config).await;
    let refusals = [
        (
            Method::POST,
            "/v2/files".to_owned(),
            Some(json!({ "custom_download_url": EXTERNAL })),
        ),
        (
            Method::POST,
            "/v1/files/download:verify".to_owned(),
            Some(json!({ "custom_download_url": EXTERNAL })),
        ),
        // One saved while the key was there.
        (Method::GET, format!("/v1/files/{id}/download"), None),
    ];
    for (method, path, body) in refusals {
        let answer = s.call(&org, method.clone(), &path, body).await;
        let message = answer.json["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(answer.expect_error(400), "unsupported", "{method} {path}");
        assert!(message.contains("CustomUrlSigningKey"), "{message}");
    }
    // Files with bytes are not touched by it.
    let file = s.new_file(&org, "a.txt", "text/plain", b"bytes").await;
    let url = s
        .download_url(&org, file["_id"].as_str().unwrap(), "")
        .await;
    assert_eq!(s.fetch(&url).await.2, b"bytes");
}
