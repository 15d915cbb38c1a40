//! Auth, tenancy and bad input over HTTP: every refusal is a JSON 4xx, never a 500.

use integration_tests::{new_org, stack};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let s = stack().await;
    let org = new_org();
    let id = uuid::Uuid::new_v4();
    let routes = [
        (Method::POST, "/v2/files/upload".to_owned()),
        (Method::POST, "/v2/files".to_owned()),
        (Method::GET, format!("/v2/files/{id}")),
        (Method::GET, format!("/v1/files/{id}/download")),
        (Method::POST, "/v1/files:downloadFiles".to_owned()),
        (Method::DELETE, format!("/v2/files/{id}")),
    ];
    let now = shared::time::Clock::system().now_millis() / 1000;
    let mut wrong_key = s.jwt.clone();
    wrong_key.secret = b"not the secret".to_vec();
    let mut wrong_issuer = s.jwt.clone();
    wrong_issuer.issuer = "someone-else".into();
    let tokens = [
        ("no token", None),
        (
            "bad signature",
            Some(wrong_key.token_for(&org, "org_id", now, 3600)),
        ),
        (
            "expired",
            Some(s.jwt.token_for(&org, "org_id", now - 7200, 3600)),
        ),
        (
            "wrong issuer",
            Some(wrong_issuer.token_for(&org, "org_id", now, 3600)),
        ),
        ("garbage", Some("not-a-token".to_owned())),
        (
            "no org claim",
            Some(s.jwt.token_for(&org, "some_other_claim", now, 3600)),
        ),
    ];
    for (method, path) in &routes {
        for (what, token) in &tokens {
            let mut request = s.http.request(method.clone(), s.url(path)).json(&json!({}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let code = s.send(request).await.expect_error(401);
            assert_eq!(code, "unauthorized", "{what} on {method} {path}");
        }
    }
}

#[tokio::test]
async fn another_organisations_file_is_404_everywhere() {
    let s = stack().await;
    let (owner, intruder) = (new_org(), new_org());
    let file = s
        .new_file(&owner, "secret.txt", "text/plain", b"secret")
        .await;
    let id = file["_id"].as_str().unwrap();

    let get = s
        .call(&intruder, Method::GET, &format!("/v2/files/{id}"), None)
        .await;
    assert_eq!(get.expect_error(404), "not_found");
    let download = s
        .call(
            &intruder,
            Method::GET,
            &format!("/v1/files/{id}/download"),
            None,
        )
        .await;
    assert_eq!(download.expect_error(404), "not_found");
    let many = s
        .call(
            &intruder,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id}])),
        )
        .await;
    assert_eq!(many.expect_error(404), "not_found");
    let intruder_ref = s
        .upload(&intruder, "mine.txt", "text/plain", b"intruder")
        .await;
    let version = s
        .save(&intruder, json!({"_id": id, "s3ref": intruder_ref}))
        .await;
    assert_eq!(version.expect_error(404), "not_found");
    let delete = s
        .call(&intruder, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await;
    assert_eq!(delete.expect_error(404), "not_found");

    // The owner's file is untouched.
    let still = s
        .call(&owner, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(still["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_s3ref_of_another_organisation_or_outside_temp_is_refused_and_stores_nothing() {
    let s = stack().await;
    let (owner, intruder) = (new_org(), new_org());
    let owners_upload = s
        .upload(&owner, "theirs.txt", "text/plain", b"theirs")
        .await;
    let saved = s
        .new_file(&owner, "saved.txt", "text/plain", b"saved")
        .await;
    let bucket = s.service.config.bucket.clone();

    let attempts: Vec<(Value, u16)> = vec![
        (owners_upload.clone(), 404),
        (saved["s3ref"].clone(), 400),
        (
            json!({"bucket": bucket, "key": format!("temp/{intruder}/{}/never-uploaded.txt", uuid::Uuid::new_v4())}),
            404,
        ),
        (
            json!({"bucket": bucket, "key": format!("files/{owner}/x/y/z.txt")}),
            400,
        ),
        (json!({"bucket": bucket, "key": "temp/../files/x"}), 400),
        (
            json!({"bucket": "some-other-bucket", "key": owners_upload["key"]}),
            400,
        ),
    ];
    for (s3ref, status) in attempts {
        let answer = s.save(&intruder, json!({"s3ref": s3ref})).await;
        answer.expect_error(status);
    }
    use shared::ports::ObjectStore;
    assert!(
        s.service
            .store()
            .list(&format!("files/{intruder}/"))
            .await
            .unwrap()
            .is_empty(),
        "nothing stored for the intruder"
    );
    assert!(
        s.service
            .store()
            .head(owners_upload["key"].as_str().unwrap())
            .await
            .unwrap()
            .is_some(),
        "the owner's upload is untouched"
    );
}

#[tokio::test]
async fn bad_input_is_a_json_4xx() {
    let s = stack().await;
    let org = new_org();
    let long_name = "a".repeat(1000);
    let upload_bodies = [
        json!({}),
        json!({"filename": ""}),
        json!({"filename": "   "}),
        json!({"filename": long_name}),
        json!({"filename": "a/b.txt"}),
        json!({"filename": "../etc/passwd"}),
        json!({"filename": ".."}),
        json!({"filename": "bad\u{0007}name.txt"}),
        json!({"filename": "line\nbreak.txt"}),
        json!({"filename": 42}),
        json!({"filename": ["a.txt"]}),
        json!({"filename": "a.txt", "mime_type": 5}),
        json!({"filename": "a.txt", "mime_type": "not a mime"}),
        json!({"filename": "a.txt", "metadata": "x"}),
        json!("just a string"),
        json!([1, 2]),
    ];
    for body in upload_bodies {
        let answer = s
            .call(&org, Method::POST, "/v2/files/upload", Some(body.clone()))
            .await;
        assert_eq!(answer.status, 400, "{body} -> {}", answer.json);
        answer.expect_error(400);
    }

    let raw_bodies: [&[u8]; 4] = [b"", b"{not json", b"\xff\xfe", b"null"];
    for body in raw_bodies {
        for path in ["/v2/files/upload", "/v2/files", "/v1/files:downloadFiles"] {
            let request = s
                .http
                .post(s.url(path))
                .bearer_auth(s.token(&org))
                .header("content-type", "application/json")
                .body(body.to_vec());
            let answer = s.send(request).await;
            assert_eq!(
                answer.status, 400,
                "{path} with {body:?} -> {}",
                answer.json
            );
            answer.expect_error(400);
        }
    }

    let s3ref = s.upload(&org, "ok.txt", "text/plain", b"ok").await;
    let save_bodies = [
        json!({}),
        json!({"filename": "x.txt"}),
        json!({"s3ref": "temp/x"}),
        json!({"s3ref": {"bucket": 1, "key": "x"}}),
        json!({"s3ref": {"bucket": "b"}}),
        json!({"s3ref": s3ref, "_id": "not-a-uuid"}),
        json!({"s3ref": s3ref, "_id": 7}),
        json!({"s3ref": s3ref, "filename": "a/b"}),
        json!({"s3ref": s3ref, "filename": long_name}),
        json!({"s3ref": s3ref, "access_control": "public"}),
        json!({"s3ref": s3ref, "nested": {"a": 1}}),
        json!({"s3ref": s3ref, "source_url": "https://example.com/x"}),
    ];
    for body in save_bodies {
        let answer = s.save(&org, body.clone()).await;
        assert_eq!(answer.status, 400, "{body} -> {}", answer.json);
        answer.expect_error(400);
    }
    let unknown = s
        .save(&org, json!({"s3ref": s3ref, "_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(unknown.expect_error(404), "not_found");
    let bad_flag = s
        .call(
            &org,
            Method::POST,
            "/v2/files?delete_temp_file=maybe",
            Some(json!({"s3ref": s3ref})),
        )
        .await;
    assert_eq!(bad_flag.expect_error(400), "invalid_query");
    // None of the refused saves consumed the upload; computed fields a client echoes are ignored.
    let saved = s
        .save(
            &org,
            json!({"s3ref": s3ref, "_org": "someone-else", "versions": [], "size_bytes": 1}),
        )
        .await
        .expect(201);
    assert_eq!(saved["_org"], org.as_str());
    assert_eq!(saved["size_bytes"], 2);
    assert_eq!(saved["versions"].as_array().unwrap().len(), 1);

    let file = s.new_file(&org, "v.txt", "text/plain", b"v").await;
    let id = file["_id"].as_str().unwrap();
    let cases = [
        (Method::GET, "/v2/files/not-a-uuid".to_owned(), 400),
        (
            Method::GET,
            format!("/v2/files/{}", uuid::Uuid::new_v4()),
            404,
        ),
        (Method::DELETE, "/v2/files/12345".to_owned(), 400),
        (
            Method::DELETE,
            format!("/v2/files/{}", uuid::Uuid::new_v4()),
            404,
        ),
        (Method::GET, "/v1/files/nope/download".to_owned(), 400),
        (
            Method::GET,
            format!("/v1/files/{id}/download?version=2"),
            404,
        ),
        (
            Method::GET,
            format!("/v1/files/{id}/download?version=-1"),
            400,
        ),
        (
            Method::GET,
            format!("/v1/files/{id}/download?version=abc"),
            400,
        ),
        (
            Method::GET,
            format!("/v1/files/{id}/download?version=99999999999"),
            400,
        ),
        (
            Method::GET,
            format!("/v1/files/{id}/download?attachment=yes"),
            400,
        ),
        (Method::PUT, format!("/v2/files/{id}"), 405),
        (Method::GET, "/v3/nothing".to_owned(), 404),
    ];
    for (method, path, status) in cases {
        let answer = s.call(&org, method.clone(), &path, None).await;
        assert_eq!(answer.status, status, "{method} {path} -> {}", answer.json);
        answer.expect_error(status);
    }
    let batches = [
        json!({"id": id}),
        json!([{"id": "nope"}]),
        json!([{"id": id, "version": -1}]),
        json!([{"id": id, "version": "1"}]),
        json!([{"version": 1}]),
        json!([1]),
        Value::Array((0..101).map(|_| json!({"id": id})).collect()),
    ];
    for body in batches {
        let answer = s
            .call(
                &org,
                Method::POST,
                "/v1/files:downloadFiles",
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, 400, "{body} -> {}", answer.json);
        answer.expect_error(400);
    }
    let missing = s
        .call(
            &org,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id}, {"id": uuid::Uuid::new_v4()}])),
        )
        .await;
    assert_eq!(missing.expect_error(404), "not_found");
}
