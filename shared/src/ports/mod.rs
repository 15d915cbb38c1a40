//! The ports the service talks through, one per capability: bytes (`ObjectStore`,
//! `MultipartStore`), file entities (`FileRepository`) and records of unsaved uploads
//! (`UploadRecords`). Each has an AWS adapter and an in-memory one; `conformance` holds
//! the named checks every adapter passes. `Backend` bundles one of each, so the
//! service takes a single type parameter.

mod collections;
mod error;
mod events;
mod files;
mod multipart;
mod object_store;
mod preview;
mod uploads;
mod webhooks;

pub use collections::CollectionStore;
pub use error::{Clash, Missing, Refusal, StorageError, StoreResult};
pub use events::{EventSink, OutgoingEvent};
pub use files::{
    quota_message, Counted, Cursor, FetchFailed, FileChange, FileRepository, IngestStep, Page,
    PageRequest, Quotas, UploadClaim, Usage, MAX_PAGE_SIZE,
};
pub use multipart::{
    copy_in_parts, copy_part_size, put_stream, MultipartStore, MultipartTerms, PartTag, MAX_PARTS,
    MAX_PART_BYTES, MIN_PART_BYTES,
};
pub use object_store::{CopyOutcome, ObjectMeta, ObjectStore, PutTerms, ResponseHeaders};
pub use preview::{
    may_preview, DecodeLimits, Fit, ImageFormat, Thumbnail, Thumbnailer, DEFAULT_PREVIEW_WIDTH,
    MAX_PREVIEW_SIDE,
};
pub use uploads::UploadRecords;
pub use webhooks::{Delivery, DeliveryQueue, WebhookStore};

/// Everything the service needs from storage.
pub trait Backend: Send + Sync {
    type Store: ObjectStore + MultipartStore;
    /// File entities, the collections that group them, and the webhooks told of them.
    type Files: FileRepository + CollectionStore + WebhookStore;
    type Uploads: UploadRecords;

    fn store(&self) -> &Self::Store;
    fn files(&self) -> &Self::Files;
    fn uploads(&self) -> &Self::Uploads;
}

/// A backend made of one adapter per port.
#[derive(Clone, Debug)]
pub struct Stores<S, F, U> {
    pub store: S,
    pub files: F,
    pub uploads: U,
}

impl<S, F, U> Backend for Stores<S, F, U>
where
    S: ObjectStore + MultipartStore,
    F: FileRepository + CollectionStore + WebhookStore,
    U: UploadRecords,
{
    type Store = S;
    type Files = F;
    type Uploads = U;

    fn store(&self) -> &S {
        &self.store
    }

    fn files(&self) -> &F {
        &self.files
    }

    fn uploads(&self) -> &U {
        &self.uploads
    }
}
