//! File entities: one record per file, its versions inside it.

use std::future::Future;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, FileRecord, FileStatus, StoredVersion};
use crate::error::{Error, Result};

/// What a save changes on an existing file: a new version, or only its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub new_version: Option<StoredVersion>,
    pub filename: String,
    pub mime_type: String,
    pub access_control: AccessControl,
    pub attributes: Map<String, Value>,
    pub updated_at: String,
    /// A new end of the file (`ttl_seconds`); `None` leaves it as it is.
    pub expires_at: Option<String>,
    /// A fetch from a URL that this change starts or ends; `None` leaves the status alone.
    pub ingest: Option<IngestStep>,
}

/// Where a fetch from a URL is, as a file records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestStep {
    /// A fetch starts: the file turns pending, and only `job` may end it.
    Begin { job: Uuid },
    /// `job` ends: the file turns ready (the change brings the version), or failed with
    /// the reason. Written only while `job` is the file's fetch: `Conflict` otherwise.
    Finish { job: Uuid, failure: Option<String> },
}

impl FileChange {
    /// The record as this change leaves it.
    pub fn apply_to(&self, record: &mut FileRecord) {
        if let Some(version) = &self.new_version {
            record.versions.push(version.clone());
        }
        if let Some(at) = &self.expires_at {
            record.expires_at = Some(at.clone());
        }
        match &self.ingest {
            Some(IngestStep::Begin { job }) => {
                record.status = FileStatus::Pending;
                record.status_reason = None;
                record.ingest_job = Some(*job);
            }
            Some(IngestStep::Finish { failure, .. }) => {
                record.status = match failure {
                    Some(_) => FileStatus::Failed,
                    None => FileStatus::Ready,
                };
                record.status_reason.clone_from(failure);
                record.ingest_job = None;
            }
            None => {}
        }
        record.filename.clone_from(&self.filename);
        record.mime_type.clone_from(&self.mime_type);
        record.access_control = self.access_control;
        record.attributes.clone_from(&self.attributes);
        record.updated_at.clone_from(&self.updated_at);
    }
}

/// An upload a save consumes: written in the same transaction as the file, so of any
/// number of saves of one upload exactly one lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadClaim<'a> {
    /// The upload's key under `temp/`.
    pub upload_key: &'a str,
    /// The file it became (or became a version of).
    pub file: Uuid,
}

impl UploadClaim<'_> {
    /// What every adapter answers when the upload was consumed before.
    pub fn consumed() -> Error {
        Error::conflict("this upload has already been saved; upload the file again to save it anew")
    }
}

/// Most items one page may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Where a listing goes on: made by the adapter that answered the previous page,
/// meaningful only to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(pub String);

/// Which page to read: at most `limit` items (1 to [`MAX_PAGE_SIZE`]) after `after`,
/// of the files listed at `now` ([`FileRecord::is_listed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
    pub now: String,
}

/// What a fetch that is not its file's fetch any more answers.
pub fn superseded_fetch(id: Uuid) -> Error {
    Error::conflict(format!(
        "file {id} is no longer waiting for this fetch (another fetch or a delete came first)"
    ))
}

/// One page of a listing; `next` is absent on the last page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// File entities. A file being deleted is frozen (no version can be added) and hidden
/// (`get`, `get_many` and `list` do not see it) from the moment the delete begins.
pub trait FileRepository: Send + Sync {
    /// `None` when there is no such file (or it is being deleted).
    fn get(&self, id: Uuid) -> impl Future<Output = Result<Option<FileRecord>>> + Send;

    /// The files that exist among `ids`, in no particular order.
    fn get_many(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<FileRecord>>> + Send;

    /// An organisation's listed files, newest first (by `created_at`, then id), a page at a time.
    fn list(
        &self,
        org: &str,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<FileRecord>>> + Send;

    /// Stores a new file, and consumes `claim`'s upload, atomically: `Conflict` if the
    /// id is taken or the upload was consumed before; then nothing is stored.
    fn create(
        &self,
        record: &FileRecord,
        claim: Option<UploadClaim<'_>>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Applies the change, and consumes `claim`'s upload, atomically; concurrent changes
    /// that add versions all land. A new version's `created_at` is raised if needed, so
    /// the versions of a file have strictly increasing `created_at`: the answer is the
    /// change as stored. `NotFound` when the file is absent, being deleted or belongs to
    /// another organisation; `Conflict` when the upload was consumed before.
    fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claim: Option<UploadClaim<'_>>,
    ) -> impl Future<Output = Result<FileChange>> + Send;

    /// Starts deleting a file of `org`: from now on it is hidden and frozen. Answers the
    /// record as it stands (what is left to delete). Works again on a file whose delete
    /// began before, so a retried delete goes on where it stopped. `NotFound` when
    /// absent or another organisation's.
    fn begin_delete(&self, id: Uuid, org: &str) -> impl Future<Output = Result<FileRecord>> + Send;

    /// Removes a file whose delete began; a file already gone is not an error.
    fn finish_delete(&self, id: Uuid, org: &str) -> impl Future<Output = Result<()>> + Send;
}
