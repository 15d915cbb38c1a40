//! The S3-event function's logic: keep the table's records of unsaved uploads
//! in step with what S3 created, deleted and expired under `temp/`.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use serde::Serialize;

use crate::domain::{
    padded_sequencer, PendingUpload, TempKey, UploadState, UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, Result};
use crate::ports::UploadRecords;

/// What one record of an event means for the table.
fn pending_upload(record: &S3EventRecord) -> Option<PendingUpload> {
    let raw_key = record.s3.object.key.as_deref()?;
    // Keys in S3 events are URL-encoded, with '+' for spaces.
    let key: String = form_urlencoded::parse(format!("k={raw_key}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let temp = TempKey::parse(&key)?;
    let event = record.event_name.as_deref()?;
    let state = if event.starts_with("ObjectCreated:") {
        UploadState::Present
    } else if event.starts_with("ObjectRemoved:") || event.starts_with("LifecycleExpiration:") {
        UploadState::Removed
    } else {
        return None;
    };
    let created_at_ms = record.event_time.timestamp_millis();
    Some(PendingUpload {
        org: temp.org.to_owned(),
        key,
        state,
        created_at_ms,
        expires_at_ms: created_at_ms + UNSAVED_UPLOAD_LIFETIME_MS,
        sequencer: padded_sequencer(record.s3.object.sequencer.as_deref().unwrap_or_default()),
    })
}

/// What an invocation did with its records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventReport {
    /// Records stored.
    pub applied: usize,
    /// Records older than what the table already holds.
    pub stale: usize,
    /// Records of other keys or events.
    pub ignored: usize,
    /// Records that failed in a way a retry cannot mend (logged, then dropped).
    pub failed: usize,
}

/// Applies every record of the event. A retryable failure (the table was unavailable)
/// fails the whole invocation, so Lambda retries it (applying a record twice does no
/// harm) and, after its retries, sends it to the dead-letter queue; a failure no retry
/// can mend is logged and counted, so it does not block the records after it.
pub async fn handle_s3_event<U: UploadRecords>(uploads: &U, event: S3Event) -> Result<EventReport> {
    let mut report = EventReport::default();
    let mut retry: Option<Error> = None;
    for record in &event.records {
        let Some(upload) = pending_upload(record) else {
            report.ignored += 1;
            continue;
        };
        match uploads.put_upload(&upload).await {
            Ok(true) => report.applied += 1,
            Ok(false) => report.stale += 1,
            Err(e) if e.is_retryable() => {
                tracing::error!(error = %e, key = %upload.key, "upload record not stored; will retry");
                retry = Some(e.into());
            }
            Err(e) => {
                tracing::error!(error = %e, key = %upload.key, "upload record not stored");
                report.failed += 1;
            }
        }
    }
    if let Some(e) = retry {
        return Err(e);
    }
    tracing::info!(
        applied = report.applied,
        stale = report.stale,
        ignored = report.ignored,
        failed = report.failed,
        "S3 event applied"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryUploads;
    use serde_json::{json, Value};

    fn event(records: &[(&str, &str, &str, &str)]) -> S3Event {
        let records: Vec<Value> = records
            .iter()
            .map(|(name, key, time, sequencer)| {
                json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": time, "eventName": name,
                    "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {},
                    "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                           "bucket": {"name": "b", "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::b"},
                           "object": {"key": key, "size": 3, "eTag": "e", "sequencer": sequencer}}
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    const KEY: &str = "temp/org1/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/a+b%C3%BC.pdf";
    const DECODED: &str = "temp/org1/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/a bü.pdf";

    #[tokio::test]
    async fn created_then_removed_and_duplicates_and_late_events_do_no_harm() {
        let repo = MemoryUploads::default();
        let created = ("ObjectCreated:Put", KEY, "2026-11-23T10:00:00.000Z", "0A1");
        let removed = (
            "LifecycleExpiration:Delete",
            KEY,
            "2026-11-24T10:00:00.000Z",
            "0B2",
        );
        let answer = handle_s3_event(&repo, event(&[created, created]))
            .await
            .unwrap();
        assert_eq!((answer.applied, answer.stale), (1, 1));
        let record = repo
            .get_upload(DECODED)
            .await
            .unwrap()
            .expect("record under the decoded key");
        assert_eq!(record.state, UploadState::Present);
        assert_eq!(record.org, "org1");
        assert_eq!(
            record.expires_at_ms - record.created_at_ms,
            UNSAVED_UPLOAD_LIFETIME_MS
        );

        handle_s3_event(&repo, event(&[removed])).await.unwrap();
        // The created event again, late: it must not bring the record back.
        handle_s3_event(&repo, event(&[created])).await.unwrap();
        assert_eq!(
            repo.get_upload(DECODED).await.unwrap().unwrap().state,
            UploadState::Removed
        );
    }

    #[tokio::test]
    async fn keys_outside_temp_and_other_events_are_ignored() {
        let repo = MemoryUploads::default();
        let answer = handle_s3_event(
            &repo,
            event(&[
                (
                    "ObjectCreated:Put",
                    "files/org1/x/y/z.pdf",
                    "2026-11-23T10:00:00Z",
                    "01",
                ),
                (
                    "ObjectCreated:Put",
                    "temp/not-a-shape",
                    "2026-11-23T10:00:00Z",
                    "02",
                ),
                ("ObjectRestore:Completed", KEY, "2026-11-23T10:00:00Z", "03"),
            ]),
        )
        .await
        .unwrap();
        assert_eq!(answer.ignored, 3);
        assert_eq!(repo.get_upload(DECODED).await.unwrap(), None);
    }

    /// Upload records whose every write fails with `error`.
    struct Failing(crate::ports::StorageError);

    impl UploadRecords for Failing {
        async fn get_upload(&self, _key: &str) -> crate::ports::StoreResult<Option<PendingUpload>> {
            Err(self.0.clone())
        }
        async fn put_upload(&self, _upload: &PendingUpload) -> crate::ports::StoreResult<bool> {
            Err(self.0.clone())
        }
    }

    #[tokio::test]
    async fn lambda_retries_only_what_a_retry_can_mend() {
        let created = ("ObjectCreated:Put", KEY, "2026-11-23T10:00:00.000Z", "0A1");
        let outage = Failing(crate::ports::StorageError::unavailable(
            "PutItem",
            "throttled",
        ));
        let err = handle_s3_event(&outage, event(&[created]))
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "an outage fails the invocation: {err}");

        let broken = Failing(crate::ports::StorageError::internal(
            "PutItem request",
            "malformed",
        ));
        let report = handle_s3_event(&broken, event(&[created, created]))
            .await
            .expect("a failure no retry mends does not fail the invocation");
        assert_eq!((report.failed, report.applied), (2, 0));
    }
}
