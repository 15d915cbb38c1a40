//! A file entity and its versions, as the repository keeps them.

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    pub key: String,
    pub filename: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub etag: String,
    pub created_at: String,
}

/// A file entity as the repository keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
}

impl FileRecord {
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
