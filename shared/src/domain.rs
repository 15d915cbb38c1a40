//! File entities, versions, storage keys and the rules their fields follow.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Prefix of unsaved uploads; the bucket's lifecycle rule expires it.
pub const TEMP_PREFIX: &str = "temp/";
/// Prefix of saved versions; objects here are never overwritten.
pub const FILES_PREFIX: &str = "files/";
/// Longest filename accepted, in bytes of UTF-8 (S3 keys stop at 1,024).
pub const MAX_FILENAME_BYTES: usize = 255;
/// The largest object one S3 PUT (a presigned upload URL) can store: 5 GiB.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;
const MAX_ORG_LEN: usize = 128;
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_VALUE_BYTES: usize = 4096;

/// The organisation (tenant) a request acts for, from the token's claim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrgId(String);

impl OrgId {
    /// Accepts the characters that can safely stand in a key: letters, digits, `-`, `_`, `.`.
    pub fn parse(raw: &str) -> Result<Self> {
        // A leading '_' or '.' is kept for the service's own owners, such as `_public`.
        let ok = !raw.is_empty()
            && raw.len() <= MAX_ORG_LEN
            && !raw.starts_with(['_', '.'])
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(OrgId(raw.to_owned()))
        } else {
            Err(Error::Unauthorized(
                "the token's organisation claim is not a valid organisation id".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For ids the service makes itself (such as the owner of public uploads).
    pub(crate) fn trusted(raw: &str) -> Self {
        OrgId(raw.to_owned())
    }
}

/// Who may read a file's bytes without a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessControl {
    #[default]
    Private,
    PublicRead,
}

impl AccessControl {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessControl::Private => "private",
            AccessControl::PublicRead => "public-read",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "private" => Ok(AccessControl::Private),
            "public-read" => Ok(AccessControl::PublicRead),
            _ => Err(Error::invalid(
                "invalid_access_control",
                "access_control must be \"private\" or \"public-read\"",
            )),
        }
    }
}

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

    /// The JSON File entity that save and get answer.
    pub fn to_entity(&self, bucket: &str, public_base_url: &str) -> Value {
        let mut entity = self.attributes.clone();
        let latest = self.latest();
        let size = latest.map(|v| v.size_bytes).unwrap_or(0);
        let fields = [
            ("_id", Value::from(self.id.to_string())),
            ("_org", self.org.clone().into()),
            ("_schema", "file".into()),
            ("_title", self.filename.clone().into()),
            ("_created_at", self.created_at.clone().into()),
            ("_updated_at", self.updated_at.clone().into()),
            ("filename", self.filename.clone().into()),
            ("mime_type", self.mime_type.clone().into()),
            ("type", file_type(&self.mime_type, &self.filename).into()),
            ("size_bytes", size.into()),
            ("readable_size", readable_size(size).into()),
            (
                "etag",
                latest.map(|v| v.etag.clone()).unwrap_or_default().into(),
            ),
            ("access_control", self.access_control.as_str().into()),
            ("public_url", public_url(public_base_url, self.id).into()),
        ];
        for (name, value) in fields {
            entity.insert(name.into(), value);
        }
        if let Some(v) = latest {
            entity.insert("s3ref".into(), s3ref_json(bucket, &v.key));
        }
        if let Some(url) = &self.custom_download_url {
            entity.insert("custom_download_url".into(), url.clone().into());
        }
        let versions = self
            .versions
            .iter()
            .map(|v| {
                serde_json::json!({
                    "s3ref": s3ref_json(bucket, &v.key),
                    "filename": v.filename,
                    "mime_type": v.mime_type,
                    "size_bytes": v.size_bytes,
                    "readable_size": readable_size(v.size_bytes),
                    "etag": v.etag,
                    "created_at": v.created_at,
                })
            })
            .collect();
        entity.insert("versions".into(), Value::Array(versions));
        Value::Object(entity)
    }
}

fn s3ref_json(bucket: &str, key: &str) -> Value {
    serde_json::json!({ "bucket": bucket, "key": key })
}

/// Where a file's bytes can be fetched without a token while it is `public-read`.
pub fn public_url(base: &str, id: Uuid) -> String {
    format!("{base}/v1/files/public/{id}")
}

/// Key of an unsaved upload: `temp/<org>/<upload id>/<filename>`.
pub fn temp_key(org: &OrgId, upload_id: Uuid, filename: &str) -> String {
    format!("{TEMP_PREFIX}{}/{upload_id}/{filename}", org.as_str())
}

/// Key of a saved version: `files/<org>/<file id>/<version id>/<filename>`.
/// The version id is fresh for every save, so concurrent saves never share a key.
pub fn version_key(org: &OrgId, file_id: Uuid, version_id: Uuid, filename: &str) -> String {
    format!(
        "{FILES_PREFIX}{}/{file_id}/{version_id}/{filename}",
        org.as_str()
    )
}

/// The parts of a key under `temp/`, if it has the shape uploads are given.
#[derive(Debug, PartialEq, Eq)]
pub struct TempKey<'a> {
    pub org: &'a str,
    pub upload_id: Uuid,
    pub filename: &'a str,
}

impl<'a> TempKey<'a> {
    pub fn parse(key: &'a str) -> Option<Self> {
        let rest = key.strip_prefix(TEMP_PREFIX)?;
        let mut parts = rest.splitn(3, '/');
        let org = parts.next()?;
        let upload_id = Uuid::parse_str(parts.next()?).ok()?;
        let filename = parts.next()?;
        if org.is_empty() || filename.is_empty() || filename.contains('/') {
            return None;
        }
        Some(TempKey {
            org,
            upload_id,
            filename,
        })
    }
}

/// Checks a client-given filename: it becomes the last segment of an S3 key.
pub fn validate_filename(name: &str) -> Result<()> {
    let fail = |message: &str| Err(Error::invalid("invalid_filename", message));
    if name.trim().is_empty() {
        return fail("filename must not be empty");
    }
    if name.len() > MAX_FILENAME_BYTES {
        return fail("filename must be at most 255 bytes long");
    }
    if name.contains('/') || name.contains('\\') {
        return fail("filename must not contain '/' or '\\'");
    }
    if name.contains("..") || name == "." {
        return fail("filename must not contain '..' or be '.'");
    }
    if name.chars().any(char::is_control) {
        return fail("filename must not contain control characters");
    }
    Ok(())
}

/// Checks a MIME type such as `application/pdf` or `text/plain; charset=utf-8`.
pub fn validate_mime_type(mime: &str) -> Result<()> {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let essence = mime.split(';').next().unwrap_or_default().trim();
    let valid = mime.len() <= 255
        && mime.bytes().all(|b| (0x20..0x7f).contains(&b))
        && matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_mime_type",
            "mime_type must look like type/subtype, e.g. application/pdf",
        ))
    }
}

/// The extension of a filename, lower-cased, without the dot.
fn extension(filename: &str) -> String {
    filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// A MIME type for a filename whose client did not say one.
pub fn guess_mime_type(filename: &str) -> &'static str {
    match extension(filename).as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "heic" => "image/heic",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "rtf" => "application/rtf",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "7z" => "application/x-7z-compressed",
        "rar" => "application/vnd.rar",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The coarse file type shown in the entity's `type`, from MIME type and extension.
pub fn file_type(mime_type: &str, filename: &str) -> &'static str {
    let mime = mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let ext = extension(filename);
    let (top, sub) = mime.split_once('/').unwrap_or(("", ""));
    let any = |words: &[&str]| words.iter().any(|w| sub.contains(w) || ext == *w);
    if any(&[
        "spreadsheet",
        "excel",
        "xls",
        "xlsx",
        "ods",
        "csv",
        "numbers",
    ]) {
        "spreadsheet"
    } else if any(&["presentation", "powerpoint", "ppt", "pptx", "odp", "key"]) {
        "presentation"
    } else if any(&[
        "zip",
        "x-tar",
        "gzip",
        "x-7z-compressed",
        "rar",
        "x-bzip2",
        "tar",
        "gz",
        "7z",
        "tgz",
    ]) {
        "archive"
    } else if top == "font" || any(&["font", "ttf", "otf", "woff", "woff2"]) {
        "font"
    } else if any(&[
        "pdf",
        "msword",
        "wordprocessing",
        "opendocument.text",
        "rtf",
        "doc",
        "docx",
        "odt",
    ]) {
        "document"
    } else if top == "image" {
        "image"
    } else if top == "video" {
        "video"
    } else if top == "audio" {
        "audio"
    } else if top == "text" {
        "text"
    } else if top == "application" && sub != "octet-stream" {
        "application"
    } else {
        "unknown"
    }
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

/// Fields of the File entity that a client's extra attributes may not replace.
const RESERVED_ATTRIBUTES: &[&str] = &[
    "_id",
    "_org",
    "_schema",
    "_title",
    "_created_at",
    "_updated_at",
    "filename",
    "mime_type",
    "type",
    "size_bytes",
    "readable_size",
    "etag",
    "access_control",
    "public_url",
    "s3ref",
    "versions",
    "custom_download_url",
    "source_url",
];

/// Checks the extra attributes of a save: scalar values (or lists of scalars), sane keys.
pub fn validate_attributes(attributes: &Map<String, Value>) -> Result<()> {
    let fail = |message: String| Err(Error::invalid("invalid_attribute", message));
    if attributes.len() > MAX_ATTRIBUTES {
        return fail(format!(
            "at most {MAX_ATTRIBUTES} extra attributes are kept"
        ));
    }
    for (key, value) in attributes {
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key_ok || RESERVED_ATTRIBUTES.contains(&key.as_str()) {
            return fail(format!(
                "attribute name {key:?} is reserved or not of letters, digits, '_' and '-'"
            ));
        }
        let scalar = |v: &Value| {
            matches!(
                v,
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
            )
        };
        let shape_ok = match value {
            Value::Array(items) => items.iter().all(scalar),
            other => scalar(other),
        };
        if !shape_ok {
            return fail(format!(
                "attribute {key:?} must be a string, number, boolean or a list of them"
            ));
        }
        if value.to_string().len() > MAX_ATTRIBUTE_VALUE_BYTES {
            return fail(format!(
                "attribute {key:?} is longer than {MAX_ATTRIBUTE_VALUE_BYTES} bytes"
            ));
        }
    }
    Ok(())
}

/// Characters left as they are in an RFC 5987 `filename*` value.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` for a download: an ASCII fallback plus the exact UTF-8 name.
pub fn content_disposition(filename: &str, attachment: bool) -> String {
    let kind = if attachment { "attachment" } else { "inline" };
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    let exact = utf8_percent_encode(filename, ATTR_CHAR);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_that_would_escape_or_break_a_key_are_refused() {
        for bad in [
            "",
            "   ",
            "a/b.pdf",
            "..",
            "../x",
            "a\\b",
            "x\u{0}y",
            "tab\there",
            ".",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_filename(&"a".repeat(1000)).is_err());
        for good in [
            "example.pdf",
            "Report Q3 \"final\".pdf",
            "Übersicht – 2026.xlsx",
            "日本.txt",
        ] {
            assert!(validate_filename(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn readable_sizes_use_one_decimal_and_roll_over() {
        assert_eq!(readable_size(0), "0 B");
        assert_eq!(readable_size(999), "999 B");
        assert_eq!(readable_size(1_200_000), "1.2 MB");
        assert_eq!(readable_size(999_999), "1.0 MB");
        assert_eq!(readable_size(1_500), "1.5 KB");
    }

    #[test]
    fn types_come_from_mime_and_extension() {
        assert_eq!(file_type("application/pdf", "x.pdf"), "document");
        assert_eq!(file_type("image/png", "x.png"), "image");
        assert_eq!(file_type("text/csv", "x.csv"), "spreadsheet");
        assert_eq!(
            file_type("application/octet-stream", "deck.pptx"),
            "presentation"
        );
        assert_eq!(file_type("application/zip", "x.zip"), "archive");
        assert_eq!(file_type("text/plain", "x.txt"), "text");
        assert_eq!(file_type("application/octet-stream", "blob"), "unknown");
        assert_eq!(file_type("application/json", "x.json"), "application");
        assert_eq!(file_type("font/woff2", "x.woff2"), "font");
    }

    #[test]
    fn mime_types_are_checked() {
        assert!(validate_mime_type("application/pdf").is_ok());
        assert!(validate_mime_type("text/plain; charset=utf-8").is_ok());
        for bad in ["pdf", "/", "a/", "text/plain\r\nX: y", "ä/b"] {
            assert!(validate_mime_type(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn temp_keys_parse_only_in_their_own_shape() {
        let id = Uuid::new_v4();
        let key = format!("temp/org-1/{id}/a b.pdf");
        let parsed = TempKey::parse(&key).unwrap();
        assert_eq!(
            (parsed.org, parsed.upload_id, parsed.filename),
            ("org-1", id, "a b.pdf")
        );
        assert!(TempKey::parse("files/org-1/x/y").is_none());
        assert!(TempKey::parse(&format!("temp/org-1/{id}/")).is_none());
        assert!(TempKey::parse("temp/org-1/not-a-uuid/a.pdf").is_none());
    }

    #[test]
    fn content_disposition_keeps_the_exact_name_and_a_safe_fallback() {
        let header = content_disposition("Q3 \"final\" Übersicht.pdf", true);
        assert_eq!(
            header,
            "attachment; filename=\"Q3 _final_ _bersicht.pdf\"; filename*=UTF-8''Q3%20%22final%22%20%C3%9Cbersicht.pdf"
        );
    }

    #[test]
    fn attributes_must_be_flat() {
        let ok: Map<String, Value> =
            serde_json::from_str(r#"{"a":"x","b":1,"c":true,"_tags":["x"]}"#).unwrap();
        assert!(validate_attributes(&ok).is_ok());
        let nested: Map<String, Value> = serde_json::from_str(r#"{"a":{"b":1}}"#).unwrap();
        assert!(validate_attributes(&nested).is_err());
        let reserved: Map<String, Value> = serde_json::from_str(r#"{"_org":"other"}"#).unwrap();
        assert!(validate_attributes(&reserved).is_err());
    }

    #[test]
    fn org_ids_are_key_safe() {
        assert!(OrgId::parse("123").is_ok());
        assert!(OrgId::parse("acme_corp-1").is_ok());
        for bad in ["", "a/b", "..", "a b", "_public", &"x".repeat(200)] {
            assert!(OrgId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
