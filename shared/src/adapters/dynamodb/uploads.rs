//! Records of unsaved uploads on DynamoDB.

use super::item::{item_to_upload, upload_pk, upload_to_item};
use super::{s, DynamoUploads};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::PendingUpload;
use crate::error::Result;
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
        out.item().map(item_to_upload).transpose()
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        let result = self
            .0
            .client
            .put_item()
            .table_name(&self.0.name)
            .set_item(Some(upload_to_item(upload)))
            // Events arrive twice and out of order: only a later one replaces the record.
            .condition_expression("attribute_not_exists(pk) OR #sequencer < :sequencer")
            .expression_attribute_names("#sequencer", "sequencer")
            .expression_attribute_values(":sequencer", s(&upload.sequencer))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    async fn forget_upload(&self, key: &str) -> Result<()> {
        self.0
            .client
            .delete_item()
            .table_name(&self.0.name)
            .key("pk", s(&upload_pk(key)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }
}
