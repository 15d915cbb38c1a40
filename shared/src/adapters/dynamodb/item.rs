//! How records are written as DynamoDB items, and read back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{n, s, Item};
use crate::domain::{
    file_type, latest_scan, listed_size, related_ids_of, relation_tags_of, tags_of, AccessControl,
    FetchFailure, FileRecord, FileStatus, ListSort, PendingUpload, PublicLink, Scan, ScanStatus,
    StoredVersion, Trash, UploadState,
};
use crate::ports::{StorageError, StoreResult as Result};

/// The index that lists an organisation's files by creation: partition `org`, sort
/// `list_key` (`<created_at>#<id>`). Upload records have no `list_key`, so they are
/// not in it.
pub const LIST_INDEX: &str = "by_org_created";

/// The index of each order and the attribute it sorts by (its value is
/// [`ListSort::key_of`]). Each is sparse: a delete removes the attribute at once.
pub fn sort_index(sort: ListSort) -> (&'static str, &'static str) {
    match sort {
        ListSort::CreatedAt => (LIST_INDEX, "list_key"),
        ListSort::UpdatedAt => ("by_org_updated", "updated_key"),
        ListSort::Filename => ("by_org_filename", "name_key"),
        ListSort::SizeBytes => ("by_org_size", "size_key"),
    }
}

/// The files of an organisation that end, by end (`<expires_at>#<id>`): usage adds up
/// the live ones, since the counter holds only files without an end.
pub const EXPIRY_INDEX: &str = "by_org_expiry";
pub(super) const EXPIRY_KEY: &str = "expiry_key";

/// An organisation's trash, the newest deleted first: partition `org`, sort
/// [`crate::domain::Trash::key`]. Sparse: only trashed files have the key.
pub const TRASH_INDEX: &str = "by_org_trash";
pub(super) const TRASH_KEY: &str = "trash_key";
/// Set while a file is in the trash (its `deleted_at`), with who deleted it and when it
/// is purged; DynamoDB's TTL then removes it, and the sweeper its bytes.
pub(super) const DELETED_AT: &str = "deleted_at";
pub(super) const DELETED_BY: &str = "deleted_by";
pub(super) const PURGE_AT: &str = "purge_at";

/// The partition key of an organisation's usage counter.
pub fn usage_pk(org: &str) -> String {
    format!("USAGE#{org}")
}

/// What filters read: the lowercased filename, the coarse type, the latest size, the
/// `_tags` and the ids of the `relations`.
pub(super) const FILENAME_LC: &str = "filename_lc";
pub(super) const FILE_TYPE: &str = "file_type";
pub(super) const SIZE_BYTES: &str = "size_bytes";
pub(super) const TAGS: &str = "tags";
pub(super) const RELATED_IDS: &str = "related_ids";
/// Each tag of each relation, with its entity (`RelationTag::joined`): collections.
pub(super) const RELATION_TAGS: &str = "relation_tags";

/// The attributes that follow from a file's name, type, attributes and update time,
/// written with every change (its size ones only with a new version).
pub(super) fn listing_attributes(r: &FileRecord) -> Vec<(&'static str, AttributeValue)> {
    let list = |values: Vec<&str>| AttributeValue::L(values.into_iter().map(s).collect());
    vec![
        (
            sort_index(ListSort::UpdatedAt).1,
            s(&ListSort::UpdatedAt.key_of(r)),
        ),
        (
            sort_index(ListSort::Filename).1,
            s(&ListSort::Filename.key_of(r)),
        ),
        (FILENAME_LC, s(&r.filename.to_lowercase())),
        (FILE_TYPE, s(file_type(&r.mime_type, &r.filename))),
        (TAGS, list(tags_of(r).collect())),
        (RELATED_IDS, list(related_ids_of(r).collect())),
        (
            RELATION_TAGS,
            AttributeValue::L(relation_tags_of(r).map(|t| s(&t)).collect()),
        ),
    ]
}

/// The attributes that follow from a file's latest version.
pub(super) fn size_attributes(r: &FileRecord) -> Vec<(&'static str, AttributeValue)> {
    vec![
        (
            sort_index(ListSort::SizeBytes).1,
            s(&ListSort::SizeBytes.key_of(r)),
        ),
        (SIZE_BYTES, n(listed_size(r))),
        (LATEST_SCAN, s(latest_scan(r).as_str())),
    ]
}

/// The latest version's scan status, for the `scan_status` filter (absent on items
/// written before scanning: not scanned).
pub(super) const LATEST_SCAN: &str = "latest_scan";

/// The partition key of a file's item.
pub fn file_pk(id: Uuid) -> String {
    format!("FILE#{id}")
}

/// The partition key of an unsaved upload's record.
pub fn upload_pk(key: &str) -> String {
    format!("UPLOAD#{key}")
}

/// The `created_at` of a file's latest version: each new one must be later.
pub(super) const LAST_VERSION_AT: &str = "last_version_at";
/// Set when a file's delete begins: the file is hidden and frozen from then on.
pub(super) const DELETING: &str = "deleting";
/// The fetch from a URL that may still end a file, and how the latest one stands.
pub(super) const INGEST_JOB: &str = "ingest_job";
pub(super) const STATUS: &str = "status";
pub(super) const STATUS_REASON: &str = "status_reason";
/// The kind of a failed fetch (`FetchFailure`), beside its reason.
pub(super) const STATUS_CODE: &str = "status_code";
pub(super) const EXPIRES_AT: &str = "expires_at";
/// A file's public links: a map from link id to `{created_at, last_accessed_at?}`.
pub(super) const LINKS: &str = "links";

/// The table's TTL attribute for a file that ends at `expires_at`: DynamoDB removes the
/// item soon after, and the stream of that removal drives the sweeper.
pub(super) fn ttl_of(expires_at: &str) -> Option<AttributeValue> {
    crate::time::parse_rfc3339(expires_at).map(|ms| n(ms.div_euclid(1000) + 1))
}

/// Whether a file item's delete has begun.
pub(super) fn is_deleting(item: &Item) -> bool {
    item.contains_key(DELETING)
}

/// Whether a file item is out of sight: being deleted, or in the trash.
pub(super) fn is_hidden(item: &Item) -> bool {
    is_deleting(item) || item.contains_key(DELETED_AT)
}

pub(super) fn file_key(id: Uuid) -> Item {
    HashMap::from([("pk".to_owned(), s(&file_pk(id)))])
}

/// Upload records outlive their expiry by this long, then DynamoDB's TTL removes them.
const UPLOAD_RECORD_GRACE_SECS: i64 = 7 * 24 * 3600;

/// A stored item that does not decode: the table holds what this code did not write.
fn malformed(what: &'static str, field: &str) -> StorageError {
    StorageError::internal(what, format!("field {field} missing or malformed"))
}

fn text(item: &Item, field: &str, what: &'static str) -> Result<String> {
    item.get(field)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| malformed(what, field))
}

fn number<T: std::str::FromStr>(item: &Item, field: &str, what: &'static str) -> Result<T> {
    item.get(field)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| malformed(what, field))
}

/// What an S3 event says of an upload, as the attributes of its record (which may
/// also hold a save's claim, which these leave alone).
pub(super) fn upload_attributes(u: &PendingUpload) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("kind", s("upload")),
        ("key", s(&u.key)),
        ("org", s(&u.org)),
        ("state", s(u.state.as_str())),
        ("created_at_ms", n(u.created_at_ms)),
        ("expires_at_ms", n(u.expires_at_ms)),
        ("sequencer", s(&u.sequencer)),
        ("ttl", n(u.expires_at_ms / 1000 + UPLOAD_RECORD_GRACE_SECS)),
    ]
}

/// How long a claim is kept: longer than any temp object lives (the lifecycle rule
/// removes them within two days), so a consumed upload is never saved again.
pub(super) const CLAIM_LIFETIME_SECS: i64 = UPLOAD_RECORD_GRACE_SECS + 2 * 24 * 3600;

/// The event record of an unsaved upload; `None` when no S3 event has been recorded, or
/// a save consumed the upload (it is no longer pending).
pub(super) fn item_to_upload(item: &Item) -> Result<Option<PendingUpload>> {
    const WHAT: &str = "decode upload item";
    if !item.contains_key("sequencer") || item.contains_key("consumed_by") {
        return Ok(None);
    }
    Ok(Some(PendingUpload {
        key: text(item, "key", WHAT)?,
        org: text(item, "org", WHAT)?,
        state: UploadState::parse(&text(item, "state", WHAT)?)
            .ok_or_else(|| malformed(WHAT, "state"))?,
        created_at_ms: number(item, "created_at_ms", WHAT)?,
        expires_at_ms: number(item, "expires_at_ms", WHAT)?,
        sequencer: text(item, "sequencer", WHAT)?,
    }))
}

pub(super) fn version_to_item(v: &StoredVersion) -> AttributeValue {
    let mut item = HashMap::from([
        ("key".to_owned(), s(&v.key)),
        ("filename".to_owned(), s(&v.filename)),
        ("mime_type".to_owned(), s(&v.mime_type)),
        ("size_bytes".to_owned(), n(v.size_bytes)),
        ("etag".to_owned(), s(&v.etag)),
        ("created_at".to_owned(), s(&v.created_at)),
    ]);
    if let Some(sum) = &v.checksum_sha256 {
        item.insert("checksum_sha256".to_owned(), s(sum));
    }
    if let Some(at) = &v.uploaded_at {
        item.insert("uploaded_at".to_owned(), s(at));
    }
    if let Some(by) = &v.uploaded_by {
        item.insert("uploaded_by".to_owned(), s(by));
    }
    if !v.metadata.is_empty() {
        let metadata = v.metadata.iter().map(|(k, v)| (k.clone(), s(v))).collect();
        item.insert("metadata".to_owned(), AttributeValue::M(metadata));
    }
    if let Some(scan) = &v.scan {
        item.extend(scan_attributes(scan));
    }
    AttributeValue::M(item)
}

/// A version's scan, as the attributes of its map in `versions`.
pub(super) fn scan_attributes(scan: &Scan) -> Vec<(String, AttributeValue)> {
    let mut attributes = vec![(SCAN_STATUS.to_owned(), s(scan.status.as_str()))];
    if let Some(at) = &scan.scanned_at {
        attributes.push((SCANNED_AT.to_owned(), s(at)));
    }
    if let Some(verdict) = &scan.verdict {
        attributes.push((SCAN_VERDICT.to_owned(), s(verdict)));
    }
    attributes
}

pub(super) const SCAN_STATUS: &str = "scan_status";
pub(super) const SCANNED_AT: &str = "scanned_at";
pub(super) const SCAN_VERDICT: &str = "scan_verdict";

pub(super) fn attributes_json(attributes: &Map<String, Value>) -> AttributeValue {
    s(&Value::Object(attributes.clone()).to_string())
}

pub(super) fn record_to_item(r: &FileRecord) -> Item {
    let mut item = file_key(r.id);
    item.insert("kind".into(), s("file"));
    item.insert("id".into(), s(&r.id.to_string()));
    item.insert("org".into(), s(&r.org));
    item.insert("list_key".into(), s(&ListSort::CreatedAt.key_of(r)));
    for (name, value) in listing_attributes(r).into_iter().chain(size_attributes(r)) {
        item.insert(name.into(), value);
    }
    if let Some(latest) = r.latest() {
        item.insert(LAST_VERSION_AT.into(), s(&latest.created_at));
    }
    item.insert("created_at".into(), s(&r.created_at));
    item.insert("updated_at".into(), s(&r.updated_at));
    item.insert("filename".into(), s(&r.filename));
    item.insert("mime_type".into(), s(&r.mime_type));
    item.insert("access_control".into(), s(r.access_control.as_str()));
    if let Some(url) = &r.custom_download_url {
        item.insert("custom_download_url".into(), s(url));
    }
    item.insert("attributes".into(), attributes_json(&r.attributes));
    item.insert(
        "versions".into(),
        AttributeValue::L(r.versions.iter().map(version_to_item).collect()),
    );
    item.insert(STATUS.into(), s(r.status.as_str()));
    if let Some(reason) = &r.status_reason {
        item.insert(STATUS_REASON.into(), s(reason));
    }
    if let Some(failure) = r.failure {
        item.insert(STATUS_CODE.into(), s(failure.as_str()));
    }
    if let Some(job) = r.ingest_job {
        item.insert(INGEST_JOB.into(), s(&job.to_string()));
    }
    if let Some(at) = &r.expires_at {
        item.insert(EXPIRES_AT.into(), s(at));
        item.insert(EXPIRY_KEY.into(), s(&format!("{at}#{}", r.id)));
        if let Some(ttl) = ttl_of(at) {
            item.insert("ttl".into(), ttl);
        }
    }
    if let Some(trash) = &r.trash {
        // Out of every order's index while in the trash.
        for sort in ListSort::ALL {
            item.remove(sort_index(sort).1);
        }
        item.insert(DELETED_AT.into(), s(&trash.deleted_at));
        if let Some(by) = &trash.deleted_by {
            item.insert(DELETED_BY.into(), s(by));
        }
        item.insert(PURGE_AT.into(), s(&trash.purge_at));
        item.insert(TRASH_KEY.into(), s(&trash.key(r.id)));
        if let Some(ttl) = ttl_of(&trash.purge_at) {
            item.insert("ttl".into(), ttl);
        }
    }
    item.insert(
        LINKS.into(),
        AttributeValue::M(
            r.public_links
                .iter()
                .map(|l| (l.id.clone(), link_to_item(l)))
                .collect(),
        ),
    );
    item
}

pub(super) fn link_to_item(link: &PublicLink) -> AttributeValue {
    let mut item = HashMap::from([("created_at".to_owned(), s(&link.created_at))]);
    if let Some(at) = &link.last_accessed_at {
        item.insert("last_accessed_at".to_owned(), s(at));
    }
    AttributeValue::M(item)
}

/// A file's links, oldest first (items written before links existed have none).
fn links_of(item: &Item) -> Result<Vec<PublicLink>> {
    const WHAT: &str = "decode file item";
    let Some(links) = item.get(LINKS) else {
        return Ok(Vec::new());
    };
    let links = links.as_m().map_err(|_| malformed(WHAT, LINKS))?;
    let mut links = links
        .iter()
        .map(|(id, link)| {
            let m = link.as_m().map_err(|_| malformed(WHAT, "links{}"))?;
            Ok(PublicLink {
                id: id.clone(),
                created_at: text(m, "created_at", WHAT)?,
                last_accessed_at: optional_text(m, "last_accessed_at"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    links.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(links)
}

fn optional_text(item: &Item, field: &str) -> Option<String> {
    item.get(field).and_then(|v| v.as_s().ok()).cloned()
}

/// Reads an item back; a malformed item is the service's fault, not the client's.
pub(super) fn item_to_record(item: &Item) -> Result<FileRecord> {
    const WHAT: &str = "decode file item";
    let versions = item
        .get("versions")
        .and_then(|v| v.as_l().ok())
        .ok_or_else(|| malformed(WHAT, "versions"))?
        .iter()
        .map(|v| {
            let m = v.as_m().map_err(|_| malformed(WHAT, "versions[]"))?;
            Ok(StoredVersion {
                key: text(m, "key", WHAT)?,
                filename: text(m, "filename", WHAT)?,
                mime_type: text(m, "mime_type", WHAT)?,
                size_bytes: number(m, "size_bytes", WHAT)?,
                etag: text(m, "etag", WHAT)?,
                created_at: text(m, "created_at", WHAT)?,
                checksum_sha256: optional_text(m, "checksum_sha256"),
                uploaded_at: optional_text(m, "uploaded_at"),
                uploaded_by: optional_text(m, "uploaded_by"),
                metadata: match m.get("metadata").map(AttributeValue::as_m) {
                    None => Default::default(),
                    Some(Ok(entries)) => entries
                        .iter()
                        .map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                        .collect::<Option<_>>()
                        .ok_or_else(|| malformed(WHAT, "versions[].metadata"))?,
                    Some(Err(_)) => return Err(malformed(WHAT, "versions[].metadata")),
                },
                scan: match optional_text(m, SCAN_STATUS) {
                    None => None,
                    Some(status) => Some(Scan {
                        status: ScanStatus::parse(&status)
                            .ok_or_else(|| malformed(WHAT, "versions[].scan_status"))?,
                        scanned_at: optional_text(m, SCANNED_AT),
                        verdict: optional_text(m, SCAN_VERDICT),
                    }),
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let attributes = match item.get("attributes").and_then(|v| v.as_s().ok()) {
        Some(json) => serde_json::from_str(json).map_err(|_| malformed(WHAT, "attributes"))?,
        None => Map::new(),
    };
    // Items written before fetches existed have no status: they are ready.
    let status = match optional_text(item, STATUS) {
        Some(status) => FileStatus::parse(&status).ok_or_else(|| malformed(WHAT, STATUS))?,
        None => FileStatus::Ready,
    };
    Ok(FileRecord {
        id: Uuid::parse_str(&text(item, "id", WHAT)?).map_err(|_| malformed(WHAT, "id"))?,
        org: text(item, "org", WHAT)?,
        created_at: text(item, "created_at", WHAT)?,
        updated_at: text(item, "updated_at", WHAT)?,
        filename: text(item, "filename", WHAT)?,
        mime_type: text(item, "mime_type", WHAT)?,
        access_control: AccessControl::parse(&text(item, "access_control", WHAT)?)
            .map_err(|_| malformed(WHAT, "access_control"))?,
        custom_download_url: optional_text(item, "custom_download_url"),
        attributes,
        versions,
        status,
        failure: (status == FileStatus::Failed)
            .then(|| FetchFailure::parse(optional_text(item, STATUS_CODE).as_deref())),
        status_reason: optional_text(item, STATUS_REASON),
        ingest_job: optional_text(item, INGEST_JOB)
            .map(|job| Uuid::parse_str(&job).map_err(|_| malformed(WHAT, INGEST_JOB)))
            .transpose()?,
        expires_at: optional_text(item, EXPIRES_AT),
        public_links: links_of(item)?,
        trash: match optional_text(item, DELETED_AT) {
            Some(deleted_at) => Some(Trash {
                deleted_at,
                deleted_by: optional_text(item, DELETED_BY),
                purge_at: text(item, PURGE_AT, WHAT)?,
            }),
            None => None,
        },
    })
}

/// A file as a stream record's image shows it (DynamoDB's JSON: `{"S": ...}`), with
/// whether its delete had begun; `None` for other items or an image that does not decode.
pub fn file_of_stream_image(
    image: &HashMap<String, serde_json::Value>,
) -> Option<(FileRecord, bool)> {
    let item = item_of_stream_image(image, "file")?;
    Some((item_to_record(&item).ok()?, is_deleting(&item)))
}

/// The unsaved upload a stream image holds: `None` for any other item, and for an
/// upload a save consumed.
pub fn upload_of_stream_image(image: &HashMap<String, serde_json::Value>) -> Option<PendingUpload> {
    item_to_upload(&item_of_stream_image(image, "upload")?).ok()?
}

/// A stream image as an item, if it is one of `kind`.
fn item_of_stream_image(image: &HashMap<String, serde_json::Value>, kind: &str) -> Option<Item> {
    let item: Item = image
        .iter()
        .map(|(k, v)| Some((k.clone(), attribute_of_json(v)?)))
        .collect::<Option<_>>()?;
    let its_kind = item.get("kind").and_then(|v| v.as_s().ok());
    (its_kind.map(String::as_str) == Some(kind)).then_some(item)
}

fn attribute_of_json(value: &serde_json::Value) -> Option<AttributeValue> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    Some(match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str()?.to_owned()),
        "N" => AttributeValue::N(inner.as_str()?.to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(
            inner
                .as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
        "L" => AttributeValue::L(
            inner
                .as_array()?
                .iter()
                .map(attribute_of_json)
                .collect::<Option<_>>()?,
        ),
        "M" => AttributeValue::M(
            inner
                .as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), attribute_of_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// A file as a stream image would show it (for tests of what reads streams).
pub fn stream_image_of_file(record: &FileRecord) -> HashMap<String, serde_json::Value> {
    stream_image_of_item(&record_to_item(record))
}

/// An unsaved upload's record as a stream image would show it.
pub fn stream_image_of_upload(upload: &PendingUpload) -> HashMap<String, serde_json::Value> {
    let item: Item = upload_attributes(upload)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    stream_image_of_item(&item)
}

fn stream_image_of_item(item: &Item) -> HashMap<String, serde_json::Value> {
    item.iter()
        .filter_map(|(k, v)| Some((k.clone(), json_of_attribute(v)?)))
        .collect()
}

/// DynamoDB's JSON of an attribute (the types the adapter writes).
fn json_of_attribute(value: &AttributeValue) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(list) => json!({ "SS": list }),
        AttributeValue::L(list) => {
            json!({ "L": list.iter().map(json_of_attribute).collect::<Option<Vec<_>>>()? })
        }
        AttributeValue::M(map) => json!({ "M": map
            .iter()
            .map(|(k, v)| Some((k.clone(), json_of_attribute(v)?)))
            .collect::<Option<serde_json::Map<_, _>>>()? }),
        _ => return None,
    })
}
