//! Section 8: listing and counting an organisation of 10,000 files on the emulator's
//! DynamoDB, beside the design without indexes (a Scan that filters by organisation),
//! measured in the same run. Items read are DynamoDB's own ScannedCount.

use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use shared::adapters::dynamodb::DynamoFiles;
use shared::domain::{
    FileFilters, FileQuery, FileRecord, ListSort, MimeFilter, SortOrder, StoredVersion,
};
use shared::ports::{FileRepository, PageRequest};
use uuid::Uuid;

use crate::{env_or, warm, Options, Row, Stats};

const SECTION: &str = "8. listing 10,000 files";
const NOW: &str = "2026-06-01T00:00:00.000Z";

fn record(org: &str, i: usize) -> FileRecord {
    let (name, mime) = match i % 4 {
        0 => (format!("Rechnung {i}.pdf"), "application/pdf"),
        1 => (format!("photo-{i}.jpg"), "image/jpeg"),
        2 => (format!("sheet {i}.xlsx"), "application/vnd.ms-excel"),
        _ => (format!("notes-{i}.txt"), "text/plain"),
    };
    let mut attributes = serde_json::Map::new();
    if i.is_multiple_of(100) {
        attributes.insert("_tags".into(), serde_json::json!(["rare"]));
    }
    FileRecord {
        id: Uuid::new_v4(),
        org: org.into(),
        created_at: format!(
            "2026-01-{:02}T{:02}:{:02}:{:02}.000Z",
            1 + i / 3600 % 28,
            i / 60 % 24,
            i % 60,
            i % 60
        ),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        filename: name.clone(),
        mime_type: mime.into(),
        attributes,
        versions: vec![StoredVersion {
            key: format!("files/{org}/{i}/v/{name}"),
            filename: name,
            mime_type: mime.into(),
            size_bytes: (i as u64 * 7919) % 5_000_000,
            etag: "0123456789abcdef0123456789abcdef".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            checksum_sha256: Some("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".into()),
            ..StoredVersion::default()
        }],
        ..FileRecord::default()
    }
}

fn row(name: &str, millis: &[f64], read: u64, note: &str) -> Row {
    Row {
        section: SECTION,
        name: name.into(),
        unit: "ms",
        stats: Stats::of(millis),
        note: format!("{read} items read; {note}"),
    }
}

pub async fn listing(options: &Options) -> Vec<Row> {
    let files = if options.quick { 2_000 } else { 10_000 };
    let runs = if options.quick { 3 } else { 7 };
    let clients = shared::aws::AwsClients::new(shared::aws::AwsSettings::emulator(
        &warm::dynamodb_endpoint(),
    ));
    let table = env_or("FILES_TABLE", "file-service-local");
    let repo = DynamoFiles::new(clients.dynamodb.clone(), table.clone());
    let org = format!("bench-list-{}", Uuid::new_v4().simple());
    let started = Instant::now();
    let records: Vec<FileRecord> = (0..files).map(|i| record(&org, i)).collect();
    for chunk in records.chunks(64) {
        let writes = chunk.iter().map(|r| repo.create(r, None));
        for result in futures::future::join_all(writes).await {
            result.expect("create");
        }
    }
    eprintln!(
        "   {files} files written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    let page = |sort, filters: FileFilters| FileQuery {
        filters,
        sort,
        order: SortOrder::Descending,
    };
    let cases = [
        (
            "ours: page of 50, newest first",
            page(ListSort::CreatedAt, FileFilters::default()),
            "index by_org_created, one Query",
        ),
        (
            "ours: page of 50 by filename",
            page(ListSort::Filename, FileFilters::default()),
            "index by_org_filename",
        ),
        (
            "ours: page of 50 by size, size_min=4 MB",
            page(
                ListSort::SizeBytes,
                FileFilters {
                    size_min: Some(4_000_000),
                    ..FileFilters::default()
                },
            ),
            "size range in the key condition",
        ),
        (
            "ours: page of 50, mime_type=image/* (1 in 4)",
            page(
                ListSort::CreatedAt,
                FileFilters {
                    mime_type: Some(MimeFilter::AnyOf("image/".into())),
                    ..FileFilters::default()
                },
            ),
            "FilterExpression: reads ~4x the page",
        ),
        (
            "ours: page of 50, tag=rare (1 in 100)",
            page(
                ListSort::CreatedAt,
                FileFilters {
                    tag: Some("rare".into()),
                    ..FileFilters::default()
                },
            ),
            "FilterExpression: a selective filter reads the whole organisation",
        ),
    ];
    for (name, query, note) in cases {
        let mut millis = Vec::new();
        let mut read = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let answer = repo
                .list(
                    &org,
                    &query,
                    &PageRequest {
                        limit: 50,
                        after: None,
                        now: NOW.into(),
                    },
                )
                .await
                .expect("list");
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            read = answer.read;
        }
        eprintln!(
            "   {name}: {:.1} ms, {read} read",
            Stats::of(&millis).median
        );
        rows.push(row(name, &millis, read, note));
    }
    for (name, filters, note) in [
        (
            "ours: count, no filter",
            FileFilters::default(),
            "the usage counter (+ files with an end)",
        ),
        (
            "ours: count, mime_type=image/*",
            FileFilters {
                mime_type: Some(MimeFilter::AnyOf("image/".into())),
                ..FileFilters::default()
            },
            "Select COUNT over the organisation",
        ),
        (
            "ours: count, created in one day",
            FileFilters {
                created_from: Some("2026-01-02T00:00:00.000Z".into()),
                created_to: Some("2026-01-03T00:00:00.000Z".into()),
                ..FileFilters::default()
            },
            "created range in the key condition",
        ),
    ] {
        let mut millis = Vec::new();
        let mut read = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let counted = repo.count(&org, &filters, NOW).await.expect("count");
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            read = counted.read;
        }
        rows.push(row(name, &millis, read, note));
    }

    // The peer: no index, a Scan of the table filtered by organisation (what a single
    // table keyed by file id offers), for a first page and for a count.
    let scan_runs = runs.min(3);
    for (name, count_only) in [
        ("no index: Scan for a page of 50", false),
        ("no index: Scan to count", true),
    ] {
        let mut millis = Vec::new();
        let mut read = 0;
        for _ in 0..scan_runs {
            let started = Instant::now();
            let (mut found, mut scanned, mut start) = (0usize, 0u64, None);
            loop {
                let mut scan = clients
                    .dynamodb
                    .scan()
                    .table_name(&table)
                    .filter_expression("#org = :org")
                    .expression_attribute_names("#org", "org")
                    .expression_attribute_values(":org", AttributeValue::S(org.clone()))
                    .set_exclusive_start_key(start.take());
                if count_only {
                    scan = scan.select(Select::Count);
                }
                let out = scan.send().await.expect("Scan");
                found += out.count().max(0) as usize;
                scanned += out.scanned_count().max(0) as u64;
                start = out.last_evaluated_key().cloned();
                if start.is_none() || (!count_only && found >= 50) {
                    break;
                }
            }
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
            read = scanned;
        }
        rows.push(row(
            name,
            &millis,
            read,
            "unordered: a sorted page would need every item",
        ));
    }
    rows
}
