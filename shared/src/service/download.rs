//! Reading files: downloadFile, downloadFiles, public_url and verifyCustomDownloadUrl.

use std::time::Duration;

use uuid::Uuid;

use super::{BatchLink, Caller, DownloadItem, FileService, MAX_BATCH};
use crate::custom_url::SigningKeys;
use crate::domain::{AccessControl, FileRecord, FileStatus, StoredVersion};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileRepository, ObjectStore, ResponseHeaders};
use crate::time::parse_rfc3339;

impl<B: Backend> FileService<B> {
    /// downloadFile: a presigned GET for one version (0 = latest).
    pub async fn download(
        &self,
        caller: &Caller,
        id: Uuid,
        version: u32,
        attachment: bool,
    ) -> Result<String> {
        let record = self.owned(caller, id).await?;
        self.download_url(&record, version, attachment, None).await
    }

    /// A presigned GET of `record`'s latest version, as downloadFile answers it.
    pub async fn link(&self, record: &FileRecord) -> Result<String> {
        self.download_url(record, 0, true, None).await
    }

    /// downloadFiles: presigned GETs for several files, all or nothing.
    pub async fn download_many(
        &self,
        caller: &Caller,
        items: &[DownloadItem],
    ) -> Result<Vec<BatchLink>> {
        if items.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorCode::TooManyItems,
                format!("at most {MAX_BATCH} files per request"),
            ));
        }
        let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let records = self.files().get_many(&ids).await?;
        let mut links = Vec::with_capacity(items.len());
        for item in items {
            let record = records
                .iter()
                .find(|r| r.id == item.id && r.org == caller.org.as_str() && self.is_live(r))
                .ok_or_else(|| Error::not_found(format!("file {} not found", item.id)))?;
            let url = self.download_url(record, item.version, true, None).await?;
            links.push(BatchLink { id: item.id, url });
        }
        Ok(links)
    }

    /// What a `public_url` serves: a short-lived URL of the latest version while the
    /// file is `public-read`; 403 while it is private, 404 once it is deleted.
    pub async fn public_file(&self, id: Uuid) -> Result<String> {
        let record = self
            .files()
            .get(id)
            .await?
            .filter(|r| self.is_live(r))
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))?;
        if record.access_control != AccessControl::PublicRead {
            return Err(Error::new(ErrorCode::Forbidden, "this file is not public"));
        }
        // Short-lived and inline: the redirect target of an `<img src>` or a link.
        self.download_url(&record, 0, false, Some(self.config.public_url_ttl))
            .await
    }

    /// verifyCustomDownloadUrl: whether the URL is one we signed for the caller's organisation.
    pub fn verify_custom_url(&self, caller: &Caller, url: &str) -> Result<bool> {
        crate::custom_url::verify(
            self.signing_keys()?,
            caller.org.as_str(),
            url,
            self.clock.now_millis(),
        )
    }

    pub(super) async fn download_url(
        &self,
        record: &FileRecord,
        version: u32,
        attachment: bool,
        ttl: Option<Duration>,
    ) -> Result<String> {
        let capped = |ttl: Duration| self.capped_lifetime(record, ttl);
        if let Some(url) = &record.custom_download_url {
            if version > 1 {
                return Err(Error::not_found(format!(
                    "external file {} has one version; version {version} does not exist",
                    record.id
                )));
            }
            let ttl = capped(ttl.unwrap_or(self.config.custom_url_ttl))?;
            return crate::custom_url::sign(
                self.signing_keys()?,
                &record.org,
                url,
                self.clock.now_millis(),
                ttl,
            );
        }
        let stored = self.readable_version(record, version)?;
        let headers = ResponseHeaders::for_file(&stored.filename, &stored.mime_type, attachment);
        self.store()
            .presign_get(
                &stored.key,
                &headers,
                capped(ttl.unwrap_or(self.config.download_url_ttl))?,
            )
            .await
            .map_err(Error::from)
    }

    /// A link's lifetime, never past the file's end: a link handed out before the file
    /// expires stops working when it does.
    pub(super) fn capped_lifetime(&self, record: &FileRecord, ttl: Duration) -> Result<Duration> {
        let Some(end) = record.expires_at.as_deref().and_then(parse_rfc3339) else {
            return Ok(ttl);
        };
        let left_secs = (end - self.clock.now_millis()).div_euclid(1000);
        match u64::try_from(left_secs) {
            Ok(left) if left >= 1 => Ok(ttl.min(Duration::from_secs(left))),
            _ => Err(Error::not_found(format!("file {} not found", record.id))),
        }
    }

    /// The keys of external files' links. A deployment without them (an empty
    /// `CustomUrlSigningKey`) has external files turned off: a clear 400, not a 500.
    pub(super) fn signing_keys(&self) -> Result<&SigningKeys> {
        self.config.custom_url_keys.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                "external files (custom_download_url) are turned off on this deployment: it has no CustomUrlSigningKey",
            )
        })
    }
}

impl<B: Backend> FileService<B> {
    /// Version `version` (0: the latest) of a file whose bytes are here and may be
    /// served: 409 `not_ready` while its fetch is pending or after it failed, 404 for a
    /// version it does not have, and the scan's verdict where scanning blocks downloads.
    pub(super) fn readable_version<'r>(
        &self,
        record: &'r FileRecord,
        version: u32,
    ) -> Result<&'r StoredVersion> {
        if record.versions.is_empty() && record.status != FileStatus::Ready {
            return Err(Error::new(
                ErrorCode::NotReady,
                match &record.status_reason {
                    Some(reason) => format!("the file has no bytes: its fetch failed ({reason})"),
                    None => "the file's bytes are still being fetched; try again shortly".into(),
                },
            ));
        }
        let stored = record.version(version).ok_or_else(|| {
            Error::not_found(format!(
                "file {} has {} version(s); version {version} does not exist",
                record.id,
                record.versions.len()
            ))
        })?;
        self.servable(stored.scan_status())?;
        Ok(stored)
    }
}
