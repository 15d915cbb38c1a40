//! File entities: one record per file, its versions inside it.

use std::future::Future;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::StoreResult;
use crate::domain::{
    AccessControl, FetchFailure, FileFilters, FileQuery, FileRecord, FileStatus, PublicLink, Scan,
    StoredVersion, Trash,
};

/// What a save changes on an existing file: new versions (oldest first), or only its
/// metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub new_versions: Vec<StoredVersion>,
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
    Finish {
        job: Uuid,
        failure: Option<FetchFailed>,
    },
}

/// How a fetch failed: its kind and the reason shown to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchFailed {
    pub kind: FetchFailure,
    pub reason: String,
}

impl FetchFailed {
    /// A fetch whose job could not be handed over or opened.
    pub fn not_started() -> Self {
        FetchFailed {
            kind: FetchFailure::SourceFailed,
            reason: "the fetch could not be started; save again".to_owned(),
        }
    }
}

impl FileChange {
    /// The bytes the new versions bring.
    pub fn added_bytes(&self) -> u64 {
        self.new_versions.iter().map(|v| v.size_bytes).sum()
    }

    /// Raises the new versions' `created_at` where needed, so that each is later than
    /// the one before it, the first later than `last` (the file's latest).
    pub fn restamp_after(&mut self, last: Option<&str>) {
        let mut last = last.map(str::to_owned);
        for version in &mut self.new_versions {
            version.created_at = crate::time::later_than(&version.created_at, last.as_deref());
            last = Some(version.created_at.clone());
        }
    }

    /// The record as this change leaves it.
    pub fn apply_to(&self, record: &mut FileRecord) {
        record.versions.extend(self.new_versions.iter().cloned());
        if let Some(at) = &self.expires_at {
            record.expires_at = Some(at.clone());
        }
        match &self.ingest {
            Some(IngestStep::Begin { job }) => {
                record.status = FileStatus::Pending;
                record.status_reason = None;
                record.failure = None;
                record.ingest_job = Some(*job);
            }
            Some(IngestStep::Finish { failure, .. }) => {
                record.status = match failure {
                    Some(_) => FileStatus::Failed,
                    None => FileStatus::Ready,
                };
                record.status_reason = failure.as_ref().map(|f| f.reason.clone());
                record.failure = failure.as_ref().map(|f| f.kind);
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

/// Most items one page may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Where a listing goes on: the sort key ([`crate::domain::ListSort::key_of`]) of the
/// last file of the previous page. The service seals it before a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    /// The file a cursor stops at (the id that ends every sort key).
    pub fn file(&self) -> Option<Uuid> {
        self.0
            .rsplit_once('#')
            .and_then(|(_, id)| Uuid::parse_str(id).ok())
    }
}

/// Which page to read: at most `limit` items (1 to [`MAX_PAGE_SIZE`]) after `after`,
/// of the files listed at `now` ([`FileRecord::is_listed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
    pub now: String,
}

/// An organisation's stored files, versions and bytes: of the files listed at that
/// moment; and apart, the files in its trash and their bytes (which count against the
/// quota too: they are still stored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub files: u64,
    pub versions: u64,
    pub bytes: u64,
    pub trashed_files: u64,
    pub trashed_bytes: u64,
}

impl Usage {
    /// What the quota holds the organisation to: every stored byte, trashed ones too.
    pub fn held_bytes(&self) -> u64 {
        self.bytes + self.trashed_bytes
    }

    /// Adds a file as it stands at `now`: listed, in the trash, or neither.
    pub fn add(&mut self, record: &FileRecord, now: &str) {
        if record.is_listed(now) {
            self.files += 1;
            self.versions += record.versions.len() as u64;
            self.bytes += record.stored_bytes();
        } else if record.trash.is_some() && record.has_content() && !record.has_expired(now) {
            self.trashed_files += 1;
            self.trashed_bytes += record.stored_bytes();
        }
    }
}

/// An exact count, and how many items the store read to make it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub count: u64,
    pub read: u64,
}

/// Byte quotas: one for every organisation, and some of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quotas {
    pub default_bytes: Option<u64>,
    pub by_org: std::collections::HashMap<String, u64>,
}

impl Quotas {
    pub fn for_org(&self, org: &str) -> Option<u64> {
        self.by_org.get(org).copied().or(self.default_bytes)
    }
}

/// The message of [`StorageError::QuotaExceeded`], as the service answers it.
pub fn quota_message(quota: u64) -> String {
    format!("this would take the organisation past its quota of {quota} bytes; delete files to make room")
}

/// One page of a listing; `next` is absent on the last page. `read`: the items the
/// store examined for it (what the page cost).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
    pub read: u64,
}

/// File entities. A file in the trash is hidden and frozen as a deleted one is, until
/// it is restored or purged. A file being deleted is frozen (no version can be added) and hidden
/// (`get`, `get_many`, `list`, `count` and `usage` do not see it) from the moment the
/// delete begins. Every write keeps the organisation's usage, in the same step; a write
/// that adds bytes past the organisation's quota (given to the adapter) is refused with
/// `QuotaExceeded`, and nothing of it is stored.
pub trait FileRepository: Send + Sync {
    /// `None` when there is no such file (or it is being deleted).
    fn get(&self, id: Uuid) -> impl Future<Output = StoreResult<Option<FileRecord>>> + Send;

    /// The files that exist among `ids`, in no particular order.
    fn get_many(&self, ids: &[Uuid]) -> impl Future<Output = StoreResult<Vec<FileRecord>>> + Send;

    /// An organisation's listed files that pass `query`'s filters, in its order (by
    /// [`crate::domain::ListSort::key_of`]), a page at a time.
    fn list(
        &self,
        org: &str,
        query: &FileQuery,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<FileRecord>>> + Send;

    /// How many of an organisation's files listed at `now` pass `filters`: exactly as
    /// many as `list` returns.
    fn count(
        &self,
        org: &str,
        filters: &FileFilters,
        now: &str,
    ) -> impl Future<Output = StoreResult<Counted>> + Send;

    /// The files listed at `now`, their versions and bytes.
    fn usage(&self, org: &str, now: &str) -> impl Future<Output = StoreResult<Usage>> + Send;

    /// Stores a new file, and consumes `claim`'s upload, atomically: `Conflict` if the
    /// id is taken or the upload was consumed before; then nothing is stored.
    fn create(
        &self,
        record: &FileRecord,
        claim: Option<UploadClaim<'_>>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Applies the change, and consumes the `claims`' uploads, atomically; concurrent
    /// changes that add versions all land. New versions' `created_at` are raised if
    /// needed, so the versions of a file have strictly increasing `created_at`: the
    /// answer is the change as stored. `NotFound` when the file is absent, being deleted
    /// or belongs to another organisation; `Conflict` when an upload was consumed before.
    fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claims: &[UploadClaim<'_>],
    ) -> impl Future<Output = StoreResult<FileChange>> + Send;

    /// Removes the version at `index` (0 the oldest) of a file of `org`, if it is still
    /// the one stored at `key` and not the file's only version, keeping the usage in the
    /// same step; `updated_at` becomes `now`. Answers the record as it is after.
    /// `NotFound` as [`FileRepository::update_file`]; `Conflict` when it is the only
    /// version or the versions changed meanwhile.
    fn remove_version(
        &self,
        id: Uuid,
        org: &str,
        index: usize,
        key: &str,
        now: &str,
    ) -> impl Future<Output = StoreResult<FileRecord>> + Send;

    /// Adds a public link to a file of `org`. `NotFound` as [`FileRepository::update_file`];
    /// `Conflict` when the file has [`crate::domain::MAX_PUBLIC_LINKS`] already.
    fn add_link(
        &self,
        id: Uuid,
        org: &str,
        link: &PublicLink,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Removes a public link of a file of `org`: `NotFound` when the file or the link is
    /// not there.
    fn remove_link(
        &self,
        id: Uuid,
        org: &str,
        link_id: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Records that a link was used at `at`; nothing when the link or its file went.
    fn touch_link(
        &self,
        id: Uuid,
        link_id: &str,
        at: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Moves a visible file of `org` to the trash, in one conditional write: from then
    /// on it is hidden and frozen, and its public links are gone for good. Answers the
    /// record as it now stands. `NotFound` when absent, in the trash already, being
    /// deleted or another organisation's.
    fn trash(
        &self,
        id: Uuid,
        org: &str,
        trash: &Trash,
    ) -> impl Future<Output = StoreResult<FileRecord>> + Send;

    /// Brings a file of `org` back from the trash as it was (without the links the trash
    /// revoked), if it is still there at `now` (not due to be purged, not being
    /// deleted). Answers the record as restored. `NotFound` otherwise.
    fn restore(
        &self,
        id: Uuid,
        org: &str,
        now: &str,
    ) -> impl Future<Output = StoreResult<FileRecord>> + Send;

    /// An organisation's trash at `page.now` ([`FileRecord::is_in_trash`]), the newest
    /// deleted first ([`Trash::key`]), a page at a time.
    fn list_trash(
        &self,
        org: &str,
        page: &PageRequest,
    ) -> impl Future<Output = StoreResult<Page<FileRecord>>> + Send;

    /// How many files `list_trash` lists at `now`.
    fn count_trash(
        &self,
        org: &str,
        now: &str,
    ) -> impl Future<Output = StoreResult<Counted>> + Send;

    /// After the store's own expiry removed `removed` (DynamoDB's TTL: a file past its
    /// end, or a trashed file past its purge), whatever of it the store still counts
    /// goes; once, however often this is called for the same removal.
    fn settle_removed(&self, removed: &FileRecord) -> impl Future<Output = StoreResult<()>> + Send;

    /// Starts deleting a file of `org` (visible or in the trash): from now on it is
    /// hidden and frozen. Answers the record as it stands (what is left to delete).
    /// Works again on a file whose delete began before, so a retried delete goes on
    /// where it stopped. `NotFound` when absent or another organisation's.
    fn begin_delete(
        &self,
        id: Uuid,
        org: &str,
    ) -> impl Future<Output = StoreResult<FileRecord>> + Send;

    /// Removes a file whose delete began; a file already gone is not an error.
    fn finish_delete(&self, id: Uuid, org: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Records a malware scan's verdict on the version of file `id` (of `org`, live or
    /// in the trash) stored at `key`; answers the file as it now is. `None` when no such
    /// version is there (the file or version went, or its purge began).
    fn set_scan(
        &self,
        id: Uuid,
        org: &str,
        key: &str,
        scan: &Scan,
    ) -> impl Future<Output = StoreResult<Option<FileRecord>>> + Send;
}
