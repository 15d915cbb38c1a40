//! Large and resumable uploads over HTTP against the local stack (LocalStack's S3 checks
//! the presigned parts' signatures, lengths and checksums): start, sign, list, resume,
//! complete, abort, save (also through parallel UploadPartCopy), and checksums.

use integration_tests::source::pattern;
use integration_tests::{config, new_org, stack, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;
use shared::service::sha256_base64;

const MIB: usize = 1024 * 1024;

async fn start(stack: &Stack, org: &str, body: Value) -> Value {
    stack
        .call(org, Method::POST, "/v2/files/uploads", Some(body))
        .await
        .expect(201)
}

fn upload_path(session: &Value, rest: &str) -> String {
    format!(
        "/v2/files/uploads/{}{rest}",
        session["upload_id"].as_str().unwrap()
    )
}

/// Presigned URLs (and their headers) of `numbers`.
async fn sign(stack: &Stack, org: &str, session: &Value, numbers: &[u32]) -> Vec<Value> {
    let answer = stack
        .call(
            org,
            Method::POST,
            &upload_path(session, "/parts"),
            Some(json!({ "part_numbers": numbers })),
        )
        .await
        .expect(200);
    answer["parts"].as_array().unwrap().clone()
}

/// PUTs one part as a client does; answers S3's status and ETag.
async fn put_part(
    stack: &Stack,
    part: &Value,
    bytes: &[u8],
    checksum: Option<&str>,
) -> (u16, String) {
    let mut request = stack
        .http
        .put(part["url"].as_str().unwrap())
        .body(bytes.to_vec());
    if let Some(checksum) = checksum {
        request = request.header("x-amz-checksum-sha256", checksum);
    }
    let response = request.send().await.unwrap();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), etag)
}

/// The bytes of part `number` (1-based) of `body` cut into `part_size` parts.
fn slice(body: &[u8], part_size: usize, number: u32) -> &[u8] {
    let start = (number as usize - 1) * part_size;
    &body[start..(start + part_size).min(body.len())]
}

/// A session for a file of two parts (5 MiB and 10 bytes), and the file.
async fn two_parts(stack: &Stack, org: &str, filename: &str) -> (Value, Vec<u8>) {
    let body = pattern(5 * MIB + 10);
    let session = start(
        stack,
        org,
        json!({ "filename": filename, "size_bytes": body.len(), "part_size": 5 * MIB }),
    )
    .await;
    (session, body)
}

/// Uploads every part of `body` and completes; answers the s3ref.
async fn upload_all(stack: &Stack, org: &str, session: &Value, body: &[u8]) -> Value {
    let part_size = session["part_size"].as_u64().unwrap() as usize;
    let count = session["part_count"].as_u64().unwrap() as u32;
    let numbers: Vec<u32> = (1..=count).collect();
    let mut done = Vec::new();
    for part in sign(stack, org, session, &numbers).await {
        let number = part["part_number"].as_u64().unwrap() as u32;
        let (status, etag) = put_part(stack, &part, slice(body, part_size, number), None).await;
        assert_eq!(status, 200, "part {number}");
        done.push(json!({ "part_number": number, "etag": etag }));
    }
    let answer = stack
        .call(
            org,
            Method::POST,
            &upload_path(session, "/complete"),
            Some(json!({ "parts": done })),
        )
        .await
        .expect(200);
    answer["s3ref"].clone()
}

async fn download(stack: &Stack, org: &str, id: &str) -> Vec<u8> {
    let url = stack.download_url(org, id, "").await;
    let (status, _, bytes) = stack.fetch(&url).await;
    assert_eq!(status, 200);
    bytes
}

#[tokio::test]
async fn an_upload_in_parts_resumes_from_what_s3_holds_and_saves_with_its_checksum() {
    let stack = stack().await;
    let org = new_org();
    let body = pattern(12 * MIB + 4321);
    let checksum = sha256_base64(&body);
    let session = start(
        &stack,
        &org,
        json!({ "filename": "film.mp4", "mime_type": "video/mp4", "size_bytes": body.len(),
                "part_size": 5 * MIB, "checksum_sha256": checksum }),
    )
    .await;
    assert_eq!(session["part_size"], 5 * MIB);
    assert_eq!(session["part_count"], 3);
    assert!(session["s3ref"]["key"]
        .as_str()
        .unwrap()
        .starts_with(&format!("temp/{org}/")));
    assert!(session["expires_at"].as_str().is_some());

    // Parts 1 and 3 go up, then the client "crashes".
    let signed = sign(&stack, &org, &session, &[1, 3]).await;
    assert_eq!(signed[1]["size_bytes"], 4321 + 2 * MIB);
    let mut etags = std::collections::BTreeMap::new();
    for part in &signed {
        let number = part["part_number"].as_u64().unwrap() as u32;
        let (status, etag) = put_part(&stack, part, slice(&body, 5 * MIB, number), None).await;
        assert_eq!(status, 200);
        etags.insert(number, etag);
    }
    // On restart it reads what S3 holds and sends only part 2.
    let status = stack
        .call(&org, Method::GET, &upload_path(&session, ""), None)
        .await
        .expect(200);
    assert_eq!(status["upload_id"], session["upload_id"]);
    assert_eq!(status["part_count"], 3);
    let held: Vec<(u64, u64)> = status["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["part_number"].as_u64().unwrap(),
                p["size_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(held, [(1, 5 * MIB as u64), (3, (2 * MIB + 4321) as u64)]);
    for p in status["parts"].as_array().unwrap() {
        let number = p["part_number"].as_u64().unwrap() as u32;
        assert_eq!(
            p["etag"].as_str().unwrap(),
            etags[&number].trim_matches('"'),
            "the listed ETag is the one the PUT answered"
        );
    }
    let part2 = sign(&stack, &org, &session, &[2]).await;
    let (status, etag) = put_part(&stack, &part2[0], slice(&body, 5 * MIB, 2), None).await;
    assert_eq!(status, 200);
    etags.insert(2, etag);
    let parts: Vec<Value> = etags
        .iter()
        .map(|(n, e)| json!({ "part_number": n, "etag": e }))
        .collect();
    let completed = stack
        .call(
            &org,
            Method::POST,
            &upload_path(&session, "/complete"),
            Some(json!({ "parts": parts })),
        )
        .await
        .expect(200);
    assert_eq!(completed["s3ref"], session["s3ref"]);

    let entity = stack
        .save(&org, json!({ "s3ref": completed["s3ref"] }))
        .await
        .expect(201);
    assert_eq!(entity["filename"], "film.mp4");
    assert_eq!(entity["mime_type"], "video/mp4");
    assert_eq!(entity["size_bytes"], body.len());
    assert_eq!(entity["checksum_sha256"], checksum.as_str());
    assert_eq!(entity["versions"][0]["checksum_sha256"], checksum.as_str());
    // Saved by one CopyObject, whose ETag is the MD5 of the bytes (SSE-S3): the version
    // says so. A multipart copy's is not (below).
    assert_eq!(entity["versions"][0]["md5"], entity["etag"], "{entity}");
    assert_eq!(
        download(&stack, &org, entity["_id"].as_str().unwrap()).await,
        body
    );
    // Completed: the id names nothing S3 still holds.
    stack
        .call(&org, Method::GET, &upload_path(&session, ""), None)
        .await
        .expect_error(404);
}

#[tokio::test]
async fn other_organisations_and_forged_ids_find_no_upload() {
    let stack = stack().await;
    let (org, other) = (new_org(), new_org());
    let session = start(
        &stack,
        &org,
        json!({ "filename": "a.bin", "size_bytes": 6 * MIB }),
    )
    .await;
    let id = session["upload_id"].as_str().unwrap().to_owned();
    let mut tampered = id.clone().into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (who, upload) in [
        (&other, id.as_str()),
        (&org, tampered.as_str()),
        (&org, "not-an-upload"),
    ] {
        let path = format!("/v2/files/uploads/{upload}");
        let calls = [
            (Method::GET, path.clone(), None),
            (
                Method::POST,
                format!("{path}/parts"),
                Some(json!({ "part_numbers": [1] })),
            ),
            (
                Method::POST,
                format!("{path}/complete"),
                Some(json!({ "parts": [{ "part_number": 1, "etag": "x" }] })),
            ),
            (Method::DELETE, path.clone(), None),
        ];
        for (method, path, body) in calls {
            let code = stack
                .call(who, method.clone(), &path, body)
                .await
                .expect_error(404);
            assert_eq!(code, "not_found", "{method} {path}");
        }
    }
    // The owner still has it, untouched.
    stack
        .call(&org, Method::GET, &upload_path(&session, ""), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn sizes_part_sizes_part_numbers_and_checksums_are_checked() {
    let stack = stack().await;
    let org = new_org();
    let refused = |body: Value| {
        let (stack, org) = (&stack, &org);
        async move {
            stack
                .call(org, Method::POST, "/v2/files/uploads", Some(body))
                .await
        }
    };
    const TIB: u64 = 1024 * 1024 * 1024 * 1024;
    let cases = [
        (
            json!({ "filename": "a", "size_bytes": 0 }),
            400,
            "invalid_size",
        ),
        (json!({ "filename": "a" }), 400, "size_required"),
        (
            json!({ "filename": "a", "size_bytes": -1 }),
            400,
            "invalid_body",
        ),
        (
            json!({ "filename": "a", "size_bytes": 5 * TIB + 1 }),
            413,
            "payload_too_large",
        ),
        (
            json!({ "filename": "a", "size_bytes": 100, "part_size": MIB }),
            400,
            "invalid_size",
        ),
        (
            json!({ "filename": "a", "size_bytes": 5 * TIB, "part_size": 5 * MIB }),
            400,
            "invalid_size",
        ),
        (
            json!({ "filename": "a", "size_bytes": 100, "checksum_sha256": "abc" }),
            400,
            "invalid_checksum",
        ),
        (
            json!({ "filename": "../a", "size_bytes": 100 }),
            400,
            "invalid_filename",
        ),
    ];
    for (body, status, code) in cases {
        assert_eq!(
            refused(body.clone()).await.expect_error(status),
            code,
            "{body}"
        );
    }
    // Without part_size: 8 MiB, or more where 10,000 parts would not hold the file.
    let small = start(
        &stack,
        &org,
        json!({ "filename": "a", "size_bytes": 20 * MIB }),
    )
    .await;
    assert_eq!(
        (small["part_size"].as_u64(), small["part_count"].as_u64()),
        (Some(8 * MIB as u64), Some(3))
    );
    let huge = start(
        &stack,
        &org,
        json!({ "filename": "a", "size_bytes": 5 * TIB }),
    )
    .await;
    let part_size = huge["part_size"].as_u64().unwrap();
    assert!(huge["part_count"].as_u64().unwrap() <= 10_000);
    assert_eq!(part_size % MIB as u64, 0);
    assert!(part_size * 10_000 >= 5 * TIB);

    let path = upload_path(&small, "/parts");
    let sign = |body: Value| {
        let (stack, org, path) = (&stack, &org, &path);
        async move { stack.call(org, Method::POST, path, Some(body)).await }
    };
    for (body, status, code) in [
        (json!({ "part_numbers": [0] }), 400, "invalid_part"),
        (json!({ "part_numbers": [4] }), 400, "invalid_part"),
        (json!({ "part_numbers": [1, 1] }), 400, "invalid_part"),
        (json!({ "part_numbers": [] }), 400, "too_many_items"),
        (
            json!({ "part_numbers": (1..=101).collect::<Vec<_>>() }),
            400,
            "too_many_items",
        ),
        (json!({ "part_numbers": ["1"] }), 400, "invalid_body"),
        (json!({}), 400, "invalid_body"),
        (
            json!({ "parts": [{ "part_number": 1, "checksum_sha256": "nope" }] }),
            400,
            "invalid_checksum",
        ),
    ] {
        assert_eq!(
            sign(body.clone()).await.expect_error(status),
            code,
            "{body}"
        );
    }
}

#[tokio::test]
async fn completing_with_a_wrong_etag_or_a_missing_part_is_refused_and_abort_ends_it() {
    let stack = stack().await;
    let org = new_org();
    let (session, body) = two_parts(&stack, &org, "b.bin").await;
    let signed = sign(&stack, &org, &session, &[1, 2]).await;
    let (_, etag1) = put_part(&stack, &signed[0], slice(&body, 5 * MIB, 1), None).await;
    let complete = |parts: Value| {
        let (stack, org, path) = (&stack, &org, upload_path(&session, "/complete"));
        async move {
            stack
                .call(org, Method::POST, &path, Some(json!({ "parts": parts })))
                .await
        }
    };
    // Part 2 was never sent.
    let code = complete(
        json!([{ "part_number": 1, "etag": etag1 }, { "part_number": 2, "etag": "\"0123\"" }]),
    )
    .await
    .expect_error(400);
    assert_eq!(code, "invalid_part");
    let (_, etag2) = put_part(&stack, &signed[1], slice(&body, 5 * MIB, 2), None).await;
    for parts in [
        json!([{ "part_number": 1, "etag": etag1 }]),
        json!([{ "part_number": 1, "etag": etag2 }, { "part_number": 2, "etag": etag2 }]),
        json!([{ "part_number": 1, "etag": etag1 }, { "part_number": 1, "etag": etag1 }]),
        json!([{ "part_number": 1, "etag": etag1 }, { "part_number": 3, "etag": etag2 }]),
    ] {
        assert_eq!(
            complete(parts.clone()).await.expect_error(400),
            "invalid_part",
            "{parts}"
        );
    }
    assert!(
        stack
            .service
            .store()
            .head(session["s3ref"]["key"].as_str().unwrap())
            .await
            .unwrap()
            .is_none(),
        "nothing completed"
    );
    let path = upload_path(&session, "");
    let answer = stack.call(&org, Method::DELETE, &path, None).await;
    assert_eq!(answer.status, 204);
    stack
        .call(&org, Method::GET, &path, None)
        .await
        .expect_error(404);
    let code =
        complete(json!([{ "part_number": 1, "etag": etag1 }, { "part_number": 2, "etag": etag2 }]))
            .await
            .expect_error(404);
    assert_eq!(code, "not_found");
    // No presigned URL for an upload that no longer exists.
    let signing = stack
        .call(
            &org,
            Method::POST,
            &upload_path(&session, "/parts"),
            Some(json!({ "part_numbers": [1] })),
        )
        .await;
    assert_eq!(signing.expect_error(404), "not_found");
    assert_eq!(
        stack.call(&org, Method::DELETE, &path, None).await.status,
        204,
        "abort again"
    );
}

#[tokio::test]
async fn a_completed_upload_signs_lists_and_completes_no_more() {
    let stack = stack().await;
    let org = new_org();
    let (session, body) = two_parts(&stack, &org, "c.bin").await;
    upload_all(&stack, &org, &session, &body).await;
    let complete_path = upload_path(&session, "/complete");
    let parts =
        json!({ "parts": [{ "part_number": 1, "etag": "x" }, { "part_number": 2, "etag": "y" }] });
    let after = [
        (
            Method::POST,
            upload_path(&session, "/parts"),
            Some(json!({ "part_numbers": [1] })),
        ),
        (Method::GET, upload_path(&session, ""), None),
        (Method::POST, complete_path, Some(parts)),
    ];
    for (method, path, body) in after {
        let answer = stack.call(&org, method.clone(), &path, body).await;
        assert_eq!(answer.expect_error(409), "conflict", "{method} {path}");
    }
}

#[tokio::test]
async fn s3_refuses_a_part_of_another_length_or_checksum_than_signed() {
    let stack = stack().await;
    let org = new_org();
    let body = pattern(5 * MIB + 100);
    let session = start(
        &stack,
        &org,
        json!({ "filename": "c.bin", "size_bytes": body.len(), "part_size": 5 * MIB }),
    )
    .await;
    let last = slice(&body, 5 * MIB, 2);
    let checksum = sha256_base64(last);
    let answer = stack
        .call(
            &org,
            Method::POST,
            &upload_path(&session, "/parts"),
            Some(json!({ "parts": [{ "part_number": 2, "checksum_sha256": checksum }] })),
        )
        .await
        .expect(200);
    let part = &answer["parts"][0];
    assert_eq!(part["headers"]["x-amz-checksum-sha256"], checksum.as_str());
    let mut other = last.to_vec();
    other[0] ^= 1;
    let (status, _) = put_part(&stack, part, &other, Some(&checksum)).await;
    assert_eq!(
        status, 400,
        "S3 refuses bytes that do not match the signed SHA-256"
    );
    let (status, _) = put_part(&stack, part, last, None).await;
    assert_eq!(status, 403, "the checksum header is signed in");
    let (status, _) = put_part(&stack, part, &last[1..], Some(&sha256_base64(&last[1..]))).await;
    assert_eq!(status, 403, "the length is signed in");
    let held = stack
        .call(&org, Method::GET, &upload_path(&session, ""), None)
        .await
        .expect(200);
    assert_eq!(held["parts"], json!([]), "no refused part is held");
    let (status, _) = put_part(&stack, part, last, Some(&checksum)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bytes_that_do_not_match_the_declared_checksum_are_refused_and_nothing_is_stored() {
    let stack = stack().await;
    let org = new_org();
    let body = pattern(6 * MIB);
    let session = start(
        &stack,
        &org,
        json!({ "filename": "d.bin", "size_bytes": body.len(), "part_size": 5 * MIB,
                "checksum_sha256": sha256_base64(b"something else") }),
    )
    .await;
    let s3ref = upload_all(&stack, &org, &session, &body).await;
    let code = stack
        .save(&org, json!({ "s3ref": s3ref }))
        .await
        .expect_error(422);
    assert_eq!(code, "checksum_mismatch");
    let store = stack.service.store();
    assert!(
        store
            .head(s3ref["key"].as_str().unwrap())
            .await
            .unwrap()
            .is_none(),
        "the upload is gone"
    );
    assert_eq!(
        store.list(&format!("files/{org}/")).await.unwrap(),
        Vec::<String>::new(),
        "no version"
    );

    // A single upload with a declared checksum: S3 itself refuses other bytes.
    let small = b"hello, checksums".to_vec();
    let declared = sha256_base64(&small);
    let ticket = stack
        .call(
            &org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({ "filename": "e.txt", "checksum_sha256": declared })),
        )
        .await
        .expect(201);
    let url = ticket["upload_url"].as_str().unwrap();
    let put = |bytes: Vec<u8>, header: Option<String>| {
        let mut request = stack.http.put(url).body(bytes);
        if let Some(h) = header {
            request = request.header("x-amz-checksum-sha256", h);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        put(b"hello, checksumz".to_vec(), Some(declared.clone())).await,
        400
    );
    assert_eq!(
        put(small.clone(), None).await,
        403,
        "the header is signed in"
    );
    let key = ticket["s3ref"]["key"].as_str().unwrap();
    assert!(store.head(key).await.unwrap().is_none(), "nothing stored");
    assert_eq!(put(small.clone(), Some(declared.clone())).await, 200);
    let entity = stack
        .save(&org, json!({ "s3ref": ticket["s3ref"] }))
        .await
        .expect(201);
    assert_eq!(entity["checksum_sha256"], declared.as_str());
}

#[tokio::test]
async fn a_save_over_the_threshold_copies_in_parallel_parts_byte_exact() {
    let stack = stack_with(shared::config::Config {
        multipart_copy_threshold: 5 * MIB as u64,
        copy_concurrency: 4,
        ..config()
    })
    .await;
    let org = new_org();
    let body = pattern(13 * MIB + 7);
    let session = start(
        &stack,
        &org,
        json!({ "filename": "big.iso", "size_bytes": body.len() }),
    )
    .await;
    let s3ref = upload_all(&stack, &org, &session, &body).await;
    let entity = stack
        .save(&org, json!({ "s3ref": s3ref }))
        .await
        .expect(201);
    // copy_part_size(13 MiB, 4) is 5 MiB: three UploadPartCopy parts, so S3's ETag is
    // a multipart one (CopyObject would have given an MD5), and no MD5 is claimed.
    assert!(
        entity["etag"].as_str().unwrap().ends_with("-3"),
        "{}",
        entity["etag"]
    );
    assert!(entity["versions"][0].get("md5").is_none(), "{entity}");
    assert_eq!(entity["size_bytes"], body.len());
    assert_eq!(entity["checksum_sha256"], sha256_base64(&body).as_str());
    assert_eq!(
        download(&stack, &org, entity["_id"].as_str().unwrap()).await,
        body
    );
    // A small file under the same threshold is one CopyObject.
    let small = stack.new_file(&org, "s.txt", "text/plain", b"small").await;
    assert!(!small["etag"].as_str().unwrap().contains('-'));
    assert_eq!(
        small["versions"][0]["md5"],
        "eb5c1399a871211c7e7ed732d15e3a8b"
    );
    assert_eq!(small["checksum_sha256"], sha256_base64(b"small").as_str());
}
