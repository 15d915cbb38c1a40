//! A malware scan's verdict on one version: the version's map in `versions` gets its
//! scan attributes, found by index and pinned by its key (a version removed meanwhile
//! moves the others: the verdict is then written where its key now is).

use aws_sdk_dynamodb::types::ReturnValue;
use uuid::Uuid;

use super::files::owned_by;
use super::item::{file_key, is_deleting, item_to_record, scan_attributes};
use super::{s, DynamoFiles};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{FileRecord, Scan};
use crate::ports::{StorageError, StoreResult as Result};

/// Tries before a file whose versions keep changing is given up (retried by the event).
const ATTEMPTS: usize = 8;

impl DynamoFiles {
    pub(super) async fn write_scan(
        &self,
        id: Uuid,
        org: &str,
        key: &str,
        scan: &Scan,
    ) -> Result<Option<FileRecord>> {
        for _ in 0..ATTEMPTS {
            let Some(item) = self
                .raw(id)
                .await?
                .filter(|i| owned_by(i, org) && !is_deleting(i))
            else {
                return Ok(None);
            };
            let record = item_to_record(&item)?;
            let Some(index) = record.versions.iter().position(|v| v.key == key) else {
                return Ok(None);
            };
            let mut update = self
                .table
                .client
                .update_item()
                .table_name(&self.table.name)
                .set_key(Some(file_key(id)))
                .expression_attribute_names("#versions", "versions")
                .expression_attribute_names("#key", "key")
                .expression_attribute_names("#deleting", super::item::DELETING)
                .expression_attribute_values(":key", s(key))
                .expression_attribute_values(":count", super::n(record.versions.len()))
                // The count pinned too: whether it is the latest version stays true.
                .condition_expression(format!(
                    "#versions[{index}].#key = :key AND size(#versions) = :count \
                     AND attribute_not_exists(#deleting)"
                ))
                .return_values(ReturnValue::AllNew);
            let mut sets = Vec::new();
            // The latest version's verdict is the file's, for the scan_status filter.
            if index + 1 == record.versions.len() {
                update = update
                    .expression_attribute_names("#latest", super::item::LATEST_SCAN)
                    .expression_attribute_values(":latest", s(scan.status.as_str()));
                sets.push("#latest = :latest".to_owned());
            }
            for (n, (name, value)) in scan_attributes(scan).into_iter().enumerate() {
                update = update
                    .expression_attribute_names(format!("#s{n}"), name)
                    .expression_attribute_values(format!(":s{n}"), value);
                sets.push(format!("#versions[{index}].#s{n} = :s{n}"));
            }
            match update
                .update_expression(format!("SET {}", sets.join(", ")))
                .send()
                .await
            {
                Ok(out) => {
                    let item = out
                        .attributes
                        .ok_or_else(|| StorageError::internal("UpdateItem", "no attributes"))?;
                    return item_to_record(&item).map(Some);
                }
                Err(e) if is_condition_failed(&e) => continue,
                Err(e) => return Err(sdk_error("UpdateItem", e)),
            }
        }
        Err(StorageError::unavailable(
            "record a scan",
            "the file's versions kept changing",
        ))
    }
}
