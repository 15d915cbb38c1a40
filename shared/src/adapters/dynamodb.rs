//! The file repository on DynamoDB: one item per file, versions as a list in it.
//!
//! Appending a version is one `UpdateItem` with `list_append`, so concurrent
//! saves of new versions of one file all land.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, FileRecord, PendingUpload, StoredVersion, UploadState};
use crate::error::{Error, Result};
use crate::ports::{FileChange, FileRepository};

/// BatchGetItem takes at most 100 keys.
const BATCH_GET: usize = 100;
/// How often BatchGetItem's unprocessed keys are asked for again.
const BATCH_RETRIES: usize = 5;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoRepository {
    client: Client,
    table: String,
}

impl DynamoRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoRepository {
            client,
            table: table.into(),
        }
    }
}

fn upstream<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let err = Error::upstream(operation, DisplayErrorContext(err));
    tracing::error!(error = %err, "DynamoDB call failed");
    err
}

/// The partition key of a file's item.
pub fn file_pk(id: Uuid) -> String {
    format!("FILE#{id}")
}

fn key(id: Uuid) -> Item {
    HashMap::from([("pk".to_owned(), AttributeValue::S(file_pk(id)))])
}

/// The partition key of an unsaved upload's record.
pub fn upload_pk(key: &str) -> String {
    format!("UPLOAD#{key}")
}

/// Upload records outlive their expiry by this long, then DynamoDB's TTL removes them.
const UPLOAD_RECORD_GRACE_SECS: i64 = 7 * 24 * 3600;

fn upload_to_item(u: &PendingUpload) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(&upload_pk(&u.key))),
        ("kind".to_owned(), s("upload")),
        ("key".to_owned(), s(&u.key)),
        ("org".to_owned(), s(&u.org)),
        ("state".to_owned(), s(u.state.as_str())),
        (
            "created_at_ms".to_owned(),
            AttributeValue::N(u.created_at_ms.to_string()),
        ),
        (
            "expires_at_ms".to_owned(),
            AttributeValue::N(u.expires_at_ms.to_string()),
        ),
        ("sequencer".to_owned(), s(&u.sequencer)),
        (
            "ttl".to_owned(),
            AttributeValue::N((u.expires_at_ms / 1000 + UPLOAD_RECORD_GRACE_SECS).to_string()),
        ),
    ])
}

fn item_to_upload(item: &Item) -> Result<PendingUpload> {
    let bad = |field: &str| {
        Error::upstream(
            "decode upload item",
            format!("field {field} missing or malformed"),
        )
    };
    let text = |field: &str| {
        item.get(field)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| bad(field))
    };
    let number = |field: &str| {
        item.get(field)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| bad(field))
    };
    Ok(PendingUpload {
        key: text("key")?,
        org: text("org")?,
        state: UploadState::parse(&text("state")?).ok_or_else(|| bad("state"))?,
        created_at_ms: number("created_at_ms")?,
        expires_at_ms: number("expires_at_ms")?,
        sequencer: text("sequencer")?,
    })
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn version_to_item(v: &StoredVersion) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("key".to_owned(), s(&v.key)),
        ("filename".to_owned(), s(&v.filename)),
        ("mime_type".to_owned(), s(&v.mime_type)),
        (
            "size_bytes".to_owned(),
            AttributeValue::N(v.size_bytes.to_string()),
        ),
        ("etag".to_owned(), s(&v.etag)),
        ("created_at".to_owned(), s(&v.created_at)),
    ]))
}

fn attributes_json(attributes: &Map<String, Value>) -> AttributeValue {
    s(&Value::Object(attributes.clone()).to_string())
}

fn record_to_item(r: &FileRecord) -> Item {
    let mut item = key(r.id);
    item.insert("kind".into(), s("file"));
    item.insert("id".into(), s(&r.id.to_string()));
    item.insert("org".into(), s(&r.org));
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
    item
}

/// Reads an item back; a malformed item is a storage fault, not a client error.
fn item_to_record(item: &Item) -> Result<FileRecord> {
    let bad = |field: &str| {
        Error::upstream(
            "decode file item",
            format!("field {field} missing or malformed"),
        )
    };
    let text = |m: &Item, field: &str| -> Result<String> {
        m.get(field)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| bad(field))
    };
    let versions = item
        .get("versions")
        .and_then(|v| v.as_l().ok())
        .ok_or_else(|| bad("versions"))?
        .iter()
        .map(|v| {
            let m = v.as_m().map_err(|_| bad("versions[]"))?;
            Ok(StoredVersion {
                key: text(m, "key")?,
                filename: text(m, "filename")?,
                mime_type: text(m, "mime_type")?,
                size_bytes: m
                    .get("size_bytes")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| bad("size_bytes"))?,
                etag: text(m, "etag")?,
                created_at: text(m, "created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let attributes = match item.get("attributes").and_then(|v| v.as_s().ok()) {
        Some(json) => serde_json::from_str(json).map_err(|_| bad("attributes"))?,
        None => Map::new(),
    };
    Ok(FileRecord {
        id: Uuid::parse_str(&text(item, "id")?).map_err(|_| bad("id"))?,
        org: text(item, "org")?,
        created_at: text(item, "created_at")?,
        updated_at: text(item, "updated_at")?,
        filename: text(item, "filename")?,
        mime_type: text(item, "mime_type")?,
        access_control: AccessControl::parse(&text(item, "access_control")?)
            .map_err(|_| bad("access_control"))?,
        custom_download_url: item
            .get("custom_download_url")
            .and_then(|v| v.as_s().ok())
            .cloned(),
        attributes,
        versions,
    })
}

impl FileRepository for DynamoRepository {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| upstream("GetItem", e))?;
        out.item().map(item_to_record).transpose()
    }

    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<FileRecord>> {
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let mut records = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|id| key(*id)).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| Error::upstream("BatchGetItem request", e))?,
            );
            let mut attempts = 0;
            while let Some(keys) = request.take() {
                attempts += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| upstream("BatchGetItem", e))?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                    for item in items {
                        records.push(item_to_record(item)?);
                    }
                }
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() && attempts > BATCH_RETRIES {
                    return Err(Error::upstream(
                        "BatchGetItem",
                        "keys left unprocessed after retries",
                    ));
                }
            }
        }
        Ok(records)
    }

    async fn create(&self, record: &FileRecord) -> Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record_to_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(Error::Conflict(format!(
                    "file {} already exists",
                    record.id
                )))
            }
            Err(e) => Err(upstream("PutItem", e)),
        }
    }

    async fn update_file(&self, id: Uuid, org: &str, change: &FileChange) -> Result<FileRecord> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .condition_expression("attribute_exists(pk) AND #org = :org");
        const SET_METADATA: &str = "SET #filename = :filename, #mime = :mime, #access = :access, \
                                    #attributes = :attributes, #updated = :updated";
        update = match &change.new_version {
            Some(version) => update
                .update_expression(format!(
                    "{SET_METADATA}, #versions = list_append(#versions, :version)"
                ))
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_values(
                    ":version",
                    AttributeValue::L(vec![version_to_item(version)]),
                ),
            None => update.update_expression(SET_METADATA),
        };
        let result = update
            .expression_attribute_names("#filename", "filename")
            .expression_attribute_names("#mime", "mime_type")
            .expression_attribute_names("#access", "access_control")
            .expression_attribute_names("#attributes", "attributes")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#org", "org")
            .expression_attribute_values(":filename", s(&change.filename))
            .expression_attribute_values(":mime", s(&change.mime_type))
            .expression_attribute_values(":access", s(change.access_control.as_str()))
            .expression_attribute_values(":attributes", attributes_json(&change.attributes))
            .expression_attribute_values(":updated", s(&change.updated_at))
            .expression_attribute_values(":org", s(org))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => item_to_record(
                out.attributes()
                    .ok_or_else(|| Error::upstream("UpdateItem", "no attributes returned"))?,
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(Error::not_found(format!("file {id} not found")))
            }
            Err(e) => Err(upstream("UpdateItem", e)),
        }
    }

    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&upload_pk(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| upstream("GetItem", e))?;
        out.item().map(item_to_upload).transpose()
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(upload_to_item(upload)))
            // Events arrive twice and out of order: only a later one replaces the record.
            .condition_expression("attribute_not_exists(pk) OR #sequencer < :sequencer")
            .expression_attribute_names("#sequencer", "sequencer")
            .expression_attribute_values(":sequencer", s(&upload.sequencer))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(upstream("PutItem", e)),
        }
    }

    async fn forget_upload(&self, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&upload_pk(key)))
            .send()
            .await
            .map_err(|e| upstream("DeleteItem", e))?;
        Ok(())
    }

    async fn delete(&self, id: Uuid, org: &str, expected_versions: usize) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .condition_expression(
                "attribute_exists(pk) AND #org = :org AND size(#versions) = :count",
            )
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#versions", "versions")
            .expression_attribute_values(":org", s(org))
            .expression_attribute_values(":count", AttributeValue::N(expected_versions.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                // Tell "gone" from "changed meanwhile" by looking again.
                match self.get(id).await? {
                    Some(r) if r.org == org => Err(Error::Conflict(format!(
                        "file {id} changed while it was being deleted"
                    ))),
                    _ => Err(Error::not_found(format!("file {id} not found"))),
                }
            }
            Err(e) => Err(upstream("DeleteItem", e)),
        }
    }
}
