//! The object store on Amazon S3 (or any endpoint that speaks its protocol).

use std::ops::Range;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use bytes::Bytes;
use percent_encoding::{
    percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC,
};

use super::sdk::{is_condition_failed, is_not_found, sdk_error};
use crate::ports::{CopyOutcome, ObjectMeta, ObjectStore, PutTerms, ResponseHeaders};
use crate::ports::{StorageError, StoreResult as Result};

mod multipart;
use crate::presign::{PresignRequest, Presigner, S3Endpoint, SigningCredentials};

/// S3 allows at most this many keys in one DeleteObjects call.
const DELETE_BATCH: usize = 1000;

#[derive(Clone)]
pub struct S3Store {
    client: Client,
    credentials: SharedCredentialsProvider,
    bucket: String,
    /// Made on first use from the client's own endpoint, region and credentials.
    presigner: Arc<RwLock<Option<Arc<CachedPresigner>>>>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

struct CachedPresigner {
    presigner: Presigner,
    /// When the credentials it signs with expire (never, for Lambda's environment credentials).
    renew_after: Option<SystemTime>,
}

/// A key only used to read the endpoint off an SDK-presigned URL.
const PROBE_KEY: &str = "presign-probe";

impl S3Store {
    /// `credentials` are the ones `client` was built with.
    pub fn new(
        client: Client,
        credentials: SharedCredentialsProvider,
        bucket: impl Into<String>,
    ) -> Self {
        S3Store {
            client,
            credentials,
            bucket: bucket.into(),
            presigner: Arc::default(),
        }
    }

    /// The fast presigner, made (or renewed before its credentials expire) as needed.
    async fn presigner(&self) -> Result<Arc<CachedPresigner>> {
        if let Some(cached) = self
            .presigner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if cached.renew_after.is_none_or(|t| SystemTime::now() < t) {
                return Ok(cached.clone());
            }
        }
        let config = self.client.config();
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| StorageError::unavailable("presign credentials", e))?;
        let region = config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        // The SDK's endpoint rules decide the host and addressing style; read them once.
        let probe = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(PROBE_KEY)
            .presigned(presigning(Duration::from_secs(60))?)
            .await
            .map_err(|e| sdk_error("presign GetObject", e))?;
        let endpoint = S3Endpoint::from_presigned(probe.uri(), PROBE_KEY).ok_or_else(|| {
            StorageError::internal(
                "presign",
                format!("unexpected presigned URL {}", probe.uri()),
            )
        })?;
        let cached = Arc::new(CachedPresigner {
            presigner: Presigner::new(
                endpoint,
                SigningCredentials {
                    access_key_id: credentials.access_key_id().to_owned(),
                    secret_access_key: credentials.secret_access_key().to_owned(),
                    session_token: credentials.session_token().map(str::to_owned),
                },
                &region,
            ),
            renew_after: credentials
                .expiry()
                .map(|t| t.checked_sub(Duration::from_secs(300)).unwrap_or(t)),
        });
        *self.presigner.write().unwrap_or_else(|e| e.into_inner()) = Some(cached.clone());
        Ok(cached)
    }

    async fn presign(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        ttl: Duration,
    ) -> Result<String> {
        let presigning = presigning(ttl)?;
        let now_secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let cached = self.presigner().await?;
        Ok(cached.presigner.presign(&PresignRequest {
            method,
            key,
            query,
            headers,
            expires_in_secs: presigning.expires().as_secs(),
            now_secs,
        }))
    }
}

impl S3Store {
    /// GetObject, whole or `range`, with `if_match` as its condition; `None` when the
    /// object is missing or (with a condition) has another ETag.
    async fn get_object(
        &self,
        key: &str,
        range: Option<String>,
        if_match: Option<String>,
    ) -> Result<Option<Bytes>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range)
            .set_if_match(if_match)
            .send()
            .await
        {
            Ok(out) => {
                let body = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| StorageError::unavailable("GetObject body", e))?;
                Ok(Some(body.into_bytes()))
            }
            Err(e) if is_not_found(&e) || is_condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error("GetObject", e)),
        }
    }
}

fn presigning(ttl: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(ttl)
        .map_err(|e| StorageError::internal("presigned URL lifetime", e))
}

/// `x-amz-copy-source` is `bucket/key` with the key URL-encoded, slashes kept.
pub(super) const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `PutTerms::signed_headers` as the presigner takes them.
pub(super) fn header_refs<'a>(
    headers: &'a [(&'static str, String)],
) -> Vec<(&'static str, &'a str)> {
    headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// Metadata (`x-amz-meta-sha256`) where a multipart upload keeps its declared checksum.
pub(super) const DECLARED_SHA256: &str = "sha256";

/// What S3 user metadata may not hold as it is: anything outside printable ASCII (and
/// `%` itself). Values are stored so encoded and decoded when read, so any text round-trips.
const METADATA_VALUE: &AsciiSet = &CONTROLS.add(b'%').add(0x7f);

/// A metadata value as S3 keeps it.
pub(super) fn encode_metadata_value(value: &str) -> String {
    utf8_percent_encode(value, METADATA_VALUE).to_string()
}

/// The uploader's metadata of an object, decoded; the service's own keys left out.
pub(super) fn user_metadata(
    stored: Option<&std::collections::HashMap<String, String>>,
) -> std::collections::BTreeMap<String, String> {
    stored
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != DECLARED_SHA256)
        .map(|(k, v)| {
            let value = percent_decode_str(v).decode_utf8_lossy().into_owned();
            (k.to_ascii_lowercase(), value)
        })
        .collect()
}

pub(super) fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

impl ObjectStore for S3Store {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn presign_put(&self, key: &str, terms: &PutTerms<'_>, ttl: Duration) -> Result<String> {
        let headers = terms.signed_headers();
        let headers = header_refs(&headers);
        let metadata: Vec<(String, String)> = terms
            .metadata
            .into_iter()
            .flatten()
            .map(|(k, v)| (format!("x-amz-meta-{k}"), encode_metadata_value(v)))
            .collect();
        let mut query = vec![("x-id", "PutObject")];
        query.extend(metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.presign("PUT", key, &query, &headers, ttl).await
    }

    async fn presign_get(
        &self,
        key: &str,
        headers: &ResponseHeaders,
        ttl: Duration,
    ) -> Result<String> {
        let mut query: Vec<(&str, &str)> = vec![("x-id", "GetObject")];
        if let Some(disposition) = &headers.content_disposition {
            query.push(("response-content-disposition", disposition));
        }
        if let Some(content_type) = &headers.content_type {
            query.push(("response-content-type", content_type));
        }
        self.presign("GET", key, &query, &[], ttl).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                size_bytes: out.content_length().unwrap_or(0).max(0) as u64,
                etag: out.e_tag().map(unquote).unwrap_or_default(),
                content_type: out.content_type().map(str::to_owned),
                last_modified_ms: out.last_modified().and_then(|t| t.to_millis().ok()),
                // A multipart upload's checksum is one of its parts' checksums (`...-N`).
                checksum_sha256: out
                    .checksum_sha256()
                    .filter(|c| !c.contains('-'))
                    .map(str::to_owned),
                declared_sha256: out.metadata().and_then(|m| m.get(DECLARED_SHA256)).cloned(),
                metadata: user_metadata(out.metadata()),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(sdk_error("HeadObject", e)),
        }
    }

    async fn copy(&self, from: &str, to: &str, if_match: Option<&str>) -> Result<CopyOutcome> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .set_copy_source_if_match(if_match.map(|etag| format!("\"{etag}\"")))
            .send()
            .await
        {
            Ok(out) => Ok(CopyOutcome::Copied {
                etag: out
                    .copy_object_result()
                    .and_then(|r| r.e_tag())
                    .map(unquote)
                    .unwrap_or_default(),
            }),
            Err(e) if is_not_found(&e) => Ok(CopyOutcome::Missing),
            Err(e) if is_condition_failed(&e) => Ok(CopyOutcome::Changed),
            Err(e) => Err(sdk_error("CopyObject", e)),
        }
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta> {
        let size_bytes = body.len() as u64;
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(content_type.map(str::to_owned))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(ObjectMeta {
            size_bytes,
            etag: out.e_tag().map(unquote).unwrap_or_default(),
            content_type: content_type.map(str::to_owned),
            ..ObjectMeta::default()
        })
    }

    async fn get_range(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<Bytes>> {
        if range.is_empty() {
            return Ok(Some(Bytes::new()));
        }
        let range = format!("bytes={}-{}", range.start, range.end - 1);
        self.get_object(key, Some(range), Some(format!("\"{if_match}\"")))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let body = self.get_object(key, None, None).await?;
        Ok(body.map(|b| b.to_vec()))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        if let [key] = keys {
            // One key (a save removing its upload): the plain call is lighter than a batch,
            // which needs an XML body and its checksum.
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObject", e))?;
            return Ok(());
        }
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| StorageError::internal("DeleteObjects request", e))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StorageError::internal("DeleteObjects request", e))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
            if let Some(failed) = out.errors().first() {
                return Err(StorageError::unavailable(
                    "DeleteObjects",
                    format!(
                        "{} of {} keys not deleted, first {:?}: {:?}",
                        out.errors().len(),
                        batch.len(),
                        failed.key(),
                        failed.code()
                    ),
                ));
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectsV2", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(keys)
    }
}
