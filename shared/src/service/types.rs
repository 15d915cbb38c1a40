//! What the operations take and answer.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, OrgId, S3Ref};

/// Who is asking: the organisation a verified token names.
#[derive(Clone, Debug)]
pub struct Caller {
    pub org: OrgId,
    /// The token's `sub`: who saves a version (`uploaded_by`).
    pub sub: Option<String>,
}

/// Body of uploadFileV2 and uploadFilePublic.
#[derive(Debug, Default)]
pub struct UploadRequest {
    pub filename: String,
    pub mime_type: Option<String>,
    /// When given, signed into the upload URL: S3 accepts only a body of this size.
    pub size_bytes: Option<u64>,
    /// When given, signed into the upload URL as `x-amz-checksum-sha256`: S3 accepts
    /// only a body with this SHA-256 (base64), and the PUT must carry that header.
    pub checksum_sha256: Option<String>,
    /// Kept with the object as S3 user metadata, and with the version it becomes.
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// What uploadFileV2 and uploadFilePublic answer: where to PUT the bytes, and the
/// s3ref that saves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTicket {
    pub s3ref: S3Ref,
    pub upload_url: String,
    pub upload_url_expires_in: u64,
    pub unsaved_upload_expires_in: u64,
}

/// The fields of a file a save may set, whatever stores its bytes.
#[derive(Clone, Debug, Default)]
pub struct FileFields {
    pub filename: Option<String>,
    pub mime_type: Option<String>,
    pub access_control: Option<AccessControl>,
    pub attributes: Map<String, Value>,
    /// `ttl_seconds`: the file ends this long after the save ([`MIN_TTL_SECONDS`] to
    /// [`MAX_TTL_SECONDS`]).
    pub ttl_seconds: Option<u64>,
}

/// Shortest and longest time to live of a file.
pub const MIN_TTL_SECONDS: u64 = 60;
pub const MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// How a source URL is asked for its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SourceMethod {
    #[default]
    Get,
    Post,
}

impl SourceMethod {
    pub fn as_http(self) -> reqwest::Method {
        match self {
            SourceMethod::Get => reqwest::Method::GET,
            SourceMethod::Post => reqwest::Method::POST,
        }
    }
}

/// Where the bytes of a fetch-from-URL save come from. The headers are secrets of the
/// client's (a token for its source): sent to the source and nowhere else, so `Debug`
/// shows only their names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceRequest {
    pub url: String,
    pub method: SourceMethod,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for SourceRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRequest")
            .field("url", &self.url)
            .field("method", &self.method)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What a save does, parsed at the edge: each case names exactly what it needs.
#[derive(Clone, Debug)]
pub enum SaveIntent {
    /// An uploaded object becomes a new file, or a new version of `file`.
    Upload {
        file: Option<Uuid>,
        s3ref: S3Ref,
        delete_temp_file: bool,
    },
    /// An external file: an entity that points at a URL and stores no bytes.
    External { file: Option<Uuid>, url: String },
    /// New access control, filename or attributes for `file`; its versions stay.
    Metadata { file: Uuid },
    /// Bytes fetched from a URL, as a new file or a new version of `file`.
    FromSource {
        file: Option<Uuid>,
        source: SourceRequest,
    },
    /// Bytes sent in the request itself, as a new file or a new version of `file`.
    DirectBody { file: Option<Uuid>, body: Bytes },
    /// version_only: uploads added to `file` as new versions, oldest first, in one
    /// write; the file keeps its own name, type, access and attributes.
    Versions {
        file: Uuid,
        uploads: Vec<VersionUpload>,
        delete_temp_file: bool,
    },
}

/// Most versions one saveFileV2 call may add.
pub const MAX_VERSIONS_PER_SAVE: usize = 20;

/// An upload to become a version, with the name and type the version gets (else the
/// upload's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionUpload {
    pub s3ref: S3Ref,
    pub filename: Option<String>,
    pub mime_type: Option<String>,
}

/// saveFileV2, parsed.
#[derive(Clone, Debug)]
pub struct SaveRequest {
    pub intent: SaveIntent,
    pub fields: FileFields,
}

impl SaveRequest {
    /// An upload saved as a new file (or a new version of `file`), its temp object
    /// removed, every other field as the upload has it.
    pub fn upload(file: Option<Uuid>, s3ref: S3Ref) -> Self {
        SaveRequest {
            intent: SaveIntent::Upload {
                file,
                s3ref,
                delete_temp_file: true,
            },
            fields: FileFields::default(),
        }
    }
}

/// One item of downloadFiles.
#[derive(Debug, Clone, Copy)]
pub struct DownloadItem {
    pub id: Uuid,
    pub version: u32,
}

/// One answer of downloadFiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLink {
    pub id: Uuid,
    pub url: String,
}
