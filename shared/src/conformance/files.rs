//! What every `FileRepository` promises. `scope` is the organisation the records
//! belong to, unique per run.

use std::collections::HashSet;

use serde_json::{json, Map};
use uuid::Uuid;

use crate::domain::{AccessControl, FileRecord, StoredVersion};
use crate::error::ErrorCode;
use crate::ports::{FileChange, FileRepository, PageRequest};

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

/// A stored file of `org` with one version.
async fn created<R: FileRepository>(repo: &R, org: &str) -> FileRecord {
    let record = record(org);
    repo.create(&record).await.unwrap();
    record
}

fn code<T: std::fmt::Debug>(result: crate::Result<T>) -> ErrorCode {
    result.expect_err("an error").code()
}

pub async fn missing_files_read_as_none<R: FileRepository>(repo: &R, _org: &str) {
    assert_eq!(
        repo.get(Uuid::new_v4()).await.unwrap(),
        None,
        "get of a missing id"
    );
}

pub async fn records_round_trip<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    assert_eq!(
        repo.get(first.id).await.unwrap().as_ref(),
        Some(&first),
        "record round-trips"
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
}

pub async fn create_of_a_taken_id_is_a_conflict<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    assert_eq!(code(repo.create(&first).await), ErrorCode::Conflict);
}

pub async fn update_appends_a_version_for_the_owner_only<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
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
    let other_org = format!("{org}-other");
    assert_eq!(
        code(repo.update_file(first.id, &other_org, &change(3)).await),
        ErrorCode::NotFound,
        "another organisation cannot append"
    );
    assert_eq!(
        code(repo.update_file(Uuid::new_v4(), org, &change(3)).await),
        ErrorCode::NotFound,
        "append to a missing file"
    );
}

pub async fn metadata_changes_keep_the_versions<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    let updated = repo.update_file(first.id, org, &change(2)).await.unwrap();
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
}

pub async fn concurrent_appends_all_land<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
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
        5,
        "four concurrent appends all landed"
    );
    let keys: HashSet<_> = after.versions.iter().map(|v| v.key.clone()).collect();
    assert_eq!(keys.len(), 5, "no version lost or doubled");
}

pub async fn get_many_finds_each_file_once<R: FileRepository>(repo: &R, org: &str) {
    let (a, b) = (created(repo, org).await, created(repo, org).await);
    let mut many = repo
        .get_many(&[a.id, Uuid::new_v4(), b.id, a.id])
        .await
        .unwrap();
    many.sort_by_key(|r| r.id);
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(many.iter().map(|r| r.id).collect::<Vec<_>>(), expected);
}

pub async fn delete_checks_the_version_count_and_the_owner<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    repo.update_file(first.id, org, &change(2)).await.unwrap();
    assert_eq!(
        code(repo.delete(first.id, org, 1).await),
        ErrorCode::Conflict,
        "delete with a stale version count is a conflict"
    );
    assert_eq!(
        code(repo.delete(first.id, &format!("{org}-other"), 2).await),
        ErrorCode::NotFound,
        "another organisation cannot delete"
    );
    repo.delete(first.id, org, 2).await.unwrap();
    assert_eq!(repo.get(first.id).await.unwrap(), None, "deleted");
    assert_eq!(
        code(repo.delete(first.id, org, 2).await),
        ErrorCode::NotFound,
        "delete twice is not found"
    );
    let mut external = record(org);
    external.versions.clear();
    repo.create(&external).await.unwrap();
    repo.delete(external.id, org, 0).await.unwrap();
}

pub async fn list_pages_newest_first_without_gaps_or_repeats<R: FileRepository>(
    repo: &R,
    org: &str,
) {
    let mut stored = Vec::new();
    for i in 0..7 {
        let mut r = record(org);
        // Two files share a timestamp: the id orders them.
        r.created_at = format!("2026-02-0{}T00:00:00.000Z", 1 + i.min(5));
        repo.create(&r).await.unwrap();
        stored.push(r);
    }
    let mut elsewhere = record(&format!("{org}-other"));
    elsewhere.created_at = "2026-02-03T00:00:00.000Z".into();
    repo.create(&elsewhere).await.unwrap();

    stored.sort_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 3,
        after: None,
    };
    for round in 0.. {
        assert!(round < 5, "the listing ends");
        let answer = repo.list(org, &page).await.unwrap();
        assert!(answer.items.len() <= 3, "a page holds at most its limit");
        seen.extend(answer.items.into_iter().map(|r| r.id));
        match answer.next {
            Some(cursor) => page.after = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<Uuid> = stored.iter().map(|r| r.id).collect();
    assert_eq!(
        seen, expected,
        "every file once, newest first, none of another organisation"
    );
    let all = repo
        .list(
            org,
            &PageRequest {
                limit: 1000,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 7);
    assert_eq!(all.items[0], stored[0], "listed records are whole");
    assert!(all.next.is_none(), "one page holds them all");
}
