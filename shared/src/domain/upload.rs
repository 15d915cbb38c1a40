//! Unsaved uploads under `temp/`, as the S3-event function records them.

/// The largest object one S3 PUT (a presigned upload URL) can store: 5 GiB.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// The largest object S3 stores, and so the largest multipart upload: 5 TiB.
pub const MAX_MULTIPART_BYTES: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// How long an unsaved upload can be saved, from when S3 stored it: the service's promise.
/// The lifecycle rule deletes `temp/` objects one day after creation, rounded up to the
/// next midnight UTC, so it never deletes one before this has passed.
pub const UNSAVED_UPLOAD_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// What the S3-event function knows of an object under `temp/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: String,
    pub org: String,
    /// Present: created and not yet saved, deleted or expired. Removed: gone from the bucket.
    pub state: UploadState,
    /// When S3 created the object (epoch ms).
    pub created_at_ms: i64,
    /// When it can no longer be saved (epoch ms).
    pub expires_at_ms: i64,
    /// S3's event sequencer, zero-padded so later events sort after earlier ones.
    pub sequencer: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadState {
    Present,
    Removed,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Present => "present",
            UploadState::Removed => "removed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "present" => Some(UploadState::Present),
            "removed" => Some(UploadState::Removed),
            _ => None,
        }
    }
}

/// S3 sequencers are hex of varying length; padded, they compare as strings.
pub fn padded_sequencer(raw: &str) -> String {
    format!("{:0>32}", raw.to_ascii_uppercase())
}
