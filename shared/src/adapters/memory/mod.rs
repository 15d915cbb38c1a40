//! In-memory adapters for unit tests and benchmarks. They pass the same named
//! conformance checks as the S3 and DynamoDB adapters.

mod collections;
mod events;
mod files;
mod store;
mod uploads;
mod webhooks;

use std::sync::{Mutex, MutexGuard};

pub use events::MemoryEvents;
pub use files::MemoryFiles;
pub use store::MemoryStore;
pub use uploads::MemoryUploads;

use crate::ports::Stores;

/// A backend wholly in memory.
pub type MemoryBackend = Stores<MemoryStore, MemoryFiles, MemoryUploads>;

impl MemoryBackend {
    pub fn in_memory(bucket: &str) -> Self {
        let files = MemoryFiles::default();
        Stores {
            store: MemoryStore::new(bucket),
            uploads: MemoryUploads::beside(&files),
            files,
        }
    }
}

/// Every change under these locks is one insert or remove, so a panic while holding
/// one cannot leave a half-written map: a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
