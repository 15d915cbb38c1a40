//! Documents: one item holding a JSON value beside a revision that each write checks and
//! raises (collections, webhooks, delivery logs). Small, read whole, written whole.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{n, s, DynamoFiles};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::ports::{Clash, StorageError, StoreResult as Result};

const BODY: &str = "document";

impl DynamoFiles {
    /// The document at `pk`, if any.
    pub(super) async fn document<T: DeserializeOwned>(
        &self,
        pk: &str,
        what: &'static str,
    ) -> Result<Option<T>> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        // Collections written before documents were shared kept theirs as `collections`.
        let json = item
            .get(BODY)
            .or_else(|| item.get("collections"))
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StorageError::internal(what, "document missing"))?;
        serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StorageError::internal(what, e))
    }

    /// Stores `value` at `pk` as `revision` if the stored one is still `read` (0: none).
    pub(super) async fn put_document<T: Serialize>(
        &self,
        pk: &str,
        kind: &'static str,
        value: &T,
        revision: u64,
        read: u64,
    ) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|e| StorageError::internal(kind, e))?;
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item("pk", s(pk))
            .item("kind", s(kind))
            .item("revision", n(revision))
            .item(BODY, s(&json))
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
                Err(StorageError::Conflict(Clash::DocumentChanged))
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }
}
