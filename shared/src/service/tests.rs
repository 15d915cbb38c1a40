//! The operations with in-memory adapters.

use super::*;
use crate::adapters::memory::MemoryBackend;
use crate::domain::{file_type, AccessControl, OrgId, S3Ref, MAX_UPLOAD_BYTES};
use crate::ports::{FileRepository, ObjectStore};

type Service = FileService<MemoryBackend>;

fn service() -> Service {
    FileService::new(
        MemoryBackend::in_memory("bucket"),
        Config::for_tests("bucket", "table"),
        Clock::manual(1_700_000_000_000),
    )
}

fn caller(org: &str) -> Caller {
    Caller {
        org: OrgId::parse(org).unwrap(),
        sub: None,
    }
}

async fn uploaded(svc: &Service, org: &str, name: &str, body: &[u8]) -> S3Ref {
    let answer = svc
        .upload(
            Some(&OrgId::parse(org).unwrap()),
            UploadRequest {
                filename: name.into(),
                mime_type: None,
                size_bytes: None,
                checksum_sha256: None,
                metadata: Default::default(),
            },
        )
        .await
        .unwrap();
    let s3ref = answer.s3ref;
    svc.store()
        .put(&s3ref.key, body.to_vec(), Some("text/plain"))
        .await
        .unwrap();
    s3ref
}

fn save_of(s3ref: S3Ref) -> SaveRequest {
    SaveRequest::upload(None, s3ref)
}

fn save_into(file: Option<Uuid>, s3ref: S3Ref) -> SaveRequest {
    SaveRequest::upload(file, s3ref)
}

#[tokio::test]
async fn save_copies_out_of_temp_and_reads_metadata_from_the_store() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
    let entity = svc
        .save(&caller("org1"), save_of(s3ref.clone()))
        .await
        .unwrap();
    assert_eq!(entity.latest().unwrap().size_bytes, 5);
    assert_eq!(entity.mime_type, "text/plain");
    assert_eq!(entity.created_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        svc.store().head(&s3ref.key).await.unwrap(),
        None,
        "temp removed"
    );
    let key = &entity.latest().unwrap().key;
    assert_eq!(svc.store().get(key).await.unwrap().unwrap(), b"hello");
}

#[tokio::test]
async fn a_save_into_a_file_being_deleted_leaves_no_object_behind() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
    let first = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
    let id = first.id;
    // A delete has begun (and not finished) when a new version is saved.
    let second = uploaded(&svc, "org1", "b.txt", b"world").await;
    svc.files().begin_delete(id, "org1").await.unwrap();
    let err = svc
        .save(&caller("org1"), save_into(Some(id), second.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
    let left: Vec<_> = svc
        .store()
        .list(&format!("files/org1/{id}/"))
        .await
        .unwrap();
    assert_eq!(
        left.len(),
        1,
        "only the first version's object remains: {left:?}"
    );
    assert!(
        svc.store().head(&second.key).await.unwrap().is_some(),
        "the upload is kept for a retry"
    );
}

#[tokio::test]
async fn an_upload_is_consumed_by_one_save_only() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "a.txt", b"once").await;
    let keep = SaveRequest {
        intent: SaveIntent::Upload {
            file: None,
            s3ref: s3ref.clone(),
            delete_temp_file: false,
        },
        fields: FileFields::default(),
    };
    let first = svc.save(&caller("org1"), keep.clone()).await.unwrap();
    let again = svc.save(&caller("org1"), keep).await.unwrap_err();
    assert_eq!(again.status(), 409, "{again}");
    let into_first = svc
        .save(&caller("org1"), save_into(Some(first.id), s3ref))
        .await
        .unwrap_err();
    assert_eq!(into_first.status(), 409);
    let stored = svc.store().list("files/org1/").await.unwrap();
    assert_eq!(stored.len(), 1, "one object for one upload: {stored:?}");
}

#[tokio::test]
async fn public_uploads_can_be_claimed_by_any_organisation_but_org_uploads_cannot() {
    let svc = service();
    let public = svc
        .upload(
            None,
            UploadRequest {
                filename: "p.txt".into(),
                mime_type: None,
                size_bytes: None,
                checksum_sha256: None,
                metadata: Default::default(),
            },
        )
        .await
        .unwrap();
    let key = public.s3ref.key.clone();
    assert!(key.starts_with("temp/_public/"), "{key}");
    svc.store().put(&key, b"p".to_vec(), None).await.unwrap();
    let s3ref = S3Ref {
        bucket: "bucket".into(),
        key,
    };
    svc.save(&caller("org2"), save_of(s3ref)).await.unwrap();

    let private = uploaded(&svc, "org1", "x.txt", b"x").await;
    let err = svc
        .save(&caller("org2"), save_of(private))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

#[tokio::test]
async fn generic_content_types_fall_back_to_the_client_or_the_extension() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "table.csv", b"a,b").await;
    svc.store()
        .put(&s3ref.key, b"a,b".to_vec(), Some("binary/octet-stream"))
        .await
        .unwrap();
    let entity = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
    assert_eq!(entity.mime_type, "text/csv");
    assert_eq!(
        file_type(&entity.mime_type, &entity.filename),
        "spreadsheet"
    );
}

#[tokio::test]
async fn delete_removes_versions_added_while_deleting() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "a.txt", b"1").await;
    let entity = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
    let id = entity.id;
    svc.delete(&caller("org1"), id, DeleteMode::Purge)
        .await
        .unwrap();
    assert!(svc.store().list("files/").await.unwrap().is_empty());
    assert_eq!(
        svc.delete(&caller("org1"), id, DeleteMode::Purge)
            .await
            .unwrap_err()
            .status(),
        404
    );
}

fn public_upload(filename: &str, mime_type: Option<&str>, size: Option<u64>) -> UploadRequest {
    UploadRequest {
        filename: filename.into(),
        mime_type: mime_type.map(str::to_owned),
        size_bytes: size,
        checksum_sha256: None,
        metadata: Default::default(),
    }
}

#[tokio::test]
async fn public_uploads_have_tighter_limits_than_authenticated_ones() {
    let svc = service();
    let max = svc.config.public_uploads.max_bytes;
    let refused = [
        (public_upload("page.html", Some("text/html"), None), 415),
        (public_upload("page.html", None, None), 415),
        (
            public_upload("logo.svg", Some("image/svg+xml"), Some(10)),
            415,
        ),
        (
            public_upload("big.pdf", Some("application/pdf"), Some(max + 1)),
            413,
        ),
    ];
    for (request, status) in refused {
        let name = request.filename.clone();
        let err = svc.upload(None, request).await.unwrap_err();
        assert_eq!(err.status(), status, "{name}: {err}");
    }
    for request in [
        public_upload("scan.pdf", Some("application/pdf"), Some(max)),
        public_upload("photo.JPG", None, None),
        public_upload("notes.txt", Some("text/plain; charset=utf-8"), Some(3)),
    ] {
        svc.upload(None, request).await.unwrap();
    }
    // An organisation's own uploads are not limited to these types and sizes.
    let org = OrgId::parse("org1").unwrap();
    svc.upload(
        Some(&org),
        public_upload("page.html", Some("text/html"), Some(max + 1)),
    )
    .await
    .unwrap();
    let err = svc
        .upload(
            Some(&org),
            public_upload("huge.bin", None, Some(MAX_UPLOAD_BYTES + 1)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 413);
}

#[tokio::test]
async fn a_public_upload_that_breaks_the_limits_cannot_be_saved_and_is_removed() {
    let mut svc = service();
    svc.config.public_uploads.max_bytes = 4;
    for (name, body, content_type, status) in [
        ("a.txt", &b"12345"[..], Some("text/plain"), 413),
        ("b.txt", &b"<b>"[..], Some("text/html"), 415),
    ] {
        let answer = svc
            .upload(None, public_upload(name, None, None))
            .await
            .unwrap();
        let s3ref = answer.s3ref;
        svc.store()
            .put(&s3ref.key, body.to_vec(), content_type)
            .await
            .unwrap();
        let err = svc
            .save(&caller("org1"), save_of(s3ref.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), status, "{name}: {err}");
        assert_eq!(
            svc.store().head(&s3ref.key).await.unwrap(),
            None,
            "{name} removed"
        );
    }
}

#[tokio::test]
async fn access_changes_without_a_new_version_and_decides_what_public_url_serves() {
    let svc = service();
    let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
    let entity = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
    let id = entity.id;
    let forbidden = svc.public_file(id).await.unwrap_err();
    assert_eq!(forbidden.status(), 403);

    let set_access = |access: AccessControl| SaveRequest {
        intent: SaveIntent::Metadata { file: id },
        fields: FileFields {
            access_control: Some(access),
            ..FileFields::default()
        },
    };
    let public = svc
        .save(&caller("org1"), set_access(AccessControl::PublicRead))
        .await
        .unwrap();
    assert_eq!(public.access_control, AccessControl::PublicRead);
    assert_eq!(public.versions.len(), 1, "no new version");
    assert_eq!(public.created_at, entity.created_at);
    let url = svc.public_file(id).await.unwrap();
    assert!(
        url.contains("method=GET") && url.contains("expires=60"),
        "{url}"
    );

    let err = svc
        .save(&caller("org2"), set_access(AccessControl::Private))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404, "another organisation cannot change it");
    svc.save(&caller("org1"), set_access(AccessControl::Private))
        .await
        .unwrap();
    assert_eq!(svc.public_file(id).await.unwrap_err().status(), 403);

    svc.delete(&caller("org1"), id, DeleteMode::Trash)
        .await
        .unwrap();
    assert_eq!(svc.public_file(id).await.unwrap_err().status(), 404);
    svc.restore(&caller("org1"), id).await.unwrap();
    assert_eq!(
        svc.public_file(id).await.unwrap_err().status(),
        403,
        "restored as it was: private"
    );
}

/// `n` files of `org` stored straight in the repository.
async fn stored_files(svc: &Service, org: &str, n: usize) {
    for i in 0..n {
        let record = FileRecord {
            id: Uuid::new_v4(),
            org: org.into(),
            created_at: format!("2026-01-01T00:00:00.{:03}Z", i % 1000),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
            filename: format!("f{i}.txt"),
            mime_type: "text/plain".into(),
            versions: vec![crate::domain::StoredVersion {
                key: format!("files/{org}/{i}/v/f.txt"),
                size_bytes: 1,
                created_at: "2026-01-01T00:00:00.000Z".into(),
                ..Default::default()
            }],
            ..FileRecord::default()
        };
        svc.files().create(&record, None).await.unwrap();
    }
}

#[tokio::test]
async fn a_bulk_delete_takes_a_thousand_files_a_call_and_says_when_more_match() {
    let svc = service();
    stored_files(&svc, "org1", MAX_BULK_DELETE + 5).await;
    stored_files(&svc, "org2", 3).await;
    let all = || DeleteSelection::All;
    let first = svc
        .bulk_delete(&caller("org1"), all(), DeleteMode::Trash)
        .await
        .unwrap();
    assert_eq!(
        first,
        BulkDeleted {
            deleted: MAX_BULK_DELETE as u64,
            more: true
        }
    );
    let second = svc
        .bulk_delete(&caller("org1"), all(), DeleteMode::Trash)
        .await
        .unwrap();
    assert_eq!(
        second,
        BulkDeleted {
            deleted: 5,
            more: false
        }
    );
    assert_eq!(svc.usage(&caller("org2")).await.unwrap().usage.files, 3);
}

#[tokio::test]
async fn a_quota_refuses_uploads_and_saves_in_memory_as_on_dynamodb() {
    let mut config = Config::for_tests("bucket", "table");
    config.quotas.by_org.insert("org1".into(), 8);
    let backend = MemoryBackend {
        files: crate::adapters::memory::MemoryFiles::with_quotas(config.quotas.clone()),
        ..MemoryBackend::in_memory("bucket")
    };
    let svc = FileService::new(backend, config, Clock::manual(1_700_000_000_000));
    let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
    svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
    let s3ref = uploaded(&svc, "org1", "b.txt", b"hello").await;
    let err = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap_err();
    assert_eq!((err.status(), err.code().as_str()), (413, "quota_exceeded"));
    let report = svc.usage(&caller("org1")).await.unwrap();
    assert_eq!((report.usage.bytes, report.quota_bytes), (5, Some(8)));
}

/// Hears the changes, as the events function will.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<(FileEvent, Uuid)>>);

impl ChangeListener for Heard {
    fn committed(&self, change: Committed<'_>) {
        self.0.lock().unwrap().push((change.event, change.file.id));
    }
}

#[tokio::test]
async fn every_committed_change_is_announced_once_and_a_refused_one_never() {
    let heard = Arc::new(Heard::default());
    let svc = service().with_change_listener(heard.clone());
    let org = caller("org1");
    let taken = |heard: &Heard| std::mem::take(&mut *heard.0.lock().unwrap());

    let first = uploaded(&svc, "org1", "a.txt", b"one").await;
    let file = svc.save(&org, save_of(first.clone())).await.unwrap();
    assert_eq!(taken(&heard), [(FileEvent::Created, file.id)]);

    let second = uploaded(&svc, "org1", "a.txt", b"two").await;
    svc.save(&org, save_into(Some(file.id), second))
        .await
        .unwrap();
    assert_eq!(taken(&heard), [(FileEvent::VersionAdded, file.id)]);

    let public = SaveRequest {
        intent: SaveIntent::Metadata { file: file.id },
        fields: FileFields {
            access_control: Some(AccessControl::PublicRead),
            ..Default::default()
        },
    };
    svc.save(&org, public).await.unwrap();
    assert_eq!(taken(&heard), [(FileEvent::Updated, file.id)]);

    svc.restore_version(&org, file.id, 1).await.unwrap();
    assert_eq!(taken(&heard), [(FileEvent::VersionAdded, file.id)]);
    svc.delete_version(&org, file.id, 1).await.unwrap();
    assert_eq!(taken(&heard), [(FileEvent::Updated, file.id)]);

    // Refused writes: an upload saved twice, another organisation's file.
    assert!(svc.save(&org, save_of(first)).await.is_err());
    assert!(svc
        .delete(&caller("org2"), file.id, DeleteMode::Trash)
        .await
        .is_err());
    assert!(
        svc.restore(&org, file.id).await.is_err(),
        "not in the trash"
    );
    assert_eq!(taken(&heard), []);

    svc.delete(&org, file.id, DeleteMode::Trash).await.unwrap();
    svc.restore(&org, file.id).await.unwrap();
    assert_eq!(
        taken(&heard),
        [
            (FileEvent::Trashed, file.id),
            (FileEvent::Restored, file.id)
        ]
    );
    svc.delete(&org, file.id, DeleteMode::Purge).await.unwrap();
    assert_eq!(taken(&heard), [(FileEvent::Deleted, file.id)]);
}
