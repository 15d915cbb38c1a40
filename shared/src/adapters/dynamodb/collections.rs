//! Collections on DynamoDB: one document per scope (`COLLECTIONS#<org>#<scope>`). A
//! scope holds at most `MAX_COLLECTIONS_PER_SCOPE`, well inside an item's 400 KB.

use super::DynamoFiles;
use crate::domain::{CollectionScope, CollectionSet};
use crate::ports::{CollectionStore, StoreResult as Result};

fn collections_pk(org: &str, scope: &CollectionScope) -> String {
    format!("COLLECTIONS#{org}#{}", scope.storage_key())
}

impl CollectionStore for DynamoFiles {
    async fn collections(
        &self,
        org: &str,
        scope: &CollectionScope,
    ) -> Result<Option<CollectionSet>> {
        self.document(&collections_pk(org, scope), "decode collections")
            .await
    }

    async fn put_collections(&self, set: &CollectionSet, read: u64) -> Result<()> {
        let pk = collections_pk(&set.org, &set.scope);
        self.put_document(&pk, "collections", set, set.revision, read)
            .await
    }
}
