//! Sharing and versions over HTTP against the local stack: epilot's v1 routes and
//! version saves, public links, sessions, signUrls, the content redirect, version
//! history; every new route's tenancy and bad input.

use integration_tests::{new_org, stack, Answer, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;

fn id_of(entity: &Value) -> String {
    entity["_id"].as_str().expect("_id").to_owned()
}

/// A client that does not follow redirects and keeps no cookies: a fresh browser.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_bare(s: &Stack, url: &str, headers: &[(&str, String)]) -> Answer {
    let mut request = bare_client().get(url);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    s.send(request).await
}

/// The bytes behind a redirect answer.
async fn followed(s: &Stack, answer: &Answer) -> Vec<u8> {
    assert_eq!(answer.status, 302, "a redirect: {}", answer.json);
    let location = answer.headers["location"].to_str().unwrap();
    let (status, _, bytes) = s.fetch(location).await;
    assert_eq!(status, 200);
    bytes
}

/// The query parameter `name` of a URL.
fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn version_only_and_batches_add_versions_and_keep_the_file() {
    let s = stack().await;
    let org = new_org();
    let file = s
        .new_file(&org, "report.pdf", "application/pdf", b"v1")
        .await;
    let id = id_of(&file);
    s.save(
        &org,
        json!({"_id": id, "access_control": "public-read", "_tags": ["q3"], "colour": "blue",
               "relations": [{"entity_id": "e-1", "_schema": "contact"}]}),
    )
    .await
    .expect(201);
    // version_only: a version named as its upload, the file's own fields untouched;
    // file_entity_id names the file as _id does.
    let s3ref = s.upload(&org, "draft.txt", "text/plain", b"v2").await;
    let saved = s
        .call(
            &org,
            Method::POST,
            "/v2/files?version_only=true",
            Some(
                json!({"file_entity_id": id, "s3ref": s3ref, "filename": "other.txt",
                        "access_control": "private", "colour": "red"}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(saved["filename"], "report.pdf");
    assert_eq!(saved["access_control"], "public-read");
    assert_eq!(saved["colour"], "blue");
    assert_eq!(saved["_tags"], json!(["q3"]));
    assert_eq!(saved["relations"][0]["entity_id"], "e-1");
    assert_eq!(saved["versions"].as_array().unwrap().len(), 2);
    assert_eq!(saved["versions"][1]["filename"], "other.txt");
    assert_eq!(
        saved["s3ref"], saved["versions"][1]["s3ref"],
        "s3ref is the new version"
    );
    // An array: up to 20 uploads in one write, in order.
    let mut batch = Vec::new();
    for i in 3..=5 {
        let s3ref = s
            .upload(
                &org,
                &format!("v{i}.txt"),
                "text/plain",
                format!("v{i}").as_bytes(),
            )
            .await;
        batch.push(json!({"_id": id, "s3ref": s3ref}));
    }
    let saved = s
        .call(
            &org,
            Method::POST,
            "/v2/files?version_only=true",
            Some(Value::Array(batch.clone())),
        )
        .await
        .expect(201);
    let versions = saved["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 5);
    assert_eq!(saved["filename"], "report.pdf");
    for (i, version) in versions.iter().enumerate().skip(2) {
        assert_eq!(version["filename"], format!("v{}.txt", i + 1));
    }
    let latest = s.download_url(&org, &id, "").await;
    assert_eq!(s.fetch(&latest).await.2, b"v5");
    // The uploads were consumed: the same batch again is a conflict and adds nothing.
    let again = s
        .call(
            &org,
            Method::POST,
            "/v2/files?version_only=true",
            Some(Value::Array(batch.clone())),
        )
        .await;
    assert!(matches!(again.status, 404 | 409), "{}", again.json);
    // Bad batches: without version_only, empty, 21 items, two files, an unknown field.
    let other = id_of(&s.new_file(&org, "b.txt", "text/plain", b"b").await);
    let item = |file: &str| json!({"_id": file, "s3ref": {"bucket": "b", "key": "k"}});
    for (query, body, status) in [
        ("", json!([item(&id)]), 400),
        ("?version_only=true", json!([]), 400),
        ("?version_only=true", Value::Array(vec![item(&id); 21]), 400),
        ("?version_only=true", json!([item(&id), item(&other)]), 400),
        (
            "?version_only=true",
            json!([{"_id": id, "s3ref": {"bucket": "b", "key": "k"}, "colour": "x"}]),
            400,
        ),
        ("?version_only=maybe", json!({"_id": id}), 400),
        (
            "?version_only=true",
            json!([{"s3ref": {"bucket": "b", "key": "k"}}]),
            400,
        ),
    ] {
        let answer = s
            .call(
                &org,
                Method::POST,
                &format!("/v2/files{query}"),
                Some(body.clone()),
            )
            .await;
        answer.expect_error(status);
    }
    let count = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(count["versions"].as_array().unwrap().len(), 5);
    // Another organisation's file: 404, and its uploads stay unsaved.
    let stranger = new_org();
    let s3ref = s.upload(&stranger, "x.txt", "text/plain", b"x").await;
    s.call(
        &stranger,
        Method::POST,
        "/v2/files?version_only=true",
        Some(json!([{"_id": id, "s3ref": s3ref}])),
    )
    .await
    .expect_error(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn epilot_v1_routes_and_download_by_s3_key() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "a.txt", "text/plain", b"first").await;
    let id = id_of(&file);
    // uploadFile (v1) with file_entity_id: the file's public_url too.
    let ticket = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files/upload?file_entity_id={id}"),
            Some(json!({"filename": "b.txt", "mime_type": "text/plain"})),
        )
        .await
        .expect(201);
    assert_eq!(ticket["public_url"], file["public_url"]);
    s.put_bytes(
        ticket["upload_url"].as_str().unwrap(),
        "text/plain",
        b"second",
    )
    .await;
    // downloadS3File: the caller's own unsaved upload.
    let temp_key = ticket["s3ref"]["key"].as_str().unwrap();
    let bucket = ticket["s3ref"]["bucket"].as_str().unwrap();
    let by_key = |org: String, key: String, bucket: String| {
        let s = &s;
        async move {
            s.call(
                &org,
                Method::POST,
                &format!(
                    "/v1/files:downloadS3?s3_key={}&s3_bucket={bucket}",
                    urlencode(&key)
                ),
                None,
            )
            .await
        }
    };
    let link = by_key(org.clone(), temp_key.into(), bucket.into())
        .await
        .expect(200);
    assert_eq!(
        s.fetch(link["download_url"].as_str().unwrap()).await.2,
        b"second"
    );
    // saveFile (v1) saves it, as a new version of the file.
    let saved = s
        .call(
            &org,
            Method::POST,
            "/v1/files",
            Some(json!({"_id": id, "s3ref": ticket["s3ref"]})),
        )
        .await
        .expect(201);
    assert_eq!(saved["versions"].as_array().unwrap().len(), 2);
    // downloadS3File: a saved version, any of them.
    let first_key = saved["versions"][0]["s3ref"]["key"].as_str().unwrap();
    let link = by_key(org.clone(), first_key.into(), bucket.into())
        .await
        .expect(200);
    let url = link["download_url"].as_str().unwrap();
    assert_eq!(s.fetch(url).await.2, b"first");
    assert!(query_param(url, "response-content-disposition")
        .unwrap()
        .starts_with("attachment"));
    // Not the caller's, not there, not this bucket, not a key of ours: 404.
    let stranger = new_org();
    by_key(stranger.clone(), first_key.into(), bucket.into())
        .await
        .expect_error(404);
    by_key(stranger, temp_key.into(), bucket.into())
        .await
        .expect_error(404);
    by_key(org.clone(), first_key.into(), "other-bucket".into())
        .await
        .expect_error(404);
    by_key(
        org.clone(),
        format!("temp/{org}/{}/gone.txt", uuid::Uuid::new_v4()),
        bucket.into(),
    )
    .await
    .expect_error(404);
    by_key(org.clone(), "files/../etc/passwd".into(), bucket.into())
        .await
        .expect_error(404);
    s.call(&org, Method::POST, "/v1/files:downloadS3?s3_key=x", None)
        .await
        .expect_error(400);
    // A deleted file's versions are gone for it too.
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    by_key(org.clone(), first_key.into(), bucket.into())
        .await
        .expect_error(404);
    // uploadFile with another organisation's file, or no file: 404, 400.
    let other = id_of(&s.new_file(&new_org(), "c.txt", "text/plain", b"c").await);
    for (file, status) in [(other.as_str(), 404), ("not-a-uuid", 400)] {
        s.call(
            &org,
            Method::POST,
            &format!("/v1/files/upload?file_entity_id={file}"),
            Some(json!({"filename": "b.txt"})),
        )
        .await
        .expect_error(status);
    }
}

fn urlencode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn public_links_redirect_until_revoked_or_the_file_is_deleted() {
    let s = stack().await;
    let org = new_org();
    let file = s
        .new_file(&org, "Rechnung März.pdf", "application/pdf", b"invoice")
        .await;
    let id = id_of(&file);
    assert_eq!(file["access_control"], "private");
    let link = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files/{id}/public/links"),
            None,
        )
        .await
        .expect(201);
    let link = link.as_str().expect("a JSON string").to_owned();
    assert!(
        link.starts_with(&s.url("/v1/files/public/links/")),
        "{link}"
    );
    assert!(link.ends_with("/Rechnung%20M%C3%A4rz.pdf"), "{link}");
    let link_id = link.rsplit('/').nth(1).unwrap().to_owned();
    assert!(link_id.len() >= 43, "128 random bits and more: {link_id}");
    // No token, a private file: a short-lived redirect to the latest version, inline.
    let answer = get_bare(&s, &link, &[]).await;
    assert_eq!(answer.headers["cache-control"], "no-store");
    let location = answer.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_param(&location, "X-Amz-Expires").as_deref(),
        Some("60")
    );
    assert!(query_param(&location, "response-content-disposition")
        .unwrap()
        .starts_with("inline"));
    assert_eq!(followed(&s, &answer).await, b"invoice");
    // The filename in the path is for people; a hash for caches is ignored.
    let renamed = link.replace("Rechnung%20M%C3%A4rz.pdf", "anything.pdf");
    assert_eq!(
        get_bare(&s, &format!("{renamed}?hash=abc"), &[])
            .await
            .status,
        302
    );
    // A new version is what the link serves from now on.
    let s3ref = s
        .upload(&org, "v2.pdf", "application/pdf", b"corrected")
        .await;
    s.save(&org, json!({"_id": id, "s3ref": s3ref}))
        .await
        .expect(201);
    assert_eq!(
        followed(&s, &get_bare(&s, &link, &[]).await).await,
        b"corrected"
    );
    // Listed with its last access.
    let second = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files/{id}/public/links"),
            None,
        )
        .await
        .expect(201);
    let listed = s
        .call(
            &org,
            Method::GET,
            &format!("/v1/files/{id}/public/links"),
            None,
        )
        .await
        .expect(200);
    let results = listed["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], link_id.as_str());
    // Links carry the file's current name (the new version renamed it).
    assert_eq!(
        results[0]["link"],
        link.replace("Rechnung%20M%C3%A4rz.pdf", "v2.pdf")
    );
    assert!(results[0]["last_accessed_at"]
        .as_str()
        .is_some_and(|t| t.len() == 24));
    assert_eq!(results[1]["link"], second);
    assert_eq!(results[1]["last_accessed_at"], Value::Null);
    // Another organisation: 404 on every route of links.
    let stranger = new_org();
    s.call(
        &stranger,
        Method::POST,
        &format!("/v1/files/{id}/public/links"),
        None,
    )
    .await
    .expect_error(404);
    s.call(
        &stranger,
        Method::GET,
        &format!("/v1/files/{id}/public/links"),
        None,
    )
    .await
    .expect_error(404);
    s.call(
        &stranger,
        Method::DELETE,
        &format!("/v1/files/public/links/{link_id}"),
        None,
    )
    .await
    .expect_error(404);
    assert_eq!(get_bare(&s, &link, &[]).await.status, 302, "still there");
    // Revoked: 404 at once; the other link still works.
    s.call(
        &org,
        Method::DELETE,
        &format!("/v1/files/public/links/{link_id}"),
        None,
    )
    .await
    .expect(204);
    get_bare(&s, &link, &[]).await.expect_error(404);
    s.call(
        &org,
        Method::DELETE,
        &format!("/v1/files/public/links/{link_id}"),
        None,
    )
    .await
    .expect_error(404);
    let second = second.as_str().unwrap().to_owned();
    assert_eq!(get_bare(&s, &second, &[]).await.status, 302);
    // Guessed, malformed and tampered ids: 404.
    let mut tampered = link_id.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "x", "../../v2/files"] {
        let url = s.url(&format!("/v1/files/public/links/{bad}/a.pdf"));
        let answer = get_bare(&s, &url, &[]).await;
        assert_eq!(answer.status, 404, "{bad}: {}", answer.json);
    }
    // The file deleted: its links end at once.
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    get_bare(&s, &second, &[]).await.expect_error(404);
    s.call(
        &org,
        Method::POST,
        &format!("/v1/files/{id}/public/links"),
        None,
    )
    .await
    .expect_error(404);
    s.call(
        &org,
        Method::POST,
        "/v1/files/not-a-uuid/public/links",
        None,
    )
    .await
    .expect_error(400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_cookie_opens_the_content_route_and_ends() {
    let s = stack().await;
    let org = new_org();
    let id = id_of(
        &s.new_file(&org, "photo.png", "image/png", b"not really a png")
            .await,
    );
    let content = s.url(&format!("/v2/files/{id}/content"));
    // No token, no cookie: 401 JSON.
    get_bare(&s, &content, &[]).await.expect_error(401);
    // getSession: the bearer token as an HttpOnly, Secure, Lax cookie.
    let session = s.call(&org, Method::GET, "/v1/files/session", None).await;
    let cookie = session.headers["set-cookie"].to_str().unwrap().to_owned();
    let expires_in = session.expect(200)["expires_in"].as_i64().unwrap();
    assert!((3500..=3600).contains(&expires_in), "{expires_in}");
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        &format!("Max-Age={expires_in}"),
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert!(
        pair.starts_with("token=ey") && pair.matches('.').count() == 2,
        "{pair}"
    );
    // The cookie alone: a redirect to the bytes, inline unless asked.
    let answer = get_bare(&s, &content, &[("cookie", format!("theme=dark; {pair}"))]).await;
    let location = answer.headers["location"].to_str().unwrap().to_owned();
    assert!(query_param(&location, "response-content-disposition")
        .unwrap()
        .starts_with("inline"));
    assert_eq!(followed(&s, &answer).await, b"not really a png");
    let attachment = get_bare(
        &s,
        &format!("{content}?attachment=true&version=1"),
        &[("cookie", pair.clone())],
    )
    .await;
    let location = attachment.headers["location"].to_str().unwrap();
    assert!(query_param(location, "response-content-disposition")
        .unwrap()
        .starts_with("attachment"));
    // The bearer token works too; a bad cookie or another organisation's does not.
    let bearer = get_bare(
        &s,
        &content,
        &[("authorization", format!("Bearer {}", s.token(&org)))],
    )
    .await;
    assert_eq!(bearer.status, 302);
    let forged = format!("{}x", pair);
    get_bare(&s, &content, &[("cookie", forged)])
        .await
        .expect_error(401);
    let expired = s.jwt.token_for(&org, "org_id", 1_000, 60);
    get_bare(&s, &content, &[("cookie", format!("token={expired}"))])
        .await
        .expect_error(401);
    let stranger = format!("token={}", s.token(&new_org()));
    get_bare(&s, &content, &[("cookie", stranger)])
        .await
        .expect_error(404);
    get_bare(
        &s,
        &format!("{content}?version=9"),
        &[("cookie", pair.clone())],
    )
    .await
    .expect_error(404);
    get_bare(
        &s,
        &format!("{content}?version=x"),
        &[("cookie", pair.clone())],
    )
    .await
    .expect_error(400);
    // getSession needs a token; deleteSession clears the cookie, token or not.
    s.send(bare_client().get(s.url("/v1/files/session")))
        .await
        .expect_error(401);
    let ended = s
        .send(bare_client().delete(s.url("/v1/files/session")))
        .await;
    assert_eq!(ended.status, 204);
    let cleared = ended.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("token=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_urls_sign_batches_for_the_lifetime_asked() {
    let s = stack().await;
    let org = new_org();
    let a = id_of(&s.new_file(&org, "a.txt", "text/plain", b"a").await);
    let b = id_of(&s.new_file(&org, "b.txt", "text/plain", b"b").await);
    let foreign = id_of(&s.new_file(&new_org(), "c.txt", "text/plain", b"c").await);
    let deleted = id_of(&s.new_file(&org, "d.txt", "text/plain", b"d").await);
    s.call(&org, Method::DELETE, &format!("/v2/files/{deleted}"), None)
        .await
        .expect(200);
    let missing = uuid::Uuid::new_v4().to_string();
    let sign = |body: Value| s.call(&org, Method::POST, "/v2/files:signUrls", Some(body));
    let signed = sign(json!({"ids": [a, foreign, b, deleted, missing]}))
        .await
        .expect(200);
    let items = signed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["id"].as_str(), items[1]["id"].as_str()),
        (Some(a.as_str()), Some(b.as_str()))
    );
    assert_eq!(signed["not_found"], json!([foreign, deleted, missing]));
    for (item, bytes) in items.iter().zip([b"a", b"b"]) {
        let url = item["url"].as_str().unwrap();
        assert_eq!(
            query_param(url, "X-Amz-Expires").as_deref(),
            Some("3600"),
            "the default"
        );
        assert_eq!(s.fetch(url).await.2, bytes);
        assert_eq!(item["expires_at"].as_str().unwrap().len(), 24);
    }
    for lifetime in [1, 600, 604_800] {
        let signed = sign(json!({"ids": [a], "expires_in": lifetime}))
            .await
            .expect(200);
        let url = signed["items"][0]["url"].as_str().unwrap();
        assert_eq!(
            query_param(url, "X-Amz-Expires"),
            Some(lifetime.to_string())
        );
    }
    for bad in [
        json!({"ids": [a], "expires_in": 604_801}),
        json!({"ids": [a], "expires_in": 0}),
        json!({"ids": [a], "expires_in": "60"}),
        json!({"ids": []}),
        json!({"ids": vec![a.clone(); 101]}),
        json!({"ids": ["not-a-uuid"]}),
        json!({"ids": a}),
        json!([a]),
    ] {
        let answer = sign(bad.clone()).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.json);
    }
    let stranger = new_org();
    let theirs = s
        .call(
            &stranger,
            Method::POST,
            "/v2/files:signUrls",
            Some(json!({"ids": [a]})),
        )
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn versions_are_listed_restored_and_deleted_byte_exactly() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "one.txt", "text/plain", b"one").await;
    let id = id_of(&file);
    for (name, bytes) in [("two.txt", b"two".as_slice()), ("three.csv", b"three,3")] {
        let s3ref = s.upload(&org, name, "text/plain", bytes).await;
        s.save(&org, json!({"_id": id, "s3ref": s3ref, "filename": name}))
            .await
            .expect(201);
    }
    let before = usage(&s, &org).await;
    let listed = s
        .call(&org, Method::GET, &format!("/v2/files/{id}/versions"), None)
        .await
        .expect(200);
    let results = listed["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (i, v) in results.iter().enumerate() {
        assert_eq!(v["version"], i + 1);
        for field in [
            "s3ref",
            "filename",
            "mime_type",
            "size_bytes",
            "readable_size",
            "etag",
            "checksum_sha256",
            "created_at",
        ] {
            assert!(!v[field].is_null(), "{field} of {v}");
        }
    }
    assert_eq!(results[0]["filename"], "one.txt");
    // Restore version 1: a copy as version 4, the file named as it was; history kept.
    let restored = s
        .call(
            &org,
            Method::POST,
            &format!("/v2/files/{id}/versions/1:restore"),
            None,
        )
        .await
        .expect(201);
    let versions = restored["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 4);
    assert_eq!(restored["filename"], "one.txt");
    assert_ne!(
        versions[3]["s3ref"], versions[0]["s3ref"],
        "a copy, not a pointer"
    );
    assert_eq!(
        versions[3]["checksum_sha256"],
        versions[0]["checksum_sha256"]
    );
    let latest = s.download_url(&org, &id, "").await;
    assert_eq!(s.fetch(&latest).await.2, b"one");
    let after_restore = usage(&s, &org).await;
    assert_eq!(
        after_restore["versions"],
        before["versions"].as_u64().unwrap() + 1
    );
    assert_eq!(
        after_restore["bytes"],
        before["bytes"].as_u64().unwrap() + 3
    );
    // Delete version 2: gone from the entity and from the bucket; the others intact.
    let two_key = versions[1]["s3ref"]["key"].as_str().unwrap().to_owned();
    let two_url = s.download_url(&org, &id, "?version=2").await;
    let deleted = s
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}/versions/2"),
            None,
        )
        .await
        .expect(200);
    let left: Vec<&str> = deleted["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["filename"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["one.txt", "three.csv", "one.txt"]);
    assert_eq!(s.fetch(&two_url).await.0, 404, "its bytes are deleted");
    assert!(s.service.store().head(&two_key).await.unwrap().is_none());
    for (n, bytes) in [(1, b"one".as_slice()), (2, b"three,3"), (3, b"one")] {
        let url = s.download_url(&org, &id, &format!("?version={n}")).await;
        assert_eq!(s.fetch(&url).await.2, bytes, "version {n}");
    }
    let after_delete = usage(&s, &org).await;
    assert_eq!(
        after_delete["versions"],
        after_restore["versions"].as_u64().unwrap() - 1
    );
    assert_eq!(
        after_delete["bytes"],
        after_restore["bytes"].as_u64().unwrap() - 3
    );
    // Down to one version; that one cannot go (409): delete the file instead.
    for _ in 0..2 {
        s.call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}/versions/1"),
            None,
        )
        .await
        .expect(200);
    }
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}/versions/1"),
        None,
    )
    .await
    .expect_error(409);
    let url = s.download_url(&org, &id, "").await;
    assert_eq!(s.fetch(&url).await.2, b"one");
    // Bad numbers and paths; another organisation: 404 everywhere.
    for (method, path, status) in [
        (
            Method::POST,
            format!("/v2/files/{id}/versions/0:restore"),
            400,
        ),
        (
            Method::POST,
            format!("/v2/files/{id}/versions/x:restore"),
            400,
        ),
        (
            Method::POST,
            format!("/v2/files/{id}/versions/7:restore"),
            404,
        ),
        (Method::POST, format!("/v2/files/{id}/versions/1"), 404),
        (Method::POST, format!("/v2/files/{id}/versions/1:undo"), 404),
        (Method::DELETE, format!("/v2/files/{id}/versions/0"), 400),
        (Method::DELETE, format!("/v2/files/{id}/versions/9"), 404),
        (Method::GET, "/v2/files/not-a-uuid/versions".to_owned(), 400),
    ] {
        s.call(&org, method, &path, None).await.expect_error(status);
    }
    let stranger = new_org();
    for (method, path) in [
        (Method::GET, format!("/v2/files/{id}/versions")),
        (Method::POST, format!("/v2/files/{id}/versions/1:restore")),
        (Method::DELETE, format!("/v2/files/{id}/versions/1")),
        (Method::GET, format!("/v1/files/{id}/download")),
    ] {
        s.call(&stranger, method, &path, None)
            .await
            .expect_error(404);
    }
    let content = s.url(&format!("/v2/files/{id}/content"));
    get_bare(
        &s,
        &content,
        &[("authorization", format!("Bearer {}", s.token(&stranger)))],
    )
    .await
    .expect_error(404);
}

async fn usage(s: &Stack, org: &str) -> Value {
    s.call(org, Method::GET, "/v2/usage", None)
        .await
        .expect(200)
}
