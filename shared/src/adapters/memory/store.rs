//! An object store in a map, with multipart uploads kept as S3 keeps them: invisible
//! until completed, every part but the last at least 5 MiB.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::lock;
use crate::ports::{
    CopyOutcome, MultipartStore, MultipartTerms, ObjectMeta, ObjectStore, PartTag, PutTerms,
    ResponseHeaders, MIN_PART_BYTES,
};
use crate::ports::{Missing, Refusal, StorageError, StoreResult as Result};

#[derive(Clone)]
struct StoredObject {
    body: Vec<u8>,
    meta: ObjectMeta,
}

struct OpenUpload {
    key: String,
    content_type: Option<String>,
    declared_sha256: Option<String>,
    parts: BTreeMap<u32, (String, Vec<u8>)>,
}

/// Presigned URLs use the `memory:` scheme and only say what they would allow.
#[derive(Default)]
pub struct MemoryStore {
    bucket: String,
    objects: Mutex<BTreeMap<String, StoredObject>>,
    uploads: Mutex<HashMap<String, OpenUpload>>,
}

impl MemoryStore {
    pub fn new(bucket: &str) -> Self {
        MemoryStore {
            bucket: bucket.into(),
            ..MemoryStore::default()
        }
    }

    fn store(
        &self,
        key: &str,
        body: Vec<u8>,
        etag: String,
        content_type: Option<&str>,
        declared_sha256: Option<String>,
    ) -> ObjectMeta {
        let meta = ObjectMeta {
            size_bytes: body.len() as u64,
            etag,
            content_type: Some(content_type.unwrap_or("binary/octet-stream").into()),
            last_modified_ms: Some(crate::time::Clock::system().now_millis()),
            checksum_sha256: None,
            declared_sha256,
            ..ObjectMeta::default()
        };
        lock(&self.objects).insert(
            key.into(),
            StoredObject {
                body,
                meta: meta.clone(),
            },
        );
        meta
    }
}

fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn no_such_upload() -> StorageError {
    StorageError::NotFound(Missing::MultipartUpload)
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
        Ok(lock(&self.objects).get(key).map(|o| o.meta.clone()))
    }

    async fn copy(&self, from: &str, to: &str, if_match: Option<&str>) -> Result<CopyOutcome> {
        let mut objects = lock(&self.objects);
        let Some(mut copy) = objects.get(from).cloned() else {
            return Ok(CopyOutcome::Missing);
        };
        if if_match.is_some_and(|etag| etag != copy.meta.etag) {
            return Ok(CopyOutcome::Changed);
        }
        copy.meta.last_modified_ms = Some(crate::time::Clock::system().now_millis());
        let etag = copy.meta.etag.clone();
        objects.insert(to.into(), copy);
        Ok(CopyOutcome::Copied { etag })
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta> {
        let etag = etag_of(&body);
        Ok(self.store(key, body, etag, content_type, None))
    }

    async fn get_range(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<Bytes>> {
        let objects = lock(&self.objects);
        Ok(objects
            .get(key)
            .filter(|o| o.meta.etag == if_match)
            .map(|o| {
                let end = (range.end as usize).min(o.body.len());
                let start = (range.start as usize).min(end);
                Bytes::copy_from_slice(&o.body[start..end])
            }))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(lock(&self.objects).get(key).map(|o| o.body.clone()))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        let mut objects = lock(&self.objects);
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(lock(&self.objects)
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

impl MultipartStore for MemoryStore {
    async fn start_multipart(&self, key: &str, terms: &MultipartTerms<'_>) -> Result<String> {
        let id = Uuid::new_v4().simple().to_string();
        lock(&self.uploads).insert(
            id.clone(),
            OpenUpload {
                key: key.into(),
                content_type: terms.content_type.map(str::to_owned),
                declared_sha256: terms.declared_sha256.map(str::to_owned),
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        _terms: &PutTerms<'_>,
        ttl: Duration,
    ) -> Result<String> {
        Ok(format!(
            "memory://{}/{key}?method=PUT&uploadId={upload_id}&partNumber={part_number}&expires={}",
            self.bucket,
            ttl.as_secs()
        ))
    }

    async fn copy_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        from: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<PartTag>> {
        let Some(body) = self.get_range(from, range, if_match).await? else {
            return Ok(None);
        };
        self.put_part(key, upload_id, part_number, body.to_vec())
            .await
            .map(Some)
    }

    async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Vec<u8>,
    ) -> Result<PartTag> {
        if !(1..=10_000).contains(&part_number) {
            return Err(StorageError::Refused(Refusal::PartNumber));
        }
        let mut uploads = lock(&self.uploads);
        let upload = uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(no_such_upload)?;
        let etag = etag_of(&body);
        let size_bytes = body.len() as u64;
        upload.parts.insert(part_number, (etag.clone(), body));
        Ok(PartTag {
            part_number,
            etag,
            size_bytes,
        })
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<PartTag>> {
        let uploads = lock(&self.uploads);
        let upload = uploads
            .get(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(no_such_upload)?;
        Ok(upload
            .parts
            .iter()
            .map(|(n, (etag, body))| PartTag {
                part_number: *n,
                etag: etag.clone(),
                size_bytes: body.len() as u64,
            })
            .collect())
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartTag],
    ) -> Result<String> {
        let mut uploads = lock(&self.uploads);
        let upload = uploads
            .get(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(no_such_upload)?;
        let invalid = |_why: &'static str| Err(StorageError::Refused(Refusal::Parts));
        if parts.is_empty()
            || parts
                .windows(2)
                .any(|w| w[0].part_number >= w[1].part_number)
        {
            return invalid("parts must be given in ascending order");
        }
        let mut body = Vec::new();
        for (i, tag) in parts.iter().enumerate() {
            match upload.parts.get(&tag.part_number) {
                Some((etag, bytes)) if *etag == tag.etag => {
                    if i + 1 < parts.len() && bytes.len() < MIN_PART_BYTES {
                        return invalid("every part but the last must be at least 5 MiB");
                    }
                    body.extend_from_slice(bytes);
                }
                _ => return invalid("a part was not uploaded or its ETag does not match"),
            }
        }
        let etag = format!("{}-{}", etag_of(&body), parts.len());
        let content_type = upload.content_type.clone();
        let declared = upload.declared_sha256.clone();
        uploads.remove(upload_id);
        drop(uploads);
        self.store(key, body, etag.clone(), content_type.as_deref(), declared);
        Ok(etag)
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<()> {
        lock(&self.uploads).remove(upload_id);
        Ok(())
    }
}
