//! The JSON shapes of answers: the only place the service's values become JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{file_type, FileRecord, S3Ref, StoredVersion};
use crate::ports::PartTag;
use crate::service::{
    BatchLink, BulkDeleted, MultipartSession, SignedPart, SignedUrls, UploadTicket, UsageReport,
};

/// The File entity that save and get answer.
#[derive(Serialize)]
pub struct FileEntity<'a> {
    /// Extra attributes the client saved, kept as they are (their names never clash
    /// with the fields below: `domain::RESERVED_ATTRIBUTES`).
    #[serde(flatten)]
    attributes: &'a Map<String, Value>,
    #[serde(rename = "_id")]
    id: Uuid,
    #[serde(rename = "_org")]
    org: &'a str,
    #[serde(rename = "_schema")]
    schema: &'static str,
    #[serde(rename = "_title")]
    title: &'a str,
    #[serde(rename = "_created_at")]
    created_at: &'a str,
    #[serde(rename = "_updated_at")]
    updated_at: &'a str,
    filename: &'a str,
    mime_type: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    size_bytes: u64,
    readable_size: String,
    etag: &'a str,
    access_control: &'static str,
    public_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3ref: Option<S3RefJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_download_url: Option<&'a str>,
    versions: Vec<VersionJson<'a>>,
    /// `ready`, or `pending`/`failed` for a fetch from a URL.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum_sha256: Option<&'a str>,
    /// In the trash: when, by whom, and when it goes for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_at: Option<&'a str>,
    /// The latest version's malware scan (`not_scanned` for a file without bytes).
    scan_status: &'static str,
}

/// A direct upload's answer: the entity and a link to its bytes.
#[derive(Serialize)]
pub struct UploadedFileJson<'a> {
    #[serde(flatten)]
    pub entity: FileEntity<'a>,
    pub download_url: &'a str,
}

#[derive(Serialize)]
struct S3RefJson<'a> {
    bucket: &'a str,
    key: &'a str,
}

#[derive(Serialize)]
struct VersionJson<'a> {
    s3ref: S3RefJson<'a>,
    filename: &'a str,
    mime_type: &'a str,
    size_bytes: u64,
    readable_size: String,
    etag: &'a str,
    created_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum_sha256: Option<&'a str>,
    /// When the bytes arrived: the upload's own time, else the version's.
    uploaded_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uploaded_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: &'a BTreeMap<String, String>,
    /// `not_scanned`, `pending`, `clean`, `infected` or `error`.
    scan_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scanned_at: Option<&'a str>,
    /// The scanner's verdict: `NO_THREATS_FOUND`, the threat's name, `UNSUPPORTED`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    scan_verdict: Option<&'a str>,
}

impl<'a> VersionJson<'a> {
    fn new(v: &'a StoredVersion, bucket: &'a str) -> Self {
        VersionJson {
            s3ref: S3RefJson {
                bucket,
                key: &v.key,
            },
            filename: &v.filename,
            mime_type: &v.mime_type,
            size_bytes: v.size_bytes,
            readable_size: readable_size(v.size_bytes),
            etag: &v.etag,
            created_at: &v.created_at,
            checksum_sha256: v.checksum_sha256.as_deref(),
            uploaded_at: v.uploaded_at.as_deref().unwrap_or(&v.created_at),
            uploaded_by: v.uploaded_by.as_deref(),
            md5: v.md5(),
            metadata: &v.metadata,
            scan_status: v.scan_status().as_str(),
            scanned_at: v.scan.as_ref().and_then(|s| s.scanned_at.as_deref()),
            scan_verdict: v.scan.as_ref().and_then(|s| s.verdict.as_deref()),
        }
    }
}

impl<'a> FileEntity<'a> {
    pub fn new(record: &'a FileRecord, bucket: &'a str, public_base_url: &str) -> Self {
        let latest = record.latest();
        let size = latest.map(|v| v.size_bytes).unwrap_or(0);
        let s3ref = |v: &'a StoredVersion| S3RefJson {
            bucket,
            key: &v.key,
        };
        FileEntity {
            attributes: &record.attributes,
            id: record.id,
            org: &record.org,
            schema: "file",
            title: &record.filename,
            created_at: &record.created_at,
            updated_at: &record.updated_at,
            filename: &record.filename,
            mime_type: &record.mime_type,
            kind: file_type(&record.mime_type, &record.filename),
            size_bytes: size,
            readable_size: readable_size(size),
            etag: latest.map(|v| v.etag.as_str()).unwrap_or_default(),
            access_control: record.access_control.as_str(),
            public_url: public_url(public_base_url, record.id),
            s3ref: latest.map(s3ref),
            custom_download_url: record.custom_download_url.as_deref(),
            versions: record
                .versions
                .iter()
                .map(|v| VersionJson::new(v, bucket))
                .collect(),
            status: record.status.as_str(),
            status_reason: record.status_reason.as_deref(),
            expires_at: record.expires_at.as_deref(),
            checksum_sha256: latest.and_then(|v| v.checksum_sha256.as_deref()),
            deleted_at: record.trash.as_ref().map(|t| t.deleted_at.as_str()),
            deleted_by: record.trash.as_ref().and_then(|t| t.deleted_by.as_deref()),
            purge_at: record.trash.as_ref().map(|t| t.purge_at.as_str()),
            scan_status: latest.map_or("not_scanned", |v| v.scan_status().as_str()),
        }
    }
}

/// Where a file's bytes can be fetched without a token while it is `public-read`.
pub fn public_url(base: &str, id: Uuid) -> String {
    format!("{base}/v1/files/public/{id}")
}

/// A size for people: `512 B`, `1.2 MB` (powers of 1,000).
pub fn readable_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    // Round first, so 999,999 bytes reads "1.0 MB" rather than "1000.0 KB".
    while unit < UNITS.len() - 1 && (value * 10.0).round() / 10.0 >= 1000.0 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[derive(Serialize)]
pub struct UploadTicketJson<'a> {
    s3ref: &'a S3Ref,
    upload_url: &'a str,
    upload_url_expires_in: u64,
    unsaved_upload_expires_in: u64,
    /// With `file_entity_id`: that file's `public_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl<'a> From<&'a UploadTicket> for UploadTicketJson<'a> {
    fn from(t: &'a UploadTicket) -> Self {
        UploadTicketJson {
            s3ref: &t.s3ref,
            upload_url: &t.upload_url,
            upload_url_expires_in: t.upload_url_expires_in,
            unsaved_upload_expires_in: t.unsaved_upload_expires_in,
            public_url: None,
        }
    }
}

/// One public link, as listPublicLinksForFile answers it.
#[derive(Serialize)]
pub struct PublicLinkJson<'a> {
    pub id: &'a str,
    pub link: String,
    pub last_accessed_at: Option<&'a str>,
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The address of a public link: `<api>/v1/files/public/links/<id>/<filename>`, with
/// the file's current name.
pub fn public_link_url(base: &str, link_id: &str, filename: &str) -> String {
    let name = percent_encoding::utf8_percent_encode(filename, PATH_SEGMENT);
    format!("{base}/v1/files/public/links/{link_id}/{name}")
}

#[derive(Serialize)]
pub struct ResultsJson<T: Serialize> {
    pub results: Vec<T>,
}

/// signUrls' answer.
#[derive(Serialize)]
pub struct SignedUrlsJson<'a> {
    items: Vec<SignedUrlJson<'a>>,
    not_found: &'a [Uuid],
    /// Files withheld by their malware scan (only where scanning blocks downloads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    withheld: Vec<WithheldJson>,
}

#[derive(Serialize)]
struct WithheldJson {
    id: Uuid,
    error: &'static str,
}

#[derive(Serialize)]
struct SignedUrlJson<'a> {
    id: Uuid,
    url: &'a str,
    expires_at: &'a str,
}

impl<'a> From<&'a SignedUrls> for SignedUrlsJson<'a> {
    fn from(s: &'a SignedUrls) -> Self {
        SignedUrlsJson {
            items: s
                .items
                .iter()
                .map(|i| SignedUrlJson {
                    id: i.id,
                    url: &i.url,
                    expires_at: &i.expires_at,
                })
                .collect(),
            not_found: &s.not_found,
            withheld: s
                .withheld
                .iter()
                .map(|(id, code)| WithheldJson {
                    id: *id,
                    error: code.as_str(),
                })
                .collect(),
        }
    }
}

/// One version of the history: its number (from 1, the oldest) and what the entity's
/// `versions` shows of it.
#[derive(Serialize)]
pub struct NumberedVersionJson<'a> {
    version: usize,
    #[serde(flatten)]
    stored: VersionJson<'a>,
}

impl<'a> NumberedVersionJson<'a> {
    pub fn all(record: &'a FileRecord, bucket: &'a str) -> Vec<Self> {
        record
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| NumberedVersionJson {
                version: i + 1,
                stored: VersionJson::new(v, bucket),
            })
            .collect()
    }
}

/// getSession's answer.
#[derive(Serialize)]
pub struct SessionJson {
    pub expires_in: i64,
}

/// A multipart upload: `POST /v2/files/uploads`, and the head of its status.
#[derive(Serialize)]
pub struct MultipartSessionJson<'a> {
    upload_id: &'a str,
    s3ref: &'a S3Ref,
    size_bytes: u64,
    part_size: u64,
    part_count: u32,
    expires_at: &'a str,
}

impl<'a> From<&'a MultipartSession> for MultipartSessionJson<'a> {
    fn from(s: &'a MultipartSession) -> Self {
        MultipartSessionJson {
            upload_id: &s.upload_id,
            s3ref: &s.s3ref,
            size_bytes: s.size_bytes,
            part_size: s.part_size,
            part_count: s.part_count,
            expires_at: &s.expires_at,
        }
    }
}

#[derive(Serialize)]
pub struct SignedPartsJson<'a> {
    pub parts: Vec<SignedPartJson<'a>>,
}

#[derive(Serialize)]
pub struct SignedPartJson<'a> {
    part_number: u32,
    url: &'a str,
    size_bytes: u64,
    /// Headers the PUT must carry exactly (signed into the URL).
    headers: Map<String, Value>,
}

impl<'a> SignedPartsJson<'a> {
    pub fn new(session: &MultipartSession, parts: &'a [SignedPart]) -> Self {
        SignedPartsJson {
            parts: parts
                .iter()
                .map(|p| SignedPartJson {
                    part_number: p.part_number,
                    url: &p.url,
                    size_bytes: session.part_len(p.part_number),
                    headers: p
                        .headers
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// `GET /v2/files/uploads/{id}`: the session and the parts S3 holds.
#[derive(Serialize)]
pub struct MultipartStatusJson<'a> {
    #[serde(flatten)]
    pub session: MultipartSessionJson<'a>,
    pub parts: Vec<StoredPartJson<'a>>,
}

#[derive(Serialize)]
pub struct StoredPartJson<'a> {
    part_number: u32,
    size_bytes: u64,
    etag: &'a str,
}

impl<'a> From<&'a PartTag> for StoredPartJson<'a> {
    fn from(p: &'a PartTag) -> Self {
        StoredPartJson {
            part_number: p.part_number,
            size_bytes: p.size_bytes,
            etag: &p.etag,
        }
    }
}

#[derive(Serialize)]
pub struct CompletedUploadJson<'a> {
    pub s3ref: &'a S3Ref,
}

#[derive(Serialize)]
pub struct DownloadLinkJson<'a> {
    pub download_url: &'a str,
}

#[derive(Serialize)]
pub struct BatchLinkJson<'a> {
    file_entity_id: Uuid,
    download_url: &'a str,
}

impl<'a> From<&'a BatchLink> for BatchLinkJson<'a> {
    fn from(link: &'a BatchLink) -> Self {
        BatchLinkJson {
            file_entity_id: link.id,
            download_url: &link.url,
        }
    }
}

#[derive(Serialize)]
pub struct DeletedJson {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub deleted: bool,
}

#[derive(Serialize)]
pub struct VerificationJson {
    pub valid: bool,
}

#[derive(Serialize)]
pub struct ErrorJson<'a> {
    pub error: &'static str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_sizes_use_one_decimal_and_roll_over() {
        assert_eq!(readable_size(0), "0 B");
        assert_eq!(readable_size(999), "999 B");
        assert_eq!(readable_size(1_200_000), "1.2 MB");
        assert_eq!(readable_size(999_999), "1.0 MB");
        assert_eq!(readable_size(1_500), "1.5 KB");
    }
}

/// A page of `GET /v2/files`; `next_cursor` is null on the last page.
#[derive(Serialize)]
pub struct FileListJson<'a> {
    pub results: Vec<FileEntity<'a>>,
    pub next_cursor: Option<&'a str>,
}

#[derive(Serialize)]
pub struct CountJson {
    pub count: u64,
}

#[derive(Serialize)]
pub struct BulkDeletedJson {
    pub deleted: u64,
    pub more: bool,
}

impl From<BulkDeleted> for BulkDeletedJson {
    fn from(d: BulkDeleted) -> Self {
        BulkDeletedJson {
            deleted: d.deleted,
            more: d.more,
        }
    }
}

#[derive(Serialize)]
pub struct UsageJson {
    pub files: u64,
    pub versions: u64,
    pub bytes: u64,
    /// The trash, apart: its bytes count against the quota too.
    pub trashed_files: u64,
    pub trashed_bytes: u64,
    pub quota_bytes: Option<u64>,
    /// Files whose latest version the malware scan found infected, and the infected
    /// versions' bytes (part of `bytes`).
    pub infected_files: u64,
    pub infected_bytes: u64,
}

impl From<UsageReport> for UsageJson {
    fn from(r: UsageReport) -> Self {
        UsageJson {
            files: r.usage.files,
            versions: r.usage.versions,
            bytes: r.usage.bytes,
            trashed_files: r.usage.trashed_files,
            trashed_bytes: r.usage.trashed_bytes,
            quota_bytes: r.quota_bytes,
            infected_files: r.infected_files,
            infected_bytes: r.infected_bytes,
        }
    }
}
