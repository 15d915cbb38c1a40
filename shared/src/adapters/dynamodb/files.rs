//! File entities on DynamoDB. Appending a version is one `UpdateItem` with
//! `list_append`, so concurrent saves of new versions of one file all land.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use super::item::{
    attributes_json, file_key, item_to_record, list_key, record_to_item, version_to_item,
    LIST_INDEX,
};
use super::{n, s, DynamoFiles, Item};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::FileRecord;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Cursor, FileChange, FileRepository, Page, PageRequest, MAX_PAGE_SIZE};

/// BatchGetItem takes at most 100 keys.
const BATCH_GET: usize = 100;
/// How often BatchGetItem's unprocessed keys are asked for again.
const BATCH_RETRIES: usize = 5;

/// A page ends after the item whose `list_key` the cursor holds.
fn encode_cursor(list_key: &str) -> Cursor {
    Cursor(URL_SAFE_NO_PAD.encode(list_key))
}

/// The index key to start after, from a cursor this adapter made.
fn start_key(org: &str, cursor: &Cursor) -> Result<Item> {
    let invalid = || Error::new(ErrorCode::InvalidQuery, "the cursor is not valid");
    let raw = URL_SAFE_NO_PAD.decode(&cursor.0).map_err(|_| invalid())?;
    let list_key = String::from_utf8(raw).map_err(|_| invalid())?;
    let id = list_key
        .rsplit_once('#')
        .and_then(|(_, id)| Uuid::parse_str(id).ok())
        .ok_or_else(invalid)?;
    let mut key = file_key(id);
    key.insert("org".into(), s(org));
    key.insert("list_key".into(), s(&list_key));
    Ok(key)
}

impl FileRepository for DynamoFiles {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
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
                    .set_keys(Some(chunk.iter().map(|id| file_key(*id)).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| Error::internal("BatchGetItem request", e))?,
            );
            let mut attempts = 0;
            while let Some(keys) = request.take() {
                attempts += 1;
                let out = self
                    .0
                    .client
                    .batch_get_item()
                    .request_items(&self.0.name, keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", e))?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.0.name)) {
                    for item in items {
                        records.push(item_to_record(item)?);
                    }
                }
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.0.name))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() && attempts > BATCH_RETRIES {
                    return Err(Error::storage(
                        "BatchGetItem",
                        "keys left unprocessed after retries",
                    ));
                }
            }
        }
        Ok(records)
    }

    async fn list(&self, org: &str, page: &PageRequest) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        let start = page.after.as_ref().map(|c| start_key(org, c)).transpose()?;
        let out = self
            .0
            .client
            .query()
            .table_name(&self.0.name)
            .index_name(LIST_INDEX)
            .key_condition_expression("#org = :org")
            .expression_attribute_names("#org", "org")
            .expression_attribute_values(":org", s(org))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        let items = out
            .items()
            .iter()
            .map(item_to_record)
            .collect::<Result<Vec<_>>>()?;
        // DynamoDB may answer a full page with a LastEvaluatedKey and nothing after it;
        // the next (empty) page then ends the listing.
        let next = match (out.last_evaluated_key(), items.last()) {
            (Some(_), Some(last)) => Some(encode_cursor(&list_key(&last.created_at, last.id))),
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn create(&self, record: &FileRecord) -> Result<()> {
        let result = self
            .0
            .client
            .put_item()
            .table_name(&self.0.name)
            .set_item(Some(record_to_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(Error::conflict(format!(
                "file {} already exists",
                record.id
            ))),
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    async fn update_file(&self, id: Uuid, org: &str, change: &FileChange) -> Result<FileRecord> {
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
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
                    .ok_or_else(|| Error::storage("UpdateItem", "no attributes returned"))?,
            ),
            Err(e) if is_condition_failed(&e) => {
                Err(Error::not_found(format!("file {id} not found")))
            }
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    async fn delete(&self, id: Uuid, org: &str, expected_versions: usize) -> Result<()> {
        let result = self
            .0
            .client
            .delete_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
            .condition_expression(
                "attribute_exists(pk) AND #org = :org AND size(#versions) = :count",
            )
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#versions", "versions")
            .expression_attribute_values(":org", s(org))
            .expression_attribute_values(":count", n(expected_versions))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                // Tell "gone" from "changed meanwhile" by looking again.
                match self.get(id).await? {
                    Some(r) if r.org == org => Err(Error::conflict(format!(
                        "file {id} changed while it was being deleted"
                    ))),
                    _ => Err(Error::not_found(format!("file {id} not found"))),
                }
            }
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }
}
