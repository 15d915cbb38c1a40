//! File entities in a map, listed as the DynamoDB index lists them.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use uuid::Uuid;

use super::lock;
use crate::domain::FileRecord;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Cursor, FileChange, FileRepository, Page, PageRequest, MAX_PAGE_SIZE};

#[derive(Default)]
pub struct MemoryFiles {
    files: Mutex<HashMap<Uuid, FileRecord>>,
}

/// Where a file stands in its organisation's listing (newest first sorts these descending).
fn list_key(record: &FileRecord) -> String {
    format!("{}#{}", record.created_at, record.id)
}

impl FileRepository for MemoryFiles {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        Ok(lock(&self.files).get(&id).cloned())
    }

    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<FileRecord>> {
        let files = lock(&self.files);
        let mut seen = HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| files.get(id).cloned())
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
        let mut listed: Vec<(String, FileRecord)> = lock(&self.files)
            .values()
            .filter(|r| r.org == org)
            .map(|r| (list_key(r), r.clone()))
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

    async fn create(&self, record: &FileRecord) -> Result<()> {
        let mut files = lock(&self.files);
        if files.contains_key(&record.id) {
            return Err(Error::conflict(format!(
                "file {} already exists",
                record.id
            )));
        }
        files.insert(record.id, record.clone());
        Ok(())
    }

    async fn update_file(&self, id: Uuid, org: &str, change: &FileChange) -> Result<FileRecord> {
        let mut files = lock(&self.files);
        let record = files
            .get_mut(&id)
            .filter(|r| r.org == org)
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))?;
        if let Some(version) = &change.new_version {
            record.versions.push(version.clone());
        }
        record.filename = change.filename.clone();
        record.mime_type = change.mime_type.clone();
        record.access_control = change.access_control;
        record.attributes = change.attributes.clone();
        record.updated_at = change.updated_at.clone();
        Ok(record.clone())
    }

    async fn delete(&self, id: Uuid, org: &str, expected_versions: usize) -> Result<()> {
        let mut files = lock(&self.files);
        match files.get(&id) {
            Some(r) if r.org == org && r.versions.len() == expected_versions => {
                files.remove(&id);
                Ok(())
            }
            Some(r) if r.org == org => Err(Error::conflict(format!(
                "file {id} changed while it was being deleted"
            ))),
            _ => Err(Error::not_found(format!("file {id} not found"))),
        }
    }
}
