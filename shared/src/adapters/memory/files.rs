//! File entities in a map, listed as the DynamoDB index lists them; claims of consumed
//! uploads under the same lock, so a write and its claim are one atomic step.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::lock;
use crate::domain::{FileFilters, FileQuery, FileRecord, PublicLink, MAX_PUBLIC_LINKS};
use crate::ports::{Clash, Missing, Refusal, StorageError, StoreResult as Result};
use crate::ports::{
    Counted, Cursor, FileChange, FileRepository, IngestStep, Page, PageRequest, Quotas,
    UploadClaim, Usage, MAX_PAGE_SIZE,
};
use crate::time::Clock;

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

    fn check_claims(&self, claims: &[UploadClaim<'_>]) -> Result<()> {
        match claims
            .iter()
            .find(|c| self.claims.contains_key(c.upload_key))
        {
            Some(_) => Err(StorageError::Conflict(Clash::UploadConsumed)),
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
                    return Err(StorageError::QuotaExceeded { limit: quota });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn record_claims(&mut self, claims: &[UploadClaim<'_>]) {
        for c in claims {
            self.claims.insert(c.upload_key.to_owned(), c.file);
        }
    }
}

fn not_found(id: Uuid) -> StorageError {
    StorageError::NotFound(Missing::File(id))
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
            return Err(StorageError::Refused(Refusal::Cursor));
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
            return Err(StorageError::Conflict(Clash::FileExists(record.id)));
        }
        state.check_claims(claim.as_slice())?;
        let added = record.stored_bytes();
        state.check_quota(&self.quotas, &record.org, added)?;
        state.record_claims(claim.as_slice());
        state.files.insert(record.id, (record.clone(), false));
        Ok(())
    }

    async fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claims: &[UploadClaim<'_>],
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
                return Err(StorageError::Conflict(Clash::SupersededFetch(id)));
            }
        }
        state.check_claims(claims)?;
        state.check_quota(&self.quotas, org, change.added_bytes())?;
        let mut stored = change.clone();
        stored.restamp_after(last.as_deref());
        state.record_claims(claims);
        if let Some((record, _)) = state.files.get_mut(&id) {
            stored.apply_to(record);
        }
        Ok(stored)
    }

    async fn remove_version(
        &self,
        id: Uuid,
        org: &str,
        index: usize,
        key: &str,
        now: &str,
    ) -> Result<FileRecord> {
        let mut state = lock(&self.state);
        let record = match state.files.get_mut(&id) {
            Some((r, false)) if r.org == org => r,
            _ => return Err(not_found(id)),
        };
        if record.versions.len() == 1 {
            return Err(StorageError::Conflict(Clash::OnlyVersion));
        }
        if record.versions.get(index).map(|v| v.key.as_str()) != Some(key) {
            return Err(StorageError::Conflict(Clash::VersionsChanged));
        }
        record.versions.remove(index);
        record.updated_at = now.to_owned();
        Ok(record.clone())
    }

    async fn add_link(&self, id: Uuid, org: &str, link: &PublicLink) -> Result<()> {
        let mut state = lock(&self.state);
        match state.files.get_mut(&id) {
            Some((r, false)) if r.org == org => {
                if r.public_links.len() >= MAX_PUBLIC_LINKS {
                    return Err(StorageError::Conflict(Clash::TooManyLinks));
                }
                r.public_links.push(link.clone());
                Ok(())
            }
            _ => Err(not_found(id)),
        }
    }

    async fn remove_link(&self, id: Uuid, org: &str, link_id: &str) -> Result<()> {
        let mut state = lock(&self.state);
        match state.files.get_mut(&id) {
            Some((r, false)) if r.org == org => {
                let before = r.public_links.len();
                r.public_links.retain(|l| l.id != link_id);
                if r.public_links.len() == before {
                    return Err(StorageError::NotFound(Missing::PublicLink));
                }
                Ok(())
            }
            _ => Err(StorageError::NotFound(Missing::PublicLink)),
        }
    }

    async fn touch_link(&self, id: Uuid, link_id: &str, at: &str) -> Result<()> {
        let mut state = lock(&self.state);
        if let Some((r, false)) = state.files.get_mut(&id) {
            if let Some(link) = r.public_links.iter_mut().find(|l| l.id == link_id) {
                link.last_accessed_at = Some(at.to_owned());
            }
        }
        Ok(())
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
