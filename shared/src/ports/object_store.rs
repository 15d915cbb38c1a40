//! Bytes in a bucket: presigned URLs for clients, and the few calls the service makes itself.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;

use super::error::StoreResult;

/// What S3 says about a stored object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size_bytes: u64,
    /// Without surrounding quotes.
    pub etag: String,
    pub content_type: Option<String>,
    /// When S3 stored this object, epoch milliseconds.
    pub last_modified_ms: Option<i64>,
    /// The SHA-256 of the whole body (base64) when S3 checked it on the way in: a PUT
    /// that carried a signed `x-amz-checksum-sha256`.
    pub checksum_sha256: Option<String>,
    /// The SHA-256 the uploader declared for the whole body (base64) and nobody has
    /// checked yet: a multipart upload's, kept in the object's metadata.
    pub declared_sha256: Option<String>,
    /// The uploader's metadata (`x-amz-meta-*` but the service's own), decoded.
    pub metadata: BTreeMap<String, String>,
}

/// Response headers a presigned GET makes S3 send.
#[derive(Clone, Debug, Default)]
pub struct ResponseHeaders {
    pub content_disposition: Option<String>,
    pub content_type: Option<String>,
}

impl ResponseHeaders {
    /// The bytes of a file named `filename` of type `mime_type`: saved as that name
    /// (`attachment`) or shown in the browser.
    pub fn for_file(filename: &str, mime_type: &str, attachment: bool) -> Self {
        ResponseHeaders {
            content_disposition: Some(crate::domain::content_disposition(filename, attachment)),
            content_type: Some(mime_type.to_owned()),
        }
    }
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
    /// The body's SHA-256 (base64): S3 refuses a body that does not match it.
    pub checksum_sha256: Option<&'a str>,
    /// User metadata the object gets: signed into the URL's query, so the holder sends
    /// no header for it and cannot change it.
    pub metadata: Option<&'a BTreeMap<String, String>>,
}

impl PutTerms<'_> {
    /// The headers these terms sign into a presigned PUT (lowercase names): the
    /// holder of the URL must send each exactly as given.
    pub fn signed_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(3);
        if let Some(length) = self.content_length {
            headers.push(("content-length", length.to_string()));
        }
        if let Some(content_type) = self.content_type {
            headers.push(("content-type", content_type.to_owned()));
        }
        if let Some(checksum) = self.checksum_sha256 {
            headers.push(("x-amz-checksum-sha256", checksum.to_owned()));
        }
        headers
    }
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
    ) -> impl Future<Output = StoreResult<String>> + Send;

    /// A URL that lets its holder GET the object at `key` until `ttl` passes.
    fn presign_get(
        &self,
        key: &str,
        headers: &ResponseHeaders,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<String>> + Send;

    /// `None` when there is no such object.
    fn head(&self, key: &str) -> impl Future<Output = StoreResult<Option<ObjectMeta>>> + Send;

    /// Server-side copy of `from` to `to`; with `if_match`, only while `from` still has
    /// that ETag, so what was read of it describes what was copied.
    fn copy(
        &self,
        from: &str,
        to: &str,
        if_match: Option<&str>,
    ) -> impl Future<Output = StoreResult<CopyOutcome>> + Send;

    /// Stores a whole body at once; see [`put_stream`](super::put_stream) for bodies
    /// that arrive in pieces.
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> impl Future<Output = StoreResult<ObjectMeta>> + Send;

    /// Bytes `range` of the object at `key` while it still has the ETag `if_match`;
    /// `None` when the object is gone or has another ETag.
    fn get_range(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> impl Future<Output = StoreResult<Option<Bytes>>> + Send;

    /// `None` when there is no such object.
    fn get(&self, key: &str) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;

    /// Deletes every key given; keys that do not exist are not an error.
    fn delete(&self, keys: &[String]) -> impl Future<Output = StoreResult<()>> + Send;

    /// Every key under `prefix`, in key order.
    fn list(&self, prefix: &str) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}
