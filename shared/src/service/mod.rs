//! The file service's operations, independent of HTTP and of AWS: each takes typed
//! input and answers typed values; JSON exists only in `crate::api`.

mod delete;
mod download;
mod save;
mod types;
mod upload;

use uuid::Uuid;

pub use types::{
    BatchLink, Caller, DownloadItem, FileFields, SaveIntent, SaveRequest, SourceUrl, UploadRequest,
    UploadTicket,
};

use crate::config::Config;
use crate::domain::{guess_mime_type, FileRecord};
use crate::error::{Error, Result};
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
}

impl<B: Backend> FileService<B> {
    pub fn new(backend: B, config: Config, clock: Clock) -> Self {
        FileService {
            backend,
            config,
            clock,
        }
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

    /// The file `id` if it belongs to the caller's organisation; 404 otherwise.
    async fn owned(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        self.files()
            .get(id)
            .await?
            .filter(|r| r.org == caller.org.as_str())
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))
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
    match (&meta.content_type, given) {
        (Some(stored), _) if !is_generic_content_type(stored) => stored.clone(),
        (_, Some(given)) => given.to_owned(),
        _ => guess_mime_type(filename).to_owned(),
    }
}

#[cfg(test)]
mod tests;
