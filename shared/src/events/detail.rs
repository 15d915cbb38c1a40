//! An event as JSON: EventBridge's `detail` and a webhook's body. This and the API's
//! answers (`api::wire`, whose File entity it carries) are where events become JSON.

use serde::Serialize;
use uuid::Uuid;

use super::{Event, EventType, Subject};
use crate::api::wire::FileEntity;
use crate::domain::PendingUpload;
use crate::time::rfc3339;

/// Room left for EventBridge's envelope: an entry may be 256 KiB in all.
const MAX_DETAIL_BYTES: usize = 240 * 1024;

#[derive(Serialize)]
struct Detail<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    occurred_at: &'a str,
    org: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_id: Option<Uuid>,
    /// The file's latest version, numbered from 1 (none for a file without bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<usize>,
    sequence: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// file.scan_completed: the scanned version's status and the scanner's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    scan_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scan_verdict: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileEntity<'a>>,
    /// Set when the entity would not fit in an event: read it with the API.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    file_omitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload: Option<UploadJson<'a>>,
}

#[derive(Serialize)]
struct UploadJson<'a> {
    key: &'a str,
    created_at: String,
    expires_at: String,
}

impl<'a> UploadJson<'a> {
    fn new(upload: &'a PendingUpload) -> Self {
        UploadJson {
            key: &upload.key,
            created_at: rfc3339(upload.created_at_ms),
            expires_at: rfc3339(upload.expires_at_ms),
        }
    }
}

/// The event's JSON; the file as the API shows it (`bucket` and `public_base_url` as
/// the API's), without its public links or any other secret.
pub fn detail_json(event: &Event, bucket: &str, public_base_url: &str) -> String {
    let reason = match event.kind {
        EventType::FileDeleted(reason) => Some(reason.as_str()),
        _ => None,
    };
    let mut detail = Detail {
        id: &event.id,
        kind: event.kind.as_str(),
        occurred_at: &event.occurred_at,
        org: event.org(),
        file_id: None,
        version: None,
        sequence: &event.sequence,
        reason,
        scan_status: None,
        scan_verdict: None,
        file: None,
        file_omitted: false,
        upload: None,
    };
    match &event.subject {
        Subject::File(file) => {
            detail.file_id = Some(file.id);
            detail.version = Some(file.versions.len()).filter(|n| *n > 0);
            if let EventType::FileScanCompleted(number) = event.kind {
                let scanned = file.versions.get(number - 1);
                detail.version = Some(number);
                detail.scan_status = scanned.map(|v| v.scan_status().as_str());
                detail.scan_verdict = scanned.and_then(|v| v.scan.as_ref()?.verdict.as_deref());
            }
            detail.file = Some(FileEntity::new(file, bucket, public_base_url));
        }
        Subject::Upload(upload) => detail.upload = Some(UploadJson::new(upload)),
    }
    let json = serde_json::to_string(&detail).unwrap_or_default();
    if json.len() <= MAX_DETAIL_BYTES {
        return json;
    }
    detail.file = None;
    detail.file_omitted = true;
    serde_json::to_string(&detail).unwrap_or_default()
}
