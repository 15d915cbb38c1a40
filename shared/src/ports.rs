//! The two ports the service talks through: an object store and a file repository.
//!
//! Each has an AWS adapter (S3, DynamoDB) and an in-memory one; `conformance`
//! holds the one suite every adapter must pass.

use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, FileRecord, PendingUpload, StoredVersion};
use crate::error::Result;

/// What S3 says about a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size_bytes: u64,
    /// Without surrounding quotes.
    pub etag: String,
    pub content_type: Option<String>,
    /// When S3 stored this object, epoch milliseconds.
    pub last_modified_ms: Option<i64>,
}

/// Response headers a presigned GET makes S3 send.
#[derive(Clone, Debug, Default)]
pub struct ResponseHeaders {
    pub content_disposition: Option<String>,
    pub content_type: Option<String>,
}

/// Headers a presigned PUT must carry exactly as given.
#[derive(Clone, Copy, Debug, Default)]
pub struct PutTerms<'a> {
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
}

pub trait ObjectStore: Send + Sync {
    fn bucket(&self) -> &str;

    /// A URL that lets its holder PUT one object at `key` until `ttl` passes, only
    /// with the headers `terms` names (they are signed into the URL).
    fn presign_put(
        &self,
        key: &str,
        terms: &PutTerms<'_>,
        ttl: Duration,
    ) -> impl Future<Output = Result<String>> + Send;

    /// A URL that lets its holder GET the object at `key` until `ttl` passes.
    fn presign_get(
        &self,
        key: &str,
        headers: &ResponseHeaders,
        ttl: Duration,
    ) -> impl Future<Output = Result<String>> + Send;

    /// `None` when there is no such object.
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectMeta>>> + Send;

    /// Server-side copy; `false` when the source does not exist.
    fn copy(&self, from: &str, to: &str) -> impl Future<Output = Result<bool>> + Send;

    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> impl Future<Output = Result<ObjectMeta>> + Send;

    /// `None` when there is no such object.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;

    /// Deletes every key given; keys that do not exist are not an error.
    fn delete(&self, keys: &[String]) -> impl Future<Output = Result<()>> + Send;

    /// Every key under `prefix`, in key order.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>>> + Send;
}

/// What a save changes on an existing file: a new version, or only its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub new_version: Option<StoredVersion>,
    pub filename: String,
    pub mime_type: String,
    pub access_control: AccessControl,
    pub attributes: Map<String, Value>,
    pub updated_at: String,
}

pub trait FileRepository: Send + Sync {
    /// `None` when there is no such file.
    fn get(&self, id: Uuid) -> impl Future<Output = Result<Option<FileRecord>>> + Send;

    /// The files that exist among `ids`, in no particular order.
    fn get_many(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<FileRecord>>> + Send;

    /// Stores a new file; `Conflict` if the id is taken.
    fn create(&self, record: &FileRecord) -> impl Future<Output = Result<()>> + Send;

    /// Applies the change atomically; concurrent changes that add versions all land.
    /// `NotFound` when the file is absent or belongs to another organisation.
    fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
    ) -> impl Future<Output = Result<FileRecord>> + Send;

    /// The record the S3-event function keeps of an unsaved upload, if any.
    fn get_upload(&self, key: &str) -> impl Future<Output = Result<Option<PendingUpload>>> + Send;

    /// Stores what an S3 event says of an upload, unless a record of a later
    /// (or the same) event is already there; answers whether it was stored.
    fn put_upload(&self, upload: &PendingUpload) -> impl Future<Output = Result<bool>> + Send;

    /// Forgets an upload once it is saved.
    fn forget_upload(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Deletes the file if it still has `expected_versions` versions:
    /// `Conflict` if a version was added meanwhile, `NotFound` if it is gone.
    fn delete(
        &self,
        id: Uuid,
        org: &str,
        expected_versions: usize,
    ) -> impl Future<Output = Result<()>> + Send;
}
