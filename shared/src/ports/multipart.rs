//! Objects written in parts: S3's multipart upload, and a streaming put built on it.
//! Modelled on `object_store`'s `MultipartStore`: the caller owns the upload id and
//! the part list, so an upload can be resumed or finished by another process.

use std::future::Future;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::{ObjectMeta, ObjectStore};
use crate::error::Result;

/// S3's smallest part (all but the last part must be at least this large).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;

/// A stored part: its number (from 1) and the ETag S3 gave it, without quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartTag {
    pub part_number: u32,
    pub etag: String,
}

pub trait MultipartStore: Send + Sync {
    /// Starts an upload to `key`; answers its upload id.
    fn start_multipart(
        &self,
        key: &str,
        content_type: Option<&str>,
    ) -> impl Future<Output = Result<String>> + Send;

    /// Stores part `part_number` (1 to 10,000); storing a number again replaces it.
    fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<PartTag>> + Send;

    /// The parts stored so far, by number: what a resumed upload need not send again.
    /// `NotFound` when there is no such upload.
    fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<Vec<PartTag>>> + Send;

    /// Joins `parts` (in order) into the object at `key`; answers its ETag.
    fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartTag],
    ) -> impl Future<Output = Result<String>> + Send;

    /// Drops the upload and its parts; an unknown upload is not an error.
    fn abort_multipart(
        &self,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Stores a body that arrives in chunks, holding at most about one part in memory:
/// one PUT when it fits in a part, else a multipart upload that is aborted if
/// anything fails, so no partial object is ever visible.
pub async fn put_stream<S, B>(
    store: &S,
    key: &str,
    content_type: Option<&str>,
    mut body: B,
    part_size: usize,
) -> Result<ObjectMeta>
where
    S: ObjectStore + MultipartStore,
    B: Stream<Item = Result<Bytes>> + Unpin + Send,
{
    let part_size = part_size.max(MIN_PART_BYTES);
    let mut buffer = Vec::with_capacity(part_size);
    while buffer.len() <= part_size {
        match body.next().await {
            Some(chunk) => buffer.extend_from_slice(&chunk?),
            None => return store.put(key, buffer, content_type).await,
        }
    }
    let upload_id = store.start_multipart(key, content_type).await?;
    let result = put_parts(store, key, &upload_id, buffer, body, part_size).await;
    match result {
        Ok((etag, size_bytes)) => Ok(ObjectMeta {
            size_bytes,
            etag,
            content_type: content_type.map(str::to_owned),
            last_modified_ms: None,
        }),
        Err(e) => {
            if let Err(abort) = store.abort_multipart(key, &upload_id).await {
                // The bucket's lifecycle rule aborts it later; it is never visible.
                tracing::warn!(error = %abort, key, "multipart upload not aborted");
            }
            Err(e)
        }
    }
}

/// Reads from `body` until `buffer` holds `part_size` bytes or the body ends; answers
/// whether it ended.
async fn fill<B>(body: &mut B, buffer: &mut Vec<u8>, part_size: usize) -> Result<bool>
where
    B: Stream<Item = Result<Bytes>> + Unpin + Send,
{
    while buffer.len() < part_size {
        match body.next().await {
            Some(chunk) => buffer.extend_from_slice(&chunk?),
            None => return Ok(true),
        }
    }
    Ok(false)
}

/// Uploads the parts, each while the next one is read: the source and S3 are busy at
/// once, with two parts in memory.
async fn put_parts<S, B>(
    store: &S,
    key: &str,
    upload_id: &str,
    mut buffer: Vec<u8>,
    mut body: B,
    part_size: usize,
) -> Result<(String, u64)>
where
    S: MultipartStore,
    B: Stream<Item = Result<Bytes>> + Unpin + Send,
{
    let mut parts = Vec::new();
    let mut size_bytes = 0u64;
    let mut finished = fill(&mut body, &mut buffer, part_size).await?;
    loop {
        let rest = buffer.split_off(buffer.len().min(part_size));
        let part = std::mem::replace(&mut buffer, rest);
        if part.is_empty() {
            break;
        }
        size_bytes += part.len() as u64;
        let number = parts.len() as u32 + 1;
        if finished && buffer.is_empty() {
            parts.push(store.put_part(key, upload_id, number, part).await?);
            break;
        }
        let mut next = std::mem::take(&mut buffer);
        next.reserve(part_size.saturating_sub(next.len()));
        let reading = async {
            let ended = finished || fill(&mut body, &mut next, part_size).await?;
            Ok::<_, crate::Error>((ended, next))
        };
        let (uploaded, read) = tokio::join!(store.put_part(key, upload_id, number, part), reading);
        parts.push(uploaded?);
        (finished, buffer) = read?;
    }
    let etag = store.complete_multipart(key, upload_id, &parts).await?;
    Ok((etag, size_bytes))
}
