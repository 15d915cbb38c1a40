//! A file entity and its versions, as the repository keeps them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::AccessControl;

/// A bucket and key, as clients see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Ref {
    pub bucket: String,
    pub key: String,
}

/// One saved version: one immutable object under `files/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    pub key: String,
    pub filename: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub etag: String,
    pub created_at: String,
    /// SHA-256 of the bytes, base64 as S3 writes checksums; where the service computed or
    /// verified it (older versions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
    /// When the bytes reached the service (the upload's own time where S3 knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<String>,
    /// The `sub` of the token that saved this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<String>,
    /// The upload's `metadata`, as S3 keeps it with the object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Its malware scan; none where scanning was off when it was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<Scan>,
}

/// Where a version's malware scan stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Saved while scanning was off.
    #[default]
    NotScanned,
    /// Saved, its result not in yet.
    Pending,
    Clean,
    Infected,
    /// The scanner could not scan it (unsupported, access denied, failed).
    Error,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::NotScanned => "not_scanned",
            ScanStatus::Pending => "pending",
            ScanStatus::Clean => "clean",
            ScanStatus::Infected => "infected",
            ScanStatus::Error => "error",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            ScanStatus::NotScanned,
            ScanStatus::Pending,
            ScanStatus::Clean,
            ScanStatus::Infected,
            ScanStatus::Error,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// A version's scan: its status, and once the scanner answered, when and what it said
/// (`NO_THREATS_FOUND`, the threat's name, `UNSUPPORTED`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub status: ScanStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
}

impl StoredVersion {
    pub fn scan_status(&self) -> ScanStatus {
        self.scan
            .as_ref()
            .map_or(ScanStatus::NotScanned, |s| s.status)
    }
}

impl StoredVersion {
    /// The MD5 of the bytes (hex) where the ETag is one: a single PUT or copy without
    /// KMS, not a multipart upload (`...-N`).
    pub fn md5(&self) -> Option<&str> {
        let etag = self.etag.trim_matches('"');
        (etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())).then_some(etag)
    }
}

/// Whether a file's bytes are there: a fetch from a URL leaves it `Pending` until the
/// bytes are stored (`Ready`) or the fetch gives up (`Failed`, with a reason).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    #[default]
    Ready,
    Pending,
    Failed,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ready => "ready",
            FileStatus::Pending => "pending",
            FileStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ready" => Some(FileStatus::Ready),
            "pending" => Some(FileStatus::Pending),
            "failed" => Some(FileStatus::Failed),
            _ => None,
        }
    }
}

/// Why a fetch from a URL failed, kept with the file beside its reason, so that a save
/// waiting on the fetch answers the right code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchFailure {
    /// The source answered an error, was too large or too slow.
    #[default]
    SourceFailed,
    /// The bytes would have taken the organisation past its quota.
    QuotaExceeded,
}

impl FetchFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchFailure::SourceFailed => "source_failed",
            FetchFailure::QuotaExceeded => "quota_exceeded",
        }
    }

    /// A stored value; anything unknown (or absent, on items written before the kind
    /// was kept) is a source failure.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("quota_exceeded") => FetchFailure::QuotaExceeded,
            _ => FetchFailure::SourceFailed,
        }
    }
}

/// A file entity as the repository keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: Uuid,
    pub org: String,
    pub created_at: String,
    pub updated_at: String,
    pub filename: String,
    pub mime_type: String,
    pub access_control: AccessControl,
    /// Set for external files, which store no bytes.
    pub custom_download_url: Option<String>,
    /// Extra attributes the client sent with a save, kept as they are.
    pub attributes: Map<String, Value>,
    pub versions: Vec<StoredVersion>,
    /// How the latest fetch from a URL stands (`Ready` for every other file).
    pub status: FileStatus,
    /// Why the latest fetch failed, and what kind of failure it was.
    pub status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FetchFailure>,
    /// The fetch that may still finish this file: only it may store its outcome.
    pub ingest_job: Option<Uuid>,
    /// When the file ends (`ttl_seconds`): from then on it is gone everywhere.
    pub expires_at: Option<String>,
    /// Its public links, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_links: Vec<super::PublicLink>,
    /// Set while the file is in the trash: hidden and frozen as a deleted file, until
    /// it is restored or purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trash: Option<Trash>,
}

/// When and by whom a file went to the trash, and when it goes for good.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trash {
    pub deleted_at: String,
    /// The `sub` of the token that deleted it.
    pub deleted_by: Option<String>,
    pub purge_at: String,
}

impl Trash {
    /// The trash's own order: the newest deleted first, then by id.
    pub fn key(&self, id: Uuid) -> String {
        format!("{}#{id}", self.deleted_at)
    }
}

impl FileRecord {
    /// Whether the file has ended by `now` (RFC 3339, fixed width: strings compare as instants).
    pub fn has_expired(&self, now: &str) -> bool {
        self.expires_at.as_deref().is_some_and(|at| at <= now)
    }

    /// Whether a listing shows the file: it has bytes (or is external), has not ended
    /// and is not in the trash.
    pub fn is_listed(&self, now: &str) -> bool {
        self.has_content() && !self.has_expired(now) && self.trash.is_none()
    }

    /// It has bytes or is external (what a usage counts).
    pub fn has_content(&self) -> bool {
        !self.versions.is_empty() || self.custom_download_url.is_some()
    }

    /// Whether the trash lists the file at `now`: trashed, not ended, not yet due to go.
    pub fn is_in_trash(&self, now: &str) -> bool {
        self.trash
            .as_ref()
            .is_some_and(|t| t.purge_at.as_str() > now)
            && self.has_content()
            && !self.has_expired(now)
    }

    /// The bytes of all its versions: what it uses of its organisation's storage.
    pub fn stored_bytes(&self) -> u64 {
        self.versions.iter().map(|v| v.size_bytes).sum()
    }

    pub fn latest(&self) -> Option<&StoredVersion> {
        self.versions.last()
    }

    /// `version` as the API counts it: 0 is the latest, 1 the first.
    pub fn version(&self, version: u32) -> Option<&StoredVersion> {
        match version {
            0 => self.latest(),
            n => self.versions.get(n as usize - 1),
        }
    }
}
