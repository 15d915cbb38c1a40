//! Collections in a map, each scope's set written back whole on its revision.

use super::files::MemoryFiles;
use super::lock;
use crate::domain::{CollectionScope, CollectionSet};
use crate::ports::{Clash, CollectionStore, StorageError, StoreResult as Result};

impl CollectionStore for MemoryFiles {
    async fn collections(
        &self,
        org: &str,
        scope: &CollectionScope,
    ) -> Result<Option<CollectionSet>> {
        let state = lock(&self.state);
        Ok(state
            .collections
            .get(&(org.to_owned(), scope.storage_key()))
            .cloned())
    }

    async fn put_collections(&self, set: &CollectionSet, read: u64) -> Result<()> {
        let mut state = lock(&self.state);
        let key = (set.org.clone(), set.scope.storage_key());
        let stored = state.collections.get(&key).map_or(0, |s| s.revision);
        if stored != read {
            return Err(StorageError::Conflict(Clash::DocumentChanged));
        }
        state.collections.insert(key, set.clone());
        Ok(())
    }
}
