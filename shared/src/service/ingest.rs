//! Saves whose bytes come with the request (a direct upload) or from a URL (a fetch,
//! which the ingest queue runs and the save waits for a few seconds).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use uuid::Uuid;

use super::delete::DeleteMode;
use super::write::Revision;
use super::{is_generic_content_type, Caller, FileFields, FileService, SourceRequest};
use crate::domain::{
    guess_mime_type, media_type_from_outside, validate_filename, version_key, FetchFailure,
    FileRecord, FileStatus, StoredVersion,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ingest::fetch::{source_failed, too_large};
use crate::ingest::{Fetcher, IngestJob};
use crate::ports::{put_stream, Backend, FetchFailed, FileRepository, IngestStep, ObjectStore};

/// Parts of a fetched source's multipart upload: about this much is held in memory.
pub const FETCH_PART_BYTES: usize = 8 * 1024 * 1024;

/// SHA-256 as S3 writes checksums.
pub fn sha256_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

/// The last segment of a URL's path, when it is a valid filename.
pub(super) fn filename_of(url: &url::Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?
        .into_owned();
    validate_filename(&decoded).is_ok().then_some(decoded)
}

impl<B: Backend> FileService<B> {
    /// A direct upload: the bytes came in the request; one PUT, then the entity.
    pub(super) async fn save_direct(
        &self,
        caller: &Caller,
        file: Option<Uuid>,
        body: Bytes,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let existing = self.existing(caller, file).await?;
        Self::check_can_store(existing.as_ref())?;
        self.check_quota(&caller.org, body.len() as u64).await?;
        let filename = fields.filename.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidFilename,
                "a direct upload needs a filename: ?filename=, a Content-Disposition header, or the form part's filename",
            )
        })?;
        let mime_type = fields
            .mime_type
            .clone()
            .filter(|m| !is_generic_content_type(m))
            .unwrap_or_else(|| guess_mime_type(&filename).to_owned());
        let file_id = existing.as_ref().map(|r| r.id).unwrap_or_else(Uuid::new_v4);
        let key = version_key(&caller.org, file_id, Uuid::new_v4(), &filename);
        let checksum = sha256_base64(&body);
        let meta = match self
            .store()
            .put(&key, body.to_vec(), Some(&mime_type))
            .await
        {
            Ok(meta) => meta,
            Err(e) => {
                self.remove_unreferenced(&key).await;
                return Err(e.into());
            }
        };
        let version = StoredVersion {
            key: key.clone(),
            filename,
            mime_type,
            size_bytes: meta.size_bytes,
            etag: meta.etag,
            created_at: self.clock.now_rfc3339(),
            checksum_sha256: Some(checksum),
            uploaded_by: caller.sub.clone(),
            ..StoredVersion::default()
        };
        match self
            .write_version(
                caller,
                file_id,
                existing,
                fields,
                Revision::adding(vec![version]),
            )
            .await
        {
            Ok(record) => Ok(record),
            Err(e) => {
                self.settle_failed_write(caller, file_id, &[key], &[], e)
                    .await
            }
        }
    }

    /// A fetch from a URL: the file is recorded pending, the job handed to the ingest
    /// queue, and the answer waits up to `ingest_wait` for it: the file ready (201), the
    /// fetch failed (422, and a new file is gone again), or still pending (202).
    pub(super) async fn save_from_source(
        &self,
        caller: &Caller,
        file: Option<Uuid>,
        source: SourceRequest,
        fields: &FileFields,
    ) -> Result<FileRecord> {
        let url = self.config.url_policy.check_source(&source.url)?;
        // The size is known only once fetched: a fetch needs room for a byte to start.
        self.check_quota(&caller.org, 1).await?;
        let queue = self.ingest.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                "fetching from a URL is not configured on this deployment",
            )
        })?;
        let job = Uuid::new_v4();
        let existing = self.existing(caller, file).await?;
        Self::check_can_store(existing.as_ref())?;
        let created = existing.is_none();
        let record = match existing {
            Some(record) => {
                // The name and type come with the new version; the rest applies now.
                let now_fields = FileFields {
                    filename: None,
                    mime_type: None,
                    ..fields.clone()
                };
                let begin = IngestStep::Begin { job };
                let begin = Revision {
                    ingest: Some(begin),
                    ..Revision::default()
                };
                self.change_file(caller, record, &now_fields, begin).await?
            }
            None => {
                let filename = fields
                    .filename
                    .clone()
                    .or_else(|| filename_of(&url))
                    .unwrap_or_else(|| "file".into());
                let mime_type = fields
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| guess_mime_type(&filename).to_owned());
                let record = FileRecord {
                    status: FileStatus::Pending,
                    ingest_job: Some(job),
                    ..self.new_record(caller, Uuid::new_v4(), filename, mime_type, fields)
                };
                self.create_file(&record, None).await?;
                record
            }
        };
        let id = record.id;
        let submitted = queue
            .submit(IngestJob {
                org: caller.org.as_str().to_owned(),
                file: id,
                job,
                source,
                filename: fields.filename.clone(),
                mime_type: fields.mime_type.clone(),
                uploaded_by: caller.sub.clone(),
            })
            .await;
        if let Err(e) = submitted {
            let failed = FetchFailed::not_started();
            self.fail_fetch(&record.org, id, job, failed).await.ok();
            if created {
                self.delete(caller, id, DeleteMode::Purge).await.ok();
            }
            return Err(e);
        }
        self.await_fetch(caller, id, job, created).await
    }

    /// Reads the file until the fetch ends or `ingest_wait` passes.
    async fn await_fetch(
        &self,
        caller: &Caller,
        id: Uuid,
        job: Uuid,
        created: bool,
    ) -> Result<FileRecord> {
        let deadline = Instant::now() + self.config.ingest_wait;
        let mut pause = Duration::from_millis(25);
        loop {
            let record = self.owned(caller, id).await?;
            let ended = record.ingest_job != Some(job);
            if ended && record.status == FileStatus::Failed {
                let reason = record
                    .status_reason
                    .clone()
                    .unwrap_or_else(|| "the fetch failed".into());
                if created {
                    // The client learns of the failure now: no entity is left behind.
                    if let Err(e) = self.delete(caller, id, DeleteMode::Purge).await {
                        tracing::warn!(error = %e, file = %id, "failed fetch's file not removed");
                    }
                }
                if record.failure == Some(FetchFailure::QuotaExceeded) {
                    return Err(Error::new(ErrorCode::QuotaExceeded, reason));
                }
                return Err(source_failed(reason));
            }
            if ended || Instant::now() >= deadline {
                return Ok(record);
            }
            tokio::time::sleep(pause.min(deadline - Instant::now())).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Records that a fetch failed before it ran; nothing when it is not the file's fetch.
    pub async fn fail_fetch(
        &self,
        org: &str,
        id: Uuid,
        job: Uuid,
        failed: FetchFailed,
    ) -> Result<()> {
        self.end_fetch(org, id, job, Err(failed))
            .await
            .or_else(ignore_superseded)
    }

    /// Records how a fetch ended: its version (ready) or why it failed. The file is read
    /// again here, not taken from before the fetch, so that a change made while the fetch
    /// ran (access control, attributes) is not written back over. `Conflict`/`NotFound`
    /// when the fetch is not the file's any more.
    async fn end_fetch(
        &self,
        org: &str,
        id: Uuid,
        job: Uuid,
        outcome: std::result::Result<StoredVersion, FetchFailed>,
    ) -> Result<()> {
        let caller = Caller {
            org: crate::domain::OrgId::parse(org)?,
            sub: None,
        };
        let record = self.owned(&caller, id).await?;
        let (version, failure) = match outcome {
            Ok(version) => (Some(version), None),
            Err(failed) => (None, Some(failed)),
        };
        let finish = IngestStep::Finish { job, failure };
        let finish = Revision {
            versions: version.into_iter().collect(),
            ingest: Some(finish),
            ..Revision::default()
        };
        self.change_file(&caller, record, &FileFields::default(), finish)
            .await
            .map(|_| ())
    }

    /// Runs one fetch to its end: the bytes stored as the file's new version (ready), or
    /// the reason it failed recorded (failed). A job that is not its file's fetch any more
    /// (another fetch, or a delete, came first) does nothing. `Err` only for faults of
    /// the service's own storage, which a retry of the job may mend; nothing partial is
    /// left either way.
    pub async fn run_ingest(&self, job: IngestJob, fetcher: &Fetcher) -> Result<()> {
        let current = self.files().get(job.file).await?;
        if !current.is_some_and(|r| r.org == job.org && r.ingest_job == Some(job.job)) {
            tracing::info!(file = %job.file, "fetch superseded before it started");
            return Ok(());
        }
        let version = match self.fetch_version(&job, fetcher).await {
            Ok(version) => version,
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::SourceFailed | ErrorCode::InvalidSourceUrl
                ) =>
            {
                tracing::info!(file = %job.file, reason = e.public_message(), "fetch failed");
                let failed = FetchFailed {
                    kind: FetchFailure::SourceFailed,
                    reason: e.public_message().to_owned(),
                };
                return self.fail_fetch(&job.org, job.file, job.job, failed).await;
            }
            Err(e) => return Err(e),
        };
        let key = version.key.clone();
        match self
            .end_fetch(&job.org, job.file, job.job, Ok(version))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let superseded = matches!(e.code(), ErrorCode::Conflict | ErrorCode::NotFound);
                let caller = Caller {
                    org: crate::domain::OrgId::parse(&job.org)?,
                    sub: None,
                };
                let over_quota = e.code() == ErrorCode::QuotaExceeded;
                let reason = e.public_message().to_owned();
                match self
                    .settle_failed_write(&caller, job.file, &[key], &[], e)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(_) if superseded => Ok(()),
                    // The bytes are gone again; the file says why.
                    Err(_) if over_quota => {
                        let failed = FetchFailed {
                            kind: FetchFailure::QuotaExceeded,
                            reason,
                        };
                        self.fail_fetch(&job.org, job.file, job.job, failed).await
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Streams the source into a new version object: a multipart upload that holds about
    /// one part in memory, hashing on the way; aborted (nothing visible) on any failure.
    async fn fetch_version(&self, job: &IngestJob, fetcher: &Fetcher) -> Result<StoredVersion> {
        let deadline = Instant::now() + fetcher.limits.total;
        let late = || {
            source_failed(format!(
                "the source did not finish within {} s",
                fetcher.limits.total.as_secs()
            ))
        };
        let source = tokio::time::timeout_at(deadline, fetcher.open(&job.source))
            .await
            .map_err(|_| late())??;
        let filename = job
            .filename
            .clone()
            .or_else(|| source.filename.clone())
            .or_else(|| filename_of(&source.url))
            .unwrap_or_else(|| "file".into());
        let mime_type = job
            .mime_type
            .clone()
            // The source's type only when it is one (else it counts as none).
            .or_else(|| {
                source
                    .content_type
                    .as_deref()
                    .map(media_type_from_outside)
                    .filter(|t| !is_generic_content_type(t))
            })
            .unwrap_or_else(|| guess_mime_type(&filename).to_owned());
        let org = crate::domain::OrgId::parse(&job.org)?;
        let key = version_key(&org, job.file, Uuid::new_v4(), &filename);
        let max_bytes = fetcher.limits.max_bytes;
        let digest = Arc::new(Mutex::new((Sha256::new(), 0u64)));
        let seen = digest.clone();
        let body = futures::stream::unfold(source, move |mut source| {
            let seen = seen.clone();
            async move {
                let chunk = match tokio::time::timeout_at(deadline, source.next_chunk()).await {
                    Err(_) => Err(late()),
                    Ok(chunk) => chunk,
                };
                let item = match chunk {
                    Ok(None) => return None,
                    Ok(Some(bytes)) => {
                        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                        seen.1 += bytes.len() as u64;
                        if seen.1 > max_bytes {
                            Err(too_large(max_bytes))
                        } else {
                            seen.0.update(&bytes);
                            Ok(bytes)
                        }
                    }
                    Err(e) => Err(e),
                };
                Some((item, source))
            }
        });
        let meta = put_stream(
            self.store(),
            &key,
            Some(&mime_type),
            Box::pin(body),
            FETCH_PART_BYTES,
        )
        .await?;
        let (hasher, _) = std::mem::take(&mut *digest.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(StoredVersion {
            key,
            filename,
            mime_type,
            size_bytes: meta.size_bytes,
            etag: meta.etag,
            created_at: self.clock.now_rfc3339(),
            checksum_sha256: Some(STANDARD.encode(hasher.finalize())),
            uploaded_by: job.uploaded_by.clone(),
            ..StoredVersion::default()
        })
    }
}

/// A fetch that lost its file to another fetch or a delete has nothing left to do.
fn ignore_superseded(e: Error) -> Result<()> {
    match e.code() {
        ErrorCode::Conflict | ErrorCode::NotFound => Ok(()),
        _ => Err(e),
    }
}
