//! GuardDuty Malware Protection for S3: its scan-result events (EventBridge, detail-type
//! `GuardDuty Malware Protection Object Scan Result`) as the service's verdicts. Results
//! of objects under `files/` land on their version; `temp/` (unsaved uploads) is
//! scanned too, but a saved version is a new object with a scan of its own.

use serde::Serialize;
use serde_json::Value;

use crate::domain::ScanStatus;
use crate::error::Result;
use crate::ports::Backend;
use crate::service::{FileService, Recorded, ScanVerdict};

pub const DETAIL_TYPE: &str = "GuardDuty Malware Protection Object Scan Result";

/// The verdict an event carries about an object of `bucket`, if any.
pub fn verdict_of(event: &Value, bucket: &str) -> Option<ScanVerdict> {
    if event["detail-type"] != DETAIL_TYPE {
        return None;
    }
    let detail = &event["detail"];
    let object = &detail["s3ObjectDetails"];
    if object["bucketName"] != bucket {
        return None;
    }
    let key = object["objectKey"].as_str()?.to_owned();
    let result = detail["scanResultDetails"]["scanResultStatus"].as_str();
    let (status, verdict) = match result {
        Some("NO_THREATS_FOUND") => (ScanStatus::Clean, "NO_THREATS_FOUND".to_owned()),
        Some("THREATS_FOUND") => {
            let names: Vec<&str> = detail["scanResultDetails"]["threats"]
                .as_array()
                .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
                .unwrap_or_default();
            let verdict = if names.is_empty() {
                "THREATS_FOUND".to_owned()
            } else {
                names.join(", ")
            };
            (ScanStatus::Infected, verdict)
        }
        // UNSUPPORTED, ACCESS_DENIED, FAILED; or a scan that was skipped or failed.
        Some(other) => (ScanStatus::Error, other.to_owned()),
        None => (
            ScanStatus::Error,
            detail["scanStatus"].as_str().unwrap_or("FAILED").to_owned(),
        ),
    };
    Some(ScanVerdict {
        key,
        status,
        verdict,
    })
}

/// What the scan function answers (for its log and `sam local invoke`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ScanReport {
    /// `clean`, `infected`, `error`, `purged`, or `ignored` (not a verdict on a saved
    /// version of this bucket).
    pub recorded: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Records the verdict of one scan-result event. A storage fault is an error, so that
/// EventBridge's delivery to the function is retried.
pub async fn handle_scan_event<B: Backend>(
    service: &FileService<B>,
    event: &Value,
) -> Result<ScanReport> {
    let Some(verdict) = verdict_of(event, &service.config.bucket) else {
        return Ok(ScanReport {
            recorded: "ignored",
            key: None,
        });
    };
    let recorded = match service.record_scan(&verdict).await? {
        Recorded::Version(status) => status.as_str(),
        Recorded::Purged => "purged",
        Recorded::Nothing => "ignored",
    };
    tracing::info!(
        key = verdict.key,
        recorded,
        verdict = verdict.verdict,
        "scan result"
    );
    Ok(ScanReport {
        recorded,
        key: Some(verdict.key),
    })
}
