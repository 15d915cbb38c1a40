//! Records of unsaved uploads on DynamoDB.

use super::item::{item_to_upload, upload_attributes, upload_pk};
use super::{s, DynamoUploads};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::PendingUpload;
use crate::ports::StoreResult as Result;
use crate::ports::UploadRecords;

impl UploadRecords for DynamoUploads {
    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(&self.0.name)
            .key("pk", s(&upload_pk(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item().map(item_to_upload).transpose()?.flatten())
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        // An update, not a put: a save's claim on the same item must survive the event.
        let attributes = upload_attributes(upload);
        let assignments: Vec<String> = (0..attributes.len())
            .map(|i| format!("#a{i} = :a{i}"))
            .collect();
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.name)
            .key("pk", s(&upload_pk(&upload.key)))
            .update_expression(format!("SET {}", assignments.join(", ")))
            // Events arrive twice and out of order: only a later one replaces the record.
            .condition_expression("attribute_not_exists(#sequencer) OR #sequencer < :sequencer")
            .expression_attribute_names("#sequencer", "sequencer")
            .expression_attribute_values(":sequencer", s(&upload.sequencer));
        for (i, (name, value)) in attributes.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value);
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }
}
