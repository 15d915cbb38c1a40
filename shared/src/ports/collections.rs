//! File collections: each scope's collections stored together, written back whole on
//! condition that nobody wrote them meanwhile.

use std::future::Future;

use super::error::StoreResult;
use crate::domain::{CollectionScope, CollectionSet};

pub trait CollectionStore: Send + Sync {
    /// The collections of `scope` in `org`; `None` when it has never had any.
    fn collections(
        &self,
        org: &str,
        scope: &CollectionScope,
    ) -> impl Future<Output = StoreResult<Option<CollectionSet>>> + Send;

    /// Stores `set` (its `revision` one more than `read`'s) if the stored set is still
    /// at revision `read` (0: none stored). `Conflict` otherwise; then nothing changed.
    fn put_collections(
        &self,
        set: &CollectionSet,
        read: u64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
