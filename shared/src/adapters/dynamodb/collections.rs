//! Collections on DynamoDB: one item per scope (`COLLECTIONS#<org>#<scope>`), its
//! collections as JSON beside a revision that each write checks and raises. A scope
//! holds at most `MAX_COLLECTIONS_PER_SCOPE`, well inside an item's 400 KB.

use super::{n, s, DynamoFiles};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{CollectionScope, CollectionSet};
use crate::ports::{Clash, CollectionStore, StorageError, StoreResult as Result};

fn collections_pk(org: &str, scope: &CollectionScope) -> String {
    format!("COLLECTIONS#{org}#{}", scope.storage_key())
}

impl CollectionStore for DynamoFiles {
    async fn collections(
        &self,
        org: &str,
        scope: &CollectionScope,
    ) -> Result<Option<CollectionSet>> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("pk", s(&collections_pk(org, scope)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let json = item
            .get("collections")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StorageError::internal("decode collections", "collections missing"))?;
        serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StorageError::internal("decode collections", e))
    }

    async fn put_collections(&self, set: &CollectionSet, read: u64) -> Result<()> {
        let json = serde_json::to_string(set)
            .map_err(|e| StorageError::internal("encode collections", e))?;
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item("pk", s(&collections_pk(&set.org, &set.scope)))
            .item("kind", s("collections"))
            .item("revision", n(set.revision))
            .item("collections", s(&json))
            .expression_attribute_names("#revision", "revision");
        let put = if read == 0 {
            put.condition_expression("attribute_not_exists(#revision)")
        } else {
            put.condition_expression("#revision = :read")
                .expression_attribute_values(":read", n(read))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StorageError::Conflict(Clash::CollectionsChanged))
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }
}
