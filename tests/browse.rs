//! Browse and manage over HTTP against the local stack (DynamoDB's indexes on moto):
//! paging in every order, filters and counts, cursors, bulk deletes, usage, quotas and
//! the metadata each version carries.

use std::collections::HashSet;
use std::time::Duration;

use integration_tests::source::SourceServer;
use integration_tests::{config, new_org, stack, stack_at, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::time::Clock;

const NAMES: [(&str, &str); 6] = [
    ("Rechnung 2026.pdf", "application/pdf"),
    ("rechnung 2025.PDF", "application/pdf"),
    ("Übersicht.xlsx", "application/vnd.ms-excel"),
    ("photo.jpg", "image/jpeg"),
    ("a b.png", "image/png"),
    ("Zebra.txt", "text/plain"),
];

/// File `i` of a varied set: names, types, sizes, tags, relations and access differ.
async fn varied_file(stack: &Stack, org: &str, i: usize) -> Value {
    let (name, mime) = NAMES[i % NAMES.len()];
    let body = vec![b'x'; 10 + (i * 37) % 300];
    let s3ref = stack.upload(org, name, mime, &body).await;
    let mut save = json!({ "s3ref": s3ref, "filename": name });
    if i.is_multiple_of(3) {
        save["_tags"] = json!(["invoice", format!("batch-{}", i % 2)]);
    }
    if i % 4 == 1 {
        save["relations"] =
            json!([{ "entity_id": format!("order-{}", i % 2), "_schema": "order" }]);
    }
    if i.is_multiple_of(5) {
        save["access_control"] = json!("public-read");
    }
    stack.save(org, save).await.expect(201)
}

async fn varied_files(stack: &Stack, org: &str, n: usize) -> Vec<Value> {
    let mut files = Vec::new();
    for i in 0..n {
        files.push(varied_file(stack, org, i).await);
    }
    files
}

async fn get(stack: &Stack, org: &str, path: &str) -> Value {
    stack.call(org, Method::GET, path, None).await.expect(200)
}

/// Every page of `/v2/files?<query>`, `limit` at a time.
async fn all_pages(stack: &Stack, org: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0.. {
        assert!(round < 100, "the listing ends");
        let mut path = format!("/v2/files?limit={limit}&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get(stack, org, &path).await;
        let results = page["results"].as_array().unwrap();
        assert!(results.len() <= limit);
        seen.extend(results.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(!results.is_empty(), "only the last page is empty");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page["next_cursor"].is_null(), "null at the end");
                break;
            }
        }
    }
    seen
}

fn id_of(file: &Value) -> String {
    file["_id"].as_str().unwrap().to_owned()
}

/// What `/v2/usage` answers an organisation without a quota.
fn usage_without_quota(files: u64, versions: u64, bytes: u64) -> Value {
    json!({
        "files": files, "versions": versions, "bytes": bytes,
        "trashed_files": 0, "trashed_bytes": 0, "quota_bytes": null, "infected_files": 0, "infected_bytes": 0
    })
}

fn ids(files: &[Value]) -> Vec<String> {
    files.iter().map(id_of).collect()
}

/// The value a sort orders by, as the client sees it.
fn sort_value(file: &Value, sort: &str) -> String {
    match sort {
        "created_at" => file["_created_at"].as_str().unwrap().to_owned(),
        "updated_at" => file["_updated_at"].as_str().unwrap().to_owned(),
        "filename" => file["filename"].as_str().unwrap().to_lowercase(),
        "size_bytes" => format!("{:020}", file["size_bytes"].as_u64().unwrap()),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn every_sort_pages_through_35_files_without_duplicates_or_gaps() {
    let stack = stack().await;
    let org = new_org();
    let files = varied_files(&stack, &org, 35).await;
    // Another organisation's file is never listed.
    varied_file(&stack, &new_org(), 0).await;
    let all: HashSet<String> = ids(&files).into_iter().collect();
    for sort in ["created_at", "updated_at", "filename", "size_bytes"] {
        for order in ["desc", "asc"] {
            let seen = all_pages(&stack, &org, &format!("sort={sort}&order={order}"), 6).await;
            let seen_ids = ids(&seen);
            assert_eq!(seen_ids.len(), 35, "{sort} {order}: no gaps or repeats");
            assert_eq!(seen_ids.iter().cloned().collect::<HashSet<_>>(), all);
            let values: Vec<(String, String)> = seen
                .iter()
                .map(|f| (sort_value(f, sort), id_of(f)))
                .collect();
            let mut sorted = values.clone();
            sorted.sort();
            if order == "desc" {
                sorted.reverse();
            }
            assert_eq!(values, sorted, "{sort} {order}: in order, ties by id");
        }
    }
    // The default: newest first, 50 a page.
    let page = get(&stack, &org, "/v2/files").await;
    assert_eq!(page["results"].as_array().unwrap().len(), 35);
    assert!(page["next_cursor"].is_null());
    assert_eq!(page["results"][0]["_id"], files[34]["_id"]);
}

#[tokio::test]
async fn a_listing_is_stable_while_files_are_added() {
    let stack = stack().await;
    let org = new_org();
    let files = varied_files(&stack, &org, 12).await;
    let first = get(&stack, &org, "/v2/files?limit=5&sort=created_at&order=asc").await;
    let mut seen = ids(first["results"].as_array().unwrap());
    // Files added meanwhile come after the cursor, or before it: never twice, none lost.
    varied_files(&stack, &org, 3).await;
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = get(
            &stack,
            &org,
            &format!("/v2/files?limit=5&sort=created_at&order=asc&cursor={cursor}"),
        )
        .await;
        seen.extend(ids(page["results"].as_array().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 15);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 15);
    assert_eq!(seen[..12], ids(&files)[..]);
}

#[tokio::test]
async fn filters_and_combinations_list_and_count_the_same_files() {
    type Admits<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let stack = stack().await;
    let org = new_org();
    let files = varied_files(&stack, &org, 30).await;
    let created: Vec<&str> = files
        .iter()
        .map(|f| f["_created_at"].as_str().unwrap())
        .collect();
    let (from, to) = (created[5], created[20]);
    let cases: Vec<(String, Admits)> = vec![
        (
            "q=RECHNUNG".into(),
            Box::new(|f: &Value| {
                f["filename"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("rechnung")
            }),
        ),
        (
            "q=%C3%BCbersicht".into(),
            Box::new(|f: &Value| f["filename"] == "Übersicht.xlsx"),
        ),
        (
            "type=image".into(),
            Box::new(|f: &Value| f["type"] == "image"),
        ),
        (
            "mime_type=application/pdf".into(),
            Box::new(|f: &Value| f["mime_type"] == "application/pdf"),
        ),
        (
            "mime_type=image/*".into(),
            Box::new(|f: &Value| f["mime_type"].as_str().unwrap().starts_with("image/")),
        ),
        (
            "tag=invoice".into(),
            Box::new(|f: &Value| {
                f["_tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("invoice")))
            }),
        ),
        (
            "access_control=public-read".into(),
            Box::new(|f: &Value| f["access_control"] == "public-read"),
        ),
        (
            "related_to=order-1".into(),
            Box::new(|f: &Value| f["relations"][0]["entity_id"] == "order-1"),
        ),
        (
            "size_min=100&size_max=200".into(),
            Box::new(|f: &Value| (100..=200).contains(&f["size_bytes"].as_u64().unwrap())),
        ),
        (
            format!("created_from={from}&created_to={to}"),
            Box::new(move |f: &Value| {
                let at = f["_created_at"].as_str().unwrap();
                at >= from && at < to
            }) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "tag=invoice&mime_type=application/pdf&size_min=50".into(),
            Box::new(|f: &Value| {
                f["_tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("invoice")))
                    && f["mime_type"] == "application/pdf"
                    && f["size_bytes"].as_u64().unwrap() >= 50
            }),
        ),
        (
            "type=image&access_control=private&related_to=order-1".into(),
            Box::new(|f: &Value| {
                f["type"] == "image"
                    && f["access_control"] == "private"
                    && f["relations"][0]["entity_id"] == "order-1"
            }),
        ),
    ];
    for (query, admits) in &cases {
        let query = query.replace(':', "%3A").replace('+', "%2B");
        let expected: HashSet<String> = files.iter().filter(|f| admits(f)).map(id_of).collect();
        assert!(!expected.is_empty(), "{query} admits some");
        for sort in ["created_at", "size_bytes"] {
            let listed = all_pages(&stack, &org, &format!("{query}&sort={sort}"), 4).await;
            let listed: HashSet<String> = ids(&listed).into_iter().collect();
            assert_eq!(listed, expected, "{query} by {sort}");
        }
        let count = get(&stack, &org, &format!("/v2/files:count?{query}")).await;
        assert_eq!(count["count"], expected.len(), "{query}: count = listing");
    }
    let count = get(&stack, &org, "/v2/files:count").await;
    assert_eq!(count, json!({ "count": 30 }));
}

#[tokio::test]
async fn changed_foreign_and_stale_cursors_are_refused() {
    let stack = stack().await;
    let org = new_org();
    varied_files(&stack, &org, 4).await;
    let page = get(&stack, &org, "/v2/files?limit=2&sort=filename").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let ok = format!("/v2/files?limit=2&sort=filename&cursor={cursor}");
    get(&stack, &org, &ok).await;
    let mut changed = cursor.clone().into_bytes();
    let last = changed.len() - 3;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    for (who, path) in [
        (
            org.clone(),
            format!("/v2/files?limit=2&sort=filename&cursor={changed}"),
        ),
        (
            org.clone(),
            format!("/v2/files?limit=2&sort=size_bytes&cursor={cursor}"),
        ),
        (
            org.clone(),
            format!("/v2/files?limit=2&sort=filename&order=asc&cursor={cursor}"),
        ),
        (
            org.clone(),
            format!("/v2/files?limit=2&sort=filename&q=a&cursor={cursor}"),
        ),
        (new_org(), ok.clone()),
        (org.clone(), "/v2/files?cursor=not-a-cursor".into()),
    ] {
        let code = stack
            .call(&who, Method::GET, &path, None)
            .await
            .expect_error(400);
        assert_eq!(code, "invalid_cursor", "{path}");
    }
    // The page size may change along the way; it is not part of the query.
    get(
        &stack,
        &org,
        &format!("/v2/files?limit=3&sort=filename&cursor={cursor}"),
    )
    .await;
}

#[tokio::test]
async fn bad_parameters_answer_400_with_json() {
    let stack = stack().await;
    let org = new_org();
    for path in [
        "/v2/files?limit=0",
        "/v2/files?limit=1001",
        "/v2/files?sort=name",
        "/v2/files?order=sideways",
        "/v2/files?size_min=big",
        "/v2/files?created_from=yesterday",
        "/v2/files?colour=blue",
        "/v2/files:count?limit=5",
        "/v2/files?mime_type=nonsense",
        "/v2/files?access_control=secret",
    ] {
        let answer = stack.call(&org, Method::GET, path, None).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.json);
        assert!(answer.json["error"].is_string());
    }
    for path in [
        "/v2/files",
        "/v2/files?all=false",
        "/v2/files?all=true&tag=x",
    ] {
        let code = stack
            .call(&org, Method::DELETE, path, None)
            .await
            .expect_error(400);
        assert_eq!(code, "invalid_query", "{path}");
    }
    let unauthenticated = stack.send(stack.http.get(stack.url("/v2/files"))).await;
    assert_eq!(unauthenticated.status, 401);
}

async fn usage(stack: &Stack, org: &str) -> Value {
    get(stack, org, "/v2/usage").await
}

/// What an organisation sees: its files' ids in every order, the plain and a filtered
/// count, and its usage. Asserts the orders and counts agree.
async fn visible(stack: &Stack, org: &str) -> (HashSet<String>, Value) {
    let mut listed: Option<HashSet<String>> = None;
    for sort in ["created_at", "updated_at", "filename", "size_bytes"] {
        let ids: HashSet<String> = ids(&all_pages(stack, org, &format!("sort={sort}"), 2).await)
            .into_iter()
            .collect();
        if let Some(first) = &listed {
            assert_eq!(&ids, first, "{sort} lists what created_at lists");
        }
        listed = Some(ids);
    }
    let listed = listed.unwrap();
    for query in ["", "?q=.txt", "?size_min=0"] {
        let count = get(stack, org, &format!("/v2/files:count{query}")).await;
        assert_eq!(count["count"], listed.len(), "count{query} = listing");
    }
    (listed, usage(stack, org).await)
}

#[tokio::test]
async fn pending_failed_deleted_and_ended_files_are_in_no_list_count_or_usage() {
    let clock = Clock::manual(Clock::system().now_millis());
    let mut config = config();
    config.ingest_wait = Duration::from_millis(300);
    let (stack, source) = (
        stack_at(config, clock.clone()).await,
        SourceServer::start().await,
    );
    let org = new_org();
    let kept = stack
        .new_file(&org, "kept.txt", "text/plain", &[1; 40])
        .await;
    let s3ref = stack
        .upload(&org, "brief.txt", "text/plain", &[2; 30])
        .await;
    let ending = stack
        .save(&org, json!({ "s3ref": s3ref, "ttl_seconds": 60 }))
        .await
        .expect(201);
    let gone = stack
        .new_file(&org, "gone.txt", "text/plain", &[3; 20])
        .await;
    stack
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{}?purge=true", id_of(&gone)),
            None,
        )
        .await
        .expect(200);
    let fetching = stack
        .save(
            &org,
            json!({ "source_url": source.url("/slow/5000"), "filename": "slow.txt" }),
        )
        .await
        .expect(202);
    let failing = stack
        .save(
            &org,
            json!({ "source_url": source.url("/slow-fail/1500"), "filename": "bad.txt" }),
        )
        .await
        .expect(202);

    // Both fetches pending: only the two files with bytes show.
    let (listed, used) = visible(&stack, &org).await;
    assert_eq!(
        listed,
        HashSet::from([id_of(&kept), id_of(&ending)]),
        "pending"
    );
    assert_eq!(used, usage_without_quota(2, 2, 70));

    // One fetch failed, the other landed its 64 KiB.
    assert_eq!(
        stack.until_settled(&org, &id_of(&failing)).await["status"],
        "failed"
    );
    assert_eq!(
        stack.until_settled(&org, &id_of(&fetching)).await["status"],
        "ready"
    );
    let (listed, used) = visible(&stack, &org).await;
    assert_eq!(
        listed,
        HashSet::from([id_of(&kept), id_of(&ending), id_of(&fetching)]),
        "failed"
    );
    assert_eq!(used, usage_without_quota(3, 3, 70 + 64 * 1024));

    // The file with an end has ended.
    clock.advance_millis(60_001);
    let (listed, used) = visible(&stack, &org).await;
    assert_eq!(
        listed,
        HashSet::from([id_of(&kept), id_of(&fetching)]),
        "ended"
    );
    assert_eq!(used, usage_without_quota(2, 2, 40 + 64 * 1024));
}

#[tokio::test]
async fn bulk_delete_by_filter_leaves_other_files_and_organisations_alone() {
    let stack = stack().await;
    let (org, other) = (new_org(), new_org());
    let files = varied_files(&stack, &org, 12).await;
    let theirs = varied_files(&stack, &other, 6).await;
    let before_theirs = usage(&stack, &other).await;
    let tagged: Vec<&Value> = files.iter().filter(|f| f["_tags"].is_array()).collect();
    let answer = stack
        .call(
            &org,
            Method::DELETE,
            "/v2/files?tag=invoice&purge=true",
            None,
        )
        .await
        .expect(200);
    assert_eq!(answer, json!({ "deleted": tagged.len(), "more": false }));
    for file in &files {
        let id = file["_id"].as_str().unwrap();
        let status = stack
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .status;
        let gone = file["_tags"].is_array();
        assert_eq!(status, if gone { 404 } else { 200 }, "{id}");
    }
    // Their bytes went with them, as deleteFile removes them.
    let store = integration_tests::service();
    for file in &tagged {
        let key = file["s3ref"]["key"].as_str().unwrap();
        assert!(shared::ports::ObjectStore::head(store.store(), key)
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(usage(&stack, &other).await, before_theirs);
    assert_eq!(all_pages(&stack, &other, "", 50).await.len(), theirs.len());
    let left = stack
        .call(&org, Method::DELETE, "/v2/files?all=true&purge=true", None)
        .await
        .expect(200);
    assert_eq!(left, json!({ "deleted": 12 - tagged.len(), "more": false }));
    assert_eq!(usage(&stack, &org).await, usage_without_quota(0, 0, 0));
}

#[tokio::test]
async fn usage_is_exact_after_saves_versions_deletes_and_bulk_deletes() {
    let stack = stack().await;
    let org = new_org();
    assert_eq!(usage(&stack, &org).await, usage_without_quota(0, 0, 0));
    let a = stack.new_file(&org, "a.txt", "text/plain", &[1; 100]).await;
    let b = stack.new_file(&org, "b.txt", "text/plain", &[2; 50]).await;
    assert_eq!(usage(&stack, &org).await, usage_without_quota(2, 2, 150));
    let s3ref = stack.upload(&org, "a.txt", "text/plain", &[3; 25]).await;
    stack
        .save(&org, json!({ "_id": a["_id"], "s3ref": s3ref }))
        .await
        .expect(201);
    assert_eq!(usage(&stack, &org).await, usage_without_quota(2, 3, 175));
    // Metadata changes, external files and files with an end.
    stack
        .save(
            &org,
            json!({ "_id": b["_id"], "access_control": "public-read" }),
        )
        .await
        .expect(201);
    stack
        .save(
            &org,
            json!({ "custom_download_url": "https://example.com/x.pdf", "filename": "x.pdf" }),
        )
        .await
        .expect(201);
    let s3ref = stack.upload(&org, "t.txt", "text/plain", &[4; 10]).await;
    let ending = stack
        .save(&org, json!({ "s3ref": s3ref, "ttl_seconds": 3600 }))
        .await
        .expect(201);
    assert_eq!(usage(&stack, &org).await, usage_without_quota(4, 4, 185));
    stack
        .save(&org, json!({ "_id": b["_id"], "ttl_seconds": 3600 }))
        .await
        .expect(201);
    assert_eq!(
        usage(&stack, &org).await,
        usage_without_quota(4, 4, 185),
        "an end moves no bytes"
    );
    let id = a["_id"].as_str().unwrap();
    stack
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}?purge=true"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(usage(&stack, &org).await, usage_without_quota(3, 2, 60));
    let id = ending["_id"].as_str().unwrap();
    stack
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}?purge=true"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(usage(&stack, &org).await, usage_without_quota(2, 1, 50));
    stack
        .call(&org, Method::DELETE, "/v2/files?type=text&purge=true", None)
        .await
        .expect(200);
    assert_eq!(
        usage(&stack, &org).await,
        usage_without_quota(1, 0, 0),
        "the external file stays"
    );
    let count = get(&stack, &org, "/v2/files:count").await;
    assert_eq!(count["count"], 1);
}

#[tokio::test]
async fn a_quota_refuses_uploads_and_saves_past_it_exactly_under_races() {
    let org = new_org();
    let mut config = config();
    config.quotas.by_org.insert(org.clone(), 100);
    let stack = stack_with(config).await;
    // Declared too large: refused before any byte moves.
    let code = stack
        .call(
            &org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({ "filename": "big.bin", "size_bytes": 101 })),
        )
        .await
        .expect_error(413);
    assert_eq!(code, "quota_exceeded");
    let first = stack
        .new_file(&org, "a.bin", "application/octet-stream", &[1; 60])
        .await;
    let s3ref = stack
        .upload(&org, "b.bin", "application/octet-stream", &[2; 50])
        .await;
    let code = stack
        .save(&org, json!({ "s3ref": s3ref }))
        .await
        .expect_error(413);
    assert_eq!(code, "quota_exceeded");
    let code = stack
        .save(&org, json!({ "_id": first["_id"], "s3ref": s3ref }))
        .await
        .expect_error(413);
    assert_eq!(code, "quota_exceeded", "a new version counts too");
    assert_eq!(usage(&stack, &org).await["bytes"], 60);
    assert_eq!(usage(&stack, &org).await["quota_bytes"], 100);
    // Room made, the same upload saves: a refusal kept it.
    let id = first["_id"].as_str().unwrap();
    stack
        .call(
            &org,
            Method::DELETE,
            &format!("/v2/files/{id}?purge=true"),
            None,
        )
        .await
        .expect(200);
    stack
        .save(&org, json!({ "s3ref": s3ref }))
        .await
        .expect(201);
    stack
        .call(&org, Method::DELETE, "/v2/files?all=true&purge=true", None)
        .await
        .expect(200);

    // Many saves at once at the edge: exactly as many land as fit, every trial.
    for trial in 0..4 {
        let mut refs = Vec::new();
        for i in 0..8 {
            refs.push(
                stack
                    .upload(
                        &org,
                        &format!("r{trial}-{i}.bin"),
                        "application/octet-stream",
                        &[3; 30],
                    )
                    .await,
            );
        }
        let saves = refs.iter().map(|r| stack.save(&org, json!({ "s3ref": r })));
        let answers = futures::future::join_all(saves).await;
        let landed = answers.iter().filter(|a| a.status == 201).count();
        let refused = answers
            .iter()
            .filter(|a| a.status == 413 && a.json["error"] == "quota_exceeded")
            .count();
        assert_eq!((landed, refused), (3, 5), "trial {trial}: {answers:?}");
        assert_eq!(usage(&stack, &org).await["bytes"], 90);
        stack
            .call(&org, Method::DELETE, "/v2/files?all=true&purge=true", None)
            .await
            .expect(200);
    }
    // Other organisations have no quota.
    let other = new_org();
    stack
        .new_file(&other, "c.bin", "application/octet-stream", &[5; 200])
        .await;
    assert_eq!(usage(&stack, &other).await["quota_bytes"], Value::Null);
}

#[tokio::test]
async fn a_quota_holds_for_multipart_and_direct_uploads_and_fetches_from_a_url() {
    let org = new_org();
    let mut config = config();
    config.quotas.by_org.insert(org.clone(), 100);
    config.ingest_wait = Duration::from_millis(300);
    let (stack, source) = (stack_with(config).await, SourceServer::start().await);
    let refused = |answer: integration_tests::Answer, what: &str| {
        assert_eq!(answer.expect_error(413), "quota_exceeded", "{what}");
    };
    let start = json!({ "filename": "big.bin", "size_bytes": 101 });
    refused(
        stack
            .call(&org, Method::POST, "/v2/files/uploads", Some(start))
            .await,
        "a multipart upload declared past the quota",
    );
    let direct = stack
        .http
        .post(stack.url("/v2/files?filename=big.bin"))
        .bearer_auth(stack.token(&org))
        .header("content-type", "application/octet-stream")
        .body(vec![7; 101]);
    refused(stack.send(direct).await, "a direct upload past the quota");
    // A fetch's size is known only once fetched: past the quota within the wait, it is
    // refused as the others are, and leaves no file.
    let fetch = json!({ "source_url": source.url("/bytes/200"), "filename": "big.bin" });
    refused(
        stack.save(&org, fetch).await,
        "a fetch that turns out too large",
    );
    assert_eq!(get(&stack, &org, "/v2/files:count").await["count"], 0);
    // Past the wait, the file says why it failed, and uses nothing.
    let slow = json!({ "source_url": source.url("/slow/1500"), "filename": "slow.bin" });
    let pending = stack.save(&org, slow).await.expect(202);
    let failed = stack
        .until_settled(&org, pending["_id"].as_str().unwrap())
        .await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["status_reason"].as_str().unwrap().contains("quota"),
        "{failed}"
    );
    // No room at all: a fetch does not start.
    stack
        .new_file(&org, "full.bin", "application/octet-stream", &[1; 100])
        .await;
    let fetch = json!({ "source_url": source.url("/bytes/1") });
    refused(stack.save(&org, fetch).await, "a fetch without room");
    assert_eq!(
        usage(&stack, &org).await,
        json!({
            "files": 1, "versions": 1, "bytes": 100,
            "trashed_files": 0, "trashed_bytes": 0, "quota_bytes": 100, "infected_files": 0, "infected_bytes": 0
        })
    );
}

#[tokio::test]
async fn each_version_says_when_by_whom_with_which_checksums_and_metadata() {
    let stack = stack().await;
    let org = new_org();
    let upload = stack
        .call(
            &org,
            Method::POST,
            "/v2/files/upload",
            Some(json!({
                "filename": "hello.txt",
                "mime_type": "text/plain",
                "metadata": { "project": "Übersicht 5% \"Q3\"", "source": "scanner-7" }
            })),
        )
        .await
        .expect(201);
    stack
        .put_bytes(
            upload["upload_url"].as_str().unwrap(),
            "text/plain",
            b"hello world",
        )
        .await;
    let file = stack
        .save(
            &org,
            json!({ "s3ref": upload["s3ref"], "_tags": ["greeting"] }),
        )
        .await
        .expect(201);
    let version = &file["versions"][0];
    assert_eq!(version["md5"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(
        version["checksum_sha256"],
        "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
    );
    assert_eq!(version["uploaded_by"], format!("dev-user@{org}"));
    assert!(version["uploaded_at"].as_str().unwrap() <= version["created_at"].as_str().unwrap());
    assert_eq!(
        version["metadata"],
        json!({ "project": "Übersicht 5% \"Q3\"", "source": "scanner-7" })
    );
    // S3 keeps it with the stored object too.
    let url = stack
        .download_url(&org, file["_id"].as_str().unwrap(), "")
        .await;
    let (status, headers, _) = stack.fetch(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-amz-meta-source"], "scanner-7");
    // Bad metadata is refused before anything is signed.
    for metadata in [
        json!({ "Upper": "x" }),
        json!({ "sha256": "x" }),
        json!({ "n": 1 }),
        json!({ "big": "x".repeat(2000) }),
        json!(["x"]),
    ] {
        let code = stack
            .call(
                &org,
                Method::POST,
                "/v2/files/upload",
                Some(json!({ "filename": "a.txt", "metadata": metadata })),
            )
            .await
            .expect_error(400);
        assert_eq!(code, "invalid_metadata");
    }
    // Relations must have the shape epilot gives them.
    let code = stack
        .save(
            &org,
            json!({ "_id": file["_id"], "relations": [{ "nope": 1 }] }),
        )
        .await
        .expect_error(400);
    assert_eq!(code, "invalid_attribute");
}
