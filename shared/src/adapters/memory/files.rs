//! File entities in a map, listed as the DynamoDB index lists them; claims of consumed
//! uploads under the same lock, so a write and its claim are one atomic step.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::lock;
use crate::domain::{
    FileFilters, FileQuery, FileRecord, PublicLink, Scan, Trash, MAX_PUBLIC_LINKS,
};
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
    /// Each organisation's collections, by scope.
    pub(super) collections: HashMap<(String, String), crate::domain::CollectionSet>,
    /// Each organisation's webhooks, and each webhook's delivery log.
    pub(super) webhooks: HashMap<String, crate::domain::WebhookSet>,
    pub(super) delivery_logs: HashMap<uuid::Uuid, crate::domain::DeliveryLog>,
}

impl State {
    /// A visible file: not being deleted, not in the trash.
    fn visible(&self, id: &Uuid) -> Option<&FileRecord> {
        self.files
            .get(id)
            .filter(|(r, deleting)| !deleting && r.trash.is_none())
            .map(|(r, _)| r)
    }

    /// A visible file of `org`, to change.
    fn writable(&mut self, id: &Uuid, org: &str) -> Option<&mut FileRecord> {
        self.files
            .get_mut(id)
            .filter(|(r, deleting)| !deleting && r.trash.is_none() && r.org == org)
            .map(|(r, _)| r)
    }

    /// The files of `org` whose delete has not begun.
    fn of_org<'s>(&'s self, org: &'s str) -> impl Iterator<Item = &'s FileRecord> {
        self.files
            .values()
            .filter(move |(r, deleting)| r.org == org && !deleting)
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
        self.of_org(org).filter(move |r| r.is_listed(now))
    }

    fn usage(&self, org: &str, now: &str) -> Usage {
        let mut usage = Usage::default();
        for record in self.of_org(org) {
            usage.add(record, now);
        }
        usage
    }

    /// `QuotaExceeded` if `added` bytes would take `org` past its quota.
    fn check_quota(&self, quotas: &Quotas, org: &str, added: u64) -> Result<()> {
        match quotas.for_org(org) {
            Some(quota) if added > 0 => {
                let now = Clock::system().now_rfc3339();
                if self.usage(org, &now).held_bytes() + added > quota {
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
        let (last, job) = match state.writable(&id, org) {
            Some(r) => (r.latest().map(|v| v.created_at.clone()), r.ingest_job),
            None => return Err(not_found(id)),
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
        if let Some(record) = state.writable(&id, org) {
            stored.apply_to(record);
        }
        Ok(stored)
    }

    async fn set_scan(
        &self,
        id: Uuid,
        org: &str,
        key: &str,
        scan: &Scan,
    ) -> Result<Option<FileRecord>> {
        let mut state = lock(&self.state);
        let Some((record, false)) = state.files.get_mut(&id) else {
            return Ok(None);
        };
        if record.org != org {
            return Ok(None);
        }
        let Some(version) = record.versions.iter_mut().find(|v| v.key == key) else {
            return Ok(None);
        };
        version.scan = Some(scan.clone());
        Ok(Some(record.clone()))
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
        let Some(record) = state.writable(&id, org) else {
            return Err(not_found(id));
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
        match state.writable(&id, org) {
            Some(r) => {
                if r.public_links.len() >= MAX_PUBLIC_LINKS {
                    return Err(StorageError::Conflict(Clash::TooManyLinks));
                }
                r.public_links.push(link.clone());
                Ok(())
            }
            None => Err(not_found(id)),
        }
    }

    async fn remove_link(&self, id: Uuid, org: &str, link_id: &str) -> Result<()> {
        let mut state = lock(&self.state);
        match state.writable(&id, org) {
            Some(r) => {
                let before = r.public_links.len();
                r.public_links.retain(|l| l.id != link_id);
                if r.public_links.len() == before {
                    return Err(StorageError::NotFound(Missing::PublicLink));
                }
                Ok(())
            }
            None => Err(StorageError::NotFound(Missing::PublicLink)),
        }
    }

    async fn touch_link(&self, id: Uuid, link_id: &str, at: &str) -> Result<()> {
        let mut state = lock(&self.state);
        if let Some((r, false)) = state.files.get_mut(&id).filter(|(r, _)| r.trash.is_none()) {
            if let Some(link) = r.public_links.iter_mut().find(|l| l.id == link_id) {
                link.last_accessed_at = Some(at.to_owned());
            }
        }
        Ok(())
    }

    async fn trash(&self, id: Uuid, org: &str, trash: &Trash) -> Result<FileRecord> {
        let mut state = lock(&self.state);
        let Some(record) = state.writable(&id, org) else {
            return Err(not_found(id));
        };
        record.trash = Some(trash.clone());
        record.public_links.clear();
        Ok(record.clone())
    }

    async fn restore(&self, id: Uuid, org: &str, now: &str) -> Result<FileRecord> {
        let mut state = lock(&self.state);
        match state.files.get_mut(&id) {
            Some((record, false)) if record.org == org && record.is_in_trash(now) => {
                record.trash = None;
                Ok(record.clone())
            }
            _ => Err(not_found(id)),
        }
    }

    async fn list_trash(&self, org: &str, page: &PageRequest) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        let state = lock(&self.state);
        let mut trashed: Vec<(String, &FileRecord)> = state
            .of_org(org)
            .filter(|r| r.is_in_trash(&page.now))
            .filter_map(|r| Some((r.trash.as_ref()?.key(r.id), r)))
            .filter(|(key, _)| page.after.as_ref().is_none_or(|c| key < &c.0))
            .collect();
        let read = trashed.len() as u64;
        trashed.sort_by(|a, b| b.0.cmp(&a.0));
        let more = trashed.len() > limit;
        trashed.truncate(limit);
        let next = match (more, trashed.last()) {
            (true, Some((key, _))) => Some(Cursor(key.clone())),
            _ => None,
        };
        Ok(Page {
            items: trashed.into_iter().map(|(_, r)| r.clone()).collect(),
            next,
            read,
        })
    }

    async fn count_trash(&self, org: &str, now: &str) -> Result<Counted> {
        let state = lock(&self.state);
        let count = state.of_org(org).filter(|r| r.is_in_trash(now)).count() as u64;
        Ok(Counted { count, read: count })
    }

    async fn settle_removed(&self, _removed: &FileRecord) -> Result<()> {
        // Nothing here expires by itself, and usage is added up when read.
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
