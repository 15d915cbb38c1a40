//! Sharing: public links, batches of signed links, links to an object by its key.

use std::time::Duration;

use uuid::Uuid;

use super::{Caller, FileService, MAX_BATCH};
use crate::domain::{
    guess_mime_type, link_file, new_link_id, same_link, version_key_owner, FileRecord, PublicLink,
    TempKey,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileRepository, Missing, ObjectStore, ResponseHeaders, StorageError};
use crate::time::rfc3339;

/// The longest a signed link may live: SigV4's limit.
pub const MAX_SIGNED_URL_SECONDS: u64 = 7 * 24 * 3600;
pub const DEFAULT_SIGNED_URL_SECONDS: u64 = 3600;
/// Accesses of a link closer together than this are recorded once.
const LINK_ACCESS_GRANULARITY_MS: i64 = 60_000;

/// An object found by its key.
pub(super) struct KeyedObject {
    pub filename: String,
    pub mime_type: String,
    pub size_bytes: u64,
    /// A stored version (never overwritten), not an unsaved upload (which may be).
    pub saved: bool,
}

/// One signed link of signUrls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    pub id: Uuid,
    pub url: String,
    pub expires_at: String,
}

/// signUrls' answer: the links, and the ids that got none (absent, deleted, another
/// organisation's, or without bytes yet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignedUrls {
    pub items: Vec<SignedUrl>,
    pub not_found: Vec<Uuid>,
    /// Files whose latest version is withheld by its malware scan, and why
    /// (`scan_pending`, `file_infected`).
    pub withheld: Vec<(Uuid, ErrorCode)>,
}

impl<B: Backend> FileService<B> {
    /// signUrls: a link to the latest version of each file, valid `expires_in` seconds
    /// (never past a file's end).
    pub async fn sign_urls(
        &self,
        caller: &Caller,
        ids: &[Uuid],
        expires_in: u64,
        attachment: bool,
    ) -> Result<SignedUrls> {
        if ids.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorCode::TooManyItems,
                format!("at most {MAX_BATCH} ids per request"),
            ));
        }
        let records = self.files().get_many(ids).await?;
        let mut answer = SignedUrls::default();
        for id in ids {
            let record = records
                .iter()
                .find(|r| r.id == *id && r.org == caller.org.as_str() && self.is_live(r));
            let signed = match record {
                Some(record) => {
                    let ttl = Duration::from_secs(expires_in);
                    match self.capped_lifetime(record, ttl) {
                        Ok(ttl) => self
                            .download_url(record, 0, attachment, Some(ttl))
                            .await
                            .map(|url| (url, ttl)),
                        Err(e) => Err(e),
                    }
                }
                None => Err(Error::not_found("no such file")),
            };
            match signed {
                Ok((url, ttl)) => answer.items.push(SignedUrl {
                    id: *id,
                    url,
                    expires_at: rfc3339(self.clock.now_millis() + ttl.as_millis() as i64),
                }),
                Err(e) if matches!(e.code(), ErrorCode::ScanPending | ErrorCode::FileInfected) => {
                    answer.withheld.push((*id, e.code()))
                }
                Err(e) if e.status() < 500 => answer.not_found.push(*id),
                Err(e) => return Err(e),
            }
        }
        Ok(answer)
    }

    /// downloadS3File: a link to an object of the caller's organisation by its key: its
    /// own unsaved upload, or a version of one of its files. Anything else is 404.
    pub async fn download_s3(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        attachment: bool,
    ) -> Result<String> {
        let object = self.object_by_key(caller, bucket, key).await?;
        let (filename, mime_type) = (object.filename, object.mime_type);
        let headers = ResponseHeaders::for_file(&filename, &mime_type, attachment);
        self.store()
            .presign_get(key, &headers, self.config.download_url_ttl)
            .await
            .map_err(Error::from)
    }

    /// The object at `key` if the caller may read it by its key (downloadS3File,
    /// previewS3File): its own unsaved upload, or a version of one of its live files.
    /// Anything else is 404, whatever the reason.
    pub(super) async fn object_by_key(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
    ) -> Result<KeyedObject> {
        let missing = || Error::not_found("no object of this organisation at this s3 key");
        if bucket != self.store().bucket() {
            return Err(missing());
        }
        if let Some(temp) = TempKey::parse(key) {
            if temp.org != caller.org.as_str() {
                return Err(missing());
            }
            // Unsaved uploads carry no verdict of their own: served once saved and clean.
            self.servable(if self.config.scan.mode == crate::config::ScanMode::None {
                crate::domain::ScanStatus::NotScanned
            } else {
                crate::domain::ScanStatus::Pending
            })?;
            let meta = self.store().head(key).await?.ok_or_else(missing)?;
            let mime_type = meta
                .content_type
                .as_deref()
                .map(crate::domain::media_type_from_outside)
                .filter(|c| !super::is_generic_content_type(c))
                .unwrap_or_else(|| guess_mime_type(temp.filename).to_owned());
            return Ok(KeyedObject {
                filename: temp.filename.to_owned(),
                mime_type,
                size_bytes: meta.size_bytes,
                saved: false,
            });
        }
        let (org, file) = version_key_owner(key).ok_or_else(missing)?;
        if org != caller.org.as_str() {
            return Err(missing());
        }
        let record = self.owned(caller, file).await.map_err(|_| missing())?;
        let version = record
            .versions
            .into_iter()
            .find(|v| v.key == key)
            .ok_or_else(missing)?;
        self.servable(version.scan_status())?;
        Ok(KeyedObject {
            filename: version.filename,
            mime_type: version.mime_type,
            size_bytes: version.size_bytes,
            saved: true,
        })
    }

    /// generatePublicLink: a new permanent link to the file.
    pub async fn generate_link(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(FileRecord, PublicLink)> {
        let record = self.owned(caller, id).await?;
        let link = PublicLink {
            id: new_link_id(id),
            created_at: self.clock.now_rfc3339(),
            last_accessed_at: None,
        };
        self.files()
            .add_link(id, caller.org.as_str(), &link)
            .await?;
        Ok((record, link))
    }

    /// listPublicLinksForFile.
    pub async fn list_links(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        self.owned(caller, id).await
    }

    /// revokePublicLink: the link ends at once; another organisation's is 404.
    pub async fn revoke_link(&self, caller: &Caller, link_id: &str) -> Result<()> {
        let file = link_file(link_id).ok_or(StorageError::NotFound(Missing::PublicLink))?;
        self.files()
            .remove_link(file, caller.org.as_str(), link_id)
            .await
            .map_err(Error::from)
    }

    /// accessPublicLink: a short-lived, inline link to the latest version, whatever the
    /// file's access control; one read of the file, and a write of the access time at
    /// most once a minute.
    pub async fn access_link(&self, link_id: &str) -> Result<String> {
        let file = link_file(link_id).ok_or(StorageError::NotFound(Missing::PublicLink))?;
        let record = self
            .files()
            .get(file)
            .await?
            .filter(|r| self.is_live(r))
            .ok_or(StorageError::NotFound(Missing::PublicLink))?;
        let link = record
            .public_links
            .iter()
            .find(|l| same_link(&l.id, link_id))
            .ok_or(StorageError::NotFound(Missing::PublicLink))?;
        let url = self
            .download_url(&record, 0, false, Some(self.config.public_url_ttl))
            .await?;
        let now = self.clock.now_millis();
        let recent = link
            .last_accessed_at
            .as_deref()
            .and_then(crate::time::parse_rfc3339)
            .is_some_and(|at| now - at < LINK_ACCESS_GRANULARITY_MS);
        if !recent {
            if let Err(e) = self.files().touch_link(file, &link.id, &rfc3339(now)).await {
                tracing::warn!(error = %e, "a link's access time was not recorded");
            }
        }
        Ok(url)
    }
}
