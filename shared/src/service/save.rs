//! saveFileV2: a new file, a new version, an external file, or new metadata.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ingest::filename_of;
use super::write::Revision;
use super::PUBLIC_UPLOADS;
use super::{
    stored_mime_type, Caller, FileFields, FileService, SaveIntent, SaveRequest, VersionUpload,
};
use crate::domain::{
    guess_mime_type, validate_attributes, validate_filename, validate_mime_type, version_key,
    FileRecord, PendingUpload, S3Ref, StoredVersion, TempKey, UploadState,
    UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    copy_in_parts, Backend, CopyOutcome, ObjectMeta, ObjectStore, UploadClaim, UploadRecords,
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
            SaveIntent::Versions {
                file,
                uploads,
                delete_temp_file,
            } => {
                self.save_versions(caller, file, &uploads, delete_temp_file)
                    .await
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
        let (existing, upload) = tokio::join!(
            self.existing(caller, file),
            self.inspect_upload(caller, s3ref)
        );
        let (existing, upload) = (existing?, upload?);
        Self::check_can_store(existing.as_ref())?;
        self.check_quota(&caller.org, upload.meta.size_bytes)
            .await?;
        let file_id = existing.as_ref().map(|r| r.id).unwrap_or_else(Uuid::new_v4);
        let named = VersionUpload {
            s3ref: s3ref.clone(),
            filename: fields.filename.clone(),
            mime_type: fields.mime_type.clone(),
        };
        let version = self
            .copy_as_version(caller, file_id, &named, upload)
            .await?;
        let revision = Revision::adding(vec![version]);
        self.write_uploads(
            caller,
            file_id,
            existing,
            fields,
            revision,
            &[named],
            delete_temp_file,
        )
        .await
    }

    /// Writes versions copied from uploads (`uploads`, in the same order) with the claims
    /// of those uploads; the temp objects go while the transaction runs (its third round
    /// trip, not a fourth): once an upload is consumed nothing can save it again, and if
    /// the write fails the uploads are put back from the copies.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_uploads(
        &self,
        caller: &Caller,
        file_id: Uuid,
        existing: Option<FileRecord>,
        fields: &FileFields,
        mut revision: Revision<'_>,
        uploads: &[VersionUpload],
        delete_temp_file: bool,
    ) -> Result<FileRecord> {
        let copies: Vec<String> = revision.versions.iter().map(|v| v.key.clone()).collect();
        revision.claims = uploads
            .iter()
            .map(|u| UploadClaim {
                upload_key: &u.s3ref.key,
                file: file_id,
            })
            .collect();
        let write = self.write_version(caller, file_id, existing, fields, revision);
        let temps: Vec<String> = uploads.iter().map(|u| u.s3ref.key.clone()).collect();
        let (written, temps_removed) = if delete_temp_file {
            let (written, removed) = tokio::join!(write, self.store().delete(&temps));
            if let Err(e) = &removed {
                tracing::warn!(error = %e, "temp objects not deleted");
            }
            (written, removed.is_ok())
        } else {
            (write.await, false)
        };
        match written {
            Ok(record) => Ok(record),
            Err(e) => {
                let removed: Vec<(&str, &str)> = if temps_removed {
                    temps
                        .iter()
                        .map(String::as_str)
                        .zip(copies.iter().map(String::as_str))
                        .collect()
                } else {
                    Vec::new()
                };
                self.settle_failed_write(caller, file_id, &copies, &removed, e)
                    .await
            }
        }
    }

    /// What a save learns of an upload before copying it: that the caller may save it,
    /// that it has not expired, and its size and ETag.
    pub(super) async fn inspect_upload(
        &self,
        caller: &Caller,
        s3ref: &S3Ref,
    ) -> Result<InspectedUpload> {
        let temp = self.claimable_upload(caller, s3ref)?;
        let (event, meta) = tokio::join!(
            self.uploads().get_upload(&s3ref.key),
            self.store().head(&s3ref.key),
        );
        let meta = self.check_not_expired(event?, meta?)?;
        if temp.org == PUBLIC_UPLOADS {
            self.check_public_object(&s3ref.key, &meta).await?;
        }
        Ok(InspectedUpload {
            filename: temp.filename.to_owned(),
            meta,
        })
    }

    /// Copies an inspected upload to a fresh version key of `file_id` (no two saves ever
    /// write the same object) and checks its bytes; the version it becomes. On an error
    /// nothing of it is left.
    pub(super) async fn copy_as_version(
        &self,
        caller: &Caller,
        file_id: Uuid,
        upload: &VersionUpload,
        inspected: InspectedUpload,
    ) -> Result<StoredVersion> {
        let InspectedUpload { filename, meta } = inspected;
        let filename = upload.filename.clone().unwrap_or(filename);
        validate_filename(&filename)?;
        let source = &upload.s3ref.key;
        let key = version_key(&caller.org, file_id, Uuid::new_v4(), &filename);
        // The copy and the checksum (unless S3 checked one on the way in) run at once;
        // both read the upload only while it has the ETag read above.
        let (copied, checksum) = tokio::join!(
            self.copy_upload(source, &key, &meta),
            self.checksum_of(source, &meta)
        );
        let changed =
            || Error::conflict("the upload changed while it was being saved; save it again");
        let etag = match copied {
            Ok(CopyOutcome::Copied { etag }) => etag,
            Ok(CopyOutcome::Missing) => {
                return Err(Error::not_found(
                    "nothing was uploaded to this s3ref (or the upload expired)",
                ))
            }
            Ok(CopyOutcome::Changed) => return Err(changed()),
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
                return Err(changed());
            }
            Err(e) => {
                self.remove_unreferenced(&key).await;
                return Err(e);
            }
        };
        if let Some(declared) = meta.declared_sha256.as_deref().filter(|d| *d != checksum) {
            // These bytes can never be saved: neither the copy nor the upload stays.
            let keys = [key.clone(), source.clone()];
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
        Ok(StoredVersion {
            key,
            mime_type: stored_mime_type(&meta, upload.mime_type.as_deref(), &filename),
            filename,
            size_bytes: meta.size_bytes,
            etag,
            created_at: self.clock.now_rfc3339(),
            checksum_sha256: Some(checksum),
            uploaded_at: meta.last_modified_ms.map(crate::time::rfc3339),
            uploaded_by: caller.sub.clone(),
            metadata: meta.metadata,
            scan: None,
        })
    }

    /// A server-side copy of an upload (`meta` as read) while it is unchanged: one
    /// CopyObject, or parallel UploadPartCopy over the threshold (CopyObject stops at 5 GiB).
    async fn copy_upload(&self, from: &str, to: &str, meta: &ObjectMeta) -> Result<CopyOutcome> {
        if meta.size_bytes > self.config.multipart_copy_threshold {
            Ok(copy_in_parts(self.store(), from, to, meta, self.config.copy_concurrency).await?)
        } else {
            Ok(self.store().copy(from, to, Some(&meta.etag)).await?)
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

    /// New access control, filename or attributes for a file; its versions stay.
    async fn save_metadata(
        &self,
        caller: &Caller,
        record: FileRecord,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        self.change_file(caller, record, fields, Revision::default())
            .await
    }

    /// An external file: an entity that points at a URL and stores no bytes.
    async fn save_external(
        &self,
        caller: &Caller,
        url: &str,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        // A file no one could download is refused now, not when it is asked for.
        self.signing_keys()?;
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
        self.create_file(&record, None).await?;
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
}

/// What a save reads of an upload before it copies it.
pub(super) struct InspectedUpload {
    /// The name it was uploaded under.
    filename: String,
    pub meta: ObjectMeta,
}
