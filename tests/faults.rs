//! Faults survived. The n-th S3 or DynamoDB call of an operation fails, for every n,
//! either before it reaches storage or after it took effect (its answer lost). Each time
//! the answer is a success or a retryable 5xx, the file is wholly as before or wholly
//! as after, and a retry without faults converges, leaving no orphan object. And the
//! change is one event (from the table's stream, as the events function reads it) if and
//! only if it committed: none for an attempt that left the file as before, none twice.
//! The service's futures are boxed: a debug build's are large, and the test threads'
//! stacks small.

use std::collections::BTreeSet;
use std::sync::Arc;

use integration_tests::stream::{streamed_config, StreamReader};
use integration_tests::{clients, new_org};
use shared::adapters::dynamodb::{DynamoFiles, DynamoUploads};
use shared::adapters::s3::S3Store;
use shared::domain::{FileRecord, OrgId, S3Ref};
use shared::ports::{FileRepository, ObjectStore, Stores, UploadRecords};
use shared::service::{
    Caller, DeleteMode, DeleteSelection, FileService, SaveRequest, UploadRequest,
};
use shared::testing::{faulty, FailMode, Faults, Faulty};
use shared::time::Clock;
use uuid::Uuid;

type Backend = Stores<Faulty<S3Store>, Faulty<DynamoFiles>, Faulty<DynamoUploads>>;
type Service = FileService<Backend>;

/// The service over the streamed copy of the table, and a reader of its stream.
async fn service() -> (Service, Arc<Faults>, StreamReader) {
    let config = streamed_config().await;
    let stream = StreamReader::at_end(&config.table).await;
    let (backend, faults) = faulty(shared::aws_backend(&config, clients()));
    (
        FileService::new(backend, config, Clock::system()),
        faults,
        stream,
    )
}

/// The types of the events of `org`'s files since the last look.
async fn events(stream: &mut StreamReader, org: &str) -> Vec<&'static str> {
    let events = stream.events_of(org).await;
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// The file's item as the table holds it (a file being deleted is hidden from reads,
/// yet there).
async fn item_of(
    svc: &Service,
    id: Uuid,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    clients()
        .dynamodb
        .get_item()
        .table_name(&svc.config.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(shared::adapters::dynamodb::file_pk(id)),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn item_exists(svc: &Service, id: Uuid) -> bool {
    item_of(svc, id).await.is_some()
}

async fn in_trash(svc: &Service, id: Uuid) -> bool {
    item_of(svc, id)
        .await
        .is_some_and(|item| item.contains_key("deleted_at"))
}

/// One event of `kind` if the attempt committed, none if not.
fn expected(committed: bool, kind: &'static str) -> Vec<&'static str> {
    if committed {
        vec![kind]
    } else {
        vec![]
    }
}

fn caller(org: &str) -> Caller {
    Caller {
        org: OrgId::parse(org).unwrap(),
        sub: None,
    }
}

/// An upload of `body`, stored without counting calls.
async fn uploaded(svc: &Service, org: &str, body: &[u8]) -> S3Ref {
    let ticket = svc
        .upload(
            Some(&OrgId::parse(org).unwrap()),
            UploadRequest {
                filename: "f.txt".into(),
                ..UploadRequest::default()
            },
        )
        .await
        .unwrap();
    svc.backend
        .store
        .inner
        .put(&ticket.s3ref.key, body.to_vec(), Some("text/plain"))
        .await
        .unwrap();
    ticket.s3ref
}

fn save_of(file: Option<Uuid>, s3ref: S3Ref) -> SaveRequest {
    SaveRequest::upload(file, s3ref)
}

/// A new file of one version (`body`), saved without faults.
async fn saved(svc: &Service, org: &str, body: &[u8]) -> Uuid {
    let upload = uploaded(svc, org, body).await;
    Box::pin(svc.save(&caller(org), save_of(None, upload)))
        .await
        .unwrap()
        .id
}

/// The organisation's files as storage holds them (read without faults).
async fn files_of(svc: &Service, org: &str) -> Vec<FileRecord> {
    let page = shared::ports::PageRequest {
        limit: 100,
        after: None,
        now: svc.clock.now_rfc3339(),
    };
    svc.backend
        .files
        .inner
        .list(org, &shared::domain::FileQuery::default(), &page)
        .await
        .unwrap()
        .items
}

/// Every listed version's object is there, and no other object is under the prefix.
async fn assert_whole_and_no_orphans(svc: &Service, org: &str, files: &[FileRecord], what: &str) {
    let referenced: BTreeSet<String> = files
        .iter()
        .flat_map(|f| f.versions.iter().map(|v| v.key.clone()))
        .collect();
    let stored: BTreeSet<String> = svc
        .backend
        .store
        .inner
        .list(&format!("files/{org}/"))
        .await
        .unwrap()
        .into_iter()
        .collect();
    let missing: Vec<_> = referenced.difference(&stored).collect();
    let orphans: Vec<_> = stored.difference(&referenced).collect();
    assert!(
        missing.is_empty(),
        "{what}: versions without bytes: {missing:?}"
    );
    assert!(orphans.is_empty(), "{what}: orphan objects: {orphans:?}");
}

/// A failed attempt's answer: a storage fault the client may retry.
fn assert_retryable(err: &shared::Error, what: &str) {
    assert!(
        err.status() == 503 && err.is_retryable(),
        "{what}: answered {} {err}",
        err.status()
    );
}

/// How many calls `op` makes when nothing fails.
async fn calls_of<F, Fut>(faults: &Faults, op: F) -> usize
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    faults.reset();
    op().await;
    let calls = faults.calls();
    assert!(!calls.is_empty());
    calls.len()
}

const MODES: [FailMode; 2] = [FailMode::Before, FailMode::After];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_of_a_new_file_survives_a_fault_at_every_step() {
    let (svc, faults, mut stream) = service().await;
    let org = new_org();
    let s3ref = uploaded(&svc, &org, b"baseline").await;
    let steps = calls_of(&faults, || async {
        Box::pin(svc.save(&caller(&org), save_of(None, s3ref)))
            .await
            .unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("new file, call {n} failing {mode:?}");
            let org = new_org();
            let s3ref = uploaded(&svc, &org, b"new file").await;
            faults.reset();
            faults.fail_call(n, mode);
            let first = Box::pin(svc.save(&caller(&org), save_of(None, s3ref.clone()))).await;
            faults.reset();
            let files = files_of(&svc, &org).await;
            assert!(files.len() <= 1, "{what}: {} files", files.len());
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
            let committed = files.len() == 1;
            assert_eq!(
                events(&mut stream, &org).await,
                expected(committed, "file.created"),
                "{what}"
            );
            if let Err(e) = first {
                assert_retryable(&e, &what);
                assert!(files.is_empty(), "{what}: a failed save stored a file");
                Box::pin(svc.save(&caller(&org), save_of(None, s3ref)))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: the retry failed: {e}"));
            }
            let files = files_of(&svc, &org).await;
            assert_eq!(files.len(), 1, "{what}: one file in the end");
            assert_eq!(
                events(&mut stream, &org).await,
                expected(!committed, "file.created"),
                "{what}: the retry's"
            );
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_of_a_new_version_survives_a_fault_at_every_step() {
    let (svc, faults, mut stream) = service().await;
    let new_file = |org: String| {
        let svc = &svc;
        async move {
            let id = saved(svc, &org, b"one").await;
            let second = uploaded(svc, &org, b"two").await;
            (org, id, second)
        }
    };
    let (org, id, second) = new_file(new_org()).await;
    let steps = calls_of(&faults, || async {
        Box::pin(svc.save(&caller(&org), save_of(Some(id), second)))
            .await
            .unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("new version, call {n} failing {mode:?}");
            let (org, id, second) = new_file(new_org()).await;
            faults.reset();
            faults.fail_call(n, mode);
            let _ = events(&mut stream, &org).await;
            let first = svc
                .save(&caller(&org), save_of(Some(id), second.clone()))
                .await;
            faults.reset();
            let files = files_of(&svc, &org).await;
            assert_eq!(files.len(), 1, "{what}");
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
            let committed = files[0].versions.len() == 2;
            assert_eq!(
                events(&mut stream, &org).await,
                expected(committed, "file.version_added"),
                "{what}"
            );
            if let Err(e) = first {
                assert_retryable(&e, &what);
                assert_eq!(files[0].versions.len(), 1, "{what}: wholly before");
                Box::pin(svc.save(&caller(&org), save_of(Some(id), second)))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: the retry failed: {e}"));
            }
            let files = files_of(&svc, &org).await;
            assert_eq!(
                files[0].versions.len(),
                2,
                "{what}: wholly after in the end"
            );
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
            assert_eq!(
                events(&mut stream, &org).await,
                expected(!committed, "file.version_added"),
                "{what}: the retry's"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_survives_a_fault_at_every_step() {
    let (svc, faults, mut stream) = service().await;
    let two_versions = |org: String| {
        let svc = &svc;
        async move {
            let id = saved(svc, &org, b"one").await;
            let second = uploaded(svc, &org, b"two").await;
            Box::pin(svc.save(&caller(&org), save_of(Some(id), second)))
                .await
                .unwrap();
            (org, id)
        }
    };
    let (org, id) = two_versions(new_org()).await;
    let steps = calls_of(&faults, || async {
        Box::pin(svc.delete(&caller(&org), id, DeleteMode::Purge))
            .await
            .unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("delete, call {n} failing {mode:?}");
            let (org, id) = two_versions(new_org()).await;
            let _ = events(&mut stream, &org).await;
            faults.reset();
            faults.fail_call(n, mode);
            let first = Box::pin(svc.delete(&caller(&org), id, DeleteMode::Purge)).await;
            faults.reset();
            let committed = !item_exists(&svc, id).await;
            assert_eq!(
                events(&mut stream, &org).await,
                expected(committed, "file.deleted"),
                "{what}"
            );
            // Wholly before: visible with every version's bytes. Or wholly after, for
            // clients: gone (its bytes may wait for the retry).
            if let Some(file) = svc.backend.files.inner.get(id).await.unwrap() {
                assert!(first.is_err(), "{what}: deleted, yet visible");
                assert_whole_and_no_orphans(&svc, &org, &[file], &what).await;
            }
            if let Err(e) = first {
                assert_retryable(&e, &what);
                // A delete whose answer was lost after it finished: the retry finds
                // nothing left to delete (404), which is where it converges too.
                match Box::pin(svc.delete(&caller(&org), id, DeleteMode::Purge)).await {
                    Ok(_) => {}
                    Err(e) if e.status() == 404 && n == steps && mode == FailMode::After => {}
                    Err(e) => panic!("{what}: the retry failed: {e}"),
                }
            }
            assert_eq!(
                svc.backend.files.inner.get(id).await.unwrap(),
                None,
                "{what}"
            );
            assert_whole_and_no_orphans(&svc, &org, &[], &what).await;
            assert_eq!(
                events(&mut stream, &org).await,
                expected(!committed, "file.deleted"),
                "{what}: the retry's"
            );
        }
    }
}

#[tokio::test]
async fn the_s3_event_function_survives_a_fault_and_converges_on_retry() {
    let (svc, faults, _) = service().await;
    for mode in MODES {
        let org = new_org();
        let key = format!("temp/{org}/{}/e.pdf", Uuid::new_v4());
        let text = std::fs::read_to_string(format!(
            "{}/../events/s3-object-created.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .replace(
            "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf",
            &key,
        );
        let event: aws_lambda_events::event::s3::S3Event = serde_json::from_str(&text).unwrap();
        faults.reset();
        faults.fail_call(1, mode);
        let uploads = &svc.backend.uploads;
        let err = shared::expiry::handle_s3_event(uploads, event.clone())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{mode:?}: Lambda retries it");
        faults.reset();
        let report = shared::expiry::handle_s3_event(uploads, event)
            .await
            .unwrap();
        assert_eq!(report.applied + report.stale, 1, "{mode:?}: {report:?}");
        let record = svc.backend.uploads.inner.get_upload(&key).await.unwrap();
        assert!(
            record.is_some(),
            "{mode:?}: the record is there after the retry"
        );
    }
}

/// `org`'s files, listed, and its usage, read without faults.
async fn usage_of(svc: &Service, org: &str) -> shared::ports::Usage {
    svc.backend
        .files
        .inner
        .usage(org, &svc.clock.now_rfc3339())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_survives_a_fault_at_every_step() {
    let (svc, faults, mut stream) = service().await;
    let three = || {
        let svc = &svc;
        async move {
            let org = new_org();
            for body in [&b"one"[..], b"two", b"three"] {
                let s3ref = uploaded(svc, &org, body).await;
                Box::pin(svc.save(&caller(&org), save_of(None, s3ref)))
                    .await
                    .unwrap();
            }
            org
        }
    };
    let org = three().await;
    let steps = calls_of(&faults, || async {
        svc.bulk_delete(&caller(&org), DeleteSelection::All, DeleteMode::Purge)
            .await
            .unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("bulk delete, call {n} failing {mode:?}");
            let org = three().await;
            let _ = events(&mut stream, &org).await;
            faults.reset();
            faults.fail_call(n, mode);
            let first = svc
                .bulk_delete(&caller(&org), DeleteSelection::All, DeleteMode::Purge)
                .await;
            faults.reset();
            match first {
                // One fault within a file's delete is retried there: all three go, and
                // the answer says so even when a lost answer hid that one finished.
                Ok(done) => assert_eq!((done.deleted, done.more), (3, false), "{what}"),
                // Only a failed listing ends the call; then nothing was touched.
                Err(e) => {
                    assert_retryable(&e, &what);
                    let files = files_of(&svc, &org).await;
                    assert_eq!(files.len(), 3, "{what}: answered {e}, yet deleted");
                    assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
                    let again = svc
                        .bulk_delete(&caller(&org), DeleteSelection::All, DeleteMode::Purge)
                        .await;
                    assert_eq!(again.unwrap().deleted, 3, "{what}: the retry");
                }
            }
            assert!(files_of(&svc, &org).await.is_empty(), "{what}");
            assert_whole_and_no_orphans(&svc, &org, &[], &what).await;
            assert_eq!(usage_of(&svc, &org).await, Default::default(), "{what}");
            assert_eq!(
                events(&mut stream, &org).await,
                ["file.deleted"; 3],
                "{what}: each file's delete once"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_during_an_s3_outage_names_the_files_it_left_hidden() {
    let (svc, faults, _) = service().await;
    let org = new_org();
    let mut ids = Vec::new();
    for body in [&b"one"[..], b"two"] {
        let s3ref = uploaded(&svc, &org, body).await;
        ids.push(
            Box::pin(svc.save(&caller(&org), save_of(None, s3ref)))
                .await
                .unwrap()
                .id,
        );
    }
    faults.reset();
    faults.fail_every("DeleteObjects");
    let err = svc
        .bulk_delete(&caller(&org), DeleteSelection::All, DeleteMode::Purge)
        .await
        .unwrap_err();
    faults.reset();
    assert_retryable(&err, "an outage");
    for id in &ids {
        assert!(
            err.to_string().contains(&id.to_string()),
            "{err} names {id}"
        );
        // Hidden from clients and usage at once, its bytes still there.
        let hidden = svc.get(&caller(&org), *id).await.unwrap_err();
        assert_eq!(hidden.status(), 404);
    }
    assert!(files_of(&svc, &org).await.is_empty());
    assert_eq!(usage_of(&svc, &org).await, Default::default());
    // Each retried as the answer says, once S3 is back: nothing is left behind.
    for id in &ids {
        Box::pin(svc.delete(&caller(&org), *id, DeleteMode::Purge))
            .await
            .unwrap();
        assert_eq!(svc.backend.files.inner.get(*id).await.unwrap(), None);
    }
    assert_whole_and_no_orphans(&svc, &org, &[], "after the retries").await;
}

/// The trash and the restore: at every step a fault, and the change is one event if and
/// only if it committed; the retry (404 when the lost answer's change had committed)
/// adds the one that is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trash_and_a_restore_are_one_event_each_whatever_step_fails() {
    let (svc, faults, mut stream) = service().await;
    let new_file = |org: String| {
        let svc = &svc;
        async move {
            let id = saved(svc, &org, b"one").await;
            (org, id)
        }
    };
    let trash = |org: String, id: Uuid| {
        let svc = &svc;
        async move {
            Box::pin(svc.delete(&caller(&org), id, DeleteMode::Trash))
                .await
                .map(|_| ())
        }
    };
    let restore = |org: String, id: Uuid| {
        let svc = &svc;
        async move { Box::pin(svc.restore(&caller(&org), id)).await.map(|_| ()) }
    };
    for (kind, trashed_before) in [("file.trashed", false), ("file.restored", true)] {
        let op = |org: String, id: Uuid| async move {
            if trashed_before {
                restore(org, id).await
            } else {
                trash(org, id).await
            }
        };
        let (org, id) = new_file(new_org()).await;
        if trashed_before {
            trash(org.clone(), id).await.unwrap();
        }
        let steps = calls_of(&faults, || async {
            op(org.clone(), id).await.unwrap();
        })
        .await;
        for n in 1..=steps {
            for mode in MODES {
                let what = format!("{kind}, call {n} failing {mode:?}");
                let (org, id) = new_file(new_org()).await;
                if trashed_before {
                    trash(org.clone(), id).await.unwrap();
                }
                let _ = events(&mut stream, &org).await;
                faults.reset();
                faults.fail_call(n, mode);
                let first = op(org.clone(), id).await;
                faults.reset();
                let committed = in_trash(&svc, id).await != trashed_before;
                assert!(
                    first.is_err() || committed,
                    "{what}: a success, yet unchanged"
                );
                assert_eq!(
                    events(&mut stream, &org).await,
                    expected(committed, kind),
                    "{what}"
                );
                if let Err(e) = first {
                    assert_retryable(&e, &what);
                    match op(org.clone(), id).await {
                        Ok(()) => assert!(!committed, "{what}: done twice"),
                        Err(e) if e.status() == 404 && committed => {}
                        Err(e) => panic!("{what}: the retry failed: {e}"),
                    }
                }
                assert_eq!(
                    in_trash(&svc, id).await,
                    !trashed_before,
                    "{what}: in the end"
                );
                assert_eq!(
                    events(&mut stream, &org).await,
                    expected(!committed, kind),
                    "{what}: the retry's"
                );
            }
        }
    }
}
