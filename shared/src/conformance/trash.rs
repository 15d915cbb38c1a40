//! Checks of the trash (`FileRepository::trash` and what follows from it).

use serde_json::Map;
use uuid::Uuid;

use crate::domain::{
    new_link_id, AccessControl, FileQuery, FileRecord, PublicLink, StoredVersion, Trash,
};
use crate::error::ErrorCode;
use crate::ports::{Cursor, FileChange, FileRepository, PageRequest};

/// When the checks read: after every record's creation, before every purge.
const NOW: &str = "2026-06-01T00:00:00.000Z";

fn version(n: usize, size: u64) -> StoredVersion {
    StoredVersion {
        key: format!("files/o/{}/v{n}", Uuid::new_v4()),
        filename: format!("v{n}.txt"),
        mime_type: "text/plain".into(),
        size_bytes: size,
        etag: format!("\"etag{n}\""),
        created_at: format!("2026-01-01T00:00:{n:02}.000Z"),
        ..StoredVersion::default()
    }
}

async fn created<R: FileRepository>(repo: &R, org: &str, sizes: &[u64]) -> FileRecord {
    let mut attributes = Map::new();
    attributes.insert("_tags".into(), serde_json::json!(["kept"]));
    let record = FileRecord {
        id: Uuid::new_v4(),
        org: org.into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        filename: "report.txt".into(),
        mime_type: "text/plain".into(),
        access_control: AccessControl::PublicRead,
        attributes,
        versions: sizes
            .iter()
            .enumerate()
            .map(|(i, size)| version(i + 1, *size))
            .collect(),
        ..FileRecord::default()
    };
    repo.create(&record, None).await.unwrap();
    record
}

fn trash(n: u32) -> Trash {
    Trash {
        deleted_at: format!("2026-05-01T00:00:{n:02}.000Z"),
        deleted_by: Some("user-1".into()),
        purge_at: format!("2026-07-01T00:00:{n:02}.000Z"),
    }
}

fn page(limit: usize, after: Option<Cursor>) -> PageRequest {
    PageRequest {
        limit,
        after,
        now: NOW.into(),
    }
}

fn code<T: std::fmt::Debug>(result: crate::ports::StoreResult<T>) -> ErrorCode {
    crate::Error::from(result.expect_err("an error")).code()
}

pub async fn a_trashed_file_is_hidden_frozen_and_restored_whole<R: FileRepository>(
    repo: &R,
    org: &str,
) {
    let file = created(repo, org, &[10, 20]).await;
    let link = PublicLink {
        id: new_link_id(file.id),
        created_at: "2026-01-01T00:00:01.000Z".into(),
        last_accessed_at: None,
    };
    repo.add_link(file.id, org, &link).await.unwrap();
    let other = format!("{org}-other");
    assert_eq!(
        code(repo.trash(file.id, &other, &trash(1)).await),
        ErrorCode::NotFound,
        "another organisation cannot trash it"
    );
    let trashed = repo.trash(file.id, org, &trash(1)).await.unwrap();
    assert_eq!(
        trashed.trash,
        Some(trash(1)),
        "the answer says when and by whom"
    );
    assert!(trashed.public_links.is_empty(), "its links are revoked");
    assert_eq!(repo.get(file.id).await.unwrap(), None, "hidden from get");
    assert!(repo.get_many(&[file.id]).await.unwrap().is_empty());
    let listed = repo
        .list(org, &FileQuery::default(), &page(100, None))
        .await
        .unwrap();
    assert!(listed.items.iter().all(|r| r.id != file.id), "and lists");
    let change = FileChange {
        new_versions: vec![version(9, 5)],
        filename: "x.txt".into(),
        mime_type: "text/plain".into(),
        access_control: AccessControl::Private,
        attributes: Map::new(),
        updated_at: "2026-05-02T00:00:00.000Z".into(),
        expires_at: None,
        ingest: None,
    };
    assert_eq!(
        code(repo.update_file(file.id, org, &change, &[]).await),
        ErrorCode::NotFound,
        "frozen: no version lands"
    );
    assert_eq!(
        code(repo.add_link(file.id, org, &link).await),
        ErrorCode::NotFound
    );
    let first_key = file.versions[0].key.clone();
    assert_eq!(
        code(repo.remove_version(file.id, org, 0, &first_key, NOW).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(repo.trash(file.id, org, &trash(2)).await),
        ErrorCode::NotFound,
        "trashed once"
    );
    let in_trash = repo.list_trash(org, &page(10, None)).await.unwrap();
    assert_eq!(in_trash.items.len(), 1);
    assert_eq!(in_trash.items[0].trash, Some(trash(1)));
    assert_eq!(repo.count_trash(org, NOW).await.unwrap().count, 1);
    assert_eq!(
        code(repo.restore(file.id, &other, NOW).await),
        ErrorCode::NotFound,
        "another organisation cannot restore it"
    );
    let restored = repo.restore(file.id, org, NOW).await.unwrap();
    let mut expected = file.clone();
    expected.public_links.clear();
    assert_eq!(restored, expected, "back as it was, without its links");
    assert_eq!(repo.get(file.id).await.unwrap(), Some(expected));
    let listed = repo
        .list(org, &FileQuery::default(), &page(100, None))
        .await
        .unwrap();
    assert!(listed.items.iter().any(|r| r.id == file.id), "listed again");
    assert_eq!(repo.count_trash(org, NOW).await.unwrap().count, 0);
    assert_eq!(
        code(repo.restore(file.id, org, NOW).await),
        ErrorCode::NotFound,
        "restored once"
    );
    assert_eq!(
        repo.update_file(file.id, org, &change, &[])
            .await
            .unwrap()
            .new_versions
            .len(),
        1,
        "and it takes versions again"
    );
}

pub async fn usage_counts_the_trash_apart<R: FileRepository>(repo: &R, org: &str) {
    let _kept = created(repo, org, &[100]).await;
    let trashed = created(repo, org, &[10, 20]).await;
    let before = repo.usage(org, NOW).await.unwrap();
    assert_eq!((before.files, before.versions, before.bytes), (2, 3, 130));
    repo.trash(trashed.id, org, &trash(1)).await.unwrap();
    let during = repo.usage(org, NOW).await.unwrap();
    assert_eq!(
        (during.files, during.versions, during.bytes),
        (1, 1, 100),
        "the trash leaves the live usage"
    );
    assert_eq!((during.trashed_files, during.trashed_bytes), (1, 30));
    assert_eq!(
        during.held_bytes(),
        130,
        "and still counts against the quota"
    );
    repo.restore(trashed.id, org, NOW).await.unwrap();
    assert_eq!(
        repo.usage(org, NOW).await.unwrap(),
        before,
        "restored whole"
    );
    repo.trash(trashed.id, org, &trash(2)).await.unwrap();
    repo.begin_delete(trashed.id, org).await.unwrap();
    repo.finish_delete(trashed.id, org).await.unwrap();
    let after = repo.usage(org, NOW).await.unwrap();
    assert_eq!(
        (
            after.files,
            after.bytes,
            after.trashed_files,
            after.trashed_bytes
        ),
        (1, 100, 0, 0),
        "purged from the trash, it is gone from the usage"
    );
}

pub async fn the_trash_pages_newest_deleted_first<R: FileRepository>(repo: &R, org: &str) {
    let mut ids = Vec::new();
    for n in 1..=5 {
        let file = created(repo, org, &[n]).await;
        repo.trash(file.id, org, &trash(n as u32)).await.unwrap();
        ids.push(file.id);
    }
    // Due to go: no longer in the trash, though still stored.
    let due = created(repo, org, &[7]).await;
    let gone = Trash {
        purge_at: "2026-05-31T00:00:00.000Z".into(),
        ..trash(9)
    };
    repo.trash(due.id, org, &gone).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = repo.list_trash(org, &page(2, after)).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest deleted first, no gaps or repeats");
    assert_eq!(repo.count_trash(org, NOW).await.unwrap().count, 5);
    assert_eq!(
        code(repo.restore(due.id, org, NOW).await),
        ErrorCode::NotFound,
        "past its purge it cannot come back"
    );
    let usage = repo.usage(org, NOW).await.unwrap();
    assert_eq!(
        (usage.trashed_files, usage.trashed_bytes),
        (6, 1 + 2 + 3 + 4 + 5 + 7),
        "stored bytes count until they are gone"
    );
}

pub async fn a_purge_from_the_trash_wins_over_a_restore<R: FileRepository>(repo: &R, org: &str) {
    let file = created(repo, org, &[10]).await;
    repo.trash(file.id, org, &trash(1)).await.unwrap();
    let purging = repo.begin_delete(file.id, org).await.unwrap();
    assert_eq!(purging.versions, file.versions, "what is left to delete");
    assert_eq!(
        code(repo.restore(file.id, org, NOW).await),
        ErrorCode::NotFound,
        "once a purge began, nothing comes back"
    );
    assert!(repo
        .list_trash(org, &page(10, None))
        .await
        .unwrap()
        .items
        .is_empty());
    repo.finish_delete(file.id, org).await.unwrap();
    assert_eq!(repo.get(file.id).await.unwrap(), None);
}
