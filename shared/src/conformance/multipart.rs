//! What every `MultipartStore` promises, and the streaming put built on it.

use bytes::Bytes;
use futures::stream;

use crate::error::{Error, ErrorCode};
use crate::ports::{put_stream, MultipartStore, ObjectStore, MIN_PART_BYTES};

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
        .start_multipart(&key, Some("application/x-test"))
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
    let id = store.start_multipart(&key, None).await.unwrap();
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
    let id = store.start_multipart(&key, None).await.unwrap();
    store.put_part(&key, &id, 1, pattern(100, 6)).await.unwrap();
    store.abort_multipart(&key, &id).await.unwrap();
    store.abort_multipart(&key, &id).await.unwrap();
    assert_eq!(store.head(&key).await.unwrap(), None, "nothing stored");
    let err = store.list_parts(&key, &id).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::NotFound,
        "an aborted upload is gone: {err}"
    );
}

pub async fn unknown_uploads_are_not_found<S>(store: &S, scope: &str)
where
    S: ObjectStore + MultipartStore,
{
    let key = format!("{scope}/multipart/unknown.bin");
    let err = store.list_parts(&key, "no-such-upload").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
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
