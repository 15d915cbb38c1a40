//! In-memory adapters for unit tests and benchmarks. They pass the same
//! conformance suite as the S3 and DynamoDB adapters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{FileRecord, PendingUpload};
use crate::error::{Error, Result};
use crate::ports::{
    FileChange, FileRepository, ObjectMeta, ObjectStore, PutTerms, ResponseHeaders,
};

#[derive(Clone)]
struct StoredObject {
    body: Vec<u8>,
    meta: ObjectMeta,
}

/// An object store in a map. Presigned URLs use the `memory:` scheme and only say what they would allow.
#[derive(Default)]
pub struct MemoryStore {
    bucket: String,
    objects: Mutex<BTreeMap<String, StoredObject>>,
}

impl MemoryStore {
    pub fn new(bucket: &str) -> Self {
        MemoryStore {
            bucket: bucket.into(),
            objects: Mutex::default(),
        }
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, StoredObject>> {
        // A panic while holding the lock cannot leave a half-written map: every change is one insert or remove.
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl ObjectStore for MemoryStore {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn presign_put(&self, key: &str, _terms: &PutTerms<'_>, ttl: Duration) -> Result<String> {
        Ok(format!(
            "memory://{}/{key}?method=PUT&expires={}",
            self.bucket,
            ttl.as_secs()
        ))
    }

    async fn presign_get(
        &self,
        key: &str,
        _headers: &ResponseHeaders,
        ttl: Duration,
    ) -> Result<String> {
        Ok(format!(
            "memory://{}/{key}?method=GET&expires={}",
            self.bucket,
            ttl.as_secs()
        ))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        Ok(self.objects().get(key).map(|o| o.meta.clone()))
    }

    async fn copy(&self, from: &str, to: &str) -> Result<bool> {
        let mut objects = self.objects();
        let Some(source) = objects.get(from).cloned() else {
            return Ok(false);
        };
        objects.insert(to.into(), source);
        Ok(true)
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta> {
        let meta = ObjectMeta {
            size_bytes: body.len() as u64,
            etag: etag_of(&body),
            content_type: Some(content_type.unwrap_or("binary/octet-stream").into()),
            last_modified_ms: Some(crate::time::Clock::system().now_millis()),
        };
        self.objects().insert(
            key.into(),
            StoredObject {
                body,
                meta: meta.clone(),
            },
        );
        Ok(meta)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.objects().get(key).map(|o| o.body.clone()))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        let mut objects = self.objects();
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .objects()
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

/// A file repository in a map.
#[derive(Default)]
pub struct MemoryRepository {
    files: Mutex<HashMap<Uuid, FileRecord>>,
    uploads: Mutex<HashMap<String, PendingUpload>>,
}

impl MemoryRepository {
    pub fn new() -> Self {
        Self::default()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, FileRecord>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn uploads(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingUpload>> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileRepository for MemoryRepository {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        Ok(self.files().get(&id).cloned())
    }

    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<FileRecord>> {
        let files = self.files();
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| files.get(id).cloned())
            .collect())
    }

    async fn create(&self, record: &FileRecord) -> Result<()> {
        let mut files = self.files();
        if files.contains_key(&record.id) {
            return Err(Error::Conflict(format!(
                "file {} already exists",
                record.id
            )));
        }
        files.insert(record.id, record.clone());
        Ok(())
    }

    async fn update_file(&self, id: Uuid, org: &str, change: &FileChange) -> Result<FileRecord> {
        let mut files = self.files();
        let record = files
            .get_mut(&id)
            .filter(|r| r.org == org)
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))?;
        if let Some(version) = &change.new_version {
            record.versions.push(version.clone());
        }
        record.filename = change.filename.clone();
        record.mime_type = change.mime_type.clone();
        record.access_control = change.access_control;
        record.attributes = change.attributes.clone();
        record.updated_at = change.updated_at.clone();
        Ok(record.clone())
    }

    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        Ok(self.uploads().get(key).cloned())
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        let mut uploads = self.uploads();
        match uploads.get(&upload.key) {
            Some(known) if known.sequencer >= upload.sequencer => Ok(false),
            _ => {
                uploads.insert(upload.key.clone(), upload.clone());
                Ok(true)
            }
        }
    }

    async fn forget_upload(&self, key: &str) -> Result<()> {
        self.uploads().remove(key);
        Ok(())
    }

    async fn delete(&self, id: Uuid, org: &str, expected_versions: usize) -> Result<()> {
        let mut files = self.files();
        match files.get(&id) {
            Some(r) if r.org == org && r.versions.len() == expected_versions => {
                files.remove(&id);
                Ok(())
            }
            Some(r) if r.org == org => Err(Error::Conflict(format!(
                "file {id} changed while it was being deleted"
            ))),
            _ => Err(Error::not_found(format!("file {id} not found"))),
        }
    }
}
