//! What every `MultipartStore` promises, and the streaming put built on it.

use bytes::Bytes;
use futures::stream;

use crate::error::{Error, ErrorCode};
use crate::ports::{
    copy_in_parts, put_stream, CopyOutcome, MultipartStore, MultipartTerms, ObjectStore,
    MIN_PART_BYTES,
};
use crate::ports::{Missing, StorageError};

/// Bytes that differ from part to part, so a part out of place shows.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub async fn parts_join_in_order_and_stay_invisible_until_completed<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/joined.bin");
    let id = store
        .start_multipart(
            &key,
            &MultipartTerms {
                content_type: Some("application/x-test"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (first, last) = (pattern(MIN_PART_BYTES, 1), pattern(1000, 2));
    // Sent out of order, as parallel clients do.
    let p2 = store.put_part(&key, &id, 2, last.clone()).await.unwrap();
    let p1 = store.put_part(&key, &id, 1, first.clone()).await.unwrap();
    assert_eq!(
        store.head(&key).await.unwrap(),
        None,
        "invisible before completion"
    );
    let etag = store
        .complete_multipart(&key, &id, &[p1, p2])
        .await
        .unwrap();
    assert!(
        !etag.is_empty() && !etag.contains('"'),
        "etag without quotes: {etag}"
    );
    let head = store
        .head(&key)
        .await
        .unwrap()
        .expect("visible after completion");
    assert_eq!(head.size_bytes, (first.len() + last.len()) as u64);
    assert_eq!(head.content_type.as_deref(), Some("application/x-test"));
    assert_eq!(
        store.get(&key).await.unwrap(),
        Some([first, last].concat()),
        "parts in order"
    );
}

pub async fn list_parts_shows_what_a_resumed_upload_can_skip<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/resumed.bin");
    let id = store
        .start_multipart(&key, &MultipartTerms::default())
        .await
        .unwrap();
    assert!(
        store.list_parts(&key, &id).await.unwrap().is_empty(),
        "no parts yet"
    );
    let p1 = store
        .put_part(&key, &id, 1, pattern(MIN_PART_BYTES, 3))
        .await
        .unwrap();
    let p3 = store.put_part(&key, &id, 3, pattern(10, 4)).await.unwrap();
    let listed = store.list_parts(&key, &id).await.unwrap();
    assert_eq!(
        listed,
        vec![p1.clone(), p3.clone()],
        "stored parts by number, with ETags"
    );
    // The missing part 2 is sent after the "restart", then the upload completes.
    let p2 = store
        .put_part(&key, &id, 2, pattern(MIN_PART_BYTES, 5))
        .await
        .unwrap();
    store
        .complete_multipart(&key, &id, &[p1, p2, p3])
        .await
        .unwrap();
    assert_eq!(
        store.head(&key).await.unwrap().map(|m| m.size_bytes),
        Some(2 * MIN_PART_BYTES as u64 + 10)
    );
}

pub async fn abort_leaves_nothing<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/aborted.bin");
    let id = store
        .start_multipart(&key, &MultipartTerms::default())
        .await
        .unwrap();
    store.put_part(&key, &id, 1, pattern(100, 6)).await.unwrap();
    store.abort_multipart(&key, &id).await.unwrap();
    store.abort_multipart(&key, &id).await.unwrap();
    assert_eq!(store.head(&key).await.unwrap(), None, "nothing stored");
    let err = store.list_parts(&key, &id).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound(Missing::MultipartUpload)),
        "an aborted upload is gone: {err}"
    );
}

pub async fn unknown_uploads_are_not_found<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/unknown.bin");
    let err = store.list_parts(&key, "no-such-upload").await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound(Missing::MultipartUpload)),
        "{err}"
    );
}

fn chunks_of(
    body: &[u8],
    size: usize,
) -> impl futures::Stream<Item = crate::Result<Bytes>> + Unpin {
    let chunks: Vec<crate::Result<Bytes>> = body
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks)
}

pub async fn a_small_stream_is_one_put<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/stream/small.txt");
    let body = pattern(100_000, 7);
    let meta = put_stream(store, &key, Some("text/plain"), chunks_of(&body, 4096), 0)
        .await
        .unwrap();
    assert_eq!(meta.size_bytes, body.len() as u64);
    assert_eq!(store.get(&key).await.unwrap(), Some(body));
}

pub async fn a_large_stream_is_stored_in_parts<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/stream/large.bin");
    let body = pattern(2 * MIN_PART_BYTES + 12_345, 8);
    let meta = put_stream(store, &key, None, chunks_of(&body, 65_536), MIN_PART_BYTES)
        .await
        .unwrap();
    assert_eq!(
        meta.size_bytes,
        body.len() as u64,
        "size counted on the way"
    );
    assert!(meta.etag.ends_with("-3"), "three parts: {}", meta.etag);
    assert_eq!(store.get(&key).await.unwrap(), Some(body), "bytes in order");
}

pub async fn a_failing_stream_leaves_no_object<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/stream/failed.bin");
    let part = Bytes::from(pattern(MIN_PART_BYTES + 1, 9));
    let body = stream::iter(vec![
        Ok(part.clone()),
        Ok(part),
        Err(Error::storage("source", "connection reset")),
    ]);
    let err = put_stream(store, &key, None, body, MIN_PART_BYTES)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageUnavailable);
    assert_eq!(store.head(&key).await.unwrap(), None, "no partial object");
}

pub async fn a_declared_checksum_stays_with_the_completed_object<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/declared.bin");
    let body = pattern(1000, 7);
    let declared = crate::service::sha256_base64(&body);
    let terms = MultipartTerms {
        content_type: None,
        declared_sha256: Some(&declared),
    };
    let id = store.start_multipart(&key, &terms).await.unwrap();
    let part = store.put_part(&key, &id, 1, body).await.unwrap();
    assert_eq!(part.size_bytes, 1000, "a part's size is reported");
    store.complete_multipart(&key, &id, &[part]).await.unwrap();
    let head = store.head(&key).await.unwrap().unwrap();
    assert_eq!(
        head.declared_sha256.as_deref(),
        Some(declared.as_str()),
        "the declared SHA-256 is read back with the object"
    );
    assert_eq!(head.checksum_sha256, None, "nobody checked it yet");
}

pub async fn a_copy_in_parts_is_byte_exact_and_conditional<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let from = format!("{scope}/multipart/copy-source.bin");
    let to = format!("{scope}/multipart/copy-target.bin");
    let body = pattern(2 * MIN_PART_BYTES + 12_345, 8);
    store
        .put(&from, body.clone(), Some("video/mp4"))
        .await
        .unwrap();
    let meta = store.head(&from).await.unwrap().unwrap();
    let stale = crate::ports::ObjectMeta {
        etag: "0123456789abcdef0123456789abcdef".into(),
        ..meta.clone()
    };
    assert_eq!(
        copy_in_parts(store, &from, &to, &stale, 4).await.unwrap(),
        CopyOutcome::Changed,
        "a copy made on a stale ETag"
    );
    assert_eq!(store.head(&to).await.unwrap(), None, "and nothing written");
    let gone = format!("{scope}/multipart/no-such-source.bin");
    assert_eq!(
        copy_in_parts(store, &gone, &to, &meta, 4).await.unwrap(),
        CopyOutcome::Missing
    );
    let copied = copy_in_parts(store, &from, &to, &meta, 4).await.unwrap();
    assert!(matches!(copied, CopyOutcome::Copied { .. }), "{copied:?}");
    let head = store.head(&to).await.unwrap().unwrap();
    assert_eq!(head.size_bytes, body.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(store.get(&to).await.unwrap(), Some(body), "byte-exact");
}
