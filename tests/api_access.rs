//! Access control over HTTP against the emulator: `public_url` serves public-read
//! files to anyone and nothing else; access can be changed by the owner only; public
//! uploads (no token) have tighter limits and cannot touch existing objects.

use integration_tests::{new_org, stack, stack_throttled, Answer, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;

/// GET without a token, not following redirects.
async fn anonymous_get(s: &Stack, url: &str) -> Answer {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    s.send(client.get(url)).await
}

async fn set_access(s: &Stack, org: &str, id: &str, access: &str) -> Answer {
    s.save(org, json!({ "_id": id, "access_control": access }))
        .await
}

/// What `public_url` serves to a browser: status, content type and bytes after redirects.
async fn through_public_url(s: &Stack, entity: &Value) -> (u16, Option<String>, Vec<u8>) {
    let (status, headers, bytes) = s.fetch(entity["public_url"].as_str().unwrap()).await;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, content_type, bytes)
}

#[tokio::test]
async fn public_url_serves_public_files_without_a_token_and_refuses_private_ones() {
    let s = stack().await;
    let org = new_org();
    let pixels = b"\x89PNG\r\n\x1a\nnot-really-an-image";
    let s3ref = s.upload(&org, "logo.png", "image/png", pixels).await;
    let public = s
        .save(
            &org,
            json!({"s3ref": s3ref, "filename": "logo.png", "access_control": "public-read"}),
        )
        .await
        .expect(201);
    let id = public["_id"].as_str().unwrap().to_owned();
    assert_eq!(public["access_control"], "public-read");
    assert_eq!(
        public["public_url"],
        s.url(&format!("/v1/files/public/{id}"))
    );

    // A redirect to a short-lived URL, not cacheable, and no token needed.
    let redirect = anonymous_get(&s, public["public_url"].as_str().unwrap()).await;
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.headers["cache-control"], "no-store");
    assert!(redirect.headers.contains_key("location"));
    let (status, content_type, bytes) = through_public_url(&s, &public).await;
    assert_eq!((status, content_type.as_deref()), (200, Some("image/png")));
    assert_eq!(bytes, pixels);

    // The latest version is what it serves.
    let s3ref2 = s
        .upload(&org, "logo.png", "image/png", b"version two")
        .await;
    s.save(&org, json!({"_id": id, "s3ref": s3ref2}))
        .await
        .expect(201);
    assert_eq!(through_public_url(&s, &public).await.2, b"version two");

    let private = s
        .new_file(&org, "secret.txt", "text/plain", b"secret")
        .await;
    assert_eq!(private["access_control"], "private", "private by default");
    let refused = anonymous_get(&s, private["public_url"].as_str().unwrap()).await;
    assert_eq!(refused.expect_error(403), "forbidden");
    let (status, _, bytes) = through_public_url(&s, &private).await;
    assert_eq!(status, 403);
    assert!(!String::from_utf8_lossy(&bytes).contains("secret\""));
    assert_ne!(bytes, b"secret");

    // Unknown and malformed ids.
    let unknown = s.url(&format!("/v1/files/public/{}", uuid::Uuid::new_v4()));
    assert_eq!(
        anonymous_get(&s, &unknown).await.expect_error(404),
        "not_found"
    );
    for path in [
        "/v1/files/public/not-a-uuid",
        "/v1/files/public/..%2F..%2Ffiles",
    ] {
        let answer = anonymous_get(&s, &s.url(path)).await;
        assert!(
            matches!(answer.status, 400 | 404),
            "{path}: {}",
            answer.status
        );
    }
    // Nothing lists files without a token.
    let listing = anonymous_get(&s, &s.url("/v1/files/public/")).await;
    assert!(matches!(listing.status, 404 | 405), "{}", listing.status);
}

#[tokio::test]
async fn access_switches_public_private_public_and_delete_ends_it() {
    let s = stack().await;
    let org = new_org();
    let file = s
        .new_file(&org, "flyer.pdf", "application/pdf", b"%PDF-flyer")
        .await;
    let id = file["_id"].as_str().unwrap();
    assert_eq!(through_public_url(&s, &file).await.0, 403);

    let public = set_access(&s, &org, id, "public-read").await.expect(201);
    assert_eq!(public["access_control"], "public-read");
    assert_eq!(public["versions"], file["versions"], "no new version");
    assert_eq!(public["size_bytes"], file["size_bytes"]);
    assert_eq!(through_public_url(&s, &file).await.2, b"%PDF-flyer");

    let private = set_access(&s, &org, id, "private").await.expect(201);
    assert_eq!(private["access_control"], "private");
    assert_eq!(
        through_public_url(&s, &file).await.0,
        403,
        "private at once"
    );
    let got = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got["access_control"], "private");

    set_access(&s, &org, id, "public-read").await.expect(201);
    assert_eq!(through_public_url(&s, &file).await.0, 200);
    // Other metadata changes keep the access as it is.
    let renamed = s
        .save(&org, json!({"_id": id, "campaign": "spring"}))
        .await
        .expect(201);
    assert_eq!(
        (&renamed["access_control"], &renamed["campaign"]),
        (&json!("public-read"), &json!("spring"))
    );

    assert_eq!(
        set_access(&s, &org, id, "world-writable")
            .await
            .expect_error(400),
        "invalid_access_control"
    );

    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let gone = anonymous_get(&s, file["public_url"].as_str().unwrap()).await;
    assert_eq!(gone.expect_error(404), "not_found");
}

#[tokio::test]
async fn another_organisation_cannot_change_a_files_access() {
    let s = stack().await;
    let (org, intruder) = (new_org(), new_org());
    let file = s.new_file(&org, "private.txt", "text/plain", b"mine").await;
    let id = file["_id"].as_str().unwrap();
    assert_eq!(
        set_access(&s, &intruder, id, "public-read")
            .await
            .expect_error(404),
        "not_found"
    );
    assert_eq!(through_public_url(&s, &file).await.0, 403, "still private");

    set_access(&s, &org, id, "public-read").await.expect(201);
    set_access(&s, &intruder, id, "private")
        .await
        .expect_error(404);
    assert_eq!(through_public_url(&s, &file).await.0, 200, "still public");
    // No token at all.
    let anonymous = s
        .send(
            s.http
                .post(s.url("/v2/files"))
                .json(&json!({"_id": id, "access_control": "private"})),
        )
        .await;
    anonymous.expect_error(401);
}

/// uploadFilePublic with no token.
async fn public_upload(s: &Stack, body: Value) -> Answer {
    s.send(s.http.post(s.url("/v1/files/public/upload")).json(&body))
        .await
}

#[tokio::test]
async fn a_public_upload_cannot_overwrite_or_read_an_existing_object() {
    let s = stack().await;
    let org = new_org();
    let existing = s
        .new_file(&org, "contract.pdf", "application/pdf", b"%PDF-original")
        .await;
    let existing_key = existing["s3ref"]["key"].as_str().unwrap().to_owned();

    // Whatever the body says, the key is a fresh one under temp/_public/.
    let answer = public_upload(
        &s,
        json!({
            "filename": "contract.pdf",
            "mime_type": "application/pdf",
            "s3ref": existing["s3ref"],
            "key": existing_key,
            "bucket": "another-bucket",
        }),
    )
    .await
    .expect(201);
    let key = answer["s3ref"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("temp/_public/"), "{key}");
    assert_ne!(key, existing_key);
    assert_eq!(answer["s3ref"]["bucket"], s.service.config.bucket);
    assert!(
        answer.get("download_url").is_none() && answer.get("_id").is_none(),
        "a public upload hands out nothing to read: {answer}"
    );
    let upload_url = answer["upload_url"].as_str().unwrap();
    assert!(
        url::Url::parse(upload_url).unwrap().path().ends_with(&key),
        "the URL is for that key only: {upload_url}"
    );
    s.put_bytes(upload_url, "application/pdf", b"%PDF-impostor")
        .await;
    let download = s
        .download_url(&org, existing["_id"].as_str().unwrap(), "")
        .await;
    assert_eq!(s.fetch(&download).await.2, b"%PDF-original", "untouched");

    // Filenames cannot climb out of the fresh prefix either.
    for filename in ["../../files/x.pdf", "a/b.pdf", "..", "%2e%2e/x.pdf"] {
        let answer = public_upload(
            &s,
            json!({"filename": filename, "mime_type": "application/pdf"}),
        )
        .await;
        if answer.status == 201 {
            let key = answer.json["s3ref"]["key"].as_str().unwrap();
            assert!(
                key.starts_with("temp/_public/") && key.matches('/').count() == 3,
                "{filename}: {key}"
            );
        } else {
            assert_eq!(answer.status, 400, "{filename}: {}", answer.json);
        }
    }

    // Without a token nothing is saved, read or listed.
    let anonymous_save = s
        .send(
            s.http
                .post(s.url("/v2/files"))
                .json(&json!({"s3ref": answer["s3ref"]})),
        )
        .await;
    anonymous_save.expect_error(401);
    for (method, path) in [
        (
            Method::GET,
            format!("/v2/files/{}", existing["_id"].as_str().unwrap()),
        ),
        (
            Method::GET,
            format!("/v1/files/{}/download", existing["_id"].as_str().unwrap()),
        ),
        (Method::GET, "/v1/files/public/upload".to_owned()),
    ] {
        let answer = s.send(s.http.request(method.clone(), s.url(&path))).await;
        assert!(
            matches!(answer.status, 400 | 401 | 404 | 405),
            "{method} {path}: {}",
            answer.status
        );
    }
    assert_eq!(
        s.service.store().get(&existing_key).await.unwrap().unwrap(),
        b"%PDF-original"
    );
}

#[tokio::test]
async fn public_uploads_are_limited_in_type_and_size() {
    let s = stack().await;
    let org = new_org();
    let max = s.service.config.public_uploads.max_bytes;
    for (body, status, code) in [
        (
            json!({"filename": "page.html", "mime_type": "text/html"}),
            415,
            "unsupported_media_type",
        ),
        (
            json!({"filename": "run.exe"}),
            415,
            "unsupported_media_type",
        ),
        (
            json!({"filename": "big.pdf", "mime_type": "application/pdf", "size_bytes": max + 1}),
            413,
            "payload_too_large",
        ),
        (
            json!({"filename": "a.pdf", "mime_type": "application/pdf", "size_bytes": "12"}),
            400,
            "invalid_body",
        ),
    ] {
        let answer = public_upload(&s, body.clone()).await;
        assert_eq!(answer.expect_error(status), code, "{body}");
    }
    // The same requests with a token are an organisation's own business.
    s.call(
        &org,
        Method::POST,
        "/v2/files/upload",
        Some(json!({"filename": "page.html", "mime_type": "text/html", "size_bytes": max + 1})),
    )
    .await
    .expect(201);

    // A declared size is signed into the URL, so S3 enforces it.
    let sized = public_upload(
        &s,
        json!({"filename": "scan.pdf", "mime_type": "application/pdf", "size_bytes": 9}),
    )
    .await
    .expect(201);
    let url = url::Url::parse(sized["upload_url"].as_str().unwrap()).unwrap();
    let signed = url
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-SignedHeaders")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    assert!(
        signed.split(';').any(|h| h == "content-length")
            && signed.split(';').any(|h| h == "content-type"),
        "{signed}"
    );
    s.put_bytes(
        sized["upload_url"].as_str().unwrap(),
        "application/pdf",
        b"%PDF-scan",
    )
    .await;
    let saved = s
        .save(&org, json!({"s3ref": sized["s3ref"]}))
        .await
        .expect(201);
    assert_eq!(saved["size_bytes"], 9);

    // An undeclared size is checked when the upload is saved: too big is refused and removed.
    let undeclared = public_upload(
        &s,
        json!({"filename": "huge.pdf", "mime_type": "application/pdf"}),
    )
    .await
    .expect(201);
    let key = undeclared["s3ref"]["key"].as_str().unwrap().to_owned();
    let too_big = vec![b'x'; usize::try_from(max).unwrap() + 1];
    s.put_bytes(
        undeclared["upload_url"].as_str().unwrap(),
        "application/pdf",
        &too_big,
    )
    .await;
    assert_eq!(
        s.save(&org, json!({"s3ref": undeclared["s3ref"]}))
            .await
            .expect_error(413),
        "payload_too_large"
    );
    assert_eq!(s.service.store().head(&key).await.unwrap(), None, "removed");
}

#[tokio::test]
async fn public_uploads_are_throttled_and_authenticated_ones_are_not() {
    // Burst 3, and a rate so slow no token comes back during the test.
    let s = stack_throttled(local_api::Throttle::new(0.001, 3)).await;
    let body = json!({"filename": "photo.jpg", "mime_type": "image/jpeg"});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(public_upload(&s, body.clone()).await.status);
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    let refused = public_upload(&s, body.clone()).await;
    assert_eq!(refused.headers["retry-after"], "1");
    assert_eq!(refused.expect_error(429), "rate_limited");

    let org = new_org();
    for _ in 0..5 {
        s.call(&org, Method::POST, "/v2/files/upload", Some(body.clone()))
            .await
            .expect(201);
    }
}
