//! What every `ObjectStore` promises.

use std::time::Duration;

use crate::ports::{CopyOutcome, ObjectStore, PutTerms, ResponseHeaders};

/// A key with characters that need encoding, as filenames do.
fn awkward_key(scope: &str, name: &str) -> String {
    format!("{scope}/{name}/Ünïcode name \"q\".txt")
}

pub async fn missing_keys_read_as_absent<S: ObjectStore>(store: &S, scope: &str) {
    let missing = format!("{scope}/missing");
    assert_eq!(
        store.head(&missing).await.unwrap(),
        None,
        "head of a missing key"
    );
    assert_eq!(
        store.get(&missing).await.unwrap(),
        None,
        "get of a missing key"
    );
}

pub async fn put_then_head_and_get_round_trip<S: ObjectStore>(store: &S, scope: &str) {
    let key = awkward_key(scope, "round-trip");
    let body = b"hello, conformance".to_vec();
    let put = store
        .put(&key, body.clone(), Some("text/plain"))
        .await
        .unwrap();
    assert_eq!(put.size_bytes, body.len() as u64, "put reports the size");
    let head = store.head(&key).await.unwrap().expect("head after put");
    assert_eq!(head.size_bytes, body.len() as u64, "head size");
    assert!(
        !head.etag.is_empty() && !head.etag.contains('"'),
        "etag without quotes: {}",
        head.etag
    );
    assert_eq!(head.etag, put.etag, "put and head agree on the etag");
    assert_eq!(
        head.content_type.as_deref(),
        Some("text/plain"),
        "content type kept"
    );
    assert_eq!(
        store.get(&key).await.unwrap(),
        Some(body),
        "bytes round-trip"
    );
}

pub async fn copy_keeps_bytes_and_content_type<S: ObjectStore>(store: &S, scope: &str) {
    let (from, to) = (
        awkward_key(scope, "copy-from"),
        format!("{scope}/copy-to/copy.txt"),
    );
    let body = b"copied bytes".to_vec();
    store
        .put(&from, body.clone(), Some("text/plain"))
        .await
        .unwrap();
    let copied = store.copy(&from, &to, None).await.unwrap();
    assert!(
        matches!(copied, CopyOutcome::Copied { .. }),
        "copy of an existing key"
    );
    assert_eq!(
        store.get(&to).await.unwrap(),
        Some(body.clone()),
        "same bytes"
    );
    let copied = store.head(&to).await.unwrap().expect("head of the copy");
    assert_eq!(copied.size_bytes, body.len() as u64);
    assert_eq!(
        copied.content_type.as_deref(),
        Some("text/plain"),
        "content type kept"
    );
}

pub async fn copy_of_a_missing_key_writes_nothing<S: ObjectStore>(store: &S, scope: &str) {
    let to = format!("{scope}/c");
    let outcome = store
        .copy(&format!("{scope}/missing"), &to, None)
        .await
        .unwrap();
    assert_eq!(outcome, CopyOutcome::Missing);
    assert_eq!(
        store.head(&to).await.unwrap(),
        None,
        "failed copy writes nothing"
    );
}

pub async fn copy_only_while_the_source_is_unchanged<S: ObjectStore>(store: &S, scope: &str) {
    let (from, to) = (
        format!("{scope}/cond/from.txt"),
        format!("{scope}/cond/to.txt"),
    );
    let first = store
        .put(&from, b"first".to_vec(), Some("text/plain"))
        .await
        .unwrap();
    let second = store
        .put(&from, b"second".to_vec(), Some("text/plain"))
        .await
        .unwrap();
    assert_eq!(
        store.copy(&from, &to, Some(&first.etag)).await.unwrap(),
        CopyOutcome::Changed,
        "the source was replaced after it was read"
    );
    assert_eq!(store.head(&to).await.unwrap(), None, "nothing copied");
    let copied = store.copy(&from, &to, Some(&second.etag)).await.unwrap();
    assert_eq!(
        copied,
        CopyOutcome::Copied {
            etag: second.etag.clone()
        },
        "the copy's ETag"
    );
    assert_eq!(store.get(&to).await.unwrap(), Some(b"second".to_vec()));
}

pub async fn list_answers_the_prefix_in_key_order<S: ObjectStore>(store: &S, scope: &str) {
    let (a, b) = (
        format!("{scope}/list/a/x.txt"),
        format!("{scope}/list/b/y.txt"),
    );
    for key in [&b, &a] {
        store.put(key, b"x".to_vec(), None).await.unwrap();
    }
    store
        .put(&format!("{scope}/listed-not"), b"x".to_vec(), None)
        .await
        .unwrap();
    let listed = store.list(&format!("{scope}/list/")).await.unwrap();
    assert_eq!(listed, vec![a, b], "the prefix's keys in order");
    assert!(store
        .list(&format!("{scope}/zzz"))
        .await
        .unwrap()
        .is_empty());
}

pub async fn presigned_urls_differ_by_method<S: ObjectStore>(store: &S, scope: &str) {
    let key = format!("{scope}/presigned.txt");
    let terms = PutTerms {
        content_type: Some("text/plain"),
        content_length: Some(3),
        checksum_sha256: None,
        metadata: None,
    };
    let ttl = Duration::from_secs(60);
    let put_url = store.presign_put(&key, &terms, ttl).await.unwrap();
    let get_url = store
        .presign_get(&key, &ResponseHeaders::default(), ttl)
        .await
        .unwrap();
    assert!(
        !put_url.is_empty() && !get_url.is_empty() && put_url != get_url,
        "presigned URLs: {put_url} {get_url}"
    );
}

pub async fn delete_is_idempotent<S: ObjectStore>(store: &S, scope: &str) {
    let (a, b) = (format!("{scope}/del/a"), format!("{scope}/del/b"));
    let missing = format!("{scope}/del/missing");
    for key in [&a, &b] {
        store.put(key, b"x".to_vec(), None).await.unwrap();
    }
    store
        .delete(&[a.clone(), b.clone(), missing.clone()])
        .await
        .unwrap();
    store.delete(&[]).await.unwrap();
    store.delete(std::slice::from_ref(&missing)).await.unwrap();
    assert_eq!(store.head(&a).await.unwrap(), None, "deleted");
    assert!(
        store
            .list(&format!("{scope}/del/"))
            .await
            .unwrap()
            .is_empty(),
        "nothing left"
    );
}

pub async fn ranged_reads_only_while_the_object_is_unchanged<S: ObjectStore>(
    store: &S,
    scope: &str,
) {
    let key = format!("{scope}/ranged.txt");
    let meta = store.put(&key, b"0123456789".to_vec(), None).await.unwrap();
    let read = |range: std::ops::Range<u64>, etag: String| {
        let key = key.clone();
        async move { store.get_range(&key, range, &etag).await.unwrap() }
    };
    assert_eq!(
        read(2..5, meta.etag.clone()).await.as_deref(),
        Some(&b"234"[..])
    );
    assert_eq!(
        read(8..10, meta.etag.clone()).await.as_deref(),
        Some(&b"89"[..])
    );
    assert_eq!(
        read(0..3, "0123456789abcdef0123456789abcdef".into()).await,
        None,
        "another ETag reads as nothing"
    );
    let missing = store
        .get_range(&format!("{scope}/no-such.txt"), 0..3, &meta.etag)
        .await
        .unwrap();
    assert_eq!(missing, None);
}
