//! From a stream record's images to the event it means. A write the API's users cannot
//! see (a purge beginning, a public link added) means none.

use super::stream::{StreamEvent, StreamRecord};
use super::{DeleteReason, Event, EventType, Subject};
use crate::adapters::dynamodb::{file_of_stream_image, upload_of_stream_image};
use crate::domain::{FileRecord, ScanStatus, UploadState};

/// The events of a batch of stream records, each with the index of its record.
pub fn events_of(batch: &StreamEvent) -> Vec<(usize, Event)> {
    batch
        .records
        .iter()
        .enumerate()
        .filter_map(|(i, record)| Some((i, event_of(record)?)))
        .collect()
}

/// The event one stream record means, if any.
pub fn event_of(record: &StreamRecord) -> Option<Event> {
    let (kind, subject) = file_change(record).or_else(|| upload_change(record))?;
    let data = &record.dynamodb;
    let occurred_at = match data.created_at_seconds {
        Some(seconds) => crate::time::rfc3339((seconds * 1000.0) as i64),
        None => crate::time::Clock::system().now_rfc3339(),
    };
    Some(Event {
        id: record.event_id.clone(),
        kind,
        occurred_at,
        sequence: padded_sequence(&data.sequence_number),
        subject,
    })
}

fn file_change(record: &StreamRecord) -> Option<(EventType, Subject)> {
    let data = &record.dynamodb;
    let old = file_of_stream_image(&data.old_image);
    let new = file_of_stream_image(&data.new_image);
    let kind = match (&old, &new) {
        (None, Some((_, false))) => EventType::FileCreated,
        (Some((was, _)), None) if record.event_name == "REMOVE" => {
            let infected = was
                .versions
                .iter()
                .any(|v| v.scan_status() == ScanStatus::Infected);
            EventType::FileDeleted(match (record.removed_by_ttl(), was.trash.is_some()) {
                (false, _) if infected => DeleteReason::Infected,
                (false, _) => DeleteReason::Purged,
                (true, true) => DeleteReason::Retention,
                (true, false) => DeleteReason::Expired,
            })
        }
        // A purge that began: its removal is the event.
        (Some((_, false)), Some((_, false))) => {
            let (was, is) = (&old.as_ref()?.0, &new.as_ref()?.0);
            match (&was.trash, &is.trash) {
                (None, Some(_)) => EventType::FileTrashed,
                (Some(_), None) => EventType::FileRestored,
                _ if is.versions.len() > was.versions.len() => EventType::FileVersionAdded,
                _ if scanned(was, is).is_some() => EventType::FileScanCompleted(scanned(was, is)?),
                _ if visible(was) != visible(is) => EventType::FileUpdated,
                _ => return None,
            }
        }
        _ => return None,
    };
    let (file, _) = new.or(old)?;
    Some((kind, Subject::File(Box::new(file))))
}

/// An unsaved upload that left the bucket without a save consuming it.
fn upload_change(record: &StreamRecord) -> Option<(EventType, Subject)> {
    let data = &record.dynamodb;
    let upload = upload_of_stream_image(&data.new_image)?;
    let was_removed = upload_of_stream_image(&data.old_image)
        .is_some_and(|old| old.state == UploadState::Removed);
    (upload.state == UploadState::Removed && !was_removed)
        .then_some((EventType::UploadExpired, Subject::Upload(upload)))
}

/// The number (from 1) of the version whose scan the write ended, if any.
fn scanned(was: &FileRecord, is: &FileRecord) -> Option<usize> {
    is.versions
        .iter()
        .position(|v| {
            v.scan.as_ref().is_some_and(|s| s.scanned_at.is_some())
                && was
                    .versions
                    .iter()
                    .find(|w| w.key == v.key)
                    .is_some_and(|w| w.scan != v.scan)
        })
        .map(|i| i + 1)
}

/// What the API shows of a file (its links and fetch bookkeeping aside).
fn visible(file: &FileRecord) -> FileRecord {
    FileRecord {
        public_links: Vec::new(),
        ingest_job: None,
        ..file.clone()
    }
}

/// A stream sequence number (21 to 40 digits), padded so strings compare as numbers.
fn padded_sequence(number: &str) -> String {
    format!("{number:0>40}")
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::adapters::dynamodb::{stream_image_of_file, stream_image_of_upload};
    use crate::domain::{PendingUpload, StoredVersion, Trash};
    use crate::events::stream::{StreamData, UserIdentity};

    fn file(versions: usize) -> FileRecord {
        FileRecord {
            id: uuid::Uuid::new_v4(),
            org: "org-1".into(),
            created_at: "2026-12-06T10:00:00.000Z".into(),
            updated_at: "2026-12-06T10:00:00.000Z".into(),
            filename: "a.txt".into(),
            mime_type: "text/plain".into(),
            versions: (0..versions)
                .map(|i| StoredVersion {
                    key: format!("files/org-1/x/v{i}/a.txt"),
                    filename: "a.txt".into(),
                    mime_type: "text/plain".into(),
                    size_bytes: 3,
                    etag: "\"e\"".into(),
                    created_at: "2026-12-06T10:00:00.000Z".into(),
                    ..StoredVersion::default()
                })
                .collect(),
            ..FileRecord::default()
        }
    }

    fn record(name: &str, old: Option<&FileRecord>, new: Option<&FileRecord>) -> StreamRecord {
        StreamRecord {
            event_id: "ev-1".into(),
            event_name: name.into(),
            user_identity: None,
            dynamodb: StreamData {
                old_image: old.map(stream_image_of_file).unwrap_or_default(),
                new_image: new.map(stream_image_of_file).unwrap_or_default(),
                sequence_number: "1100000000017454423009".into(),
                created_at_seconds: Some(1_796_551_200.0),
            },
        }
    }

    fn kind(record: &StreamRecord) -> Option<&'static str> {
        event_of(record).map(|e| e.kind.as_str())
    }

    fn trashed(file: &FileRecord) -> FileRecord {
        FileRecord {
            trash: Some(Trash {
                deleted_at: "2026-12-06T11:00:00.000Z".into(),
                deleted_by: Some("user-1".into()),
                purge_at: "2027-01-05T11:00:00.000Z".into(),
            }),
            ..file.clone()
        }
    }

    #[test]
    fn each_kind_of_write_means_its_event() {
        let one = file(1);
        let two = FileRecord {
            versions: file(2).versions,
            ..one.clone()
        };
        let renamed = FileRecord {
            filename: "b.txt".into(),
            ..one.clone()
        };
        assert_eq!(
            kind(&record("INSERT", None, Some(&one))),
            Some("file.created")
        );
        assert_eq!(
            kind(&record("MODIFY", Some(&one), Some(&two))),
            Some("file.version_added")
        );
        assert_eq!(
            kind(&record("MODIFY", Some(&one), Some(&renamed))),
            Some("file.updated")
        );
        assert_eq!(
            kind(&record("MODIFY", Some(&one), Some(&trashed(&one)))),
            Some("file.trashed")
        );
        assert_eq!(
            kind(&record("MODIFY", Some(&trashed(&one)), Some(&one))),
            Some("file.restored")
        );
        assert_eq!(
            kind(&record("REMOVE", Some(&one), None)),
            Some("file.deleted")
        );
    }

    #[test]
    fn a_write_nobody_sees_means_no_event() {
        let one = file(1);
        let linked = FileRecord {
            public_links: vec![crate::domain::PublicLink {
                id: "link".into(),
                created_at: "2026-12-06T10:00:00.000Z".into(),
                last_accessed_at: None,
            }],
            ..one.clone()
        };
        assert_eq!(kind(&record("MODIFY", Some(&one), Some(&one))), None);
        assert_eq!(kind(&record("MODIFY", Some(&one), Some(&linked))), None);
        // A purge beginning: the removal that follows is the event.
        let mut purging = record("MODIFY", Some(&one), Some(&one));
        purging
            .dynamodb
            .new_image
            .insert("deleting".into(), json!({"S": "2026-12-06T11:00:00.000Z"}));
        assert_eq!(kind(&purging), None);
        // Items that are not files or uploads: usage counters, collections.
        let mut usage = record("MODIFY", None, None);
        usage.dynamodb.new_image = [("kind".to_owned(), json!({"S": "usage"}))].into();
        assert_eq!(kind(&usage), None);
    }

    #[test]
    fn a_removal_says_why() {
        let one = file(1);
        let reason = |r: &StreamRecord| {
            let event = event_of(r).unwrap();
            let detail: Value = serde_json::from_str(&crate::events::detail::detail_json(
                &event,
                "bucket",
                "https://api.example.com",
            ))
            .unwrap();
            detail["reason"].as_str().unwrap().to_owned()
        };
        let by_ttl = |mut r: StreamRecord| {
            r.user_identity = Some(UserIdentity {
                kind: "Service".into(),
                principal_id: "dynamodb.amazonaws.com".into(),
            });
            r
        };
        assert_eq!(reason(&record("REMOVE", Some(&one), None)), "purged");
        assert_eq!(
            reason(&by_ttl(record("REMOVE", Some(&one), None))),
            "expired"
        );
        assert_eq!(
            reason(&by_ttl(record("REMOVE", Some(&trashed(&one)), None))),
            "retention"
        );
    }

    #[test]
    fn an_upload_that_left_unsaved_expired_and_a_consumed_one_did_not() {
        let present = PendingUpload {
            key: "temp/org-1/u/a.txt".into(),
            org: "org-1".into(),
            state: UploadState::Present,
            created_at_ms: 1_796_551_200_000,
            expires_at_ms: 1_796_637_600_000,
            sequencer: "0001".into(),
        };
        let removed = PendingUpload {
            state: UploadState::Removed,
            sequencer: "0002".into(),
            ..present.clone()
        };
        let mut expired = record("MODIFY", None, None);
        expired.dynamodb.old_image = stream_image_of_upload(&present);
        expired.dynamodb.new_image = stream_image_of_upload(&removed);
        assert_eq!(kind(&expired), Some("upload.expired"));
        let mut consumed = expired.clone();
        for image in [
            &mut consumed.dynamodb.old_image,
            &mut consumed.dynamodb.new_image,
        ] {
            image.insert("consumed_by".into(), json!({"S": "file"}));
        }
        assert_eq!(kind(&consumed), None);
        let mut again = expired.clone();
        again.dynamodb.old_image = stream_image_of_upload(&removed);
        assert_eq!(kind(&again), None, "told once");
    }

    #[test]
    fn the_detail_carries_ids_order_and_the_entity_without_links() {
        let one = file(2);
        let mut r = record("INSERT", None, Some(&one));
        r.dynamodb.sequence_number = "1100000000017454423010".into();
        let event = event_of(&r).unwrap();
        let detail: Value = serde_json::from_str(&crate::events::detail::detail_json(
            &event,
            "bucket",
            "https://api.example.com",
        ))
        .unwrap();
        assert_eq!(detail["id"], "ev-1");
        assert_eq!(detail["type"], "file.created");
        assert_eq!(detail["org"], "org-1");
        assert_eq!(detail["file_id"], one.id.to_string());
        assert_eq!(detail["version"], 2);
        assert_eq!(
            detail["sequence"],
            "0000000000000000001100000000017454423010"
        );
        assert_eq!(detail["occurred_at"], "2026-12-06T10:00:00.000Z");
        assert_eq!(detail["file"]["_id"], one.id.to_string());
        assert_eq!(detail["file"]["versions"].as_array().unwrap().len(), 2);
        assert!(detail["file"].get("public_links").is_none());
    }
}
