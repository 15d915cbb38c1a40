//! The trash on DynamoDB. Moving a file there is one conditional UpdateItem: the
//! counter is left alone (a trashed file's bytes still count against the quota, and
//! usage subtracts the trash when read), the order keys go (out of every listing at
//! once), the trash key comes (into `by_org_trash`), and `ttl` becomes the purge time,
//! so DynamoDB's TTL removes the item and the sweeper its bytes. A restore reads the
//! item, then puts the order keys back on condition that it is the same trashing and no
//! delete began: a restore racing a purge wins or loses whole.

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use uuid::Uuid;

use super::files::{owned_by, Counts, Standing, Written};
use super::item::{
    file_key, is_deleting, item_to_record, sort_index, ttl_of, DELETED_AT, DELETED_BY, DELETING,
    LINKS, PURGE_AT, TRASH_KEY,
};
use super::{n, s, DynamoFiles};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{FileRecord, ListSort, Trash};
use crate::ports::{Missing, StorageError, StoreResult as Result};

/// How long the marker that a removal was settled is kept: longer than a stream
/// record lives (24 h), so a redelivered record finds it.
const SETTLED_MARKER_SECS: i64 = 7 * 24 * 3600;

impl DynamoFiles {
    pub(super) async fn trash_file(
        &self,
        id: Uuid,
        org: &str,
        trash: &Trash,
    ) -> Result<FileRecord> {
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#trashed", DELETED_AT)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_names("#tk", TRASH_KEY)
            .expression_attribute_names("#links", LINKS)
            .expression_attribute_values(":org", s(org))
            .expression_attribute_values(":at", s(&trash.deleted_at))
            .expression_attribute_values(":purge", s(&trash.purge_at))
            .expression_attribute_values(":tk", s(&trash.key(id)))
            .expression_attribute_values(":none", AttributeValue::M(Default::default()));
        let mut sets =
            vec!["#trashed = :at, #purge = :purge, #tk = :tk, #links = :none".to_owned()];
        if let Some(by) = &trash.deleted_by {
            sets.push("#by = :by".into());
            update = update
                .expression_attribute_names("#by", DELETED_BY)
                .expression_attribute_values(":by", s(by));
        }
        if let Some(ttl) = ttl_of(&trash.purge_at) {
            sets.push("#ttl = :ttl".into());
            update = update
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":ttl", ttl);
        }
        let mut removes = Vec::new();
        for (i, sort) in ListSort::ALL.into_iter().enumerate() {
            update = update.expression_attribute_names(format!("#k{i}"), sort_index(sort).1);
            removes.push(format!("#k{i}"));
        }
        let result = update
            .update_expression(format!(
                "SET {} REMOVE {}",
                sets.join(", "),
                removes.join(", ")
            ))
            .condition_expression(
                "attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting) \
                 AND attribute_not_exists(#trashed)",
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => item_to_record(&out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failed(&e) => Err(StorageError::NotFound(Missing::File(id))),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    pub(super) async fn restore_file(&self, id: Uuid, org: &str, now: &str) -> Result<FileRecord> {
        let gone = || StorageError::NotFound(Missing::File(id));
        let item = match self.raw(id).await? {
            Some(item) if owned_by(&item, org) && !is_deleting(&item) => item,
            _ => return Err(gone()),
        };
        let mut record = item_to_record(&item)?;
        let trash_key = match &record.trash {
            Some(trash) if record.is_in_trash(now) => trash.key(id),
            _ => return Err(gone()),
        };
        record.trash = None;
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#trashed", DELETED_AT)
            .expression_attribute_names("#by", DELETED_BY)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_names("#tk", TRASH_KEY)
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":tk", s(&trash_key));
        let mut sets = Vec::new();
        for (i, sort) in ListSort::ALL.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#k{i}"), sort_index(sort).1)
                .expression_attribute_values(format!(":k{i}"), s(&sort.key_of(&record)));
            sets.push(format!("#k{i} = :k{i}"));
        }
        let mut removes = vec!["#trashed", "#by", "#purge", "#tk"];
        // Back to the file's own end, if it has one.
        match record.expires_at.as_deref().and_then(ttl_of) {
            Some(ttl) => {
                sets.push("#ttl = :ttl".into());
                update = update.expression_attribute_values(":ttl", ttl);
            }
            None => removes.push("#ttl"),
        }
        let result = update
            .update_expression(format!(
                "SET {} REMOVE {}",
                sets.join(", "),
                removes.join(", ")
            ))
            .condition_expression("attribute_not_exists(#deleting) AND #tk = :tk")
            .send()
            .await;
        match result {
            Ok(_) => Ok(record),
            Err(e) if is_condition_failed(&e) => Err(gone()),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    /// A trashed file without an end is still in the counter; once DynamoDB's TTL
    /// removed it, it leaves, in one transaction with a marker that it did.
    pub(super) async fn settle_removed_file(&self, removed: &FileRecord) -> Result<()> {
        let Some(trash) = &removed.trash else {
            return Ok(());
        };
        let counts = Counts::of(&Standing::of_record(removed));
        if counts.is_zero() {
            return Ok(());
        }
        let expires = crate::time::Clock::system().now_millis() / 1000 + SETTLED_MARKER_SECS;
        let marker = Put::builder()
            .table_name(&self.table.name)
            .item(
                "pk",
                s(&format!("SETTLED#{}#{}", removed.id, trash.deleted_at)),
            )
            .item("kind", s("settled"))
            .item("ttl", n(expires))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StorageError::internal("TransactWriteItems request", e))?;
        let written = self
            .write(
                TransactWriteItem::builder().put(marker).build(),
                &removed.org,
                counts.negated(),
                0,
                &[],
            )
            .await?;
        match written {
            // Settled before: this is a redelivered record.
            Written::Done | Written::FileConditionFailed => Ok(()),
        }
    }
}
