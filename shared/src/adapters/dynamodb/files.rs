//! File entities on DynamoDB. Appending a version is one `UpdateItem` with
//! `list_append`, so concurrent saves of new versions of one file all land.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use super::item::{
    attributes_json, file_key, is_deleting, item_to_record, record_to_item, ttl_of, upload_pk,
    version_to_item, CLAIM_LIFETIME_SECS, DELETING, EXPIRES_AT, INGEST_JOB, LAST_VERSION_AT,
    LIST_INDEX, STATUS, STATUS_REASON,
};
use super::{n, s, DynamoFiles, Item};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{FileRecord, FileStatus};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    superseded_fetch, Cursor, FileChange, FileRepository, IngestStep, Page, PageRequest,
    UploadClaim, MAX_PAGE_SIZE,
};
use crate::time::later_than;

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
        self.raw(id)
            .await?
            .filter(|item| !is_deleting(item))
            .as_ref()
            .map(item_to_record)
            .transpose()
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
                    for item in items.iter().filter(|item| !is_deleting(item)) {
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
        let mut start = page.after.as_ref().map(|c| start_key(org, c)).transpose()?;
        let mut items = Vec::with_capacity(limit);
        // Files without bytes yet (pending, failed) or past their end are filtered out
        // after the read, so a page may take more than one Query; each reads only as
        // many items as are still missing.
        loop {
            let out = self
                .0
                .client
                .query()
                .table_name(&self.0.name)
                .index_name(LIST_INDEX)
                .key_condition_expression("#org = :org")
                .filter_expression(
                    "(size(#versions) > :zero OR attribute_exists(#external)) \
                     AND (attribute_not_exists(#expires) OR #expires > :now)",
                )
                .expression_attribute_names("#org", "org")
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_names("#external", "custom_download_url")
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_values(":org", s(org))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":now", s(&page.now))
                .scan_index_forward(false)
                .limit((limit - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for item in out.items() {
                items.push(item_to_record(item)?);
            }
            start = out.last_evaluated_key().cloned();
            if items.len() >= limit || start.is_none() {
                break;
            }
        }
        // DynamoDB may answer a full page with a LastEvaluatedKey and nothing after it;
        // the next (empty) page then ends the listing.
        let next = start
            .as_ref()
            .and_then(|key| key.get("list_key"))
            .and_then(|v| v.as_s().ok())
            .map(|key| encode_cursor(key));
        Ok(Page { items, next })
    }

    async fn create(&self, record: &FileRecord, claim: Option<UploadClaim<'_>>) -> Result<()> {
        let condition = "attribute_not_exists(pk)";
        let Some(claim) = claim else {
            let result = self
                .0
                .client
                .put_item()
                .table_name(&self.0.name)
                .set_item(Some(record_to_item(record)))
                .condition_expression(condition)
                .send()
                .await;
            return match result {
                Ok(_) => Ok(()),
                Err(e) if is_condition_failed(&e) => Err(taken(record.id)),
                Err(e) => Err(sdk_error("PutItem", e)),
            };
        };
        let put = Put::builder()
            .table_name(&self.0.name)
            .set_item(Some(record_to_item(record)))
            .condition_expression(condition)
            .build()
            .map_err(|e| Error::internal("TransactWriteItems request", e))?;
        match self
            .transact(TransactWriteItem::builder().put(put).build(), claim)
            .await?
        {
            Written::Done => Ok(()),
            Written::FileConditionFailed => Err(taken(record.id)),
        }
    }

    async fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claim: Option<UploadClaim<'_>>,
    ) -> Result<FileChange> {
        let mut stored = change.clone();
        for _ in 0..TIMESTAMP_ATTEMPTS {
            let update = self.file_update(id, org, &stored);
            let outcome = match claim {
                None => match update.send().await {
                    Ok(_) => Written::Done,
                    Err(e) if is_condition_failed(&e) => Written::FileConditionFailed,
                    Err(e) => return Err(sdk_error("UpdateItem", e)),
                },
                Some(claim) => {
                    let update = update
                        .as_input()
                        .clone()
                        .build()
                        .map_err(|e| Error::internal("TransactWriteItems request", e))?;
                    let update = as_transact_update(update)?;
                    self.transact(TransactWriteItem::builder().update(update).build(), claim)
                        .await?
                }
            };
            if let Written::Done = outcome {
                return Ok(stored);
            }
            // Gone, frozen for a delete, another organisation's, or a later version
            // landed meanwhile: look, then give up or try again after that version.
            let current = self.raw(id).await?;
            let last = match &current {
                Some(item) if !is_deleting(item) && owned_by(item, org) => {
                    if let Some(IngestStep::Finish { job, .. }) = &change.ingest {
                        let current_job = item.get(INGEST_JOB).and_then(|v| v.as_s().ok());
                        if current_job != Some(&job.to_string()) {
                            return Err(superseded_fetch(id));
                        }
                    }
                    item.get(LAST_VERSION_AT)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                }
                _ => return Err(Error::not_found(format!("file {id} not found"))),
            };
            if let Some(version) = &mut stored.new_version {
                version.created_at = later_than(&version.created_at, last.as_deref());
            }
        }
        Err(Error::storage(
            "UpdateItem",
            "versions kept landing ahead of this one; retry",
        ))
    }

    async fn begin_delete(&self, id: Uuid, org: &str) -> Result<FileRecord> {
        let result = self
            .0
            .client
            .update_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
            // Hidden from the listing index at once; frozen for saves by the attribute.
            .update_expression("SET #deleting = if_not_exists(#deleting, :now) REMOVE #list_key")
            .condition_expression("attribute_exists(pk) AND #org = :org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#list_key", "list_key")
            .expression_attribute_names("#org", "org")
            .expression_attribute_values(":now", s(&crate::time::Clock::system().now_rfc3339()))
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

    async fn finish_delete(&self, id: Uuid, org: &str) -> Result<()> {
        let result = self
            .0
            .client
            .delete_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
            .condition_expression(
                "attribute_not_exists(pk) OR (#org = :org AND attribute_exists(#deleting))",
            )
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_values(":org", s(org))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(Error::not_found(format!("file {id} not found")))
            }
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }
}

/// How a conditional write ended, when it did not fail outright.
enum Written {
    Done,
    /// The file's own condition did not hold (the claim's failing is an error).
    FileConditionFailed,
}

/// How often a version is re-stamped after versions landed ahead of it.
const TIMESTAMP_ATTEMPTS: usize = 5;

fn taken(id: Uuid) -> Error {
    Error::conflict(format!("file {id} already exists"))
}

fn owned_by(item: &Item, org: &str) -> bool {
    item.get("org")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        == Some(org)
}

/// An `UpdateItem` request's parts, as a transaction's update.
fn as_transact_update(input: UpdateItemInput) -> Result<Update> {
    Update::builder()
        .set_table_name(input.table_name)
        .set_key(input.key)
        .set_update_expression(input.update_expression)
        .set_condition_expression(input.condition_expression)
        .set_expression_attribute_names(input.expression_attribute_names)
        .set_expression_attribute_values(input.expression_attribute_values)
        .build()
        .map_err(|e| Error::internal("TransactWriteItems request", e))
}

impl DynamoFiles {
    /// The item as stored, tombstone or not.
    async fn raw(&self, id: Uuid) -> Result<Option<Item>> {
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
        Ok(out.item)
    }

    /// The `UpdateItem` of a change: only on a visible file of `org`, a new version only
    /// after the latest one, the end of a fetch only while it is the file's fetch.
    fn file_update(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.name)
            .set_key(Some(file_key(id)))
            .expression_attribute_names("#filename", "filename")
            .expression_attribute_names("#mime", "mime_type")
            .expression_attribute_names("#access", "access_control")
            .expression_attribute_names("#attributes", "attributes")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_values(":filename", s(&change.filename))
            .expression_attribute_values(":mime", s(&change.mime_type))
            .expression_attribute_values(":access", s(change.access_control.as_str()))
            .expression_attribute_values(":attributes", attributes_json(&change.attributes))
            .expression_attribute_values(":updated", s(&change.updated_at))
            .expression_attribute_values(":org", s(org));
        let mut sets = vec!["#filename = :filename, #mime = :mime, #access = :access, \
             #attributes = :attributes, #updated = :updated"
            .to_owned()];
        let mut removes = Vec::new();
        let mut conditions =
            vec!["attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting)"];
        if let Some(version) = &change.new_version {
            sets.push("#versions = list_append(#versions, :version), #last = :created".into());
            conditions.push("(attribute_not_exists(#last) OR #last < :created)");
            update = update
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_names("#last", LAST_VERSION_AT)
                .expression_attribute_values(
                    ":version",
                    AttributeValue::L(vec![version_to_item(version)]),
                )
                .expression_attribute_values(":created", s(&version.created_at));
        }
        if let Some(at) = &change.expires_at {
            sets.push("#expires = :expires".into());
            update = update
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_values(":expires", s(at));
            if let Some(ttl) = ttl_of(at) {
                sets.push("#ttl = :ttl".into());
                update = update
                    .expression_attribute_names("#ttl", "ttl")
                    .expression_attribute_values(":ttl", ttl);
            }
        }
        if let Some(step) = &change.ingest {
            update = update
                .expression_attribute_names("#status", STATUS)
                .expression_attribute_names("#reason", STATUS_REASON)
                .expression_attribute_names("#job", INGEST_JOB);
            match step {
                IngestStep::Begin { job } => {
                    sets.push("#status = :status, #job = :job".into());
                    removes.push("#reason");
                    update = update
                        .expression_attribute_values(":status", s(FileStatus::Pending.as_str()))
                        .expression_attribute_values(":job", s(&job.to_string()));
                }
                IngestStep::Finish { job, failure } => {
                    conditions.push("#job = :job");
                    removes.push("#job");
                    update = update.expression_attribute_values(":job", s(&job.to_string()));
                    update = match failure {
                        Some(reason) => {
                            sets.push("#status = :status, #reason = :reason".into());
                            update
                                .expression_attribute_values(
                                    ":status",
                                    s(FileStatus::Failed.as_str()),
                                )
                                .expression_attribute_values(":reason", s(reason))
                        }
                        None => {
                            sets.push("#status = :status".into());
                            removes.push("#reason");
                            update.expression_attribute_values(
                                ":status",
                                s(FileStatus::Ready.as_str()),
                            )
                        }
                    };
                }
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        update
            .update_expression(expression)
            .condition_expression(conditions.join(" AND "))
    }

    /// The file write and the upload's claim in one transaction.
    async fn transact(
        &self,
        file_write: TransactWriteItem,
        claim: UploadClaim<'_>,
    ) -> Result<Written> {
        let now_secs = crate::time::Clock::system().now_millis() / 1000;
        let claim_update = Update::builder()
            .table_name(&self.0.name)
            .key("pk", s(&upload_pk(claim.upload_key)))
            .update_expression("SET #by = :file, #ttl = if_not_exists(#ttl, :ttl)")
            .condition_expression("attribute_not_exists(#by)")
            .expression_attribute_names("#by", "consumed_by")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":file", s(&claim.file.to_string()))
            .expression_attribute_values(":ttl", n(now_secs + CLAIM_LIFETIME_SECS))
            .build()
            .map_err(|e| Error::internal("TransactWriteItems request", e))?;
        let result = self
            .0
            .client
            .transact_write_items()
            .transact_items(file_write)
            .transact_items(TransactWriteItem::builder().update(claim_update).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Written::Done),
            Err(e) => e,
        };
        let failed = |index: usize| match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                cancelled
                    .cancellation_reasons()
                    .get(index)
                    .and_then(|r| r.code())
                    == Some("ConditionalCheckFailed")
            }
            _ => false,
        };
        if failed(1) {
            Err(UploadClaim::consumed())
        } else if failed(0) {
            Ok(Written::FileConditionFailed)
        } else {
            Err(sdk_error("TransactWriteItems", err))
        }
    }
}
