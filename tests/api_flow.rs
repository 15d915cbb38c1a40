//! The whole flow over HTTP against the emulator: upload, save, get, download,
//! versions, downloadFiles, attachment names, delete.

use integration_tests::{new_org, stack};
use reqwest::Method;
use serde_json::json;
use shared::ports::ObjectStore;

#[tokio::test]
async fn upload_save_get_download_round_trips_the_bytes() {
    let s = stack().await;
    let org = new_org();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1_234_567).collect();

    let upload = s
        .call(
            &org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({"filename": "report.pdf", "mime_type": "application/pdf"})),
        )
        .await
        .expect(201);
    let key = upload["s3ref"]["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("temp/{org}/")) && key.ends_with("/report.pdf"),
        "{key}"
    );
    assert_eq!(upload["s3ref"]["bucket"], s.service.config.bucket);
    s.put_bytes(
        upload["upload_url"].as_str().unwrap(),
        "application/pdf",
        &bytes,
    )
    .await;

    let saved = s
        .save(&org, json!({"s3ref": upload["s3ref"], "filename": "report.pdf", "access_control": "private", "colour": "blue", "pages": 3}))
        .await
        .expect(201);
    let id = saved["_id"].as_str().unwrap();
    assert_eq!(saved["_org"], org.as_str());
    assert_eq!(saved["_schema"], "file");
    assert_eq!(saved["filename"], "report.pdf");
    assert_eq!(saved["mime_type"], "application/pdf");
    assert_eq!(saved["type"], "document");
    assert_eq!(saved["size_bytes"], 1_234_567);
    assert_eq!(saved["readable_size"], "1.2 MB");
    assert_eq!(saved["access_control"], "private");
    assert_eq!(saved["colour"], "blue", "extra attributes are kept");
    assert_eq!(saved["pages"], 3);
    assert_eq!(
        saved["public_url"],
        s.url(&format!("/v1/files/public/{id}"))
    );
    let etag = saved["etag"].as_str().unwrap();
    assert!(!etag.is_empty() && !etag.contains('"'));
    let versions = saved["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["size_bytes"], 1_234_567);
    assert_eq!(versions[0]["etag"], etag);
    let version_key = versions[0]["s3ref"]["key"].as_str().unwrap();
    assert!(
        version_key.starts_with(&format!("files/{org}/{id}/")),
        "{version_key}"
    );
    assert_eq!(saved["s3ref"], versions[0]["s3ref"]);

    // The temp object is gone by default; the version is permanent.
    assert_eq!(
        s.service.store().head(key).await.unwrap(),
        None,
        "temp object removed"
    );
    assert!(s.service.store().head(version_key).await.unwrap().is_some());

    let got = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got, saved, "getFile answers what saveFileV2 answered");

    let url = s.download_url(&org, id, "").await;
    let (status, headers, body) = s.fetch(&url).await;
    assert_eq!(status, 200);
    assert!(
        body == bytes,
        "downloaded bytes differ from the uploaded ones"
    );
    assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
}

#[tokio::test]
async fn size_etag_and_type_come_from_s3_not_the_client() {
    let s = stack().await;
    let org = new_org();
    let s3ref = s
        .upload(&org, "photo.png", "image/png", b"not really a png")
        .await;
    let saved = s
        .save(
            &org,
            json!({"s3ref": s3ref, "mime_type": "application/pdf", "size_bytes": 999_999}),
        )
        .await
        .expect(201);
    assert_eq!(
        saved["mime_type"], "image/png",
        "content type stored in S3 wins"
    );
    assert_eq!(saved["type"], "image");
    assert_eq!(saved["size_bytes"], 16);
    assert_eq!(saved["readable_size"], "16 B");
    assert_eq!(
        saved["filename"], "photo.png",
        "filename defaults to the upload's"
    );
}

#[tokio::test]
async fn delete_temp_file_false_keeps_the_upload() {
    let s = stack().await;
    let org = new_org();
    let s3ref = s.upload(&org, "keep.txt", "text/plain", b"keep me").await;
    s.call(
        &org,
        Method::POST,
        "/v2/files?delete_temp_file=false",
        Some(json!({"s3ref": s3ref})),
    )
    .await
    .expect(201);
    let key = s3ref["key"].as_str().unwrap();
    assert!(
        s.service.store().head(key).await.unwrap().is_some(),
        "temp object kept"
    );
}

#[tokio::test]
async fn versions_download_by_number_and_download_files_gives_both() {
    let s = stack().await;
    let org = new_org();
    let first = s
        .new_file(&org, "notes.txt", "text/plain", b"version one")
        .await;
    let id = first["_id"].as_str().unwrap();

    let s3ref = s
        .upload(&org, "notes-v2.txt", "text/plain", b"version two!")
        .await;
    let second = s
        .save(
            &org,
            json!({"_id": id, "s3ref": s3ref, "filename": "notes-v2.txt"}),
        )
        .await
        .expect(201);
    assert_eq!(second["_id"], id);
    let versions = second["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["filename"], "notes.txt");
    assert_eq!(versions[1]["filename"], "notes-v2.txt");
    assert_ne!(versions[0]["s3ref"]["key"], versions[1]["s3ref"]["key"]);
    assert_eq!(second["filename"], "notes-v2.txt");
    assert_eq!(second["size_bytes"], 12, "entity shows the latest version");
    assert_eq!(second["_created_at"], first["_created_at"]);

    for (query, expected) in [
        ("?version=1", &b"version one"[..]),
        ("?version=2", b"version two!"),
        ("?version=0", b"version two!"),
        ("", b"version two!"),
    ] {
        let (status, _, body) = s.fetch(&s.download_url(&org, id, query).await).await;
        assert_eq!(
            (status, body.as_slice()),
            (200, expected),
            "download{query}"
        );
    }
    assert_eq!(
        s.call(
            &org,
            Method::GET,
            &format!("/v1/files/{id}/download?version=3"),
            None
        )
        .await
        .expect_error(404),
        "not_found"
    );

    let other = s
        .new_file(&org, "other.csv", "text/csv", b"a,b\n1,2\n")
        .await;
    let other_id = other["_id"].as_str().unwrap();
    let many = s
        .call(
            &org,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id, "version": 1}, {"id": other_id}])),
        )
        .await
        .expect(200);
    let many = many.as_array().unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(many[0]["file_entity_id"], id);
    assert_eq!(many[1]["file_entity_id"], other_id);
    let (_, _, body) = s.fetch(many[0]["download_url"].as_str().unwrap()).await;
    assert_eq!(body, b"version one");
    let (_, _, body) = s.fetch(many[1]["download_url"].as_str().unwrap()).await;
    assert_eq!(body, b"a,b\n1,2\n");
}

#[tokio::test]
async fn attachment_sets_content_disposition_with_the_exact_filename() {
    let s = stack().await;
    let org = new_org();
    let name = "Q3 \"final\" Übersicht – 日本.pdf";
    let file = s.new_file(&org, name, "application/pdf", b"%PDF-1.7").await;
    let id = file["_id"].as_str().unwrap();
    assert_eq!(file["filename"], name);

    let (status, headers, body) = s
        .fetch(&s.download_url(&org, id, "?attachment=true").await)
        .await;
    assert_eq!((status, body.as_slice()), (200, &b"%PDF-1.7"[..]));
    let disposition = headers
        .get("content-disposition")
        .expect("Content-Disposition")
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Q3%20%22final%22%20%C3%9Cbersicht%20%E2%80%93%20%E6%97%A5%E6%9C%AC.pdf"),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename=\"Q3 _final_ _bersicht _ __.pdf\""),
        "{disposition}"
    );

    let (_, headers, _) = s.fetch(&s.download_url(&org, id, "").await).await;
    let default = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        default.starts_with("attachment;"),
        "attachment is the default: {default}"
    );

    let (_, headers, _) = s
        .fetch(&s.download_url(&org, id, "?attachment=false").await)
        .await;
    let inline = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(inline.starts_with("inline;"), "{inline}");
}

#[tokio::test]
async fn delete_removes_the_entity_and_every_version_object() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "a.txt", "text/plain", b"one").await;
    let id = file["_id"].as_str().unwrap();
    let s3ref = s.upload(&org, "a.txt", "text/plain", b"two").await;
    s.save(&org, json!({"_id": id, "s3ref": s3ref}))
        .await
        .expect(201);
    let prefix = format!("files/{org}/{id}/");
    assert_eq!(s.service.store().list(&prefix).await.unwrap().len(), 2);

    let deleted = s
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}?purge=true"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(deleted["_id"], id);

    assert_eq!(
        s.call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .expect_error(404),
        "not_found"
    );
    assert_eq!(
        s.call(&org, Method::GET, &format!("/v1/files/{id}/download"), None)
            .await
            .expect_error(404),
        "not_found"
    );
    assert!(
        s.service.store().list(&prefix).await.unwrap().is_empty(),
        "every version object is gone"
    );
    assert_eq!(
        s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
            .await
            .expect_error(404),
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_new_versions_all_land() {
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "c.txt", "text/plain", b"v1").await;
    let id = file["_id"].as_str().unwrap().to_owned();
    let mut refs = Vec::new();
    for n in 2..=6 {
        refs.push(
            s.upload(&org, "c.txt", "text/plain", format!("v{n}").as_bytes())
                .await,
        );
    }
    let saves = refs
        .into_iter()
        .map(|s3ref| s.save(&org, json!({"_id": id, "s3ref": s3ref})));
    let answers = futures::future::join_all(saves).await;
    for answer in answers {
        answer.expect(201);
    }
    let got = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let versions = got["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 6, "five concurrent saves plus the first");
    let mut contents = Vec::new();
    for n in 1..=6 {
        let (_, _, body) = s
            .fetch(&s.download_url(&org, &id, &format!("?version={n}")).await)
            .await;
        contents.push(String::from_utf8(body).unwrap());
    }
    contents.sort();
    assert_eq!(
        contents,
        ["v1", "v2", "v3", "v4", "v5", "v6"],
        "every version keeps its own bytes"
    );
}
