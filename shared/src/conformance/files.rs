//! What every `FileRepository` promises. `scope` is the organisation the records
//! belong to, unique per run.

use std::collections::HashSet;

use serde_json::{json, Map};
use uuid::Uuid;

use crate::domain::{
    AccessControl, FetchFailure, FileQuery, FileRecord, FileStatus, StoredVersion,
};
use crate::error::ErrorCode;
use crate::ports::{FileChange, FileRepository, IngestStep, PageRequest, UploadClaim};

fn version(n: usize) -> StoredVersion {
    StoredVersion {
        key: format!("files/org/{}/v{n}/name.txt", Uuid::new_v4()),
        filename: format!("name {n}.txt"),
        mime_type: "text/plain".into(),
        size_bytes: 10 + n as u64,
        etag: format!("etag{n}"),
        created_at: format!("2026-01-01T00:00:0{}.000Z", n % 10),
        checksum_sha256: Some(format!("sum{n}")),
        uploaded_at: Some("2026-01-01T00:00:00.000Z".into()),
        uploaded_by: Some("user-1".into()),
        metadata: [("colour".to_owned(), "grün".to_owned())].into(),
        // Every other version waits for its malware scan.
        scan: n.is_multiple_of(2).then(|| crate::domain::Scan {
            status: crate::domain::ScanStatus::Pending,
            ..Default::default()
        }),
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
        ..FileRecord::default()
    }
}

/// When the listings below are read: after every record's `created_at`.
const NOW: &str = "2026-06-01T00:00:00.000Z";

fn page(limit: usize) -> PageRequest {
    PageRequest {
        limit,
        after: None,
        now: NOW.into(),
    }
}

fn change(n: usize) -> FileChange {
    FileChange {
        new_versions: vec![version(n)],
        filename: format!("name {n}.txt"),
        mime_type: "text/plain".into(),
        access_control: AccessControl::PublicRead,
        attributes: Map::new(),
        updated_at: "2026-01-02T00:00:00.000Z".into(),
        expires_at: None,
        ingest: None,
    }
}

/// A stored file of `org` with one version.
async fn created<R: FileRepository>(repo: &R, org: &str) -> FileRecord {
    let record = record(org);
    repo.create(&record, None).await.unwrap();
    record
}

/// The code a failed call answers the API's clients with (through the service's one
/// mapping of storage errors).
fn code<T: std::fmt::Debug>(result: crate::ports::StoreResult<T>) -> ErrorCode {
    crate::Error::from(result.expect_err("an error")).code()
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
    repo.create(&external, None).await.unwrap();
    assert_eq!(
        repo.get(external.id).await.unwrap().as_ref(),
        Some(&external),
        "external file round-trips"
    );
}

pub async fn create_of_a_taken_id_is_a_conflict<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    assert_eq!(code(repo.create(&first, None).await), ErrorCode::Conflict);
}

pub async fn update_appends_a_version_for_the_owner_only<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    let second = change(2);
    let stored = repo.update_file(first.id, org, &second, &[]).await.unwrap();
    assert_eq!(stored, second, "a later version is stored as it is");
    let updated = repo.get(first.id).await.unwrap().expect("still there");
    assert_eq!(updated.versions.len(), 2, "append adds a version");
    assert_eq!(Some(&updated.versions[1]), second.new_versions.first());
    assert_eq!(updated.access_control, AccessControl::PublicRead);
    assert_eq!(updated.filename, "name 2.txt");
    assert_eq!(updated.created_at, first.created_at, "created_at stays");
    let mut expected = first.clone();
    second.apply_to(&mut expected);
    assert_eq!(updated, expected, "the stored record is the change applied");
    let other_org = format!("{org}-other");
    assert_eq!(
        code(
            repo.update_file(first.id, &other_org, &change(3), &[])
                .await
        ),
        ErrorCode::NotFound,
        "another organisation cannot append"
    );
    assert_eq!(
        code(repo.update_file(Uuid::new_v4(), org, &change(3), &[]).await),
        ErrorCode::NotFound,
        "append to a missing file"
    );
}

pub async fn metadata_changes_keep_the_versions<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    repo.update_file(first.id, org, &change(2), &[])
        .await
        .unwrap();
    let updated = repo.get(first.id).await.unwrap().unwrap();
    let mut private_again = change(0);
    private_again.new_versions = Vec::new();
    private_again.access_control = AccessControl::Private;
    repo.update_file(first.id, org, &private_again, &[])
        .await
        .unwrap();
    let relabelled = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(relabelled.versions, updated.versions, "versions stay");
    assert_eq!(relabelled.access_control, AccessControl::Private);
    assert_eq!(relabelled.filename, "name 0.txt");
}

pub async fn versions_get_strictly_increasing_timestamps<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    let latest = first.versions[0].created_at.clone();
    // A version stamped no later than the latest (a slow clock, a concurrent save).
    let mut early = change(3);
    early.new_versions[0].created_at = latest.clone();
    let stored = repo.update_file(first.id, org, &early, &[]).await.unwrap();
    let stamped = stored.new_versions[0].created_at.clone();
    assert!(stamped > latest, "{stamped} is after {latest}");
    assert_eq!(stamped.len(), latest.len(), "same width");
    let after = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(after.versions[1].created_at, stamped, "stored as answered");
}

pub async fn concurrent_appends_all_land<R: FileRepository>(repo: &R, org: &str) {
    // Twelve saves stamped alike meet on one file: each must land, in order of time,
    // and the organisation's usage must count each once.
    const APPENDS: usize = 12;
    for _trial in 0..4 {
        let first = created(repo, org).await;
        let before = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
        let changes: Vec<FileChange> = (3..3 + APPENDS).map(change).collect();
        let landed = futures::future::join_all(
            changes
                .iter()
                .map(|c| repo.update_file(first.id, org, c, &[])),
        )
        .await;
        for r in landed {
            r.unwrap();
        }
        let after = repo.get(first.id).await.unwrap().unwrap();
        assert_eq!(
            after.versions.len(),
            1 + APPENDS,
            "every concurrent append landed"
        );
        let keys: HashSet<_> = after.versions.iter().map(|v| v.key.clone()).collect();
        assert_eq!(keys.len(), 1 + APPENDS, "no version lost or doubled");
        for pair in after.versions.windows(2) {
            assert!(pair[0].created_at < pair[1].created_at, "in order of time");
        }
        let usage = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
        let added: u64 = changes.iter().map(|c| c.added_bytes()).sum();
        assert_eq!(
            usage.versions,
            before.versions + APPENDS as u64,
            "versions counted once"
        );
        assert_eq!(usage.bytes, before.bytes + added, "bytes counted once");
    }
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

pub async fn a_file_being_deleted_is_hidden_and_frozen<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    repo.update_file(first.id, org, &change(2), &[])
        .await
        .unwrap();
    assert_eq!(
        code(repo.begin_delete(first.id, &format!("{org}-other")).await),
        ErrorCode::NotFound,
        "another organisation cannot delete"
    );
    let frozen = repo.begin_delete(first.id, org).await.unwrap();
    assert_eq!(frozen.versions.len(), 2, "the record as it stands");
    assert_eq!(repo.get(first.id).await.unwrap(), None, "hidden from get");
    assert!(
        repo.get_many(&[first.id]).await.unwrap().is_empty(),
        "and from get_many"
    );
    let listed = repo
        .list(org, &FileQuery::default(), &page(100))
        .await
        .unwrap();
    assert!(
        listed.items.iter().all(|r| r.id != first.id),
        "and from the listing"
    );
    assert_eq!(
        code(repo.update_file(first.id, org, &change(3), &[]).await),
        ErrorCode::NotFound,
        "no version can be added once a delete began"
    );
    let again = repo.begin_delete(first.id, org).await.unwrap();
    assert_eq!(
        again.versions, frozen.versions,
        "a retried delete sees the same versions"
    );
    repo.finish_delete(first.id, org).await.unwrap();
    repo.finish_delete(first.id, org).await.unwrap();
    assert_eq!(
        code(repo.begin_delete(first.id, org).await),
        ErrorCode::NotFound,
        "gone"
    );
    let mut external = record(org);
    external.versions.clear();
    repo.create(&external, None).await.unwrap();
    repo.begin_delete(external.id, org).await.unwrap();
    repo.finish_delete(external.id, org).await.unwrap();
}

pub async fn a_claimed_upload_is_consumed_once<R: FileRepository>(repo: &R, org: &str) {
    let upload_key = format!("temp/{org}/{}/upload.txt", Uuid::new_v4());
    let first = record(org);
    let claim = |file| UploadClaim {
        upload_key: &upload_key,
        file,
    };
    repo.create(&first, Some(claim(first.id))).await.unwrap();
    let second = record(org);
    assert_eq!(
        code(repo.create(&second, Some(claim(second.id))).await),
        ErrorCode::Conflict,
        "a second file from the same upload"
    );
    assert_eq!(repo.get(second.id).await.unwrap(), None, "nothing stored");
    assert_eq!(
        code(
            repo.update_file(first.id, org, &change(2), &[claim(first.id)])
                .await
        ),
        ErrorCode::Conflict,
        "a version from the same upload"
    );
    assert_eq!(
        repo.get(first.id).await.unwrap().unwrap().versions.len(),
        1,
        "no version added"
    );
    let other_key = format!("temp/{org}/{}/other.txt", Uuid::new_v4());
    let other = UploadClaim {
        upload_key: &other_key,
        file: first.id,
    };
    repo.update_file(first.id, org, &change(2), &[other])
        .await
        .unwrap();
    assert_eq!(repo.get(first.id).await.unwrap().unwrap().versions.len(), 2);
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
        repo.create(&r, None).await.unwrap();
        stored.push(r);
    }
    let mut elsewhere = record(&format!("{org}-other"));
    elsewhere.created_at = "2026-02-03T00:00:00.000Z".into();
    repo.create(&elsewhere, None).await.unwrap();

    stored.sort_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
    let mut seen = Vec::new();
    let mut request = page(3);
    for round in 0.. {
        assert!(round < 5, "the listing ends");
        let answer = repo
            .list(org, &FileQuery::default(), &request)
            .await
            .unwrap();
        assert!(answer.items.len() <= 3, "a page holds at most its limit");
        seen.extend(answer.items.into_iter().map(|r| r.id));
        match answer.next {
            Some(cursor) => request.after = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<Uuid> = stored.iter().map(|r| r.id).collect();
    assert_eq!(
        seen, expected,
        "every file once, newest first, none of another organisation"
    );
    let all = repo
        .list(org, &FileQuery::default(), &page(1000))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 7);
    assert_eq!(all.items[0], stored[0], "listed records are whole");
    assert!(all.next.is_none(), "one page holds them all");
}

pub async fn a_fetch_is_ended_only_by_its_own_job<R: FileRepository>(repo: &R, org: &str) {
    let job = Uuid::new_v4();
    let mut pending = record(org);
    pending.versions.clear();
    pending.status = FileStatus::Pending;
    pending.ingest_job = Some(job);
    pending.expires_at = Some("2026-03-01T00:00:00.000Z".into());
    repo.create(&pending, None).await.unwrap();
    assert_eq!(
        repo.get(pending.id).await.unwrap().as_ref(),
        Some(&pending),
        "round trip"
    );
    let finish = |job, failure: Option<&str>| FileChange {
        ingest: Some(IngestStep::Finish {
            job,
            failure: failure.map(|reason| crate::ports::FetchFailed {
                kind: if reason.contains("quota") {
                    FetchFailure::QuotaExceeded
                } else {
                    FetchFailure::SourceFailed
                },
                reason: reason.to_owned(),
            }),
        }),
        ..change(1)
    };
    assert_eq!(
        code(
            repo.update_file(pending.id, org, &finish(Uuid::new_v4(), None), &[])
                .await
        ),
        ErrorCode::Conflict,
        "another job cannot end the fetch"
    );
    let still = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (still.status, still.versions.len()),
        (FileStatus::Pending, 0)
    );
    repo.update_file(pending.id, org, &finish(job, None), &[])
        .await
        .unwrap();
    let ready = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(ready.status, FileStatus::Ready);
    assert_eq!(
        (ready.ingest_job, ready.status_reason.as_deref()),
        (None, None)
    );
    assert_eq!(ready.versions.len(), 1);
    assert_eq!(ready.versions[0].checksum_sha256.as_deref(), Some("sum1"));
    assert_eq!(ready.expires_at, pending.expires_at, "kept");
    assert_eq!(
        code(
            repo.update_file(pending.id, org, &finish(job, None), &[])
                .await
        ),
        ErrorCode::Conflict,
        "a fetch ends once"
    );
    // A new fetch of the same file, which fails: the versions stay.
    let second = Uuid::new_v4();
    let begin = FileChange {
        new_versions: Vec::new(),
        ingest: Some(IngestStep::Begin { job: second }),
        expires_at: Some("2026-04-01T00:00:00.000Z".into()),
        ..change(2)
    };
    repo.update_file(pending.id, org, &begin, &[])
        .await
        .unwrap();
    let refetching = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(refetching.status, FileStatus::Pending);
    assert_eq!(refetching.ingest_job, Some(second));
    assert_eq!(
        refetching.expires_at.as_deref(),
        Some("2026-04-01T00:00:00.000Z")
    );
    let failed = FileChange {
        new_versions: Vec::new(),
        ..finish(second, Some("the source answered 404 Not Found"))
    };
    repo.update_file(pending.id, org, &failed, &[])
        .await
        .unwrap();
    let after = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(after.status, FileStatus::Failed);
    assert_eq!(
        after.status_reason.as_deref(),
        Some("the source answered 404 Not Found")
    );
    assert_eq!((after.ingest_job, after.versions.len()), (None, 1));
    // A metadata change leaves the fetch's status alone.
    repo.update_file(
        pending.id,
        org,
        &FileChange {
            new_versions: Vec::new(),
            ..change(3)
        },
        &[],
    )
    .await
    .unwrap();
    let kept = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.failure),
        (FileStatus::Failed, Some(FetchFailure::SourceFailed))
    );
    // A fetch that fails past the quota keeps that kind; the next fetch clears it.
    let third = Uuid::new_v4();
    let begin_third = FileChange {
        new_versions: Vec::new(),
        ingest: Some(IngestStep::Begin { job: third }),
        ..change(4)
    };
    repo.update_file(pending.id, org, &begin_third, &[])
        .await
        .unwrap();
    let refetching = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!((refetching.failure, refetching.status_reason), (None, None));
    let over_quota = FileChange {
        new_versions: Vec::new(),
        ..finish(third, Some("past the quota"))
    };
    repo.update_file(pending.id, org, &over_quota, &[])
        .await
        .unwrap();
    let over = repo.get(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (over.status, over.failure),
        (FileStatus::Failed, Some(FetchFailure::QuotaExceeded))
    );
}

pub async fn lists_hold_only_files_with_bytes_that_have_not_ended<R: FileRepository>(
    repo: &R,
    org: &str,
) {
    let mut pending = record(org);
    pending.versions.clear();
    pending.status = FileStatus::Pending;
    pending.ingest_job = Some(Uuid::new_v4());
    let mut ended = record(org);
    ended.expires_at = Some("2026-05-31T23:59:59.999Z".into());
    let mut ending_later = record(org);
    ending_later.expires_at = Some("2026-06-01T00:00:00.001Z".into());
    let mut external = record(org);
    external.versions.clear();
    external.custom_download_url = Some("https://example.com/a.pdf".into());
    let plain = record(org);
    for r in [&pending, &ended, &ending_later, &external, &plain] {
        repo.create(r, None).await.unwrap();
    }
    let mut listed: Vec<Uuid> = Vec::new();
    let mut request = page(2);
    loop {
        let answer = repo
            .list(org, &FileQuery::default(), &request)
            .await
            .unwrap();
        assert!(answer.items.len() <= 2);
        listed.extend(answer.items.iter().map(|r| r.id));
        match answer.next {
            Some(cursor) => request.after = Some(cursor),
            None => break,
        }
    }
    let mut expected = vec![ending_later.id, external.id, plain.id];
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected, "no pending file, none past its end");
}

pub async fn a_batch_of_versions_lands_in_one_write<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    let before = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
    // Three versions stamped alike (and no later than the file's): each gets its own,
    // later, stamp, in the order given.
    let mut batch = change(3);
    batch.new_versions = (3..6).map(version).collect();
    for v in &mut batch.new_versions {
        v.created_at = first.versions[0].created_at.clone();
    }
    let claims: Vec<String> = (0..3)
        .map(|i| format!("temp/{org}/{}/b{i}", Uuid::new_v4()))
        .collect();
    let claims: Vec<UploadClaim<'_>> = claims
        .iter()
        .map(|k| UploadClaim {
            upload_key: k,
            file: first.id,
        })
        .collect();
    let stored = repo
        .update_file(first.id, org, &batch, &claims)
        .await
        .unwrap();
    let after = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(after.versions.len(), 4);
    assert_eq!(
        &after.versions[1..],
        &stored.new_versions[..],
        "stored as answered"
    );
    for pair in after.versions.windows(2) {
        assert!(pair[0].created_at < pair[1].created_at, "strictly later");
    }
    let usage = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
    assert_eq!(usage.versions, before.versions + 3);
    assert_eq!(usage.bytes, before.bytes + batch.added_bytes());
    // Any claim consumed before: nothing of the batch lands.
    let mut again = change(7);
    again.new_versions = vec![version(7), version(8)];
    let fresh = format!("temp/{org}/{}/fresh", Uuid::new_v4());
    let reused = [
        UploadClaim {
            upload_key: &fresh,
            file: first.id,
        },
        claims[1],
    ];
    assert_eq!(
        code(repo.update_file(first.id, org, &again, &reused).await),
        ErrorCode::Conflict
    );
    assert_eq!(repo.get(first.id).await.unwrap().unwrap().versions.len(), 4);
}

pub async fn a_version_is_removed_but_never_the_last<R: FileRepository>(repo: &R, org: &str) {
    let first = created(repo, org).await;
    let mut more = change(3);
    more.new_versions = vec![version(3), version(4)];
    repo.update_file(first.id, org, &more, &[]).await.unwrap();
    let three = repo.get(first.id).await.unwrap().unwrap();
    let before = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
    let middle = three.versions[1].clone();
    let now = "2026-02-01T00:00:00.000Z";
    // Another organisation, a stale key, an index past the end: refused, nothing changes.
    assert_eq!(
        code(
            repo.remove_version(first.id, "someone-else", 1, &middle.key, now)
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            repo.remove_version(first.id, org, 0, &middle.key, now)
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(
        code(
            repo.remove_version(first.id, org, 7, &middle.key, now)
                .await
        ),
        ErrorCode::Conflict
    );
    let after = repo
        .remove_version(first.id, org, 1, &middle.key, now)
        .await
        .unwrap();
    assert_eq!(after.versions.len(), 2);
    assert!(after.versions.iter().all(|v| v.key != middle.key));
    assert_eq!(after.updated_at, now);
    assert_eq!(
        repo.get(first.id).await.unwrap().unwrap(),
        after,
        "stored as answered"
    );
    let usage = repo.usage(org, "2026-01-01T00:00:00.000Z").await.unwrap();
    assert_eq!(usage.versions, before.versions - 1);
    assert_eq!(usage.bytes, before.bytes - middle.size_bytes);
    // The latest can go; the last one left cannot.
    let latest = after.versions[1].key.clone();
    let one = repo
        .remove_version(first.id, org, 1, &latest, now)
        .await
        .unwrap();
    assert_eq!(one.versions.len(), 1);
    assert_eq!(
        code(
            repo.remove_version(first.id, org, 0, &one.versions[0].key, now)
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(repo.get(first.id).await.unwrap().unwrap().versions.len(), 1);
}

pub async fn links_are_added_listed_touched_and_revoked<R: FileRepository>(repo: &R, org: &str) {
    use crate::domain::{new_link_id, PublicLink, MAX_PUBLIC_LINKS};
    let first = created(repo, org).await;
    let link = |n: usize| PublicLink {
        id: new_link_id(first.id),
        created_at: format!("2026-01-01T00:00:{:02}.000Z", n),
        last_accessed_at: None,
    };
    let (a, b) = (link(1), link(2));
    repo.add_link(first.id, org, &a).await.unwrap();
    repo.add_link(first.id, org, &b).await.unwrap();
    assert_eq!(
        code(repo.add_link(first.id, "someone-else", &link(3)).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(repo.add_link(Uuid::new_v4(), org, &link(3)).await),
        ErrorCode::NotFound
    );
    let stored = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(
        stored.public_links,
        vec![a.clone(), b.clone()],
        "oldest first"
    );
    repo.touch_link(first.id, &a.id, "2026-03-01T00:00:00.000Z")
        .await
        .unwrap();
    repo.touch_link(first.id, "no-such-link", "2026-03-01T00:00:00.000Z")
        .await
        .unwrap();
    let touched = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(
        touched.public_links[0].last_accessed_at.as_deref(),
        Some("2026-03-01T00:00:00.000Z")
    );
    assert_eq!(
        touched.versions, first.versions,
        "links leave versions alone"
    );
    assert_eq!(
        code(repo.remove_link(first.id, "someone-else", &a.id).await),
        ErrorCode::NotFound
    );
    repo.remove_link(first.id, org, &a.id).await.unwrap();
    assert_eq!(
        code(repo.remove_link(first.id, org, &a.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        repo.get(first.id).await.unwrap().unwrap().public_links,
        vec![b]
    );
    // A bounded number per file.
    for n in 0..MAX_PUBLIC_LINKS - 1 {
        repo.add_link(first.id, org, &link(10 + n)).await.unwrap();
    }
    assert_eq!(
        code(repo.add_link(first.id, org, &link(59)).await),
        ErrorCode::Conflict
    );
    // A file being deleted has no links any more.
    repo.begin_delete(first.id, org).await.unwrap();
    assert_eq!(
        code(repo.remove_link(first.id, org, &link(1).id).await),
        ErrorCode::NotFound
    );
}

pub async fn scan_verdicts_land_on_their_version<R: FileRepository>(repo: &R, org: &str) {
    use crate::domain::{Scan, ScanStatus};
    let first = created(repo, org).await;
    let mut more = change(3);
    more.new_versions = vec![version(3)];
    repo.update_file(first.id, org, &more, &[]).await.unwrap();
    let two = repo.get(first.id).await.unwrap().unwrap();
    let infected = Scan {
        status: ScanStatus::Infected,
        scanned_at: Some("2026-02-01T00:00:00.000Z".into()),
        verdict: Some("EICAR-Test-File (not a virus)".into()),
    };
    let key = two.versions[0].key.clone();
    // Another organisation's, or a key the file does not have: nothing.
    assert_eq!(
        repo.set_scan(first.id, "someone-else", &key, &infected)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.set_scan(first.id, org, "files/x/none", &infected)
            .await
            .unwrap(),
        None
    );
    let after = repo
        .set_scan(first.id, org, &key, &infected)
        .await
        .unwrap()
        .expect("the version is there");
    assert_eq!(after.versions[0].scan.as_ref(), Some(&infected));
    assert_eq!(
        after.versions[1].scan, two.versions[1].scan,
        "the other version untouched"
    );
    let read = repo.get(first.id).await.unwrap().unwrap();
    assert_eq!(read.versions[0].scan_status(), ScanStatus::Infected);
    assert_eq!(read.versions[1].scan_status(), ScanStatus::NotScanned);
    // A file in the trash still gets its verdict.
    let trash = crate::domain::Trash {
        deleted_at: "2026-02-02T00:00:00.000Z".into(),
        deleted_by: None,
        purge_at: "2026-03-02T00:00:00.000Z".into(),
    };
    repo.trash(first.id, org, &trash).await.unwrap();
    let clean = Scan {
        status: ScanStatus::Clean,
        ..infected.clone()
    };
    let key = two.versions[1].key.clone();
    let trashed = repo
        .set_scan(first.id, org, &key, &clean)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trashed.versions[1].scan_status(), ScanStatus::Clean);
}
