//! The trash over HTTP against the local stack: deleteFile moves a file there (it
//! answers 404 everywhere a live file answers), `trashed=true` lists and counts it,
//! restore brings it back whole, `purge=true` and the retention end it for good (the
//! retention with a test clock, and DynamoDB's TTL removal fed to the sweeper as its
//! stream delivers it); quotas count its bytes; a restore racing a purge lands whole or
//! not at all; other organisations see none of it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use integration_tests::{clients, config, new_org, stack, stack_at, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;
use shared::sweep::{sweep_expired, StreamEvent};
use shared::time::Clock;

const DAY_MILLIS: i64 = 24 * 3600 * 1000;

fn id_of(file: &Value) -> String {
    file["_id"].as_str().unwrap().to_owned()
}

async fn get(s: &Stack, org: &str, path: &str) -> Value {
    s.call(org, Method::GET, path, None).await.expect(200)
}

async fn status(s: &Stack, org: &str, method: Method, path: &str) -> u16 {
    s.call(org, method, path, None).await.status
}

async fn usage(s: &Stack, org: &str) -> Value {
    get(s, org, "/v2/usage").await
}

async fn objects(s: &Stack, prefix: &str) -> Vec<String> {
    let mut keys = s.service.store().list(prefix).await.expect("list");
    keys.sort();
    keys
}

/// Ids of every page of the trash, `limit` at a time.
async fn trash_ids(s: &Stack, org: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..50 {
        let page = get(
            s,
            org,
            &format!("/v2/files?trashed=true&limit={limit}{cursor}"),
        )
        .await;
        ids.extend(page["results"].as_array().unwrap().iter().map(id_of));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
    panic!("the trash listing ends");
}

/// A file with two versions, tags, a relation and public access.
async fn rich_file(s: &Stack, org: &str) -> Value {
    let s3ref = s
        .upload(org, "report.pdf", "application/pdf", b"first")
        .await;
    let file = s
        .save(
            org,
            json!({
                "s3ref": s3ref, "filename": "report.pdf", "_tags": ["q4", "finance"],
                "relations": [{"entity_id": "deal-1", "_schema": "opportunity", "_tags": ["x"]}],
                "access_control": "public-read",
            }),
        )
        .await
        .expect(201);
    let s3ref = s
        .upload(org, "report.pdf", "application/pdf", b"second version")
        .await;
    s.save(org, json!({"s3ref": s3ref, "_id": file["_id"]}))
        .await
        .expect(201)
}

/// What a client compares a restored file by.
fn essence(file: &Value) -> Value {
    json!({
        "_id": file["_id"], "filename": file["filename"], "_tags": file["_tags"],
        "relations": file["relations"], "access_control": file["access_control"],
        "versions": file["versions"], "size_bytes": file["size_bytes"],
        "_created_at": file["_created_at"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_file_waits_in_the_trash_hidden_everywhere_and_comes_back_whole() {
    let s = stack().await;
    let org = new_org();
    let file = rich_file(&s, &org).await;
    let id = id_of(&file);
    let other = s.new_file(&org, "other.txt", "text/plain", b"stays").await;
    let link = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files/{id}/public/links"),
            None,
        )
        .await
        .expect(201);
    let link_url = link.as_str().expect("the link").to_owned();
    assert_eq!(s.fetch(&link_url).await.0, 200, "the link works first");
    let public_url = file["public_url"].as_str().unwrap().to_owned();
    let stored = objects(&s, &format!("files/{org}/{id}/")).await;
    let bytes = 5 + 14;
    let before = usage(&s, &org).await;

    // Into the trash: the file as deleted, with when, by whom and until when.
    let deleted = s
        .call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["_id"], id.as_str());
    assert_eq!(deleted["deleted_by"], format!("dev-user@{org}"));
    let deleted_at = shared::time::parse_rfc3339(deleted["deleted_at"].as_str().unwrap())
        .expect("deleted_at is a time");
    let purge_at = shared::time::parse_rfc3339(deleted["purge_at"].as_str().unwrap())
        .expect("purge_at is a time");
    assert_eq!(purge_at - deleted_at, 30 * DAY_MILLIS, "30 days by default");

    // 404 wherever a live file answers; gone from lists and counts.
    for (method, path) in [
        (Method::GET, format!("/v2/files/{id}")),
        (Method::GET, format!("/v1/files/{id}/download")),
        (Method::GET, format!("/v2/files/{id}/content")),
        (Method::GET, format!("/v2/files/{id}/versions")),
        (Method::GET, format!("/v1/files/{id}/preview")),
        (Method::GET, format!("/v1/files/{id}/public/links")),
        (Method::POST, format!("/v1/files/{id}/public/links")),
        (Method::POST, format!("/v2/files/{id}/versions/1")),
        (Method::DELETE, format!("/v2/files/{id}/versions/1")),
        (Method::DELETE, format!("/v2/files/{id}")),
    ] {
        let answer = s.call(&org, method.clone(), &path, None).await;
        assert_eq!(
            answer.expect_error(404),
            "not_found",
            "{method} {path} answers as for no file"
        );
    }
    let batch = s
        .call(
            &org,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id}])),
        )
        .await;
    assert!(
        batch.status == 404 || batch.json.to_string().contains("not_found"),
        "downloadFiles hands out nothing: {}",
        batch.json
    );
    let upload_for = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files/upload?file_entity_id={id}"),
            Some(json!({"filename": "new.pdf"})),
        )
        .await;
    assert_eq!(upload_for.expect_error(404), "not_found");
    assert_eq!(
        s.fetch(&link_url).await.0,
        404,
        "the public link is revoked"
    );
    assert_eq!(s.fetch(&public_url).await.0, 404, "public_url answers 404");
    let listed = get(&s, &org, "/v2/files").await;
    assert_eq!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        [id_of(&other)]
    );
    assert_eq!(get(&s, &org, "/v2/files:count").await["count"], 1);

    // In the trash: listed and counted there, with the trash's fields.
    let trash = get(&s, &org, "/v2/files?trashed=true").await;
    let results = trash["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["_id"], id.as_str());
    assert_eq!(results[0]["deleted_at"], deleted["deleted_at"]);
    assert_eq!(results[0]["purge_at"], deleted["purge_at"]);
    assert_eq!(results[0]["deleted_by"], deleted["deleted_by"]);
    assert_eq!(
        get(&s, &org, "/v2/files:count?trashed=true").await["count"],
        1
    );
    // Its bytes are still held, and shown apart.
    let during = usage(&s, &org).await;
    assert_eq!(during["files"], before["files"].as_u64().unwrap() - 1);
    assert_eq!(during["trashed_files"], 1);
    assert_eq!(during["trashed_bytes"], bytes);
    assert_eq!(
        during["bytes"].as_u64().unwrap() + bytes,
        before["bytes"].as_u64().unwrap()
    );
    assert_eq!(objects(&s, &format!("files/{org}/{id}/")).await, stored);

    // A new version for a trashed file: 404, and nothing left behind.
    let s3ref = s
        .upload(&org, "report.pdf", "application/pdf", b"late")
        .await;
    let late = s.save(&org, json!({"s3ref": s3ref, "_id": id})).await;
    assert_eq!(late.expect_error(404), "not_found");
    assert_eq!(objects(&s, &format!("files/{org}/{id}/")).await, stored);

    // Back as it was: versions, tags, relations, access; the link stays revoked.
    let restored = s
        .call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await
        .expect(200);
    assert_eq!(essence(&restored), essence(&file));
    assert!(restored.get("deleted_at").is_none(), "{restored}");
    assert!(restored.get("purge_at").is_none());
    assert_eq!(
        essence(&get(&s, &org, &format!("/v2/files/{id}")).await),
        essence(&file)
    );
    assert_eq!(
        s.fetch(&link_url).await.0,
        404,
        "revoked links stay revoked"
    );
    assert_eq!(
        get(&s, &org, &format!("/v1/files/{id}/public/links")).await["results"],
        json!([])
    );
    for version in 1..=2 {
        let url = s
            .download_url(&org, &id, &format!("?version={version}"))
            .await;
        assert_eq!(s.fetch(&url).await.0, 200, "version {version} downloads");
    }
    assert_eq!(usage(&s, &org).await, before);
    assert_eq!(
        get(&s, &org, "/v2/files:count?trashed=true").await["count"],
        0
    );
    // Restoring what is not in the trash: 404.
    let again = s
        .call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await;
    assert_eq!(again.expect_error(404), "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_ends_a_live_or_trashed_file_for_good_and_bulk_deletes_trash_too() {
    let s = stack().await;
    let org = new_org();
    let live = id_of(&s.new_file(&org, "a.txt", "text/plain", b"aaaa").await);
    let trashed = id_of(&s.new_file(&org, "b.txt", "text/plain", b"bbbbbb").await);
    s.call(&org, Method::DELETE, &format!("/v2/files/{trashed}"), None)
        .await
        .expect(200);
    for id in [&live, &trashed] {
        let purged = s
            .call(
                &org,
                Method::DELETE,
                &format!("/v2/files/{id}?purge=true"),
                None,
            )
            .await
            .expect(200);
        assert_eq!(purged["deleted"], true);
        assert!(purged.get("purge_at").is_none() || id == &trashed);
        assert!(objects(&s, &format!("files/{org}/{id}/")).await.is_empty());
        let restore = s
            .call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
            .await;
        assert_eq!(restore.expect_error(404), "not_found");
    }
    assert!(trash_ids(&s, &org, 10).await.is_empty());
    assert_eq!(
        usage(&s, &org).await,
        json!({"files": 0, "versions": 0, "bytes": 0, "trashed_files": 0,
               "trashed_bytes": 0, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0})
    );

    // Bulk: a filter moves its matches to the trash; purge=true ends them.
    let mut tagged = Vec::new();
    for i in 0..5 {
        let s3ref = s.upload(&org, "t.txt", "text/plain", b"tag").await;
        let tags = if i < 3 {
            json!(["old"])
        } else {
            json!(["new"])
        };
        tagged.push(id_of(
            &s.save(&org, json!({"s3ref": s3ref, "_tags": tags}))
                .await
                .expect(201),
        ));
    }
    let bulk = s
        .call(&org, Method::DELETE, "/v2/files?tag=old", None)
        .await
        .expect(200);
    assert_eq!(bulk, json!({"deleted": 3, "more": false}));
    let mut in_trash = trash_ids(&s, &org, 2).await;
    in_trash.sort();
    let mut old = tagged[..3].to_vec();
    old.sort();
    assert_eq!(in_trash, old, "paged two at a time");
    assert_eq!(get(&s, &org, "/v2/files:count").await["count"], 2);
    let bulk = s
        .call(&org, Method::DELETE, "/v2/files?tag=new&purge=true", None)
        .await
        .expect(200);
    assert_eq!(bulk["deleted"], 2);
    assert_eq!(
        get(&s, &org, "/v2/files:count?trashed=true").await["count"],
        3
    );
    for id in &tagged[3..] {
        assert!(objects(&s, &format!("files/{org}/{id}/")).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn trashed_bytes_count_against_the_quota_until_purged() {
    let org = new_org();
    let mut config = config();
    config.quotas.by_org.insert(org.clone(), 100);
    let s = stack_with(config).await;
    let id = id_of(
        &s.new_file(&org, "big.bin", "application/octet-stream", &[7; 70])
            .await,
    );
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let used = usage(&s, &org).await;
    assert_eq!(
        used,
        json!({"files": 0, "versions": 0, "bytes": 0, "trashed_files": 1,
               "trashed_bytes": 70, "quota_bytes": 100, "infected_files": 0, "infected_bytes": 0})
    );
    // The trash makes no room: 70 + 40 > 100.
    let upload = s
        .call(
            &org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({"filename": "more.bin", "size_bytes": 40})),
        )
        .await;
    assert_eq!(upload.expect_error(413), "quota_exceeded");
    let s3ref = s
        .upload(&org, "more.bin", "application/octet-stream", &[1; 40])
        .await;
    let save = s.save(&org, json!({"s3ref": s3ref})).await;
    assert_eq!(save.expect_error(413), "quota_exceeded");
    // Restoring needs no room (the bytes never left); purging makes it.
    s.call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await
        .expect(200);
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}?purge=true"),
        None,
    )
    .await
    .expect(200);
    s.save(&org, json!({"s3ref": s3ref})).await.expect(201);
    assert_eq!(usage(&s, &org).await["bytes"], 40);
}

/// The item DynamoDB holds for a file, in the stream's JSON (`{"S": ...}`).
async fn stream_image(id: &str) -> HashMap<String, Value> {
    fn json_of(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            AttributeValue::Null(b) => json!({ "NULL": b }),
            AttributeValue::Ss(v) => json!({ "SS": v }),
            AttributeValue::Ns(v) => json!({ "NS": v }),
            AttributeValue::L(items) => {
                json!({ "L": items.iter().map(json_of).collect::<Vec<_>>() })
            }
            AttributeValue::M(map) => json!({
                "M": map.iter().map(|(k, v)| (k.clone(), json_of(v))).collect::<serde_json::Map<_, _>>()
            }),
            other => panic!("unexpected attribute {other:?}"),
        }
    }
    let item = clients()
        .dynamodb
        .get_item()
        .table_name(config().table)
        .key("pk", AttributeValue::S(format!("FILE#{id}")))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the file's item");
    item.iter().map(|(k, v)| (k.clone(), json_of(v))).collect()
}

/// What DynamoDB's TTL does when purge_at passes: the item goes, and the stream brings
/// the sweeper its old image.
async fn ttl_removes(id: &str) -> StreamEvent {
    let image = stream_image(id).await;
    clients()
        .dynamodb
        .delete_item()
        .table_name(config().table)
        .key("pk", AttributeValue::S(format!("FILE#{id}")))
        .send()
        .await
        .expect("DeleteItem");
    serde_json::from_value(json!({"Records": [{
        "eventName": "REMOVE",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {"OldImage": image},
    }]}))
    .expect("a stream event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_retention_ends_trash_by_the_clock_and_the_sweeper_settles_it_once() {
    let clock = Clock::manual(Clock::system().now_millis());
    let mut config = config();
    config.trash_retention_days = 2;
    let s = stack_at(config, clock.clone()).await;
    let org = new_org();
    let kept = s.new_file(&org, "kept.txt", "text/plain", b"kept!").await;
    let id = id_of(
        &s.new_file(&org, "old.txt", "text/plain", b"0123456789")
            .await,
    );
    let deleted = s
        .call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let at = |name: &str| shared::time::parse_rfc3339(deleted[name].as_str().unwrap()).unwrap();
    assert_eq!(at("purge_at") - at("deleted_at"), 2 * DAY_MILLIS);

    // A day on: still restorable (then trashed again).
    clock.advance_millis(DAY_MILLIS);
    s.call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await
        .expect(200);
    let deleted = s
        .call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let purge_at = deleted["purge_at"].as_str().unwrap().to_owned();
    // Past purge_at: no restore, not in the trash list or count.
    clock.advance_millis(2 * DAY_MILLIS + 1);
    let late = s
        .call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await;
    assert_eq!(late.expect_error(404), "not_found");
    assert!(
        trash_ids(&s, &org, 10).await.is_empty(),
        "purge_at {purge_at}"
    );
    assert_eq!(
        get(&s, &org, "/v2/files:count?trashed=true").await["count"],
        0
    );

    // DynamoDB's TTL removes the item; the sweeper deletes the bytes and settles usage.
    let event = ttl_removes(&id).await;
    let report = sweep_expired(s.service.store(), s.service.files(), &event)
        .await
        .unwrap();
    assert_eq!(report.applied, 1);
    assert!(objects(&s, &format!("files/{org}/{id}/")).await.is_empty());
    let settled = json!({"files": 1, "versions": 1, "bytes": 5, "trashed_files": 0,
                         "trashed_bytes": 0, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0});
    assert_eq!(usage(&s, &org).await, settled);
    // Delivered again (Lambda retries a batch): settled once, not twice.
    sweep_expired(s.service.store(), s.service.files(), &event)
        .await
        .unwrap();
    assert_eq!(usage(&s, &org).await, settled);
    assert_eq!(
        id_of(&get(&s, &org, &format!("/v2/files/{}", id_of(&kept))).await),
        id_of(&kept)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retention_of_zero_days_deletes_at_once() {
    let mut config = config();
    config.trash_retention_days = 0;
    let s = stack_with(config).await;
    let org = new_org();
    let id = id_of(&s.new_file(&org, "gone.txt", "text/plain", b"gone").await);
    let deleted = s
        .call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(deleted["deleted"], true);
    assert!(deleted.get("purge_at").is_none(), "{deleted}");
    assert!(objects(&s, &format!("files/{org}/{id}/")).await.is_empty());
    assert!(trash_ids(&s, &org, 10).await.is_empty());
    assert_eq!(usage(&s, &org).await["trashed_files"], 0);
    assert_eq!(usage(&s, &org).await["files"], 0);
}

/// Trials of the restore/purge race, and the time they may take together.
const TRIALS: usize = 16;
const RACE_BUDGET: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restore_racing_a_purge_lands_whole_or_not_at_all() {
    let s = stack().await;
    let started = Instant::now();
    let mut trials = 0;
    let mut outcomes = HashMap::new();
    while trials < TRIALS && started.elapsed() < RACE_BUDGET {
        trials += 1;
        let org = new_org();
        let file = rich_file(&s, &org).await;
        let id = id_of(&file);
        s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
            .await
            .expect(200);
        let restore = async {
            tokio::time::sleep(Duration::from_millis((trials % 4) as u64 * 3)).await;
            s.call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
                .await
        };
        let purge = async {
            tokio::time::sleep(Duration::from_millis((trials % 3) as u64 * 3)).await;
            s.call(
                &org,
                Method::DELETE,
                &format!("/v2/files/{id}?purge=true"),
                None,
            )
            .await
        };
        let (restored, purged) = tokio::join!(restore, purge);
        assert!(
            matches!(restored.status, 200 | 404 | 409),
            "trial {trials}: restore answered {} {}",
            restored.status,
            restored.json
        );
        assert!(
            matches!(purged.status, 200 | 409),
            "trial {trials}: purge answered {} {}",
            purged.status,
            purged.json
        );
        let now = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await;
        let left = objects(&s, &format!("files/{org}/{id}/")).await;
        let used = usage(&s, &org).await;
        if now.status == 200 {
            // Restored and not purged (purge lost with 409): whole.
            assert_eq!(purged.status, 409, "trial {trials}: purged yet there");
            assert_eq!(essence(&now.json), essence(&file), "trial {trials}");
            assert_eq!(left.len(), 2, "trial {trials}");
            assert_eq!(
                (used["files"].as_u64(), used["bytes"].as_u64()),
                (Some(1), Some(19))
            );
        } else {
            // Gone: nothing in the trash, no bytes, no usage.
            assert_eq!(now.status, 404, "trial {trials}");
            assert!(left.is_empty(), "trial {trials}: objects left {left:?}");
            assert!(trash_ids(&s, &org, 10).await.is_empty(), "trial {trials}");
            assert_eq!(
                used,
                json!({"files": 0, "versions": 0, "bytes": 0, "trashed_files": 0,
                       "trashed_bytes": 0, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0}),
                "trial {trials}"
            );
        }
        *outcomes
            .entry((restored.status, purged.status, now.status))
            .or_insert(0) += 1;
    }
    assert!(trials >= 5, "only {trials} trials ran in the time budget");
    eprintln!("restore/purge outcomes (restore, purge, after): {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_trash_is_the_organisations_own_and_bad_input_answers_4xx_json() {
    let s = stack().await;
    let (org, other) = (new_org(), new_org());
    let id = id_of(&s.new_file(&org, "mine.txt", "text/plain", b"mine").await);
    // Another organisation can neither trash, restore, purge nor see it.
    for (method, path) in [
        (Method::DELETE, format!("/v2/files/{id}")),
        (Method::DELETE, format!("/v2/files/{id}?purge=true")),
    ] {
        assert_eq!(status(&s, &other, method, &path).await, 404);
    }
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert!(trash_ids(&s, &other, 10).await.is_empty());
    assert_eq!(
        get(&s, &other, "/v2/files:count?trashed=true").await["count"],
        0
    );
    assert_eq!(usage(&s, &other).await["trashed_files"], 0);
    for (method, path) in [
        (Method::POST, format!("/v2/files/{id}/restore")),
        (Method::DELETE, format!("/v2/files/{id}?purge=true")),
    ] {
        let answer = s.call(&other, method, &path, None).await;
        assert_eq!(answer.expect_error(404), "not_found");
    }
    assert_eq!(trash_ids(&s, &org, 10).await, std::slice::from_ref(&id));
    // Bad input: 400 with a JSON error, nothing changed.
    for (method, path) in [
        (Method::POST, "/v2/files/not-a-uuid/restore".to_owned()),
        (Method::GET, "/v2/files?trashed=maybe".to_owned()),
        (
            Method::GET,
            "/v2/files?trashed=true&sort=filename".to_owned(),
        ),
        (Method::GET, "/v2/files?trashed=true&tag=x".to_owned()),
        (Method::GET, "/v2/files?trashed=true&limit=0".to_owned()),
        (
            Method::GET,
            "/v2/files?trashed=true&cursor=nonsense".to_owned(),
        ),
        (Method::GET, "/v2/files:count?trashed=true&q=x".to_owned()),
        (Method::DELETE, format!("/v2/files/{id}?purge=perhaps")),
        (Method::DELETE, "/v2/files?tag=x&purge=2".to_owned()),
    ] {
        let answer = s.call(&org, method.clone(), &path, None).await;
        assert_eq!(answer.status, 400, "{method} {path}: {}", answer.json);
        answer.expect_error(400);
    }
    // A live list's cursor is no trash cursor, and the other way round.
    for i in 0..3 {
        s.new_file(&org, &format!("{i}.txt"), "text/plain", b"x")
            .await;
    }
    let live = get(&s, &org, "/v2/files?limit=1").await;
    let cursor = live["next_cursor"].as_str().unwrap();
    let crossed = s
        .call(
            &org,
            Method::GET,
            &format!("/v2/files?trashed=true&cursor={cursor}"),
            None,
        )
        .await;
    crossed.expect_error(400);
    assert_eq!(trash_ids(&s, &org, 10).await, [id]);
    // Without a token: 401.
    let anonymous = s
        .send(
            s.http
                .post(s.url(&format!("/v2/files/{}/restore", uuid::Uuid::new_v4()))),
        )
        .await;
    anonymous.expect_error(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn trashing_many_files_at_once_keeps_usage_exact() {
    let s = stack().await;
    let org = new_org();
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(id_of(
            &s.new_file(&org, &format!("{i}.txt"), "text/plain", &vec![b'x'; 10 + i])
                .await,
        ));
    }
    let total: u64 = (0..12).map(|i| 10 + i as u64).sum();
    let answers = join_all(ids.iter().map(|id| {
        let (s, org) = (&s, &org);
        async move {
            s.call(org, Method::DELETE, &format!("/v2/files/{id}"), None)
                .await
                .status
        }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let used = usage(&s, &org).await;
    assert_eq!(
        used,
        json!({"files": 0, "versions": 0, "bytes": 0, "trashed_files": 12,
               "trashed_bytes": total, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0})
    );
    let answers = join_all(ids.iter().map(|id| {
        let (s, org) = (&s, &org);
        async move {
            s.call(org, Method::POST, &format!("/v2/files/{id}/restore"), None)
                .await
                .status
        }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(
        usage(&s, &org).await,
        json!({"files": 12, "versions": 12, "bytes": total, "trashed_files": 0,
               "trashed_bytes": 0, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0})
    );
}
