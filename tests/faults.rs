//! Faults survived. The n-th S3 or DynamoDB call of an operation fails, for every n,
//! either before it reaches storage or after it took effect (its answer lost). Each time
//! the answer is a success or a retryable 5xx, the file is wholly as before or wholly
//! as after, and a retry without faults converges, leaving no orphan object.

use std::collections::BTreeSet;
use std::sync::Arc;

use integration_tests::{clients, config, new_org};
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

fn service() -> (Service, Arc<Faults>) {
    let config = config();
    let (backend, faults) = faulty(shared::aws_backend(&config, clients()));
    (FileService::new(backend, config, Clock::system()), faults)
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
    let (svc, faults) = service();
    let org = new_org();
    let s3ref = uploaded(&svc, &org, b"baseline").await;
    let steps = calls_of(&faults, || async {
        svc.save(&caller(&org), save_of(None, s3ref)).await.unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("new file, call {n} failing {mode:?}");
            let org = new_org();
            let s3ref = uploaded(&svc, &org, b"new file").await;
            faults.reset();
            faults.fail_call(n, mode);
            let first = svc.save(&caller(&org), save_of(None, s3ref.clone())).await;
            faults.reset();
            let files = files_of(&svc, &org).await;
            assert!(files.len() <= 1, "{what}: {} files", files.len());
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
            if let Err(e) = first {
                assert_retryable(&e, &what);
                assert!(files.is_empty(), "{what}: a failed save stored a file");
                svc.save(&caller(&org), save_of(None, s3ref))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: the retry failed: {e}"));
            }
            let files = files_of(&svc, &org).await;
            assert_eq!(files.len(), 1, "{what}: one file in the end");
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_of_a_new_version_survives_a_fault_at_every_step() {
    let (svc, faults) = service();
    let new_file = |org: String| {
        let svc = &svc;
        async move {
            let first = uploaded(svc, &org, b"one").await;
            let file = svc.save(&caller(&org), save_of(None, first)).await.unwrap();
            let second = uploaded(svc, &org, b"two").await;
            (org, file.id, second)
        }
    };
    let (org, id, second) = new_file(new_org()).await;
    let steps = calls_of(&faults, || async {
        svc.save(&caller(&org), save_of(Some(id), second))
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
            let first = svc
                .save(&caller(&org), save_of(Some(id), second.clone()))
                .await;
            faults.reset();
            let files = files_of(&svc, &org).await;
            assert_eq!(files.len(), 1, "{what}");
            assert_whole_and_no_orphans(&svc, &org, &files, &what).await;
            if let Err(e) = first {
                assert_retryable(&e, &what);
                assert_eq!(files[0].versions.len(), 1, "{what}: wholly before");
                svc.save(&caller(&org), save_of(Some(id), second))
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
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_survives_a_fault_at_every_step() {
    let (svc, faults) = service();
    let two_versions = |org: String| {
        let svc = &svc;
        async move {
            let first = uploaded(svc, &org, b"one").await;
            let file = svc.save(&caller(&org), save_of(None, first)).await.unwrap();
            let second = uploaded(svc, &org, b"two").await;
            svc.save(&caller(&org), save_of(Some(file.id), second))
                .await
                .unwrap();
            (org, file.id)
        }
    };
    let (org, id) = two_versions(new_org()).await;
    let steps = calls_of(&faults, || async {
        svc.delete(&caller(&org), id, DeleteMode::Purge)
            .await
            .unwrap();
    })
    .await;
    for n in 1..=steps {
        for mode in MODES {
            let what = format!("delete, call {n} failing {mode:?}");
            let (org, id) = two_versions(new_org()).await;
            faults.reset();
            faults.fail_call(n, mode);
            let first = svc.delete(&caller(&org), id, DeleteMode::Purge).await;
            faults.reset();
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
                match svc.delete(&caller(&org), id, DeleteMode::Purge).await {
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
        }
    }
}

#[tokio::test]
async fn the_s3_event_function_survives_a_fault_and_converges_on_retry() {
    let (svc, faults) = service();
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
    let (svc, faults) = service();
    let three = || {
        let svc = &svc;
        async move {
            let org = new_org();
            for body in [&b"one"[..], b"two", b"three"] {
                let s3ref = uploaded(svc, &org, body).await;
                svc.save(&caller(&org), save_of(None, s3ref)).await.unwrap();
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
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_during_an_s3_outage_names_the_files_it_left_hidden() {
    let (svc, faults) = service();
    let org = new_org();
    let mut ids = Vec::new();
    for body in [&b"one"[..], b"two"] {
        let s3ref = uploaded(&svc, &org, body).await;
        ids.push(
            svc.save(&caller(&org), save_of(None, s3ref))
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
        svc.delete(&caller(&org), *id, DeleteMode::Purge)
            .await
            .unwrap();
        assert_eq!(svc.backend.files.inner.get(*id).await.unwrap(), None);
    }
    assert_whole_and_no_orphans(&svc, &org, &[], "after the retries").await;
}
