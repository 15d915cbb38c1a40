//! The file service's operations, independent of HTTP and of AWS.

use std::time::Duration;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::{
    content_disposition, guess_mime_type, temp_key, validate_attributes, validate_filename,
    validate_mime_type, version_key, AccessControl, FileRecord, OrgId, S3Ref, StoredVersion,
    TempKey, UploadState, MAX_UPLOAD_BYTES, UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, Result};
use crate::ports::{
    FileChange, FileRepository, ObjectMeta, ObjectStore, PutTerms, ResponseHeaders,
};
use crate::time::Clock;

/// Uploads made without a token live under `temp/<PUBLIC_UPLOADS>/`: they belong to
/// no organisation until an authenticated save claims them.
pub const PUBLIC_UPLOADS: &str = "_public";
/// Most files one downloadFiles call may name.
pub const MAX_BATCH: usize = 100;
/// How often a delete re-reads a file that gained a version while it was being deleted.
const DELETE_ATTEMPTS: usize = 3;

pub struct FileService<S, R> {
    pub store: S,
    pub repo: R,
    pub config: Config,
    pub clock: Clock,
}

/// Who is asking, and where the API is served (for `public_url`).
#[derive(Clone, Debug)]
pub struct Caller {
    pub org: OrgId,
    pub base_url: String,
}

/// Body of uploadFileV2 and uploadFilePublic.
#[derive(Debug, Default)]
pub struct UploadRequest {
    pub filename: String,
    pub mime_type: Option<String>,
    /// When given, signed into the upload URL: S3 accepts only a body of this size.
    pub size_bytes: Option<u64>,
}

/// Body of saveFileV2 (the `s3ref` form), after parsing.
#[derive(Debug, Default)]
pub struct SaveRequest {
    pub s3ref: Option<S3Ref>,
    pub custom_download_url: Option<String>,
    pub id: Option<Uuid>,
    pub filename: Option<String>,
    pub mime_type: Option<String>,
    pub access_control: Option<AccessControl>,
    pub attributes: Map<String, Value>,
    pub delete_temp_file: bool,
}

/// One item of downloadFiles.
#[derive(Debug, Clone, Copy)]
pub struct DownloadItem {
    pub id: Uuid,
    pub version: u32,
}

/// Content types S3 gives objects whose uploader did not say one.
fn is_generic_content_type(content_type: &str) -> bool {
    matches!(
        content_type.split(';').next().unwrap_or_default().trim(),
        "" | "binary/octet-stream" | "application/octet-stream"
    )
}

/// The content type of a stored object: what S3 stored unless that is generic, else
/// what the client said, else a guess from the filename.
fn stored_mime_type(meta: &ObjectMeta, given: Option<&str>, filename: &str) -> String {
    match (&meta.content_type, given) {
        (Some(stored), _) if !is_generic_content_type(stored) => stored.clone(),
        (_, Some(given)) => given.to_owned(),
        _ => guess_mime_type(filename).to_owned(),
    }
}

impl<S: ObjectStore, R: FileRepository> FileService<S, R> {
    pub fn new(store: S, repo: R, config: Config, clock: Clock) -> Self {
        FileService {
            store,
            repo,
            config,
            clock,
        }
    }

    /// uploadFileV2 (`org` set) and uploadFilePublic (`org` none): a temp key and a presigned PUT.
    pub async fn upload(&self, org: Option<&OrgId>, request: UploadRequest) -> Result<Value> {
        validate_filename(&request.filename)?;
        if let Some(mime) = &request.mime_type {
            validate_mime_type(mime)?;
        }
        if org.is_none() {
            self.check_public_upload(&request)?;
        }
        if let Some(size) = request.size_bytes {
            if size > MAX_UPLOAD_BYTES {
                return Err(Error::TooLarge(format!(
                    "one upload can be at most {MAX_UPLOAD_BYTES} bytes (5 GiB)"
                )));
            }
        }
        let owner = org.map(OrgId::as_str).unwrap_or(PUBLIC_UPLOADS);
        // The key is always fresh: an upload can never name (and so overwrite) an existing object.
        let key = temp_key(&OrgId::trusted(owner), Uuid::new_v4(), &request.filename);
        let terms = PutTerms {
            content_type: request.mime_type.as_deref(),
            content_length: request.size_bytes,
        };
        let upload_url = self
            .store
            .presign_put(&key, &terms, self.config.upload_url_ttl)
            .await?;
        Ok(json!({
            "s3ref": { "bucket": self.store.bucket(), "key": key },
            "upload_url": upload_url,
            "upload_url_expires_in": self.config.upload_url_ttl.as_secs(),
            "unsaved_upload_expires_in": UNSAVED_UPLOAD_LIFETIME_MS / 1000,
        }))
    }

    /// uploadFilePublic's tighter limits, checked before a URL is handed out.
    fn check_public_upload(&self, request: &UploadRequest) -> Result<()> {
        let limits = &self.config.public_uploads;
        match request.size_bytes {
            Some(size) if size > limits.max_bytes => {
                return Err(Error::TooLarge(format!(
                    "a public upload can be at most {} bytes",
                    limits.max_bytes
                )))
            }
            None if limits.require_size => {
                return Err(Error::invalid(
                    "size_required",
                    "size_bytes (the exact size of the file) is required for public uploads",
                ))
            }
            _ => {}
        }
        let mime_type = request
            .mime_type
            .clone()
            .unwrap_or_else(|| guess_mime_type(&request.filename).to_owned());
        if !limits.allows_mime_type(&mime_type) {
            return Err(Error::UnsupportedMediaType(format!(
                "public uploads cannot be of type {mime_type}; allowed: {}",
                limits.mime_types.join(", ")
            )));
        }
        Ok(())
    }

    /// The same limits on what was actually uploaded, when a public upload is saved:
    /// the upload URL cannot enforce a size the client did not declare.
    async fn check_public_object(&self, key: &str, meta: &ObjectMeta) -> Result<()> {
        let limits = &self.config.public_uploads;
        let filename = key.rsplit('/').next().unwrap_or_default();
        let mime_type = stored_mime_type(meta, None, filename);
        let refusal = if meta.size_bytes > limits.max_bytes {
            Error::TooLarge(format!(
                "this public upload is {} bytes; public uploads can be at most {} bytes",
                meta.size_bytes, limits.max_bytes
            ))
        } else if !limits.allows_mime_type(&mime_type) {
            Error::UnsupportedMediaType(format!("public uploads cannot be of type {mime_type}"))
        } else {
            return Ok(());
        };
        // Nobody may save it: remove it now rather than when the lifecycle rule does.
        if let Err(e) = self.store.delete(&[key.to_owned()]).await {
            tracing::warn!(error = %e, key, "refused public upload not deleted");
        }
        Err(refusal)
    }

    /// saveFileV2: a new file, a new version of `request.id`, or (with `_id` and
    /// neither `s3ref` nor `custom_download_url`) new metadata for `request.id`.
    pub async fn save(&self, caller: &Caller, request: SaveRequest) -> Result<Value> {
        validate_attributes(&request.attributes)?;
        if let Some(name) = &request.filename {
            validate_filename(name)?;
        }
        if let Some(mime) = &request.mime_type {
            validate_mime_type(mime)?;
        }
        let existing = match request.id {
            Some(id) => Some(self.owned(caller, id).await?),
            None => None,
        };
        let record = match (&request.s3ref, &request.custom_download_url) {
            (Some(s3ref), None) => self.save_upload(caller, s3ref, existing, &request).await?,
            (None, Some(url)) => self.save_external(caller, url, existing, &request).await?,
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "invalid_body",
                    "give either s3ref or custom_download_url, not both",
                ))
            }
            (None, None) => match existing {
                Some(record) => self.save_metadata(caller, record, &request).await?,
                None => {
                    return Err(Error::invalid(
                        "invalid_body",
                        "s3ref (an uploaded file) or custom_download_url is required, \
                         or _id to change an existing file",
                    ))
                }
            },
        };
        Ok(self.entity(caller, &record))
    }

    async fn save_upload(
        &self,
        caller: &Caller,
        s3ref: &S3Ref,
        existing: Option<FileRecord>,
        request: &SaveRequest,
    ) -> Result<FileRecord> {
        let temp = self.claimable_upload(caller, s3ref)?;
        let meta = self.check_not_expired(&s3ref.key).await?;
        if temp.org == PUBLIC_UPLOADS {
            self.check_public_object(&s3ref.key, &meta).await?;
        }
        if existing
            .as_ref()
            .is_some_and(|r| r.custom_download_url.is_some())
        {
            return Err(Error::Conflict(
                "this file is external (custom_download_url); it cannot get stored versions".into(),
            ));
        }
        let filename = request
            .filename
            .clone()
            .unwrap_or_else(|| temp.filename.to_owned());
        validate_filename(&filename)?;
        let file_id = existing.as_ref().map(|r| r.id).unwrap_or_else(Uuid::new_v4);
        let key = version_key(&caller.org, file_id, Uuid::new_v4(), &filename);

        // Copy first, then read what was copied: the uploader may still PUT to the temp
        // key, so only the permanent object's metadata is the truth.
        if !self.store.copy(&s3ref.key, &key).await? {
            return Err(Error::not_found(
                "nothing was uploaded to this s3ref (or the upload expired)",
            ));
        }
        let result = self
            .record_version(caller, file_id, &key, &filename, existing, request)
            .await;
        match result {
            Ok(record) => {
                if let Err(e) = self.repo.forget_upload(&s3ref.key).await {
                    tracing::warn!(error = %e, key = %s3ref.key, "upload record not cleared");
                }
                if request.delete_temp_file {
                    // The version is saved; a temp object left behind expires by lifecycle.
                    if let Err(e) = self.store.delete(std::slice::from_ref(&s3ref.key)).await {
                        tracing::warn!(error = %e, key = %s3ref.key, "temp object not deleted");
                    }
                }
                Ok(record)
            }
            Err(e) => {
                // Leave nothing half-written: the copied object has no entity pointing at it.
                if let Err(cleanup) = self.store.delete(std::slice::from_ref(&key)).await {
                    tracing::error!(error = %cleanup, key, "orphaned version object not deleted");
                }
                Err(e)
            }
        }
    }

    /// New access control, filename or attributes for a file; its versions stay.
    async fn save_metadata(
        &self,
        caller: &Caller,
        record: FileRecord,
        request: &SaveRequest,
    ) -> Result<FileRecord> {
        let mut attributes = record.attributes.clone();
        attributes.extend(request.attributes.clone());
        let change = FileChange {
            new_version: None,
            filename: request
                .filename
                .clone()
                .unwrap_or_else(|| record.filename.clone()),
            mime_type: request
                .mime_type
                .clone()
                .unwrap_or_else(|| record.mime_type.clone()),
            access_control: request.access_control.unwrap_or(record.access_control),
            attributes,
            updated_at: self.clock.now_rfc3339(),
        };
        self.repo
            .update_file(record.id, caller.org.as_str(), &change)
            .await
    }

    /// An external file: an entity that points at a URL and stores no bytes.
    async fn save_external(
        &self,
        caller: &Caller,
        url: &str,
        existing: Option<FileRecord>,
        request: &SaveRequest,
    ) -> Result<FileRecord> {
        if existing.is_some() {
            return Err(Error::Conflict(
                "an external file cannot be given a new version; save a new file instead".into(),
            ));
        }
        let url = self.config.url_policy.check(url)?;
        let filename = match &request.filename {
            Some(name) => name.clone(),
            None => url::Url::parse(&url)
                .ok()
                .and_then(|u| u.path_segments()?.next_back().map(str::to_owned))
                .filter(|name| validate_filename(name).is_ok())
                .unwrap_or_else(|| "file".into()),
        };
        let mime_type = request
            .mime_type
            .clone()
            .unwrap_or_else(|| guess_mime_type(&filename).to_owned());
        let now = self.clock.now_rfc3339();
        let record = FileRecord {
            id: Uuid::new_v4(),
            org: caller.org.as_str().to_owned(),
            created_at: now.clone(),
            updated_at: now,
            filename,
            mime_type,
            access_control: request.access_control.unwrap_or_default(),
            custom_download_url: Some(url),
            attributes: request.attributes.clone(),
            versions: Vec::new(),
        };
        self.repo.create(&record).await?;
        Ok(record)
    }

    /// Keeps the promise: an upload can be saved for [`UNSAVED_UPLOAD_LIFETIME_MS`] after
    /// S3 stored it, and not after, even while lifecycle deletion has not caught up.
    async fn check_not_expired(&self, key: &str) -> Result<ObjectMeta> {
        let now = self.clock.now_millis();
        let expired = || {
            Error::Expired(
                "this upload was not saved within 24 hours and has expired; upload the file again"
                    .into(),
            )
        };
        if let Some(record) = self.repo.get_upload(key).await? {
            if record.state == UploadState::Present && record.expires_at_ms <= now {
                return Err(expired());
            }
        }
        let meta = self.store.head(key).await?.ok_or_else(|| {
            Error::not_found("nothing was uploaded to this s3ref (or the upload expired)")
        })?;
        match meta.last_modified_ms {
            Some(created) if created + UNSAVED_UPLOAD_LIFETIME_MS <= now => Err(expired()),
            _ => Ok(meta),
        }
    }

    /// The temp upload an s3ref names, if this caller may save it.
    fn claimable_upload<'a>(&self, caller: &Caller, s3ref: &'a S3Ref) -> Result<TempKey<'a>> {
        if s3ref.bucket != self.store.bucket() {
            return Err(Error::invalid(
                "invalid_s3ref",
                "s3ref.bucket is not this service's bucket",
            ));
        }
        let temp = TempKey::parse(&s3ref.key).ok_or_else(|| {
            Error::invalid(
                "invalid_s3ref",
                "s3ref.key is not an upload of this service (expected temp/<org>/<id>/<filename>)",
            )
        })?;
        if temp.org != caller.org.as_str() && temp.org != PUBLIC_UPLOADS {
            // Another organisation's upload is reported like a missing one.
            return Err(Error::not_found("nothing was uploaded to this s3ref"));
        }
        Ok(temp)
    }

    async fn record_version(
        &self,
        caller: &Caller,
        file_id: Uuid,
        key: &str,
        filename: &str,
        existing: Option<FileRecord>,
        request: &SaveRequest,
    ) -> Result<FileRecord> {
        let meta = self.store.head(key).await?.ok_or_else(|| {
            Error::upstream("HeadObject", format!("copied object {key} is missing"))
        })?;
        let mime_type = stored_mime_type(&meta, request.mime_type.as_deref(), filename);
        let now = self.clock.now_rfc3339();
        let version = StoredVersion {
            key: key.to_owned(),
            filename: filename.to_owned(),
            mime_type: mime_type.clone(),
            size_bytes: meta.size_bytes,
            etag: meta.etag,
            created_at: now.clone(),
        };
        match existing {
            Some(record) => {
                let mut attributes = record.attributes.clone();
                attributes.extend(request.attributes.clone());
                let change = FileChange {
                    new_version: Some(version),
                    filename: filename.to_owned(),
                    mime_type,
                    access_control: request.access_control.unwrap_or(record.access_control),
                    attributes,
                    updated_at: now,
                };
                self.repo
                    .update_file(record.id, caller.org.as_str(), &change)
                    .await
            }
            None => {
                let record = FileRecord {
                    id: file_id,
                    org: caller.org.as_str().to_owned(),
                    created_at: now.clone(),
                    updated_at: now,
                    filename: filename.to_owned(),
                    mime_type,
                    access_control: request.access_control.unwrap_or_default(),
                    custom_download_url: None,
                    attributes: request.attributes.clone(),
                    versions: vec![version],
                };
                self.repo.create(&record).await?;
                Ok(record)
            }
        }
    }

    /// The file `id` if it belongs to the caller's organisation; 404 otherwise.
    async fn owned(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        self.repo
            .get(id)
            .await?
            .filter(|r| r.org == caller.org.as_str())
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))
    }

    fn entity(&self, caller: &Caller, record: &FileRecord) -> Value {
        let base = self
            .config
            .public_base_url
            .as_deref()
            .unwrap_or(&caller.base_url);
        record.to_entity(self.store.bucket(), base)
    }

    /// getFile.
    pub async fn get(&self, caller: &Caller, id: Uuid) -> Result<Value> {
        let record = self.owned(caller, id).await?;
        Ok(self.entity(caller, &record))
    }

    /// downloadFile: a presigned GET for one version (0 = latest).
    pub async fn download(
        &self,
        caller: &Caller,
        id: Uuid,
        version: u32,
        attachment: bool,
    ) -> Result<Value> {
        let record = self.owned(caller, id).await?;
        let url = self
            .download_url(&record, version, attachment, None)
            .await?;
        Ok(json!({ "download_url": url }))
    }

    async fn download_url(
        &self,
        record: &FileRecord,
        version: u32,
        attachment: bool,
        ttl: Option<Duration>,
    ) -> Result<String> {
        if let Some(url) = &record.custom_download_url {
            if version > 1 {
                return Err(Error::not_found(format!(
                    "external file {} has one version; version {version} does not exist",
                    record.id
                )));
            }
            let keys = self.signing_keys()?;
            let ttl = ttl.unwrap_or(self.config.custom_url_ttl);
            return crate::custom_url::sign(keys, &record.org, url, self.clock.now_millis(), ttl);
        }
        let stored = record.version(version).ok_or_else(|| {
            Error::not_found(format!(
                "file {} has {} version(s); version {version} does not exist",
                record.id,
                record.versions.len()
            ))
        })?;
        let headers = ResponseHeaders {
            content_disposition: Some(content_disposition(&stored.filename, attachment)),
            content_type: Some(stored.mime_type.clone()),
        };
        self.store
            .presign_get(
                &stored.key,
                &headers,
                ttl.unwrap_or(self.config.download_url_ttl),
            )
            .await
    }

    /// What a `public_url` serves: a short-lived URL of the latest version while the
    /// file is `public-read`; 403 while it is private, 404 once it is deleted.
    pub async fn public_file(&self, id: Uuid) -> Result<String> {
        let record = self
            .repo
            .get(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))?;
        if record.access_control != AccessControl::PublicRead {
            return Err(Error::Forbidden("this file is not public".into()));
        }
        // Short-lived and inline: the redirect target of an `<img src>` or a link.
        self.download_url(&record, 0, false, Some(self.config.public_url_ttl))
            .await
    }

    fn signing_keys(&self) -> Result<&crate::custom_url::SigningKeys> {
        self.config.custom_url_keys.as_ref().ok_or_else(|| {
            Error::upstream(
                "configuration",
                "CUSTOM_URL_SIGNING_KEY is not set; external files cannot be signed or verified",
            )
        })
    }

    /// verifyCustomDownloadUrl: whether the URL is one we signed for the caller's organisation.
    pub fn verify_custom_url(&self, caller: &Caller, url: &str) -> Result<Value> {
        let keys = self.signing_keys()?;
        let valid =
            crate::custom_url::verify(keys, caller.org.as_str(), url, self.clock.now_millis())?;
        Ok(json!({ "valid": valid }))
    }

    /// downloadFiles: presigned GETs for several files, all or nothing.
    pub async fn download_many(&self, caller: &Caller, items: &[DownloadItem]) -> Result<Value> {
        if items.len() > MAX_BATCH {
            return Err(Error::invalid(
                "too_many_items",
                format!("at most {MAX_BATCH} files per request"),
            ));
        }
        let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let records = self.repo.get_many(&ids).await?;
        let mut answer = Vec::with_capacity(items.len());
        for item in items {
            let record = records
                .iter()
                .find(|r| r.id == item.id && r.org == caller.org.as_str())
                .ok_or_else(|| Error::not_found(format!("file {} not found", item.id)))?;
            let url = self.download_url(record, item.version, true, None).await?;
            answer.push(json!({ "file_entity_id": item.id, "download_url": url }));
        }
        Ok(Value::Array(answer))
    }

    /// deleteFile: every version's object, then the entity.
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> Result<Value> {
        for _ in 0..DELETE_ATTEMPTS {
            let record = self.owned(caller, id).await?;
            let keys: Vec<String> = record.versions.iter().map(|v| v.key.clone()).collect();
            // Objects first: if this fails the entity still exists and a retry finishes the job.
            self.store.delete(&keys).await?;
            match self.repo.delete(id, caller.org.as_str(), keys.len()).await {
                Ok(()) => return Ok(json!({ "_id": id, "deleted": true })),
                // A version was added meanwhile: delete its object too.
                Err(Error::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict(format!(
            "file {id} keeps changing; delete it again"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryRepository, MemoryStore};
    use crate::ports::ObjectStore;

    type Service = FileService<MemoryStore, MemoryRepository>;

    fn service() -> Service {
        FileService::new(
            MemoryStore::new("bucket"),
            MemoryRepository::new(),
            Config::for_tests("bucket", "table"),
            Clock::manual(1_700_000_000_000),
        )
    }

    fn caller(org: &str) -> Caller {
        Caller {
            org: OrgId::parse(org).unwrap(),
            base_url: "https://api.example.com".into(),
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
                },
            )
            .await
            .unwrap();
        let s3ref: S3Ref = serde_json::from_value(answer["s3ref"].clone()).unwrap();
        svc.store
            .put(&s3ref.key, body.to_vec(), Some("text/plain"))
            .await
            .unwrap();
        s3ref
    }

    fn save_of(s3ref: S3Ref) -> SaveRequest {
        SaveRequest {
            s3ref: Some(s3ref),
            delete_temp_file: true,
            ..SaveRequest::default()
        }
    }

    #[tokio::test]
    async fn save_copies_out_of_temp_and_reads_metadata_from_the_store() {
        let svc = service();
        let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
        let entity = svc
            .save(&caller("org1"), save_of(s3ref.clone()))
            .await
            .unwrap();
        assert_eq!(entity["size_bytes"], 5);
        assert_eq!(entity["mime_type"], "text/plain");
        assert_eq!(entity["_created_at"], "2023-11-14T22:13:20.000Z");
        assert_eq!(
            svc.store.head(&s3ref.key).await.unwrap(),
            None,
            "temp removed"
        );
        let key = entity["s3ref"]["key"].as_str().unwrap();
        assert_eq!(svc.store.get(key).await.unwrap().unwrap(), b"hello");
    }

    #[tokio::test]
    async fn a_save_that_cannot_be_recorded_leaves_no_object_behind() {
        let svc = service();
        let s3ref = uploaded(&svc, "org1", "a.txt", b"hello").await;
        let first = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
        let id: Uuid = first["_id"].as_str().unwrap().parse().unwrap();
        // The file disappears between the ownership check and the append.
        let second = uploaded(&svc, "org1", "b.txt", b"world").await;
        let request = SaveRequest {
            id: Some(id),
            ..save_of(second.clone())
        };
        let existing = svc.repo.get(id).await.unwrap();
        crate::ports::FileRepository::delete(&svc.repo, id, "org1", 1)
            .await
            .unwrap();
        let err = svc
            .save_upload(&caller("org1"), &second, existing, &request)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
        let left: Vec<_> = svc.store.list(&format!("files/org1/{id}/")).await.unwrap();
        assert_eq!(
            left.len(),
            1,
            "only the first version's object remains: {left:?}"
        );
        assert!(
            svc.store.head(&second.key).await.unwrap().is_some(),
            "the upload is kept for a retry"
        );
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
                },
            )
            .await
            .unwrap();
        let key = public["s3ref"]["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("temp/_public/"), "{key}");
        svc.store.put(&key, b"p".to_vec(), None).await.unwrap();
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
        svc.store
            .put(&s3ref.key, b"a,b".to_vec(), Some("binary/octet-stream"))
            .await
            .unwrap();
        let entity = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
        assert_eq!(entity["mime_type"], "text/csv");
        assert_eq!(entity["type"], "spreadsheet");
    }

    #[tokio::test]
    async fn delete_removes_versions_added_while_deleting() {
        let svc = service();
        let s3ref = uploaded(&svc, "org1", "a.txt", b"1").await;
        let entity = svc.save(&caller("org1"), save_of(s3ref)).await.unwrap();
        let id: Uuid = entity["_id"].as_str().unwrap().parse().unwrap();
        svc.delete(&caller("org1"), id).await.unwrap();
        assert!(svc.store.list("files/").await.unwrap().is_empty());
        assert_eq!(
            svc.delete(&caller("org1"), id).await.unwrap_err().status(),
            404
        );
    }

    fn public_upload(filename: &str, mime_type: Option<&str>, size: Option<u64>) -> UploadRequest {
        UploadRequest {
            filename: filename.into(),
            mime_type: mime_type.map(str::to_owned),
            size_bytes: size,
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
            let s3ref: S3Ref = serde_json::from_value(answer["s3ref"].clone()).unwrap();
            svc.store
                .put(&s3ref.key, body.to_vec(), content_type)
                .await
                .unwrap();
            let err = svc
                .save(&caller("org1"), save_of(s3ref.clone()))
                .await
                .unwrap_err();
            assert_eq!(err.status(), status, "{name}: {err}");
            assert_eq!(
                svc.store.head(&s3ref.key).await.unwrap(),
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
        let id: Uuid = entity["_id"].as_str().unwrap().parse().unwrap();
        let forbidden = svc.public_file(id).await.unwrap_err();
        assert_eq!(forbidden.status(), 403);

        let set_access = |access: AccessControl| SaveRequest {
            id: Some(id),
            access_control: Some(access),
            ..SaveRequest::default()
        };
        let public = svc
            .save(&caller("org1"), set_access(AccessControl::PublicRead))
            .await
            .unwrap();
        assert_eq!(public["access_control"], "public-read");
        assert_eq!(
            public["versions"].as_array().unwrap().len(),
            1,
            "no new version"
        );
        assert_eq!(public["_created_at"], entity["_created_at"]);
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

        svc.delete(&caller("org1"), id).await.unwrap();
        assert_eq!(svc.public_file(id).await.unwrap_err().status(), 404);
    }
}
