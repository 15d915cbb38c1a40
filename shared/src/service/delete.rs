//! deleteFile and the trash: a delete moves a file to the trash unless it is purged;
//! a trashed file comes back with restore, or goes for good when purged or when its
//! retention ends.

use uuid::Uuid;

use super::write::FileEvent;
use super::{Caller, FileService};
use crate::domain::{FileRecord, Trash, FILES_PREFIX};
use crate::error::{Error, Result};
use crate::ports::{Backend, FileRepository, ObjectStore};

/// What a delete does, parsed at the edge (`purge=true`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeleteMode {
    /// Into the trash (or for good where the retention is 0 days).
    #[default]
    Trash,
    /// For good, from the trash or not.
    Purge,
}

const DAY_MILLIS: i64 = 24 * 3600 * 1000;

impl<B: Backend> FileService<B> {
    /// deleteFile: the file as it was deleted.
    pub async fn delete(&self, caller: &Caller, id: Uuid, mode: DeleteMode) -> Result<FileRecord> {
        match mode {
            DeleteMode::Trash if self.config.trash_retention_days > 0 => {
                self.trash(caller, id).await
            }
            _ => self.purge(caller, id).await,
        }
    }

    /// One conditional write: from then on the file is hidden everywhere, frozen, and its
    /// public links are gone; it stays `trash_retention_days`.
    async fn trash(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        let now = self.clock.now_millis();
        let retention = self.config.trash_retention_days as i64 * DAY_MILLIS;
        let trash = Trash {
            deleted_at: crate::time::rfc3339(now),
            deleted_by: caller.sub.clone(),
            purge_at: crate::time::rfc3339(now + retention),
        };
        let record = self.files().trash(id, caller.org.as_str(), &trash).await?;
        if !self.is_live(&record) {
            // Past its end it was gone already; the sweeper removes it.
            return Err(Error::not_found(format!("file {id} not found")));
        }
        self.announce(FileEvent::Trashed, &record);
        Ok(record)
    }

    /// `POST /v2/files/{id}/restore`: the file back as it was, unless it was purged.
    pub async fn restore(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        let now = self.clock.now_rfc3339();
        let record = self.files().restore(id, caller.org.as_str(), &now).await?;
        self.announce(FileEvent::Restored, &record);
        Ok(record)
    }

    /// Three round trips. First the file is hidden and frozen (no save can add a version
    /// from then on) and its record read; then its versions' objects go, while the
    /// file's prefix is listed for anything else under it (a save's copy that never
    /// became a version); last the entity and those strays. A failure at any step
    /// answers a retryable error with the file hidden; a retry goes on where it stopped.
    /// A file past its end is removed too, but answers 404 like everywhere else.
    async fn purge(&self, caller: &Caller, id: Uuid) -> Result<FileRecord> {
        let org = caller.org.as_str();
        let record = self.files().begin_delete(id, org).await?;
        let expired = !self.is_live(&record);
        let keys: Vec<String> = record.versions.iter().map(|v| v.key.clone()).collect();
        let prefix = format!("{FILES_PREFIX}{org}/{id}/");
        let (deleted, listed) =
            tokio::join!(self.store().delete(&keys), self.store().list(&prefix));
        deleted?;
        let strays: Vec<String> = listed?
            .into_iter()
            .filter(|key| !keys.contains(key))
            .collect();
        let (finished, swept) =
            tokio::join!(self.finish_delete_of(&record), self.store().delete(&strays),);
        finished?;
        swept?;
        if expired {
            return Err(Error::not_found(format!("file {id} not found")));
        }
        Ok(record)
    }
}
