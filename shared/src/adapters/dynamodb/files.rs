//! File entities on DynamoDB. Every write is one transaction: the file's item, the
//! organisation's usage counter (files without an end: their count, versions and
//! bytes, with the quota as its condition) and the claim of a saved upload. Appending a
//! version is `list_append`, so concurrent saves of new versions of one file all land.

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use uuid::Uuid;

use super::item::{
    attributes_json, file_key, is_deleting, is_hidden, item_to_record, listing_attributes,
    record_to_item, size_attributes, sort_index, ttl_of, upload_pk, usage_pk, version_to_item,
    CLAIM_LIFETIME_SECS, DELETED_AT, DELETING, EXPIRES_AT, EXPIRY_KEY, INGEST_JOB, LAST_VERSION_AT,
    STATUS, STATUS_CODE, STATUS_REASON, TRASH_KEY,
};
use super::{n, s, DynamoFiles, Item};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{FileFilters, FileQuery, FileRecord, FileStatus, ListSort, PublicLink, Trash};
use crate::ports::{Clash, Missing, StorageError, StoreResult as Result};
use crate::ports::{
    Counted, FileChange, FileRepository, IngestStep, Page, PageRequest, UploadClaim, Usage,
};
use crate::time::Clock;

/// BatchGetItem takes at most 100 keys.
const BATCH_GET: usize = 100;
/// How often BatchGetItem's unprocessed keys are asked for again.
const BATCH_RETRIES: usize = 5;

impl FileRepository for DynamoFiles {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        self.raw(id)
            .await?
            .filter(|item| !is_hidden(item))
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
                    .map_err(|e| StorageError::internal("BatchGetItem request", e))?,
            );
            let mut attempts = 0;
            while let Some(keys) = request.take() {
                attempts += 1;
                let out = self
                    .table
                    .client
                    .batch_get_item()
                    .request_items(&self.table.name, keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", e))?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.table.name)) {
                    for item in items.iter().filter(|item| !is_hidden(item)) {
                        records.push(item_to_record(item)?);
                    }
                }
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table.name))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() && attempts > BATCH_RETRIES {
                    return Err(StorageError::unavailable(
                        "BatchGetItem",
                        "keys left unprocessed after retries",
                    ));
                }
            }
        }
        Ok(records)
    }

    async fn list(
        &self,
        org: &str,
        query: &FileQuery,
        page: &PageRequest,
    ) -> Result<Page<FileRecord>> {
        self.list_page(org, query, page).await
    }

    async fn count(&self, org: &str, filters: &FileFilters, now: &str) -> Result<Counted> {
        self.count_files(org, filters, now).await
    }

    async fn usage(&self, org: &str, now: &str) -> Result<Usage> {
        Ok(self.usage_of(org, now).await?.0)
    }

    async fn create(&self, record: &FileRecord, claim: Option<UploadClaim<'_>>) -> Result<()> {
        let put = Put::builder()
            .table_name(&self.table.name)
            .set_item(Some(record_to_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StorageError::internal("TransactWriteItems request", e))?;
        let added = Counts::of(&Standing::of_record(record));
        let written = self
            .write(
                TransactWriteItem::builder().put(put).build(),
                &record.org,
                added,
                added.bytes.max(0) as u64,
                claim.as_slice(),
            )
            .await?;
        match written {
            Written::Done => Ok(()),
            Written::FileConditionFailed => Err(taken(record.id)),
        }
    }

    async fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claims: &[UploadClaim<'_>],
    ) -> Result<FileChange> {
        let mut stored = change.clone();
        // A batch's versions are each later than the one before.
        stored.restamp_after(None);
        // How the file stands decides what the counter gains. Unread, the common case
        // is assumed (a file without an end that has versions) and made the write's
        // condition; a file that may lose its place in the counter is read first.
        let mut standing = match change.expires_at {
            Some(_) => Some(self.standing(id, org, change).await?),
            None => None,
        };
        for _ in 0..TIMESTAMP_ATTEMPTS {
            let (update, delta) = self.file_update(id, org, &stored, standing.as_ref())?;
            let written = self
                .write(
                    TransactWriteItem::builder().update(update).build(),
                    org,
                    delta,
                    stored.added_bytes(),
                    claims,
                )
                .await?;
            if let Written::Done = written {
                return Ok(stored);
            }
            // Gone, frozen for a delete, another organisation's, standing otherwise than
            // assumed, or a later version landed meanwhile: look, then give up or try
            // again as it stands.
            let item = self.standing_item(id, org, change).await?;
            let last = item
                .get(LAST_VERSION_AT)
                .and_then(|v| v.as_s().ok())
                .cloned();
            stored.restamp_after(last.as_deref());
            standing = Standing::of_item(&item)?.unless_assumed(change);
        }
        Err(StorageError::unavailable(
            "UpdateItem",
            "versions kept landing ahead of this one; retry",
        ))
    }

    async fn set_scan(
        &self,
        id: Uuid,
        org: &str,
        key: &str,
        scan: &crate::domain::Scan,
    ) -> Result<Option<FileRecord>> {
        self.write_scan(id, org, key, scan).await
    }

    async fn remove_version(
        &self,
        id: Uuid,
        org: &str,
        index: usize,
        key: &str,
        now: &str,
    ) -> Result<FileRecord> {
        for _ in 0..TIMESTAMP_ATTEMPTS {
            let item = match self.raw(id).await? {
                Some(item) if !is_hidden(&item) && owned_by(&item, org) => item,
                _ => return Err(StorageError::NotFound(Missing::File(id))),
            };
            let mut record = item_to_record(&item)?;
            if record.versions.len() == 1 {
                return Err(StorageError::Conflict(Clash::OnlyVersion));
            }
            if record.versions.get(index).map(|v| v.key.as_str()) != Some(key) {
                return Err(StorageError::Conflict(Clash::VersionsChanged));
            }
            let standing = Standing::of_record(&record);
            record.versions.remove(index);
            record.updated_at = now.to_owned();
            let delta = Counts::of(&Standing::of_record(&record)).minus(Counts::of(&standing));
            let update = Update::builder()
                .table_name(&self.table.name)
                .set_key(Some(file_key(id)))
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_names("#org", "org")
                .expression_attribute_names("#deleting", DELETING)
                .expression_attribute_names("#trashed", DELETED_AT)
                .expression_attribute_names("#updated", "updated_at")
                .expression_attribute_values(":key", s(key))
                .expression_attribute_values(":org", s(org))
                .expression_attribute_values(":updated", s(now));
            let mut sets = vec!["#updated = :updated".to_owned()];
            let derived = listing_attributes(&record)
                .into_iter()
                .chain(size_attributes(&record));
            let update = set_derived(update, &mut sets, derived);
            // The version count pinned, so the index still names this version.
            let (update, pinned) = standing.pin(update);
            let update = update
                .update_expression(format!("SET {} REMOVE #versions[{index}]", sets.join(", ")))
                .condition_expression(format!(
                    "attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed)                      AND #versions[{index}].#key = :key AND {pinned}"
                ))
                .expression_attribute_names("#key", "key")
                .build()
                .map_err(|e| StorageError::internal("TransactWriteItems request", e))?;
            match self
                .write(
                    TransactWriteItem::builder().update(update).build(),
                    org,
                    delta,
                    0,
                    &[],
                )
                .await?
            {
                Written::Done => return Ok(record),
                Written::FileConditionFailed => continue,
            }
        }
        Err(StorageError::unavailable(
            "TransactWriteItems",
            "the file kept changing while its version was removed; retry",
        ))
    }

    async fn add_link(&self, id: Uuid, org: &str, link: &PublicLink) -> Result<()> {
        self.add_public_link(id, org, link).await
    }

    async fn remove_link(&self, id: Uuid, org: &str, link_id: &str) -> Result<()> {
        self.remove_public_link(id, org, link_id).await
    }

    async fn touch_link(&self, id: Uuid, link_id: &str, at: &str) -> Result<()> {
        self.touch_public_link(id, link_id, at).await
    }

    async fn trash(&self, id: Uuid, org: &str, trash: &Trash) -> Result<FileRecord> {
        self.trash_file(id, org, trash).await
    }

    async fn restore(&self, id: Uuid, org: &str, now: &str) -> Result<FileRecord> {
        self.restore_file(id, org, now).await
    }

    async fn list_trash(&self, org: &str, page: &PageRequest) -> Result<Page<FileRecord>> {
        self.trash_page(org, page).await
    }

    async fn count_trash(&self, org: &str, now: &str) -> Result<Counted> {
        self.count_trashed(org, now).await
    }

    async fn settle_removed(&self, removed: &FileRecord) -> Result<()> {
        self.settle_removed_file(removed).await
    }

    async fn begin_delete(&self, id: Uuid, org: &str) -> Result<FileRecord> {
        for _ in 0..TIMESTAMP_ATTEMPTS {
            let item = match self.raw(id).await? {
                Some(item) if owned_by(&item, org) => item,
                _ => return Err(StorageError::NotFound(Missing::File(id))),
            };
            let record = item_to_record(&item)?;
            // A delete that began before goes on where it stopped.
            if is_deleting(&item) {
                return Ok(record);
            }
            let standing = Standing::of_item(&item)?;
            let mut removes = vec!["#list_key".to_owned(), "#ek".to_owned(), "#tk".to_owned()];
            let mut update = Update::builder()
                .table_name(&self.table.name)
                .set_key(Some(file_key(id)))
                .expression_attribute_names("#deleting", DELETING)
                .expression_attribute_names("#org", "org")
                .expression_attribute_names("#list_key", "list_key")
                .expression_attribute_names("#ek", EXPIRY_KEY)
                .expression_attribute_names("#tk", TRASH_KEY)
                .expression_attribute_values(":now", s(&Clock::system().now_rfc3339()))
                .expression_attribute_values(":org", s(org));
            // Hidden from every index at once; frozen for saves by the attribute.
            for (i, sort) in [ListSort::UpdatedAt, ListSort::Filename, ListSort::SizeBytes]
                .into_iter()
                .enumerate()
            {
                update = update.expression_attribute_names(format!("#k{i}"), sort_index(sort).1);
                removes.push(format!("#k{i}"));
            }
            let (update, pinned) = standing.pin(update);
            let update = update
                .update_expression(format!(
                    "SET #deleting = :now REMOVE {}",
                    removes.join(", ")
                ))
                .condition_expression(format!(
                    "attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting) AND {pinned}"
                ))
                .build()
                .map_err(|e| StorageError::internal("TransactWriteItems request", e))?;
            let removed = Counts::of(&standing).negated();
            match self
                .write(
                    TransactWriteItem::builder().update(update).build(),
                    org,
                    removed,
                    0,
                    &[],
                )
                .await?
            {
                Written::Done => return Ok(record),
                Written::FileConditionFailed => continue,
            }
        }
        Err(StorageError::unavailable(
            "TransactWriteItems",
            "the file kept changing while its delete began; retry",
        ))
    }

    async fn finish_delete(&self, id: Uuid, org: &str) -> Result<()> {
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
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
            Err(e) if is_condition_failed(&e) => Err(StorageError::NotFound(Missing::File(id))),
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }
}

/// How a conditional write ended, when it did not fail outright.
pub(super) enum Written {
    Done,
    /// The file's own condition did not hold (the claim's or the quota's failing is an error).
    FileConditionFailed,
}

/// How often a write is tried again after the file turned out otherwise than assumed.
/// Each failure means another write landed, so this bounds the concurrent saves of one
/// file that all land.
const TIMESTAMP_ATTEMPTS: usize = 16;
/// How often a transaction that met another on the same item (the usage counter, most
/// often) is tried again, after a growing, jittered pause.
const CONFLICT_ATTEMPTS: u32 = 8;

fn taken(id: Uuid) -> StorageError {
    StorageError::Conflict(Clash::FileExists(id))
}

pub(super) fn owned_by(item: &Item, org: &str) -> bool {
    item.get("org")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        == Some(org)
}

/// What the usage counter holds of a file: only files without an end are in it (usage
/// adds the others up when read), and only listed ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    files: i64,
    versions: i64,
    bytes: i64,
}

impl Counts {
    pub(super) fn of(standing: &Standing) -> Counts {
        if standing.ending || !standing.listed {
            return Counts::default();
        }
        Counts {
            files: 1,
            versions: standing.versions as i64,
            bytes: standing.bytes as i64,
        }
    }

    pub(super) fn negated(self) -> Counts {
        Counts {
            files: -self.files,
            versions: -self.versions,
            bytes: -self.bytes,
        }
    }

    fn minus(self, other: Counts) -> Counts {
        Counts {
            files: self.files - other.files,
            versions: self.versions - other.versions,
            bytes: self.bytes - other.bytes,
        }
    }

    pub(super) fn is_zero(self) -> bool {
        self == Counts::default()
    }
}

/// What the counter needs to know of a stored file.
#[derive(Clone, Copy, Debug)]
pub(super) struct Standing {
    /// It has an `expires_at`.
    ending: bool,
    /// It has bytes or is external.
    listed: bool,
    versions: u64,
    bytes: u64,
}

impl Standing {
    pub(super) fn of_record(r: &FileRecord) -> Standing {
        Standing {
            ending: r.expires_at.is_some(),
            listed: !r.versions.is_empty() || r.custom_download_url.is_some(),
            versions: r.versions.len() as u64,
            bytes: r.stored_bytes(),
        }
    }

    fn of_item(item: &Item) -> Result<Standing> {
        Ok(Standing::of_record(&item_to_record(item)?))
    }

    /// `None` where the unread assumption holds for `change`, so the retried write is not
    /// pinned to a number of versions that concurrent saves keep changing.
    fn unless_assumed(self, change: &FileChange) -> Option<Standing> {
        let assumed = change.expires_at.is_none()
            && (change.new_versions.is_empty() || (self.versions > 0 && !self.ending));
        (!assumed).then_some(self)
    }

    /// The standing after `change`.
    fn after(&self, change: &FileChange) -> Standing {
        let added = &change.new_versions;
        Standing {
            ending: self.ending || change.expires_at.is_some(),
            listed: self.listed || !added.is_empty(),
            versions: self.versions + added.len() as u64,
            bytes: self.bytes + change.added_bytes(),
        }
    }

    /// A condition that holds only while the file stands so (its end, its number of
    /// versions; versions never change, so the bytes follow).
    fn pin(&self, update: UpdateBuilder) -> (UpdateBuilder, &'static str) {
        let update = update
            .expression_attribute_names("#pin_versions", "versions")
            .expression_attribute_names("#pin_expires", EXPIRES_AT)
            .expression_attribute_values(":pin_versions", n(self.versions));
        let condition = if self.ending {
            "size(#pin_versions) = :pin_versions AND attribute_exists(#pin_expires)"
        } else {
            "size(#pin_versions) = :pin_versions AND attribute_not_exists(#pin_expires)"
        };
        (update, condition)
    }
}

type UpdateBuilder = aws_sdk_dynamodb::types::builders::UpdateBuilder;

/// `SET`s of the attributes that follow from a file (`#d0 = :d0, ...`), added to `sets`.
fn set_derived(
    mut update: UpdateBuilder,
    sets: &mut Vec<String>,
    derived: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> UpdateBuilder {
    for (i, (name, value)) in derived.into_iter().enumerate() {
        update = update
            .expression_attribute_names(format!("#d{i}"), name)
            .expression_attribute_values(format!(":d{i}"), value);
        sets.push(format!("#d{i} = :d{i}"));
    }
    update
}

impl DynamoFiles {
    /// The item as stored, tombstone or not.
    pub(super) async fn raw(&self, id: Uuid) -> Result<Option<Item>> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item)
    }

    /// The item of a file `org` may change: `NotFound` when gone, frozen or another's;
    /// `Conflict` when the change ends a fetch that is no longer the file's.
    async fn standing_item(&self, id: Uuid, org: &str, change: &FileChange) -> Result<Item> {
        match self.raw(id).await? {
            Some(item) if !is_hidden(&item) && owned_by(&item, org) => {
                if let Some(IngestStep::Finish { job, .. }) = &change.ingest {
                    let current_job = item.get(INGEST_JOB).and_then(|v| v.as_s().ok());
                    if current_job != Some(&job.to_string()) {
                        return Err(StorageError::Conflict(Clash::SupersededFetch(id)));
                    }
                }
                Ok(item)
            }
            _ => Err(StorageError::NotFound(Missing::File(id))),
        }
    }

    async fn standing(&self, id: Uuid, org: &str, change: &FileChange) -> Result<Standing> {
        Standing::of_item(&self.standing_item(id, org, change).await?)
    }

    /// The update of a change (only on a visible file of `org`, a new version only after
    /// the latest one, the end of a fetch only while it is the file's fetch), and what
    /// the counter gains by it. Without a `standing`, the file is assumed to be without
    /// an end and to have versions, and the update's condition says so.
    fn file_update(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        standing: Option<&Standing>,
    ) -> Result<(Update, Counts)> {
        // What the listing attributes follow from, as the change leaves them.
        let listed_as = FileRecord {
            id,
            filename: change.filename.clone(),
            mime_type: change.mime_type.clone(),
            attributes: change.attributes.clone(),
            updated_at: change.updated_at.clone(),
            versions: change.new_versions.clone(),
            ..FileRecord::default()
        };
        let mut update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .expression_attribute_names("#filename", "filename")
            .expression_attribute_names("#mime", "mime_type")
            .expression_attribute_names("#access", "access_control")
            .expression_attribute_names("#attributes", "attributes")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#trashed", DELETED_AT)
            .expression_attribute_values(":filename", s(&change.filename))
            .expression_attribute_values(":mime", s(&change.mime_type))
            .expression_attribute_values(":access", s(change.access_control.as_str()))
            .expression_attribute_values(":attributes", attributes_json(&change.attributes))
            .expression_attribute_values(":updated", s(&change.updated_at))
            .expression_attribute_values(":org", s(org));
        let mut sets = vec!["#filename = :filename, #mime = :mime, #access = :access, \
             #attributes = :attributes, #updated = :updated"
            .to_owned()];
        let mut derived = listing_attributes(&listed_as);
        if !change.new_versions.is_empty() {
            derived.extend(size_attributes(&listed_as));
        }
        update = set_derived(update, &mut sets, derived);
        let mut removes = Vec::new();
        let mut conditions = vec![
            "attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed)".to_owned(),
        ];
        if let (Some(first), Some(last)) = (change.new_versions.first(), change.new_versions.last())
        {
            sets.push("#versions = list_append(#versions, :versions), #last = :last".into());
            conditions.push("(attribute_not_exists(#last) OR #last < :first)".into());
            update = update
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_names("#last", LAST_VERSION_AT)
                .expression_attribute_values(
                    ":versions",
                    AttributeValue::L(change.new_versions.iter().map(version_to_item).collect()),
                )
                .expression_attribute_values(":first", s(&first.created_at))
                .expression_attribute_values(":last", s(&last.created_at));
        }
        let delta = match standing {
            Some(standing) => {
                let (pinned, condition) = standing.pin(update);
                update = pinned;
                conditions.push(condition.into());
                Counts::of(&standing.after(change)).minus(Counts::of(standing))
            }
            // Without a version or an end, the counter gains nothing however it stands.
            None if change.new_versions.is_empty() => Counts::default(),
            None => {
                update = update.expression_attribute_names("#assumed_expires", EXPIRES_AT);
                conditions.push(
                    "attribute_exists(#last) AND attribute_not_exists(#assumed_expires)".into(),
                );
                Counts {
                    files: 0,
                    versions: change.new_versions.len() as i64,
                    bytes: change.added_bytes() as i64,
                }
            }
        };
        if let Some(at) = &change.expires_at {
            sets.push("#expires = :expires, #ek = :ek".into());
            update = update
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_names("#ek", EXPIRY_KEY)
                .expression_attribute_values(":expires", s(at))
                .expression_attribute_values(":ek", s(&format!("{at}#{id}")));
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
                .expression_attribute_names("#code", STATUS_CODE)
                .expression_attribute_names("#job", INGEST_JOB);
            match step {
                IngestStep::Begin { job } => {
                    sets.push("#status = :status, #job = :job".into());
                    removes.push("#reason");
                    removes.push("#code");
                    update = update
                        .expression_attribute_values(":status", s(FileStatus::Pending.as_str()))
                        .expression_attribute_values(":job", s(&job.to_string()));
                }
                IngestStep::Finish { job, failure } => {
                    conditions.push("#job = :job".into());
                    removes.push("#job");
                    update = update.expression_attribute_values(":job", s(&job.to_string()));
                    update = match failure {
                        Some(failed) => {
                            sets.push("#status = :status, #reason = :reason, #code = :code".into());
                            update
                                .expression_attribute_values(
                                    ":status",
                                    s(FileStatus::Failed.as_str()),
                                )
                                .expression_attribute_values(":reason", s(&failed.reason))
                                .expression_attribute_values(":code", s(failed.kind.as_str()))
                        }
                        None => {
                            sets.push("#status = :status".into());
                            removes.push("#reason");
                            removes.push("#code");
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
        let update = update
            .update_expression(expression)
            .condition_expression(conditions.join(" AND "))
            .build()
            .map_err(|e| StorageError::internal("TransactWriteItems request", e))?;
        Ok((update, delta))
    }

    /// The change of the usage counter, with the quota as its condition when `added`
    /// bytes come in; `None` when there is nothing to change or check.
    async fn usage_update(&self, org: &str, delta: Counts, added: u64) -> Result<Option<Update>> {
        let quota = self.quotas.for_org(org).filter(|_| added > 0);
        if delta.is_zero() && quota.is_none() {
            return Ok(None);
        }
        let mut update = Update::builder()
            .table_name(&self.table.name)
            .key("pk", s(&usage_pk(org)))
            .update_expression("SET #kind = :kind, #org = :org ADD #files :files, #versions :versions, #bytes :bytes")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#org", "usage_org")
            .expression_attribute_names("#files", "files")
            .expression_attribute_names("#versions", "versions")
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":kind", s("usage"))
            .expression_attribute_values(":org", s(org))
            .expression_attribute_values(":files", n(delta.files))
            .expression_attribute_values(":versions", n(delta.versions))
            .expression_attribute_values(":bytes", n(delta.bytes));
        if let Some(quota) = quota {
            // The counter holds files without an end; those with one are added up now.
            let mut read = 0;
            let ending: u64 = self
                .ending(org, &Clock::system().now_rfc3339(), &mut read)
                .await?
                .iter()
                .map(FileRecord::stored_bytes)
                .sum();
            let room = quota as i128 - ending as i128 - added as i128;
            if room < 0 {
                return Err(StorageError::QuotaExceeded { limit: quota });
            }
            update = update
                .condition_expression("attribute_not_exists(#bytes) OR #bytes <= :room")
                .expression_attribute_values(":room", n(room));
        }
        Ok(Some(update.build().map_err(|e| {
            StorageError::internal("TransactWriteItems request", e)
        })?))
    }

    /// The file's write, the counter's change and the upload's claim in one
    /// transaction, tried again while it meets other transactions on the same items.
    pub(super) async fn write(
        &self,
        file_write: TransactWriteItem,
        org: &str,
        delta: Counts,
        added: u64,
        claims: &[UploadClaim<'_>],
    ) -> Result<Written> {
        let usage = self.usage_update(org, delta, added).await?;
        let usage_at = usage.as_ref().map(|_| 1);
        let mut items = vec![file_write];
        items.extend(usage.map(|u| TransactWriteItem::builder().update(u).build()));
        let claims_from = items.len();
        for claim in claims {
            items.push(
                TransactWriteItem::builder()
                    .update(self.claim_update(*claim)?)
                    .build(),
            );
        }
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let result = self
                .table
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Written::Done),
                Err(e) => e,
            };
            let reasons: Vec<Option<String>> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let failed = |index: Option<usize>| {
                index
                    .and_then(|i| reasons.get(i))
                    .and_then(Option::as_deref)
                    == Some("ConditionalCheckFailed")
            };
            if (claims_from..items.len()).any(|i| failed(Some(i))) {
                return Err(StorageError::Conflict(Clash::UploadConsumed));
            }
            if failed(Some(0)) {
                return Ok(Written::FileConditionFailed);
            }
            if failed(usage_at) {
                let quota = self.quotas.for_org(org).unwrap_or_default();
                return Err(StorageError::QuotaExceeded { limit: quota });
            }
            let conflicted = reasons
                .iter()
                .any(|r| r.as_deref() == Some("TransactionConflict"))
                || matches!(
                    err.as_service_error(),
                    Some(TransactWriteItemsError::TransactionInProgressException(_))
                );
            if !conflicted || attempt == CONFLICT_ATTEMPTS {
                return Err(sdk_error("TransactWriteItems", err));
            }
            tokio::time::sleep(conflict_pause(attempt)).await;
        }
        unreachable!("the last attempt returns")
    }

    /// The claim of a saved upload: written once, kept longer than any temp object lives.
    fn claim_update(&self, claim: UploadClaim<'_>) -> Result<Update> {
        let now_secs = Clock::system().now_millis() / 1000;
        Update::builder()
            .table_name(&self.table.name)
            .key("pk", s(&upload_pk(claim.upload_key)))
            .update_expression("SET #by = :file, #ttl = if_not_exists(#ttl, :ttl)")
            .condition_expression("attribute_not_exists(#by)")
            .expression_attribute_names("#by", "consumed_by")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":file", s(&claim.file.to_string()))
            .expression_attribute_values(":ttl", n(now_secs + CLAIM_LIFETIME_SECS))
            .build()
            .map_err(|e| StorageError::internal("TransactWriteItems request", e))
    }
}

/// 10 ms, 20 ms, 40 ms, ... (at most 640 ms), each between half and all of that.
fn conflict_pause(attempt: u32) -> Duration {
    let ceiling = 10u64 << attempt.min(6);
    let jitter = u64::from(Uuid::new_v4().as_u128() as u16) % (ceiling / 2 + 1);
    Duration::from_millis(ceiling / 2 + jitter)
}
