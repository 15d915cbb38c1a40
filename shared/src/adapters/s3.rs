//! The object store on Amazon S3 (or any endpoint that speaks its protocol).

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};
use crate::ports::{ObjectMeta, ObjectStore, PutTerms, ResponseHeaders};

/// S3 allows at most this many keys in one DeleteObjects call.
const DELETE_BATCH: usize = 1000;

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
        }
    }
}

fn upstream<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let err = Error::upstream(operation, DisplayErrorContext(err));
    tracing::error!(error = %err, "S3 call failed");
    err
}

fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(service)
        if matches!(service.err().code(), Some("NoSuchKey" | "NotFound"))
            || service.raw().status().as_u16() == 404)
}

fn presigning(ttl: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(ttl).map_err(|e| Error::invalid("configuration", e.to_string()))
}

/// `x-amz-copy-source` is `bucket/key` with the key URL-encoded, slashes kept.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

impl ObjectStore for S3Store {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn presign_put(&self, key: &str, terms: &PutTerms<'_>, ttl: Duration) -> Result<String> {
        let length = terms
            .content_length
            .map(i64::try_from)
            .transpose()
            .map_err(|e| Error::invalid("invalid_size", e.to_string()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(terms.content_type.map(str::to_owned))
            .set_content_length(length)
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| upstream("presign PutObject", e))?;
        Ok(request.uri().to_owned())
    }

    async fn presign_get(
        &self,
        key: &str,
        headers: &ResponseHeaders,
        ttl: Duration,
    ) -> Result<String> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_disposition(headers.content_disposition.clone())
            .set_response_content_type(headers.content_type.clone())
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| upstream("presign GetObject", e))?;
        Ok(request.uri().to_owned())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                size_bytes: out.content_length().unwrap_or(0).max(0) as u64,
                etag: out.e_tag().map(unquote).unwrap_or_default(),
                content_type: out.content_type().map(str::to_owned),
                last_modified_ms: out.last_modified().and_then(|t| t.to_millis().ok()),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(upstream("HeadObject", e)),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<bool> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(upstream("CopyObject", e)),
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
            .map_err(|e| upstream("PutObject", e))?;
        Ok(ObjectMeta {
            size_bytes,
            etag: out.e_tag().map(unquote).unwrap_or_default(),
            content_type: content_type.map(str::to_owned),
            last_modified_ms: None,
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let body = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| Error::upstream("GetObject body", e))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(upstream("GetObject", e)),
        }
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::upstream("DeleteObjects request", e))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| Error::upstream("DeleteObjects request", e))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| upstream("DeleteObjects", e))?;
            if let Some(failed) = out.errors().first() {
                return Err(Error::upstream(
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
                .map_err(|e| upstream("ListObjectsV2", e))?;
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
