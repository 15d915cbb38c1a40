//! One suite every adapter of a port must pass: the in-memory ones in unit
//! tests, S3 and DynamoDB in the integration tests against the emulator.
//! Each check panics with a message that says which promise broke.

use std::time::Duration;

use serde_json::{json, Map};
use uuid::Uuid;

use crate::domain::{
    padded_sequencer, AccessControl, FileRecord, PendingUpload, StoredVersion, UploadState,
};
use crate::error::Error;
use crate::ports::{FileChange, FileRepository, ObjectStore, PutTerms, ResponseHeaders};

/// Runs every object-store check under `prefix`, which the caller keeps unique per run.
pub async fn object_store<S: ObjectStore>(store: &S, prefix: &str) {
    let a = format!("{prefix}/a/Ünïcode name \"q\".txt");
    let b = format!("{prefix}/b/copy.txt");
    let missing = format!("{prefix}/missing");

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

    let body = b"hello, conformance".to_vec();
    let put = store
        .put(&a, body.clone(), Some("text/plain"))
        .await
        .unwrap();
    assert_eq!(put.size_bytes, body.len() as u64, "put reports the size");
    let head = store.head(&a).await.unwrap().expect("head after put");
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
        store.get(&a).await.unwrap(),
        Some(body.clone()),
        "bytes round-trip"
    );

    assert!(store.copy(&a, &b).await.unwrap(), "copy of an existing key");
    assert_eq!(
        store.get(&b).await.unwrap(),
        Some(body.clone()),
        "copy has the same bytes"
    );
    let copied = store.head(&b).await.unwrap().expect("head of the copy");
    assert_eq!(copied.size_bytes, head.size_bytes);
    assert_eq!(
        copied.content_type.as_deref(),
        Some("text/plain"),
        "copy keeps the content type"
    );
    assert!(
        !store.copy(&missing, &format!("{prefix}/c")).await.unwrap(),
        "copy of a missing key"
    );
    assert_eq!(
        store.head(&format!("{prefix}/c")).await.unwrap(),
        None,
        "failed copy writes nothing"
    );

    let listed = store.list(&format!("{prefix}/")).await.unwrap();
    assert_eq!(
        listed,
        vec![a.clone(), b.clone()],
        "list returns the prefix's keys in order"
    );
    assert!(store
        .list(&format!("{prefix}/zzz"))
        .await
        .unwrap()
        .is_empty());

    let put_url = store
        .presign_put(
            &a,
            &PutTerms {
                content_type: Some("text/plain"),
                content_length: Some(3),
            },
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let get_url = store
        .presign_get(&a, &ResponseHeaders::default(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        !put_url.is_empty() && !get_url.is_empty() && put_url != get_url,
        "presigned URLs"
    );

    store
        .delete(&[a.clone(), b.clone(), missing.clone()])
        .await
        .unwrap();
    store.delete(&[]).await.unwrap();
    store.delete(std::slice::from_ref(&missing)).await.unwrap();
    assert_eq!(store.head(&a).await.unwrap(), None, "deleted");
    assert!(
        store.list(&format!("{prefix}/")).await.unwrap().is_empty(),
        "nothing left"
    );
}

fn version(n: usize) -> StoredVersion {
    StoredVersion {
        key: format!("files/org/{}/v{n}/name.txt", Uuid::new_v4()),
        filename: format!("name {n}.txt"),
        mime_type: "text/plain".into(),
        size_bytes: 10 + n as u64,
        etag: format!("etag{n}"),
        created_at: format!("2026-01-01T00:00:0{}.000Z", n % 10),
    }
}

fn record(org: &str) -> FileRecord {
    let mut attributes = Map::new();
    attributes.insert("colour".into(), json!("blue"));
    attributes.insert("_tags".into(), json!(["a", "b"]));
    FileRecord {
        id: Uuid::new_v4(),
        org: org.into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        filename: "Übersicht \"Q3\".pdf".into(),
        mime_type: "application/pdf".into(),
        access_control: AccessControl::Private,
        custom_download_url: None,
        attributes,
        versions: vec![version(1)],
    }
}

fn change(n: usize) -> FileChange {
    FileChange {
        new_version: Some(version(n)),
        filename: format!("name {n}.txt"),
        mime_type: "text/plain".into(),
        access_control: AccessControl::PublicRead,
        attributes: Map::new(),
        updated_at: "2026-01-02T00:00:00.000Z".into(),
    }
}

/// Runs every repository check with records of organisation `org`, which the caller keeps unique per run.
pub async fn file_repository<R: FileRepository>(repo: &R, org: &str) {
    let other_org = format!("{org}-other");
    assert_eq!(
        repo.get(Uuid::new_v4()).await.unwrap(),
        None,
        "get of a missing id"
    );

    let first = record(org);
    repo.create(&first).await.unwrap();
    assert_eq!(
        repo.get(first.id).await.unwrap().as_ref(),
        Some(&first),
        "record round-trips"
    );
    assert!(
        matches!(repo.create(&first).await, Err(Error::Conflict(_))),
        "create of a taken id is a conflict"
    );

    let mut external = record(org);
    external.custom_download_url = Some("https://example.com/file?id=42".into());
    external.versions.clear();
    repo.create(&external).await.unwrap();
    assert_eq!(
        repo.get(external.id).await.unwrap().as_ref(),
        Some(&external),
        "external file round-trips"
    );

    let second = change(2);
    let updated = repo.update_file(first.id, org, &second).await.unwrap();
    assert_eq!(updated.versions.len(), 2, "append adds a version");
    assert_eq!(Some(&updated.versions[1]), second.new_version.as_ref());
    assert_eq!(updated.access_control, AccessControl::PublicRead);
    assert_eq!(updated.filename, "name 2.txt");
    assert_eq!(updated.created_at, first.created_at, "created_at stays");
    assert_eq!(
        repo.get(first.id).await.unwrap().as_ref(),
        Some(&updated),
        "append is stored"
    );
    assert!(
        matches!(
            repo.update_file(first.id, &other_org, &change(3)).await,
            Err(Error::NotFound(_))
        ),
        "another organisation cannot append"
    );
    assert!(
        matches!(
            repo.update_file(Uuid::new_v4(), org, &change(3)).await,
            Err(Error::NotFound(_))
        ),
        "append to a missing file"
    );

    // A metadata-only change keeps the versions.
    let mut private_again = change(0);
    private_again.new_version = None;
    private_again.access_control = AccessControl::Private;
    let relabelled = repo
        .update_file(first.id, org, &private_again)
        .await
        .unwrap();
    assert_eq!(relabelled.versions, updated.versions, "versions stay");
    assert_eq!(relabelled.access_control, AccessControl::Private);
    assert_eq!(relabelled.filename, "name 0.txt");
    assert_eq!(
        repo.get(first.id).await.unwrap().as_ref(),
        Some(&relabelled),
        "a metadata change is stored"
    );

    // Concurrent appends all land.
    let (c3, c4, c5, c6) = (change(3), change(4), change(5), change(6));
    let (r3, r4, r5, r6) = tokio::join!(
        repo.update_file(first.id, org, &c3),
        repo.update_file(first.id, org, &c4),
        repo.update_file(first.id, org, &c5),
        repo.update_file(first.id, org, &c6),
    );
    for r in [r3, r4, r5, r6] {
        r.unwrap();
    }
    let after = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(
        after.versions.len(),
        6,
        "four concurrent appends all landed"
    );
    let mut keys: Vec<_> = after.versions.iter().map(|v| v.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6, "no version lost or doubled");

    let missing = Uuid::new_v4();
    let mut many = repo
        .get_many(&[first.id, missing, external.id, first.id])
        .await
        .unwrap();
    many.sort_by_key(|r| r.id);
    let mut expected = vec![first.id, external.id];
    expected.sort();
    assert_eq!(
        many.iter().map(|r| r.id).collect::<Vec<_>>(),
        expected,
        "get_many finds each once"
    );

    assert!(
        matches!(repo.delete(first.id, org, 2).await, Err(Error::Conflict(_))),
        "delete with a stale version count is a conflict"
    );
    assert!(
        matches!(
            repo.delete(first.id, &other_org, 6).await,
            Err(Error::NotFound(_))
        ),
        "another organisation cannot delete"
    );
    repo.delete(first.id, org, 6).await.unwrap();
    assert_eq!(repo.get(first.id).await.unwrap(), None, "deleted");
    assert!(
        matches!(repo.delete(first.id, org, 6).await, Err(Error::NotFound(_))),
        "delete twice is not found"
    );
    repo.delete(external.id, org, 0).await.unwrap();

    // Records of unsaved uploads: a later event replaces an earlier one, never the reverse.
    let key = format!("temp/{org}/{}/upload.pdf", Uuid::new_v4());
    assert_eq!(repo.get_upload(&key).await.unwrap(), None, "no record yet");
    let created = PendingUpload {
        key: key.clone(),
        org: org.into(),
        state: UploadState::Present,
        created_at_ms: 1_000,
        expires_at_ms: 2_000,
        sequencer: padded_sequencer("0A"),
    };
    assert!(
        repo.put_upload(&created).await.unwrap(),
        "first record stored"
    );
    assert!(
        !repo.put_upload(&created).await.unwrap(),
        "the same event twice is stale"
    );
    assert_eq!(
        repo.get_upload(&key).await.unwrap().as_ref(),
        Some(&created)
    );
    let removed = PendingUpload {
        state: UploadState::Removed,
        sequencer: padded_sequencer("0B"),
        ..created.clone()
    };
    assert!(
        repo.put_upload(&removed).await.unwrap(),
        "a later event replaces"
    );
    assert!(
        !repo.put_upload(&created).await.unwrap(),
        "an earlier event arriving late does not"
    );
    assert_eq!(
        repo.get_upload(&key).await.unwrap().as_ref(),
        Some(&removed)
    );
    repo.forget_upload(&key).await.unwrap();
    repo.forget_upload(&key).await.unwrap();
    assert_eq!(repo.get_upload(&key).await.unwrap(), None, "forgotten");
}

#[cfg(test)]
mod tests {
    use crate::adapters::memory::{MemoryRepository, MemoryStore};

    #[tokio::test]
    async fn memory_store_conforms() {
        super::object_store(&MemoryStore::new("bucket"), "conformance").await;
    }

    #[tokio::test]
    async fn memory_repository_conforms() {
        super::file_repository(&MemoryRepository::new(), "org-1").await;
    }
}
