//! saveFileV2: a new file, a new version, an external file, or new metadata.

use uuid::Uuid;

use super::PUBLIC_UPLOADS;
use super::{stored_mime_type, Caller, FileFields, FileService, SaveIntent, SaveRequest};
use crate::domain::{
    guess_mime_type, validate_attributes, validate_filename, validate_mime_type, version_key,
    FileRecord, S3Ref, StoredVersion, TempKey, UploadState, UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileChange, FileRepository, ObjectMeta, ObjectStore, UploadRecords};

impl<B: Backend> FileService<B> {
    pub async fn save(&self, caller: &Caller, request: SaveRequest) -> Result<FileRecord> {
        let SaveRequest { intent, fields } = request;
        validate_attributes(&fields.attributes)?;
        if let Some(name) = &fields.filename {
            validate_filename(name)?;
        }
        if let Some(mime) = &fields.mime_type {
            validate_mime_type(mime)?;
        }
        match intent {
            SaveIntent::Upload {
                file,
                s3ref,
                delete_temp_file,
            } => {
                let existing = self.existing(caller, file).await?;
                self.save_upload(caller, &s3ref, delete_temp_file, existing, &fields)
                    .await
            }
            SaveIntent::External { file, url } => {
                if self.existing(caller, file).await?.is_some() {
                    return Err(Error::conflict(
                        "an external file cannot be given a new version; save a new file instead",
                    ));
                }
                self.save_external(caller, &url, &fields).await
            }
            SaveIntent::Metadata { file } => {
                let record = self.owned(caller, file).await?;
                self.save_metadata(caller, record, &fields).await
            }
            SaveIntent::FromSource { .. } => Err(Error::new(
                ErrorCode::Unsupported,
                "source_url (upload from a URL) is not supported yet",
            )),
            SaveIntent::DirectBody { .. } => Err(Error::new(
                ErrorCode::Unsupported,
                "a direct upload through the API is not supported yet",
            )),
        }
    }

    async fn existing(&self, caller: &Caller, file: Option<Uuid>) -> Result<Option<FileRecord>> {
        match file {
            Some(id) => self.owned(caller, id).await.map(Some),
            None => Ok(None),
        }
    }

    pub(super) async fn save_upload(
        &self,
        caller: &Caller,
        s3ref: &S3Ref,
        delete_temp_file: bool,
        existing: Option<FileRecord>,
        fields: &FileFields,
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
            return Err(Error::conflict(
                "this file is external (custom_download_url); it cannot get stored versions",
            ));
        }
        let filename = fields
            .filename
            .clone()
            .unwrap_or_else(|| temp.filename.to_owned());
        validate_filename(&filename)?;
        let file_id = existing.as_ref().map(|r| r.id).unwrap_or_else(Uuid::new_v4);
        let key = version_key(&caller.org, file_id, Uuid::new_v4(), &filename);

        // Copy first, then read what was copied: the uploader may still PUT to the temp
        // key, so only the permanent object's metadata is the truth.
        if !self.store().copy(&s3ref.key, &key).await? {
            return Err(Error::not_found(
                "nothing was uploaded to this s3ref (or the upload expired)",
            ));
        }
        let result = self
            .record_version(caller, file_id, &key, &filename, existing, fields)
            .await;
        match result {
            Ok(record) => {
                if let Err(e) = self.uploads().forget_upload(&s3ref.key).await {
                    tracing::warn!(error = %e, key = %s3ref.key, "upload record not cleared");
                }
                if delete_temp_file {
                    // The version is saved; a temp object left behind expires by lifecycle.
                    if let Err(e) = self.store().delete(std::slice::from_ref(&s3ref.key)).await {
                        tracing::warn!(error = %e, key = %s3ref.key, "temp object not deleted");
                    }
                }
                Ok(record)
            }
            Err(e) => {
                // Leave nothing half-written: the copied object has no entity pointing at it.
                if let Err(cleanup) = self.store().delete(std::slice::from_ref(&key)).await {
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
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let mut attributes = record.attributes.clone();
        attributes.extend(fields.attributes.clone());
        let change = FileChange {
            new_version: None,
            filename: fields
                .filename
                .clone()
                .unwrap_or_else(|| record.filename.clone()),
            mime_type: fields
                .mime_type
                .clone()
                .unwrap_or_else(|| record.mime_type.clone()),
            access_control: fields.access_control.unwrap_or(record.access_control),
            attributes,
            updated_at: self.clock.now_rfc3339(),
        };
        self.files()
            .update_file(record.id, caller.org.as_str(), &change)
            .await
    }

    /// An external file: an entity that points at a URL and stores no bytes.
    async fn save_external(
        &self,
        caller: &Caller,
        url: &str,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let url = self.config.url_policy.check(url)?;
        let filename = match &fields.filename {
            Some(name) => name.clone(),
            None => url::Url::parse(&url)
                .ok()
                .and_then(|u| u.path_segments()?.next_back().map(str::to_owned))
                .filter(|name| validate_filename(name).is_ok())
                .unwrap_or_else(|| "file".into()),
        };
        let mime_type = fields
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
            access_control: fields.access_control.unwrap_or_default(),
            custom_download_url: Some(url),
            attributes: fields.attributes.clone(),
            versions: Vec::new(),
        };
        self.files().create(&record).await?;
        Ok(record)
    }

    /// Keeps the promise: an upload can be saved for [`UNSAVED_UPLOAD_LIFETIME_MS`] after
    /// S3 stored it, and not after, even while lifecycle deletion has not caught up.
    async fn check_not_expired(&self, key: &str) -> Result<ObjectMeta> {
        let now = self.clock.now_millis();
        let expired = || {
            Error::new(
                ErrorCode::UploadExpired,
                "this upload was not saved within 24 hours and has expired; upload the file again",
            )
        };
        if let Some(record) = self.uploads().get_upload(key).await? {
            if record.state == UploadState::Present && record.expires_at_ms <= now {
                return Err(expired());
            }
        }
        let meta = self.store().head(key).await?.ok_or_else(|| {
            Error::not_found("nothing was uploaded to this s3ref (or the upload expired)")
        })?;
        match meta.last_modified_ms {
            Some(created) if created + UNSAVED_UPLOAD_LIFETIME_MS <= now => Err(expired()),
            _ => Ok(meta),
        }
    }

    /// The temp upload an s3ref names, if this caller may save it.
    fn claimable_upload<'a>(&self, caller: &Caller, s3ref: &'a S3Ref) -> Result<TempKey<'a>> {
        if s3ref.bucket != self.store().bucket() {
            return Err(Error::new(
                ErrorCode::InvalidS3Ref,
                "s3ref.bucket is not this service's bucket",
            ));
        }
        let temp = TempKey::parse(&s3ref.key).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidS3Ref,
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
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let meta = self.store().head(key).await?.ok_or_else(|| {
            Error::storage("HeadObject", format!("copied object {key} is missing"))
        })?;
        let mime_type = stored_mime_type(&meta, fields.mime_type.as_deref(), filename);
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
                attributes.extend(fields.attributes.clone());
                let change = FileChange {
                    new_version: Some(version),
                    filename: filename.to_owned(),
                    mime_type,
                    access_control: fields.access_control.unwrap_or(record.access_control),
                    attributes,
                    updated_at: now,
                };
                self.files()
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
                    access_control: fields.access_control.unwrap_or_default(),
                    custom_download_url: None,
                    attributes: fields.attributes.clone(),
                    versions: vec![version],
                };
                self.files().create(&record).await?;
                Ok(record)
            }
        }
    }
}
