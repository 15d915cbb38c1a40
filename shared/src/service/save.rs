//! saveFileV2: a new file, a new version, an external file, or new metadata.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ingest::filename_of;
use super::PUBLIC_UPLOADS;
use super::{stored_mime_type, Caller, FileFields, FileService, SaveIntent, SaveRequest};
use crate::domain::{
    guess_mime_type, validate_attributes, validate_filename, validate_mime_type, version_key,
    FileRecord, PendingUpload, S3Ref, StoredVersion, TempKey, UploadState,
    UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    copy_in_parts, Backend, CopyOutcome, FileChange, FileRepository, IngestStep, ObjectMeta,
    ObjectStore, UploadClaim, UploadRecords,
};
use crate::time::rfc3339;

/// Ranges a save reads to hash an upload, and how many are in flight: about 32 MiB
/// of memory, and S3 busy while the hash runs.
const HASH_READ_BYTES: u64 = 8 * 1024 * 1024;
const HASH_READS_IN_FLIGHT: usize = 4;

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
                self.save_upload(caller, &s3ref, delete_temp_file, file, &fields)
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
            SaveIntent::FromSource { file, source } => {
                self.save_from_source(caller, file, source, &fields).await
            }
            SaveIntent::DirectBody { file, body } => {
                self.save_direct(caller, file, body, &fields).await
            }
        }
    }

    pub(super) async fn existing(
        &self,
        caller: &Caller,
        file: Option<Uuid>,
    ) -> Result<Option<FileRecord>> {
        match file {
            Some(id) => self.owned(caller, id).await.map(Some),
            None => Ok(None),
        }
    }

    /// A new file of the caller's, created now, with what `fields` set.
    pub(super) fn new_record(
        &self,
        caller: &Caller,
        id: Uuid,
        filename: String,
        mime_type: String,
        fields: &FileFields,
    ) -> FileRecord {
        let now = self.clock.now_rfc3339();
        FileRecord {
            id,
            org: caller.org.as_str().to_owned(),
            created_at: now.clone(),
            updated_at: now,
            filename,
            mime_type,
            access_control: fields.access_control.unwrap_or_default(),
            attributes: fields.attributes.clone(),
            expires_at: self.expires_at(fields),
            ..FileRecord::default()
        }
    }

    /// `ttl_seconds` from now, as the end of a file.
    pub(super) fn expires_at(&self, fields: &FileFields) -> Option<String> {
        fields
            .ttl_seconds
            .map(|ttl| rfc3339(self.clock.now_millis() + ttl as i64 * 1000))
    }

    /// An existing file that is about to get stored versions: not an external one.
    pub(super) fn check_can_store(existing: Option<&FileRecord>) -> Result<()> {
        if existing.is_some_and(|r| r.custom_download_url.is_some()) {
            return Err(Error::conflict(
                "this file is external (custom_download_url); it cannot get stored versions",
            ));
        }
        Ok(())
    }

    /// An upload becomes a file or a version: three round trips on the wire. First
    /// everything that can be read at once (the file, the upload's event record, the
    /// object), then a copy on the condition that the object is still what was read,
    /// then one transaction that writes the file and consumes the upload, so of any
    /// number of saves of one upload exactly one lands.
    pub(super) async fn save_upload(
        &self,
        caller: &Caller,
        s3ref: &S3Ref,
        delete_temp_file: bool,
        file: Option<Uuid>,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let temp = self.claimable_upload(caller, s3ref)?;
        let (existing, event, meta) = tokio::join!(
            self.existing(caller, file),
            self.uploads().get_upload(&s3ref.key),
            self.store().head(&s3ref.key),
        );
        let existing = existing?;
        let meta = self.check_not_expired(event?, meta?)?;
        if temp.org == PUBLIC_UPLOADS {
            self.check_public_object(&s3ref.key, &meta).await?;
        }
        Self::check_can_store(existing.as_ref())?;
        self.check_quota(&caller.org, meta.size_bytes).await?;
        let filename = fields
            .filename
            .clone()
            .unwrap_or_else(|| temp.filename.to_owned());
        validate_filename(&filename)?;
        let file_id = existing.as_ref().map(|r| r.id).unwrap_or_else(Uuid::new_v4);
        // A fresh key per attempt: no two saves ever write the same object.
        let key = version_key(&caller.org, file_id, Uuid::new_v4(), &filename);

        // The copy and the checksum (unless S3 checked one on the way in) run at once;
        // both read the upload only while it has the ETag read above.
        let (copied, checksum) = tokio::join!(
            self.copy_upload(&s3ref.key, &key, &meta),
            self.checksum_of(&s3ref.key, &meta)
        );
        let etag = match copied {
            Ok(CopyOutcome::Copied { etag }) => etag,
            Ok(CopyOutcome::Missing) => {
                return Err(Error::not_found(
                    "nothing was uploaded to this s3ref (or the upload expired)",
                ))
            }
            Ok(CopyOutcome::Changed) => {
                return Err(Error::conflict(
                    "the upload changed while it was being saved; save it again",
                ))
            }
            Err(e) => {
                // The copy may have landed before the failure: no entity points at it.
                self.remove_unreferenced(&key).await;
                return Err(e);
            }
        };
        let checksum = match checksum {
            Ok(Some(checksum)) => checksum,
            Ok(None) => {
                self.remove_unreferenced(&key).await;
                return Err(Error::conflict(
                    "the upload changed while it was being saved; save it again",
                ));
            }
            Err(e) => {
                self.remove_unreferenced(&key).await;
                return Err(e);
            }
        };
        if let Some(declared) = meta.declared_sha256.as_deref().filter(|d| *d != checksum) {
            // These bytes can never be saved: neither the copy nor the upload stays.
            let keys = [key.clone(), s3ref.key.clone()];
            if let Err(e) = self.store().delete(&keys).await {
                tracing::warn!(error = %e, "objects of a refused upload not deleted");
            }
            return Err(Error::new(
                ErrorCode::ChecksumMismatch,
                format!(
                    "the uploaded bytes have SHA-256 {checksum}, not the {declared} declared for them; nothing was stored, upload the file again"
                ),
            ));
        }
        let version = StoredVersion {
            key: key.clone(),
            filename: filename.clone(),
            mime_type: stored_mime_type(&meta, fields.mime_type.as_deref(), &filename),
            size_bytes: meta.size_bytes,
            etag,
            created_at: self.clock.now_rfc3339(),
            checksum_sha256: Some(checksum),
            uploaded_at: meta.last_modified_ms.map(crate::time::rfc3339),
            uploaded_by: caller.sub.clone(),
            metadata: meta.metadata.clone(),
        };
        let claim = UploadClaim {
            upload_key: &s3ref.key,
            file: file_id,
        };
        let write = self.write_version(caller, file_id, existing, version, fields, Some(claim));
        // The temp object goes while the transaction runs (its third round trip, not a
        // fourth): once the upload is consumed nothing can save it again, and if the
        // write fails the upload is put back from the copy.
        let (written, temp_removed) = if delete_temp_file {
            let temp = std::slice::from_ref(&s3ref.key);
            let (written, removed) = tokio::join!(write, self.store().delete(temp));
            if let Err(e) = &removed {
                tracing::warn!(error = %e, key = %s3ref.key, "temp object not deleted");
            }
            (written, removed.is_ok())
        } else {
            (write.await, false)
        };
        match written {
            Ok(record) => Ok(record),
            Err(e) => {
                let upload = temp_removed.then_some(s3ref.key.as_str());
                self.settle_failed_write(caller, file_id, &key, upload, e)
                    .await
            }
        }
    }

    /// A server-side copy of an upload (`meta` as read) while it is unchanged: one
    /// CopyObject, or parallel UploadPartCopy over the threshold (CopyObject stops at 5 GiB).
    async fn copy_upload(&self, from: &str, to: &str, meta: &ObjectMeta) -> Result<CopyOutcome> {
        if meta.size_bytes > self.config.multipart_copy_threshold {
            copy_in_parts(self.store(), from, to, meta, self.config.copy_concurrency).await
        } else {
            self.store().copy(from, to, Some(&meta.etag)).await
        }
    }

    /// The SHA-256 (base64) of an upload: S3's, when it checked one as the bytes came
    /// in; else read and hashed here, ranges in parallel, in order through the hash.
    /// `None` when the object changed or went meanwhile.
    async fn checksum_of(&self, key: &str, meta: &ObjectMeta) -> Result<Option<String>> {
        if let Some(checksum) = &meta.checksum_sha256 {
            return Ok(Some(checksum.clone()));
        }
        let size = meta.size_bytes;
        let chunk = HASH_READ_BYTES;
        let ranges = (0..size.div_ceil(chunk)).map(|i| i * chunk..((i + 1) * chunk).min(size));
        let mut reads = futures::stream::iter(ranges)
            .map(|range| self.store().get_range(key, range, &meta.etag))
            .buffered(HASH_READS_IN_FLIGHT);
        let mut hasher = Sha256::new();
        while let Some(read) = reads.next().await {
            match read? {
                Some(bytes) => hasher.update(&bytes),
                None => return Ok(None),
            }
        }
        Ok(Some(STANDARD.encode(hasher.finalize())))
    }

    /// After a failed write of `key`'s version. A fault may have hidden a write that
    /// landed: the file is read to tell, and a landed version is a success. Otherwise the
    /// copy is unreferenced and goes, and a removed upload (`removed_upload`) is put back
    /// from it, so that a retry, or a save into another file, still finds it; unless the
    /// upload was consumed by another save, when nothing may save it again.
    pub(super) async fn settle_failed_write(
        &self,
        caller: &Caller,
        file_id: Uuid,
        key: &str,
        removed_upload: Option<&str>,
        error: Error,
    ) -> Result<FileRecord> {
        if error.is_retryable() {
            match self.owned(caller, file_id).await {
                Ok(record) if record.versions.iter().any(|v| v.key == key) => return Ok(record),
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::NotFound => {}
                // Unknown whether the version landed: keep its object rather than risk
                // deleting a stored version's bytes. A retry saves again with a new key.
                Err(_) => return Err(error),
            }
        }
        if let Some(upload) = removed_upload.filter(|_| error.code() != ErrorCode::Conflict) {
            // If this fails too, the client learns on its retry that it must upload again.
            if let Err(e) = self.store().copy(key, upload, None).await {
                tracing::error!(error = %e, key = upload, "upload not put back after a failed save");
            }
        }
        self.remove_unreferenced(key).await;
        Err(error)
    }

    /// Deletes an object no entity points at (best effort: it is never served).
    pub(super) async fn remove_unreferenced(&self, key: &str) {
        if let Err(e) = self.store().delete(&[key.to_owned()]).await {
            tracing::error!(error = %e, key, "unreferenced version object not deleted");
        }
    }

    /// New access control, filename or attributes for a file; its versions stay.
    async fn save_metadata(
        &self,
        caller: &Caller,
        record: FileRecord,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        self.change_file(caller, record, fields, None, None, None)
            .await
    }

    /// Stores a change of an existing file: `fields` over what it has (attributes merged,
    /// `ttl_seconds` a new end), and a new version if one is given (its name and type
    /// become the file's), with the claim of the upload it came from, or the step of a
    /// fetch. Answers the record as the change leaves it.
    pub(super) async fn change_file(
        &self,
        caller: &Caller,
        mut record: FileRecord,
        fields: &FileFields,
        new_version: Option<StoredVersion>,
        claim: Option<UploadClaim<'_>>,
        ingest: Option<IngestStep>,
    ) -> Result<FileRecord> {
        let updated_at = match &new_version {
            Some(v) => v.created_at.clone(),
            None => self.clock.now_rfc3339(),
        };
        let mut attributes = record.attributes.clone();
        attributes.extend(fields.attributes.clone());
        let (filename, mime_type) = match &new_version {
            Some(v) => (v.filename.clone(), v.mime_type.clone()),
            None => (
                fields
                    .filename
                    .clone()
                    .unwrap_or_else(|| record.filename.clone()),
                fields
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| record.mime_type.clone()),
            ),
        };
        let change = FileChange {
            new_version,
            filename,
            mime_type,
            access_control: fields.access_control.unwrap_or(record.access_control),
            attributes,
            updated_at,
            expires_at: self.expires_at(fields),
            ingest,
        };
        let stored = self
            .files()
            .update_file(record.id, caller.org.as_str(), &change, claim)
            .await?;
        stored.apply_to(&mut record);
        Ok(record)
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
                .and_then(|u| filename_of(&u))
                .unwrap_or_else(|| "file".into()),
        };
        let mime_type = fields
            .mime_type
            .clone()
            .unwrap_or_else(|| guess_mime_type(&filename).to_owned());
        let record = FileRecord {
            custom_download_url: Some(url),
            ..self.new_record(caller, Uuid::new_v4(), filename, mime_type, fields)
        };
        self.files().create(&record, None).await?;
        Ok(record)
    }

    /// Keeps the promise: an upload can be saved for [`UNSAVED_UPLOAD_LIFETIME_MS`] after
    /// S3 stored it, and not after, even while lifecycle deletion has not caught up.
    fn check_not_expired(
        &self,
        event: Option<PendingUpload>,
        meta: Option<ObjectMeta>,
    ) -> Result<ObjectMeta> {
        let now = self.clock.now_millis();
        let expired = || {
            Error::new(
                ErrorCode::UploadExpired,
                "this upload was not saved within 24 hours and has expired; upload the file again",
            )
        };
        if event.is_some_and(|e| e.state == UploadState::Present && e.expires_at_ms <= now) {
            return Err(expired());
        }
        let meta = meta.ok_or_else(|| {
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

    /// Writes the version (a new file, or one more version of `existing`) together with
    /// the claim of the upload it came from.
    pub(super) async fn write_version(
        &self,
        caller: &Caller,
        file_id: Uuid,
        existing: Option<FileRecord>,
        version: StoredVersion,
        fields: &FileFields,
        claim: Option<UploadClaim<'_>>,
    ) -> Result<FileRecord> {
        let now = version.created_at.clone();
        match existing {
            Some(record) => {
                self.change_file(caller, record, fields, Some(version), claim, None)
                    .await
            }
            None => {
                let (filename, mime_type) = (version.filename.clone(), version.mime_type.clone());
                let record = FileRecord {
                    created_at: now.clone(),
                    updated_at: now,
                    versions: vec![version],
                    ..self.new_record(caller, file_id, filename, mime_type, fields)
                };
                self.files().create(&record, claim).await?;
                Ok(record)
            }
        }
    }
}
