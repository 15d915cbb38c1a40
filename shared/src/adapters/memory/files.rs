//! File entities in a map, listed as the DynamoDB index lists them; claims of consumed
//! uploads under the same lock, so a write and its claim are one atomic step.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::lock;
use crate::domain::FileRecord;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    superseded_fetch, Cursor, FileChange, FileRepository, IngestStep, Page, PageRequest,
    UploadClaim, MAX_PAGE_SIZE,
};
use crate::time::later_than;

#[derive(Default)]
pub struct MemoryFiles {
    pub(super) state: Arc<Mutex<State>>,
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

    fn record_claim(&mut self, claim: Option<UploadClaim<'_>>) {
        if let Some(c) = claim {
            self.claims.insert(c.upload_key.to_owned(), c.file);
        }
    }
}

fn not_found(id: Uuid) -> Error {
    Error::not_found(format!("file {id} not found"))
}

/// Where a file stands in its organisation's listing (newest first sorts these descending).
fn list_key(record: &FileRecord) -> String {
    format!("{}#{}", record.created_at, record.id)
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

    async fn list(&self, org: &str, page: &PageRequest) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        let after = match &page.after {
            Some(Cursor(raw)) => Some(
                raw.rsplit_once('#')
                    .and_then(|(_, id)| Uuid::parse_str(id).ok())
                    .map(|_| raw.clone())
                    .ok_or_else(|| {
                        Error::new(ErrorCode::InvalidQuery, "the cursor is not valid")
                    })?,
            ),
            None => None,
        };
        let state = lock(&self.state);
        let mut listed: Vec<(String, FileRecord)> = state
            .files
            .values()
            .filter(|(r, deleting)| r.org == org && !deleting && r.is_listed(&page.now))
            .map(|(r, _)| (list_key(r), r.clone()))
            .filter(|(key, _)| after.as_ref().is_none_or(|after| key < after))
            .collect();
        listed.sort_by(|a, b| b.0.cmp(&a.0));
        let more = listed.len() > limit;
        listed.truncate(limit);
        let next = match (more, listed.last()) {
            (true, Some((key, _))) => Some(Cursor(key.clone())),
            _ => None,
        };
        Ok(Page {
            items: listed.into_iter().map(|(_, r)| r).collect(),
            next,
        })
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
