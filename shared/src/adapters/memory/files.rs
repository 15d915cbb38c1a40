//! File entities in a map, listed as the DynamoDB index lists them; claims of consumed
//! uploads under the same lock, so a write and its claim are one atomic step.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::lock;
use crate::domain::{FileFilters, FileQuery, FileRecord};
use crate::error::{Error, Result};
use crate::ports::{
    quota_exceeded, superseded_fetch, Counted, Cursor, FileChange, FileRepository, IngestStep,
    Page, PageRequest, Quotas, UploadClaim, Usage, MAX_PAGE_SIZE,
};
use crate::time::{later_than, Clock};

#[derive(Default)]
pub struct MemoryFiles {
    pub(super) state: Arc<Mutex<State>>,
    quotas: Quotas,
}

impl MemoryFiles {
    /// Files whose writes keep within `quotas`.
    pub fn with_quotas(quotas: Quotas) -> Self {
        MemoryFiles {
            quotas,
            ..MemoryFiles::default()
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    /// Each file, and whether its delete has begun.
    files: HashMap<Uuid, (FileRecord, bool)>,
    /// Consumed uploads: temp key to the file it became.
    pub(super) claims: HashMap<String, Uuid>,
}

impl State {
    /// A visible file.
    fn visible(&self, id: &Uuid) -> Option<&FileRecord> {
        self.files
            .get(id)
            .filter(|(_, deleting)| !deleting)
            .map(|(r, _)| r)
    }

    fn check_claim(&self, claim: Option<UploadClaim<'_>>) -> Result<()> {
        match claim {
            Some(c) if self.claims.contains_key(c.upload_key) => Err(UploadClaim::consumed()),
            _ => Ok(()),
        }
    }

    /// The listed, visible files of `org` at `now`.
    fn listed<'s>(&'s self, org: &'s str, now: &'s str) -> impl Iterator<Item = &'s FileRecord> {
        self.files
            .values()
            .filter(move |(r, deleting)| r.org == org && !deleting && r.is_listed(now))
            .map(|(r, _)| r)
    }

    fn usage(&self, org: &str, now: &str) -> Usage {
        self.listed(org, now).fold(Usage::default(), |u, r| Usage {
            files: u.files + 1,
            versions: u.versions + r.versions.len() as u64,
            bytes: u.bytes + r.stored_bytes(),
        })
    }

    /// `QuotaExceeded` if `added` bytes would take `org` past its quota.
    fn check_quota(&self, quotas: &Quotas, org: &str, added: u64) -> Result<()> {
        match quotas.for_org(org) {
            Some(quota) if added > 0 => {
                let now = Clock::system().now_rfc3339();
                if self.usage(org, &now).bytes + added > quota {
                    return Err(quota_exceeded(quota));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn record_claim(&mut self, claim: Option<UploadClaim<'_>>) {
        if let Some(c) = claim {
            self.claims.insert(c.upload_key.to_owned(), c.file);
        }
    }
}

fn not_found(id: Uuid) -> Error {
    Error::not_found(format!("file {id} not found"))
}

impl FileRepository for MemoryFiles {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        Ok(lock(&self.state).visible(&id).cloned())
    }

    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<FileRecord>> {
        let state = lock(&self.state);
        let mut seen = HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| state.visible(id).cloned())
            .collect())
    }

    async fn list(
        &self,
        org: &str,
        query: &FileQuery,
        page: &PageRequest,
    ) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        if page.after.as_ref().is_some_and(|c| c.file().is_none()) {
            return Err(Error::new(
                crate::error::ErrorCode::InvalidQuery,
                "the cursor is not valid",
            ));
        }
        let state = lock(&self.state);
        let examined: Vec<(String, &FileRecord)> = state
            .listed(org, &page.now)
            .map(|r| (query.sort.key_of(r), r))
            .filter(|(key, _)| {
                page.after
                    .as_ref()
                    .is_none_or(|c| query.is_after(key, &c.0))
            })
            .collect();
        let read = examined.len() as u64;
        let mut listed: Vec<(String, &FileRecord)> = examined
            .into_iter()
            .filter(|(_, r)| query.filters.matches(r))
            .collect();
        listed.sort_by(|a, b| match query.order {
            crate::domain::SortOrder::Ascending => a.0.cmp(&b.0),
            crate::domain::SortOrder::Descending => b.0.cmp(&a.0),
        });
        let more = listed.len() > limit;
        listed.truncate(limit);
        let next = match (more, listed.last()) {
            (true, Some((key, _))) => Some(Cursor(key.clone())),
            _ => None,
        };
        Ok(Page {
            items: listed.into_iter().map(|(_, r)| r.clone()).collect(),
            next,
            read,
        })
    }

    async fn count(&self, org: &str, filters: &FileFilters, now: &str) -> Result<Counted> {
        let state = lock(&self.state);
        let (mut count, mut read) = (0, 0);
        for record in state.listed(org, now) {
            read += 1;
            count += u64::from(filters.matches(record));
        }
        Ok(Counted { count, read })
    }

    async fn usage(&self, org: &str, now: &str) -> Result<Usage> {
        Ok(lock(&self.state).usage(org, now))
    }

    async fn create(&self, record: &FileRecord, claim: Option<UploadClaim<'_>>) -> Result<()> {
        let mut state = lock(&self.state);
        if state.files.contains_key(&record.id) {
            return Err(Error::conflict(format!(
                "file {} already exists",
                record.id
            )));
        }
        state.check_claim(claim)?;
        let added = record.stored_bytes();
        state.check_quota(&self.quotas, &record.org, added)?;
        state.record_claim(claim);
        state.files.insert(record.id, (record.clone(), false));
        Ok(())
    }

    async fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claim: Option<UploadClaim<'_>>,
    ) -> Result<FileChange> {
        let mut state = lock(&self.state);
        let (last, job) = match state.files.get(&id) {
            Some((r, false)) if r.org == org => {
                (r.latest().map(|v| v.created_at.clone()), r.ingest_job)
            }
            _ => return Err(not_found(id)),
        };
        if let Some(IngestStep::Finish { job: finishing, .. }) = &change.ingest {
            if job != Some(*finishing) {
                return Err(superseded_fetch(id));
            }
        }
        state.check_claim(claim)?;
        let added = change.new_version.as_ref().map_or(0, |v| v.size_bytes);
        state.check_quota(&self.quotas, org, added)?;
        let mut stored = change.clone();
        if let Some(version) = &mut stored.new_version {
            version.created_at = later_than(&version.created_at, last.as_deref());
        }
        state.record_claim(claim);
        if let Some((record, _)) = state.files.get_mut(&id) {
            stored.apply_to(record);
        }
        Ok(stored)
    }

    async fn begin_delete(&self, id: Uuid, org: &str) -> Result<FileRecord> {
        let mut state = lock(&self.state);
        match state.files.get_mut(&id) {
            Some((record, deleting)) if record.org == org => {
                *deleting = true;
                Ok(record.clone())
            }
            _ => Err(not_found(id)),
        }
    }

    async fn finish_delete(&self, id: Uuid, org: &str) -> Result<()> {
        let mut state = lock(&self.state);
        if matches!(state.files.get(&id), Some((r, true)) if r.org == org) {
            state.files.remove(&id);
        }
        Ok(())
    }
}
