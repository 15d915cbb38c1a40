//! File entities: one record per file, its versions inside it.

use std::future::Future;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, FileRecord, StoredVersion};
use crate::error::Result;

/// What a save changes on an existing file: a new version, or only its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub new_version: Option<StoredVersion>,
    pub filename: String,
    pub mime_type: String,
    pub access_control: AccessControl,
    pub attributes: Map<String, Value>,
    pub updated_at: String,
}

/// Most items one page may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Where a listing goes on: made by the adapter that answered the previous page,
/// meaningful only to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(pub String);

/// Which page to read: at most `limit` items (1 to [`MAX_PAGE_SIZE`]) after `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
}

/// One page of a listing; `next` is absent on the last page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

pub trait FileRepository: Send + Sync {
    /// `None` when there is no such file.
    fn get(&self, id: Uuid) -> impl Future<Output = Result<Option<FileRecord>>> + Send;

    /// The files that exist among `ids`, in no particular order.
    fn get_many(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<FileRecord>>> + Send;

    /// An organisation's files, newest first (by `created_at`, then id), a page at a time.
    fn list(
        &self,
        org: &str,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<FileRecord>>> + Send;

    /// Stores a new file; `Conflict` if the id is taken.
    fn create(&self, record: &FileRecord) -> impl Future<Output = Result<()>> + Send;

    /// Applies the change atomically; concurrent changes that add versions all land.
    /// `NotFound` when the file is absent or belongs to another organisation.
    fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
    ) -> impl Future<Output = Result<FileRecord>> + Send;

    /// Deletes the file if it still has `expected_versions` versions:
    /// `Conflict` if a version was added meanwhile, `NotFound` if it is gone.
    fn delete(
        &self,
        id: Uuid,
        org: &str,
        expected_versions: usize,
    ) -> impl Future<Output = Result<()>> + Send;
}
