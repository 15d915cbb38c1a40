//! Objects written in parts: S3's multipart upload, and a streaming put built on it.
//! Modelled on `object_store`'s `MultipartStore`: the caller owns the upload id and
//! the part list, so an upload can be resumed or finished by another process.

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use super::error::StoreResult;
use super::{CopyOutcome, ObjectMeta, ObjectStore, PutTerms};
use crate::error::Result;

/// S3's smallest part (all but the last part must be at least this large).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// S3's largest part, and its most parts in one upload.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;
pub const MAX_PARTS: u64 = 10_000;

/// A stored part: its number (from 1), the ETag S3 gave it (without quotes) and, where
/// S3 said it, its size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartTag {
    pub part_number: u32,
    pub etag: String,
    pub size_bytes: u64,
}

/// What a multipart upload is started with.
#[derive(Clone, Copy, Debug, Default)]
pub struct MultipartTerms<'a> {
    pub content_type: Option<&'a str>,
    /// The whole body's SHA-256 as the uploader declared it, kept with the object
    /// ([`ObjectMeta::declared_sha256`]) for the save to check.
    pub declared_sha256: Option<&'a str>,
}

pub trait MultipartStore: Send + Sync {
    /// Starts an upload to `key`; answers its upload id.
    fn start_multipart(
        &self,
        key: &str,
        terms: &MultipartTerms<'_>,
    ) -> impl Future<Output = StoreResult<String>> + Send;

    /// A URL that lets its holder PUT part `part_number` of the upload until `ttl`
    /// passes, only with the headers `terms` names (content type is not one).
    fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        terms: &PutTerms<'_>,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<String>> + Send;

    /// Server-side copy of bytes `range` of `from` (while it has the ETag `if_match`)
    /// as part `part_number`; `None` when `from` is gone or has changed.
    fn copy_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        from: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> impl Future<Output = StoreResult<Option<PartTag>>> + Send;

    /// Stores part `part_number` (1 to 10,000); storing a number again replaces it.
    fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Vec<u8>,
    ) -> impl Future<Output = StoreResult<PartTag>> + Send;

    /// The parts stored so far, by number: what a resumed upload need not send again.
    /// `NotFound` when there is no such upload.
    fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = StoreResult<Vec<PartTag>>> + Send;

    /// Joins `parts` (in order) into the object at `key`; answers its ETag.
    fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartTag],
    ) -> impl Future<Output = StoreResult<String>> + Send;

    /// Drops the upload and its parts; an unknown upload is not an error.
    fn abort_multipart(
        &self,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
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
            None => return Ok(store.put(key, buffer, content_type).await?),
        }
    }
    let terms = MultipartTerms {
        content_type,
        declared_sha256: None,
    };
    let upload_id = store.start_multipart(key, &terms).await?;
    let result = put_parts(store, key, &upload_id, buffer, body, part_size).await;
    match result {
        Ok((etag, size_bytes)) => Ok(ObjectMeta {
            size_bytes,
            etag,
            content_type: content_type.map(str::to_owned),
            ..ObjectMeta::default()
        }),
        Err(e) => {
            abort_quietly(store, key, &upload_id).await;
            Err(e)
        }
    }
}

/// Aborts an upload that failed; if that fails too, the bucket's lifecycle rule aborts
/// it later. Either way it is never visible.
async fn abort_quietly<S: MultipartStore>(store: &S, key: &str, upload_id: &str) {
    if let Err(abort) = store.abort_multipart(key, upload_id).await {
        tracing::warn!(error = %abort, key, "multipart upload not aborted");
    }
}

/// The parts a server-side copy of `size` bytes is cut into: at least 5 MiB, at most
/// 10,000 of them, and about `concurrency` when the object is small enough for that,
/// so all of them are in flight at once.
pub fn copy_part_size(size: u64, concurrency: usize) -> u64 {
    const PREFERRED_MAX: u64 = 512 * 1024 * 1024;
    let even = size.div_ceil(concurrency.max(1) as u64);
    even.clamp(MIN_PART_BYTES as u64, PREFERRED_MAX)
        .max(size.div_ceil(MAX_PARTS))
}

/// Server-side copy of `from` (`meta` as read, its ETag the condition) to `to` in
/// parts, `concurrency` of them at a time: how objects over CopyObject's 5 GiB are
/// copied. Nothing is visible at `to` unless every part landed.
pub async fn copy_in_parts<S>(
    store: &S,
    from: &str,
    to: &str,
    meta: &ObjectMeta,
    concurrency: usize,
) -> StoreResult<CopyOutcome>
where
    S: ObjectStore + MultipartStore,
{
    let size = meta.size_bytes;
    let part_size = copy_part_size(size, concurrency);
    let terms = MultipartTerms {
        content_type: meta.content_type.as_deref(),
        declared_sha256: None,
    };
    let upload_id = store.start_multipart(to, &terms).await?;
    let ranges = (0..size.div_ceil(part_size).max(1)).map(|i| {
        let start = i * part_size;
        (i as u32 + 1, start..(start + part_size).min(size))
    });
    let upload = upload_id.as_str();
    let copied: StoreResult<Option<Vec<PartTag>>> = futures::stream::iter(ranges)
        .map(|(number, range)| store.copy_part(to, upload, number, from, range, &meta.etag))
        .buffered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await
        .map(|parts| parts.into_iter().collect());
    let outcome = match copied {
        Ok(Some(parts)) => store
            .complete_multipart(to, upload, &parts)
            .await
            .map(|etag| CopyOutcome::Copied { etag }),
        Ok(None) => match store.head(from).await {
            Ok(None) => Ok(CopyOutcome::Missing),
            Ok(Some(_)) => Ok(CopyOutcome::Changed),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    if !matches!(outcome, Ok(CopyOutcome::Copied { .. })) {
        abort_quietly(store, to, upload).await;
    }
    outcome
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
