//! S3's multipart upload behind the `MultipartStore` port.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use std::ops::Range;
use std::time::Duration;

use percent_encoding::utf8_percent_encode;

use super::{header_refs, unquote, S3Store, COPY_SOURCE, DECLARED_SHA256};
use crate::adapters::sdk::{is_condition_failed, is_not_found, sdk_error};
use crate::ports::{Missing, StorageError, StoreResult as Result};
use crate::ports::{MultipartStore, MultipartTerms, PartTag, PutTerms};

/// An unknown upload id is a 404 the caller can act on; anything else a storage fault.
fn upload_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_not_found(&err) {
        StorageError::NotFound(Missing::MultipartUpload)
    } else {
        sdk_error(operation, err)
    }
}

impl MultipartStore for S3Store {
    async fn start_multipart(&self, key: &str, terms: &MultipartTerms<'_>) -> Result<String> {
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(terms.content_type.map(str::to_owned));
        if let Some(sha256) = terms.declared_sha256 {
            create = create.metadata(DECLARED_SHA256, sha256);
        }
        let out = create
            .send()
            .await
            .map_err(|e| sdk_error("CreateMultipartUpload", e))?;
        out.upload_id().map(str::to_owned).ok_or_else(|| {
            StorageError::unavailable("CreateMultipartUpload", "no upload id answered")
        })
    }

    async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Vec<u8>,
    ) -> Result<PartTag> {
        let size_bytes = body.len() as u64;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| upload_error("UploadPart", e))?;
        Ok(PartTag {
            part_number,
            etag: out.e_tag().map(unquote).unwrap_or_default(),
            size_bytes,
        })
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        terms: &PutTerms<'_>,
        ttl: Duration,
    ) -> Result<String> {
        let headers = terms.signed_headers();
        let headers = header_refs(&headers);
        let number = part_number.to_string();
        let query = [
            ("partNumber", number.as_str()),
            ("uploadId", upload_id),
            ("x-id", "UploadPart"),
        ];
        self.presign("PUT", key, &query, &headers, ttl).await
    }

    async fn copy_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        from: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<PartTag>> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        match self
            .client
            .upload_part_copy()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .copy_source(source)
            .copy_source_range(format!("bytes={}-{}", range.start, range.end - 1))
            .copy_source_if_match(format!("\"{if_match}\""))
            .send()
            .await
        {
            Ok(out) => Ok(Some(PartTag {
                part_number,
                etag: out
                    .copy_part_result()
                    .and_then(|r| r.e_tag())
                    .map(unquote)
                    .unwrap_or_default(),
                size_bytes: range.end - range.start,
            })),
            Err(e) if is_condition_failed(&e) => Ok(None),
            // The source is gone (NoSuchKey); NoSuchUpload would be ours, and a fault.
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(upload_error("UploadPartCopy", e)),
        }
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<PartTag>> {
        let mut parts = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker)
                .send()
                .await
                .map_err(|e| upload_error("ListParts", e))?;
            parts.extend(out.parts().iter().map(|p| PartTag {
                part_number: p.part_number().unwrap_or_default().max(0) as u32,
                etag: p.e_tag().map(unquote).unwrap_or_default(),
                size_bytes: p.size().unwrap_or_default().max(0) as u64,
            }));
            match out.next_part_number_marker() {
                Some(next) if out.is_truncated() == Some(true) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(parts)
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartTag],
    ) -> Result<String> {
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(p.part_number as i32)
                            .e_tag(format!("\"{}\"", p.etag))
                            .build()
                    })
                    .collect(),
            ))
            .build();
        let out = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(|e| upload_error("CompleteMultipartUpload", e))?;
        Ok(out.e_tag().map(unquote).unwrap_or_default())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(sdk_error("AbortMultipartUpload", e)),
        }
    }
}
