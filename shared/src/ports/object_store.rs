//! Bytes in a bucket: presigned URLs for clients, and the few calls the service makes itself.

use std::future::Future;
use std::time::Duration;

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

/// What a conditional server-side copy did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyOutcome {
    /// Copied; the ETag of the new object, without quotes.
    Copied { etag: String },
    /// There is no object at the source.
    Missing,
    /// The source no longer has the ETag the copy was made on.
    Changed,
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

    /// Server-side copy of `from` to `to`; with `if_match`, only while `from` still has
    /// that ETag, so what was read of it describes what was copied.
    fn copy(
        &self,
        from: &str,
        to: &str,
        if_match: Option<&str>,
    ) -> impl Future<Output = Result<CopyOutcome>> + Send;

    /// Stores a whole body at once; see [`put_stream`](super::put_stream) for bodies
    /// that arrive in pieces.
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
