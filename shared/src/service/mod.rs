//! The file service's operations, independent of HTTP and of AWS: each takes typed
//! input and answers typed values; JSON exists only in `crate::api`.

mod browse;
mod collections;
mod delete;
pub(crate) mod document;
mod download;
mod ingest;
mod multipart;
mod preview;
mod save;
mod scan;
mod share;
mod storage_error;
mod types;
mod upload;
mod versions;
mod webhooks;
mod write;

use std::sync::Arc;

use uuid::Uuid;

pub use browse::{
    BulkDeleted, DeleteSelection, ListedPage, UsageReport, DEFAULT_PAGE_SIZE, MAX_BULK_DELETE,
};
pub use collections::{CollectionFields, Owner};
pub use delete::DeleteMode;
pub use ingest::{sha256_base64, FETCH_PART_BYTES};
pub use multipart::{
    choose_part_size, MultipartSession, MultipartStart, PartToSign, SignedPart, DEFAULT_PART_BYTES,
    MAX_PARTS_PER_SIGNING,
};
pub use preview::{Preview, PreviewBody, SharedThumbnailer, MAX_INLINE_PREVIEW_BYTES};
pub use scan::{Recorded, ScanVerdict};
pub use share::{SignedUrl, SignedUrls, DEFAULT_SIGNED_URL_SECONDS, MAX_SIGNED_URL_SECONDS};
pub use types::{
    BatchLink, Caller, DownloadItem, FileFields, SaveIntent, SaveRequest, SourceMethod,
    SourceRequest, UploadRequest, UploadTicket, VersionUpload, MAX_TTL_SECONDS,
    MAX_VERSIONS_PER_SAVE, MIN_TTL_SECONDS,
};
pub use webhooks::WebhookRequest;
pub use write::{announce, ChangeListener, Committed, FileEvent, SharedChangeListener};

use crate::config::Config;
use crate::domain::{guess_mime_type, media_type_from_outside, FileRecord};
use crate::error::{Error, Result};
use crate::ingest::IngestQueue;
use crate::ports::{Backend, FileRepository, ObjectMeta};
use crate::time::Clock;

/// Uploads made without a token live under `temp/<PUBLIC_UPLOADS>/`: they belong to
/// no organisation until an authenticated save claims them.
pub const PUBLIC_UPLOADS: &str = "_public";
/// Most files one downloadFiles call may name.
pub const MAX_BATCH: usize = 100;

pub struct FileService<B> {
    pub backend: B,
    pub config: Config,
    pub clock: Clock,
    /// Where fetches from a URL run; without one, `source_url` is refused.
    pub ingest: Option<Arc<dyn IngestQueue>>,
    /// What makes thumbnails; only the preview function (and the local API) has one.
    pub previews: Option<SharedThumbnailer>,
    /// Who hears of every committed change of a file (see `write`).
    pub changes: Option<SharedChangeListener>,
}

impl<B: Backend> FileService<B> {
    pub fn new(backend: B, config: Config, clock: Clock) -> Self {
        FileService {
            backend,
            config,
            clock,
            ingest: None,
            previews: None,
            changes: None,
        }
    }

    /// The service with thumbnails made by `thumbnailer`.
    pub fn with_previews(mut self, thumbnailer: SharedThumbnailer) -> Self {
        self.previews = Some(thumbnailer);
        self
    }

    /// The service with every committed change of a file told to `listener`.
    pub fn with_change_listener(mut self, listener: SharedChangeListener) -> Self {
        self.changes = Some(listener);
        self
    }

    /// The service with fetches from a URL handed to `queue`.
    pub fn with_ingest(mut self, queue: Arc<dyn IngestQueue>) -> Self {
        self.ingest = Some(queue);
        self
    }

    pub fn store(&self) -> &B::Store {
        self.backend.store()
    }

    pub fn files(&self) -> &B::Files {
        self.backend.files()
    }

    pub fn uploads(&self) -> &B::Uploads {
        self.backend.uploads()
    }

    /// The file `id` if it belongs to the caller's organisation and has not ended; 404
    /// otherwise.
    async fn owned(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        self.files()
            .get(id)
            .await?
            .filter(|r| r.org == caller.org.as_str() && self.is_live(r))
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))
    }

    /// Whether a file has not reached its `expires_at`.
    fn is_live(&self, record: &FileRecord) -> bool {
        !record.has_expired(&self.clock.now_rfc3339())
    }

    /// getFile.
    pub async fn get(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        self.owned(caller, id).await
    }
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
    let stored = meta.content_type.as_deref().map(media_type_from_outside);
    match (stored, given) {
        (Some(stored), _) if !is_generic_content_type(&stored) => stored,
        (_, Some(given)) => given.to_owned(),
        _ => guess_mime_type(filename).to_owned(),
    }
}

#[cfg(test)]
mod tests;
