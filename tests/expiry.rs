//! Expiry of unsaved uploads: the S3-event function's handler with the events
//! from `events/`, against the emulator, and the promise seen over HTTP.

use aws_lambda_events::event::s3::S3Event;
use integration_tests::{clients, config, new_org, stack, stack_at};
use serde_json::json;
use shared::adapters::dynamodb::DynamoUploads;
use shared::domain::{UploadState, UNSAVED_UPLOAD_LIFETIME_MS};
use shared::expiry::handle_s3_event;
use shared::ports::UploadRecords;
use shared::time::{rfc3339, Clock};

const SAMPLE_KEY: &str = "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf";
const SAMPLE_KEY_2: &str = "temp/123/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/second+file.pdf";

fn repo() -> DynamoUploads {
    DynamoUploads::new(clients().dynamodb, config().table)
}

/// An event from `events/` with its sample key (and optionally its time) replaced.
fn event(name: &str, replacements: &[(&str, &str)]) -> S3Event {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not an S3 event: {e}"))
}

fn fresh_key(org: &str, name: &str) -> String {
    format!("temp/{org}/{}/{name}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn created_expired_duplicate_and_batch_events_keep_the_table_in_step() {
    let repo = repo();
    let org = new_org();
    let key = fresh_key(&org, "example.pdf");
    let created = event("s3-object-created.json", &[(SAMPLE_KEY, &key)]);

    let answer = handle_s3_event(&repo, created.clone()).await.unwrap();
    assert_eq!(answer.applied, 1);
    let record = repo
        .get_upload(&key)
        .await
        .unwrap()
        .expect("a record of the upload");
    assert_eq!(record.state, UploadState::Present);
    assert_eq!(record.org, org);
    assert_eq!(rfc3339(record.created_at_ms), "2026-11-23T10:00:00.000Z");
    assert_eq!(
        record.expires_at_ms,
        record.created_at_ms + UNSAVED_UPLOAD_LIFETIME_MS
    );

    let duplicate = handle_s3_event(&repo, created.clone()).await.unwrap();
    assert_eq!((duplicate.applied, duplicate.stale), (0, 1));

    handle_s3_event(
        &repo,
        event("s3-lifecycle-expiration.json", &[(SAMPLE_KEY, &key)]),
    )
    .await
    .unwrap();
    assert_eq!(
        repo.get_upload(&key).await.unwrap().unwrap().state,
        UploadState::Removed
    );
    // The created event delivered again, after the expiration: no resurrection.
    handle_s3_event(&repo, created).await.unwrap();
    assert_eq!(
        repo.get_upload(&key).await.unwrap().unwrap().state,
        UploadState::Removed
    );

    let key2 = fresh_key(&org, "second+file.pdf");
    let batch = event(
        "s3-batch.json",
        &[(SAMPLE_KEY, &key), (SAMPLE_KEY_2, &key2)],
    );
    let answer = handle_s3_event(&repo, batch).await.unwrap();
    assert_eq!(answer.ignored, 1, "the files/ key is not an upload");
    let decoded = key2.replace('+', " ");
    assert_eq!(
        repo.get_upload(&decoded).await.unwrap().unwrap().state,
        UploadState::Present,
        "URL-decoded key"
    );
}

#[tokio::test]
async fn a_table_failure_fails_the_invocation_so_lambda_retries() {
    let dead =
        shared::aws::AwsClients::new(shared::aws::AwsSettings::emulator("http://127.0.0.1:9"));
    let repo = DynamoUploads::new(dead.dynamodb, "table");
    let err = handle_s3_event(&repo, event("s3-object-created.json", &[]))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn an_upload_whose_record_says_expired_cannot_be_saved_though_the_object_is_there() {
    let s = stack().await;
    let org = new_org();
    let s3ref = s
        .upload(&org, "old.pdf", "application/pdf", b"old bytes")
        .await;
    let key = s3ref["key"].as_str().unwrap();
    let long_ago = rfc3339(Clock::system().now_millis() - UNSAVED_UPLOAD_LIFETIME_MS - 60_000);
    let created = event(
        "s3-object-created.json",
        &[(SAMPLE_KEY, key), ("2026-11-23T10:00:00.000Z", &long_ago)],
    );
    handle_s3_event(&repo(), created).await.unwrap();

    let refused = s.save(&org, json!({"s3ref": s3ref})).await;
    assert_eq!(refused.expect_error(410), "upload_expired");
    use shared::ports::ObjectStore;
    assert!(
        s.service.store().head(key).await.unwrap().is_some(),
        "the object is still there"
    );
    assert!(
        s.service
            .store()
            .list(&format!("files/{org}/"))
            .await
            .unwrap()
            .is_empty(),
        "nothing saved"
    );
}

#[tokio::test]
async fn an_upload_past_24_hours_is_refused_and_a_fresh_one_is_saved() {
    let fresh = stack().await;
    let org = new_org();
    let now = Clock::system().now_millis();
    let tomorrow = stack_at(
        config(),
        Clock::manual(now + UNSAVED_UPLOAD_LIFETIME_MS + 60_000),
    )
    .await;

    let s3ref = fresh.upload(&org, "a.txt", "text/plain", b"a").await;
    let answer = tomorrow.save(&org, json!({"s3ref": s3ref})).await;
    assert_eq!(
        answer.expect_error(410),
        "upload_expired",
        "S3's own creation time keeps the promise"
    );

    let just_under = stack_at(
        config(),
        Clock::manual(now + UNSAVED_UPLOAD_LIFETIME_MS - 60_000),
    )
    .await;
    just_under
        .save(&org, json!({"s3ref": s3ref}))
        .await
        .expect(201);

    // A fresh upload with its created event saves, and the save clears the record.
    let s3ref = fresh.upload(&org, "b.txt", "text/plain", b"b").await;
    let key = s3ref["key"].as_str().unwrap();
    let created = event(
        "s3-object-created.json",
        &[
            (SAMPLE_KEY, key),
            ("2026-11-23T10:00:00.000Z", &rfc3339(now)),
        ],
    );
    handle_s3_event(&repo(), created).await.unwrap();
    assert!(repo().get_upload(key).await.unwrap().is_some());
    fresh.save(&org, json!({"s3ref": s3ref})).await.expect(201);
    assert_eq!(
        repo().get_upload(key).await.unwrap(),
        None,
        "saved uploads are no longer pending"
    );
}

#[tokio::test]
async fn uploads_say_how_long_they_live() {
    let s = stack().await;
    let org = new_org();
    let answer = s
        .call(
            &org,
            reqwest::Method::POST,
            "/v2/files/upload",
            Some(json!({"filename": "x.txt"})),
        )
        .await
        .expect(201);
    assert_eq!(answer["upload_url_expires_in"], 900);
    assert_eq!(answer["unsaved_upload_expires_in"], 86_400);
}
