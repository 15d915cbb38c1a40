//! The sweeper's logic: when DynamoDB's TTL removes a file whose `expires_at` passed,
//! or a trashed one whose `purge_at` did, the stream of that removal brings the item as
//! it was, and its objects go (every key under the file's prefix, so copies that never
//! became versions go too). Reads answer 404 from `expires_at` on, and restore from
//! `purge_at` on; this frees the bytes soon after (TTL acts within about two days), and
//! a trashed file's bytes leave the usage counter (where they count against the quota
//! until then).

use serde_json::Value;
use uuid::Uuid;

use crate::adapters::dynamodb::file_of_stream_image;
use crate::domain::{OrgId, FILES_PREFIX};
use crate::error::{Error, Result};
pub use crate::events::stream::{StreamData, StreamEvent, StreamRecord, UserIdentity};
use crate::expiry::EventReport;
use crate::ports::{FileRepository, ObjectStore};

/// The file a record's removal expired: only removals by DynamoDB's TTL (a delete by
/// the API removes its objects itself), only of file items.
fn expired_file(record: &StreamRecord) -> Option<(OrgId, Uuid, Vec<String>)> {
    if !record.removed_by_ttl() {
        return None;
    }
    let image = &record.dynamodb.old_image;
    let text = |name: &str| image.get(name)?.get("S")?.as_str();
    if text("kind") != Some("file") {
        return None;
    }
    let id = Uuid::parse_str(text("id")?).ok()?;
    let org = OrgId::parse(text("org")?).ok()?;
    let versions = image
        .get("versions")
        .and_then(|v| v.get("L"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.get("M")?.get("key")?.get("S")?.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some((org, id, versions))
}

/// Deletes the objects of every file the event's TTL removals expired (past its end,
/// or in the trash past its purge), and takes a trashed file out of the usage counter.
/// A storage fault fails the invocation, so Lambda retries the batch (deleting twice
/// does no harm, and the counter is settled once).
pub async fn sweep_expired<S: ObjectStore, F: FileRepository>(
    store: &S,
    files: &F,
    event: &StreamEvent,
) -> Result<EventReport> {
    sweep_expired_telling(store, files, event, None).await
}

/// [`sweep_expired`], each expiry told to `changes` once its bytes are gone.
pub async fn sweep_expired_telling<S: ObjectStore, F: FileRepository>(
    store: &S,
    files: &F,
    event: &StreamEvent,
    changes: Option<&dyn crate::service::ChangeListener>,
) -> Result<EventReport> {
    let mut report = EventReport::default();
    let mut retry: Option<Error> = None;
    for record in &event.records {
        let Some((org, id, mut keys)) = expired_file(record) else {
            report.ignored += 1;
            continue;
        };
        let prefix = format!("{FILES_PREFIX}{}/{id}/", org.as_str());
        let image = file_of_stream_image(&record.dynamodb.old_image);
        let purged = image
            .as_ref()
            .filter(|(file, deleting)| file.trash.is_some() && !deleting)
            .map(|(file, _)| file);
        let swept = async {
            for key in store.list(&prefix).await? {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            store.delete(&keys).await?;
            if let Some(file) = purged {
                files.settle_removed(file).await?;
            }
            Ok::<_, crate::ports::StorageError>(())
        };
        match swept.await {
            Ok(()) => {
                tracing::info!(file = %id, objects = keys.len(), "expired file swept");
                let (event, file) = match purged {
                    Some(file) => (crate::service::FileEvent::Deleted, file.clone()),
                    None => (
                        crate::service::FileEvent::Expired,
                        crate::domain::FileRecord {
                            id,
                            org: org.as_str().to_owned(),
                            ..Default::default()
                        },
                    ),
                };
                crate::service::announce(changes, event, &file);
                report.applied += 1;
            }
            Err(e) if e.is_retryable() => {
                tracing::error!(error = %e, file = %id, "expired file not swept; will retry");
                retry = Some(e.into());
            }
            Err(e) => {
                tracing::error!(error = %e, file = %id, "expired file not swept");
                report.failed += 1;
            }
        }
    }
    match retry {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
