//! Documents written back whole on their revision (collections, webhooks, delivery
//! logs): read, change, write if nobody wrote meanwhile, else again as they now are.

use std::future::Future;

use crate::error::{Error, ErrorCode, Result};
use crate::ports::StoreResult;

/// How often a change is tried again after another change of the same document landed.
const WRITE_ATTEMPTS: usize = 8;

/// A document's revision: 0 before it was first stored.
pub(crate) trait Revised {
    fn revision(&self) -> u64;
    fn set_revision(&mut self, revision: u64);
}

/// Reads the document (`read`), lets `change` change it, and stores it (`put`, given the
/// revision read) one revision on; `what` names it when it kept changing.
pub(crate) async fn revise<D, T, R, P>(
    what: &'static str,
    read: impl Fn() -> R,
    put: impl Fn(D, u64) -> P,
    change: impl Fn(&mut D) -> Result<T>,
) -> Result<T>
where
    D: Revised,
    R: Future<Output = Result<D>>,
    P: Future<Output = StoreResult<()>>,
{
    for _ in 0..WRITE_ATTEMPTS {
        let mut document = read().await?;
        let read = document.revision();
        let answer = change(&mut document)?;
        document.set_revision(read + 1);
        match put(document, read).await {
            Ok(()) => return Ok(answer),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorCode::StorageUnavailable,
        format!("the {what} kept changing meanwhile; retry"),
    ))
}

macro_rules! revised {
    ($($document:ty),*) => {$(
        impl Revised for $document {
            fn revision(&self) -> u64 {
                self.revision
            }
            fn set_revision(&mut self, revision: u64) {
                self.revision = revision;
            }
        }
    )*};
}

revised!(
    crate::domain::CollectionSet,
    crate::domain::WebhookSet,
    crate::domain::DeliveryLog
);
