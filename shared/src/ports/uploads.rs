//! Records of unsaved uploads, kept by the S3-event function and read by save.

use std::future::Future;

use super::error::StoreResult;
use crate::domain::PendingUpload;

pub trait UploadRecords: Send + Sync {
    /// The record of an unsaved upload, if any.
    fn get_upload(
        &self,
        key: &str,
    ) -> impl Future<Output = StoreResult<Option<PendingUpload>>> + Send;

    /// Stores what an S3 event says of an upload, unless a record of a later
    /// (or the same) event is already there; answers whether it was stored. Whether the
    /// upload was consumed by a save (`FileRepository`'s claims) is kept as it is.
    fn put_upload(&self, upload: &PendingUpload) -> impl Future<Output = StoreResult<bool>> + Send;
}
