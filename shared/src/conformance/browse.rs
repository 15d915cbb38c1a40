//! What every `FileRepository` promises of listings, counts and usage: each adapter
//! lists exactly what [`FileFilters::matches`] admits, in [`ListSort::key_of`] order, so
//! the in-memory adapter lists as DynamoDB does. `org` is unique per run.

use std::collections::HashSet;

use serde_json::{json, Map};
use uuid::Uuid;

use crate::domain::{
    AccessControl, FileFilters, FileQuery, FileRecord, FileStatus, ListSort, MimeFilter, SortOrder,
    StoredVersion,
};
use crate::ports::{FileChange, FileRepository, IngestStep, PageRequest, Usage};

/// When these listings are read: after every `created_at` below, before every end.
const NOW: &str = "2026-06-01T00:00:00.000Z";

const NAMES: [&str; 6] = [
    "Rechnung 2026.pdf",
    "rechnung 2026.pdf",
    "Übersicht.xlsx",
    "photo.JPG",
    "a b.png",
    "a#b.png",
];
const TYPES: [&str; 6] = [
    "application/pdf",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/jpeg",
    "image/png",
    "image/png",
];

fn version(i: usize, size: u64) -> StoredVersion {
    StoredVersion {
        key: format!("files/org/{}/v/x", Uuid::new_v4()),
        filename: NAMES[i % 6].into(),
        mime_type: TYPES[i % 6].into(),
        size_bytes: size,
        etag: format!("etag{i}"),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        ..StoredVersion::default()
    }
}

/// A version as the malware scan left it: clean, infected, pending or not scanned.
fn scanned(mut version: StoredVersion, i: usize) -> StoredVersion {
    use crate::domain::{Scan, ScanStatus};
    let status = [ScanStatus::Clean, ScanStatus::Infected, ScanStatus::Pending][..]
        .get(i % 4)
        .copied();
    version.scan = status.map(|status| Scan {
        status,
        ..Scan::default()
    });
    version
}

/// 32 files that differ in every way a listing looks at, with ties in every order.
fn variety(org: &str) -> Vec<FileRecord> {
    (0..32)
        .map(|i| {
            let mut attributes = Map::new();
            if i % 3 == 0 {
                attributes.insert("_tags".into(), json!(["invoice", format!("t{}", i % 4)]));
            }
            if i % 4 == 1 {
                attributes.insert(
                    "relations".into(),
                    json!([{"entity_id": format!("e{}", i % 2)}, {"entity_id": "shared"}]),
                );
            }
            FileRecord {
                id: Uuid::new_v4(),
                org: org.into(),
                // Ties: every created_at twice, every updated_at four times.
                created_at: format!("2026-02-{:02}T00:00:00.000Z", 1 + i / 2),
                updated_at: format!("2026-03-{:02}T00:00:00.000Z", 1 + i / 4),
                filename: NAMES[i % 6].into(),
                mime_type: TYPES[i % 6].into(),
                access_control: if i % 5 == 0 {
                    AccessControl::PublicRead
                } else {
                    AccessControl::Private
                },
                attributes,
                versions: vec![
                    version(i, 100),
                    scanned(version(i, (i as u64 % 7) * 1000), i),
                ],
                ..FileRecord::default()
            }
        })
        .collect()
}

async fn stored<R: FileRepository>(repo: &R, org: &str) -> Vec<FileRecord> {
    let records = variety(org);
    for r in &records {
        repo.create(r, None).await.unwrap();
    }
    // Another organisation's files never show.
    for r in variety(&format!("{org}-other")).iter().take(3) {
        repo.create(r, None).await.unwrap();
    }
    records
}

/// What `query` must list of `records`, in order.
fn expected(records: &[FileRecord], query: &FileQuery) -> Vec<Uuid> {
    let mut keyed: Vec<(String, Uuid)> = records
        .iter()
        .filter(|r| query.filters.matches(r))
        .map(|r| (query.sort.key_of(r), r.id))
        .collect();
    keyed.sort();
    if query.order == SortOrder::Descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Every page of `query`, `limit` at a time: only the last may be empty.
async fn all_pages<R: FileRepository>(
    repo: &R,
    org: &str,
    query: &FileQuery,
    limit: usize,
) -> Vec<Uuid> {
    let mut seen = Vec::new();
    let mut request = PageRequest {
        limit,
        after: None,
        now: NOW.into(),
    };
    for round in 0.. {
        assert!(round <= 40, "the listing ends");
        let page = repo.list(org, query, &request).await.unwrap();
        assert!(page.items.len() <= limit, "a page holds at most its limit");
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(cursor) => {
                assert!(!page.items.is_empty(), "only the last page is empty");
                request.after = Some(cursor);
            }
            None => break,
        }
    }
    seen
}

pub async fn every_sort_pages_without_gaps_or_repeats<R: FileRepository>(repo: &R, org: &str) {
    let records = stored(repo, org).await;
    for sort in ListSort::ALL {
        for order in [SortOrder::Descending, SortOrder::Ascending] {
            let query = FileQuery {
                sort,
                order,
                ..FileQuery::default()
            };
            let seen = all_pages(repo, org, &query, 7).await;
            assert_eq!(
                seen,
                expected(&records, &query),
                "{sort:?} {order:?}: every file once, in order"
            );
            assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 32);
        }
    }
}

/// Filters one at a time and combined.
fn filter_cases() -> Vec<FileFilters> {
    let none = FileFilters::default();
    vec![
        FileFilters {
            q: Some("rechnung".into()),
            ..none.clone()
        },
        FileFilters {
            q: Some("übersicht".into()),
            ..none.clone()
        },
        FileFilters {
            q: Some("#".into()),
            ..none.clone()
        },
        FileFilters {
            file_type: Some("image".into()),
            ..none.clone()
        },
        FileFilters {
            mime_type: Some(MimeFilter::Exact("application/pdf".into())),
            ..none.clone()
        },
        FileFilters {
            mime_type: Some(MimeFilter::AnyOf("image/".into())),
            ..none.clone()
        },
        FileFilters {
            tag: Some("invoice".into()),
            ..none.clone()
        },
        FileFilters {
            access_control: Some(AccessControl::PublicRead),
            ..none.clone()
        },
        FileFilters {
            scan_status: Some(crate::domain::ScanStatus::Infected),
            ..none.clone()
        },
        FileFilters {
            scan_status: Some(crate::domain::ScanStatus::NotScanned),
            ..none.clone()
        },
        FileFilters {
            scan_status: Some(crate::domain::ScanStatus::Pending),
            q: Some("rechnung".into()),
            ..none.clone()
        },
        FileFilters {
            related_to: Some("shared".into()),
            ..none.clone()
        },
        FileFilters {
            created_from: Some("2026-02-05T00:00:00.000Z".into()),
            created_to: Some("2026-02-09T00:00:00.000Z".into()),
            ..none.clone()
        },
        FileFilters {
            size_min: Some(2000),
            size_max: Some(4000),
            ..none.clone()
        },
        FileFilters {
            size_max: Some(0),
            ..none.clone()
        },
        FileFilters {
            q: Some("rechnung".into()),
            tag: Some("invoice".into()),
            size_min: Some(1000),
            ..none.clone()
        },
        FileFilters {
            mime_type: Some(MimeFilter::AnyOf("image/".into())),
            access_control: Some(AccessControl::Private),
            created_from: Some("2026-02-03T00:00:00.000Z".into()),
            related_to: Some("e1".into()),
            ..none.clone()
        },
        FileFilters {
            tag: Some("nothing-has-this".into()),
            ..none
        },
    ]
}

pub async fn filters_and_their_combinations_list_and_count_alike<R: FileRepository>(
    repo: &R,
    org: &str,
) {
    let records = stored(repo, org).await;
    for filters in filter_cases() {
        for sort in ListSort::ALL {
            let query = FileQuery {
                filters: filters.clone(),
                sort,
                order: SortOrder::Ascending,
            };
            let seen = all_pages(repo, org, &query, 4).await;
            assert_eq!(seen, expected(&records, &query), "{filters:?} by {sort:?}");
        }
        let count = repo.count(org, &filters, NOW).await.unwrap();
        let matching = records.iter().filter(|r| filters.matches(r)).count();
        assert_eq!(
            count.count, matching as u64,
            "{filters:?}: the count is what the listing holds"
        );
    }
    let all = repo.count(org, &FileFilters::default(), NOW).await.unwrap();
    assert_eq!(all.count, 32, "an unfiltered count is exact");
}

fn sum(records: &[&FileRecord]) -> Usage {
    records.iter().fold(Usage::default(), |u, r| Usage {
        files: u.files + 1,
        versions: u.versions + r.versions.len() as u64,
        bytes: u.bytes + r.stored_bytes(),
        ..u
    })
}

pub async fn usage_follows_every_write<R: FileRepository>(repo: &R, org: &str) {
    let usage = || async { repo.usage(org, NOW).await.unwrap() };
    assert_eq!(
        usage().await,
        Usage::default(),
        "a new organisation uses nothing"
    );
    let mut records = variety(org);
    records.truncate(4);
    let [mut a, b, mut c, mut d] = <[FileRecord; 4]>::try_from(records).unwrap();
    repo.create(&a, None).await.unwrap();
    assert_eq!(usage().await, sum(&[&a]));

    // A pending file uses nothing until its bytes land.
    let job = Uuid::new_v4();
    c.versions.clear();
    c.status = FileStatus::Pending;
    c.ingest_job = Some(job);
    repo.create(&c, None).await.unwrap();
    assert_eq!(usage().await, sum(&[&a]));
    let landed = FileChange {
        new_versions: vec![version(9, 5000)],
        filename: c.filename.clone(),
        mime_type: c.mime_type.clone(),
        access_control: c.access_control,
        attributes: Map::new(),
        updated_at: NOW.into(),
        expires_at: None,
        ingest: Some(IngestStep::Finish { job, failure: None }),
    };
    let stored = repo.update_file(c.id, org, &landed, &[]).await.unwrap();
    stored.apply_to(&mut c);
    assert_eq!(usage().await, sum(&[&a, &c]));

    // A new version of a file without an end, an external file.
    let mut more = landed.clone();
    more.ingest = None;
    more.new_versions = vec![version(8, 700)];
    let stored = repo.update_file(a.id, org, &more, &[]).await.unwrap();
    stored.apply_to(&mut a);
    let mut external = b.clone();
    external.versions.clear();
    external.custom_download_url = Some("https://example.com/x.pdf".into());
    repo.create(&external, None).await.unwrap();
    assert_eq!(usage().await, sum(&[&a, &c, &external]));

    // A file with an end counts until then; one that gets an end keeps counting.
    d.expires_at = Some("2026-06-02T00:00:00.000Z".into());
    repo.create(&d, None).await.unwrap();
    let mut ending = more.clone();
    ending.new_versions = vec![version(7, 300)];
    ending.expires_at = Some("2026-06-03T00:00:00.000Z".into());
    let stored = repo.update_file(a.id, org, &ending, &[]).await.unwrap();
    stored.apply_to(&mut a);
    assert_eq!(usage().await, sum(&[&a, &c, &external, &d]));
    let later = repo.usage(org, "2026-06-02T12:00:00.000Z").await.unwrap();
    assert_eq!(later, sum(&[&a, &c, &external]), "d has ended");
    let later = repo.usage(org, "2026-06-04T00:00:00.000Z").await.unwrap();
    assert_eq!(later, sum(&[&c, &external]), "a has ended too");

    // A delete counts from its beginning, once however often it begins.
    repo.begin_delete(c.id, org).await.unwrap();
    repo.begin_delete(c.id, org).await.unwrap();
    repo.begin_delete(a.id, org).await.unwrap();
    assert_eq!(usage().await, sum(&[&external, &d]));
    repo.finish_delete(c.id, org).await.unwrap();
    assert_eq!(usage().await, sum(&[&external, &d]));
    let other = repo.usage(&format!("{org}-other"), NOW).await.unwrap();
    assert_eq!(other, Usage::default(), "usage is the organisation's own");
}
