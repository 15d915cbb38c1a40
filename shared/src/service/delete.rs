//! deleteFile.

use uuid::Uuid;

use super::{Caller, FileService};
use crate::domain::FILES_PREFIX;
use crate::error::{Error, Result};
use crate::ports::{Backend, FileRepository, ObjectStore};

impl<B: Backend> FileService<B> {
    /// Three round trips. First the file is hidden and frozen (no save can add a version
    /// from then on) and its record read; then its versions' objects go, while the
    /// file's prefix is listed for anything else under it (a save's copy that never
    /// became a version); last the entity and those strays. A failure at any step
    /// answers a retryable error with the file hidden; a retry goes on where it stopped.
    /// A file past its end is removed too, but answers 404 like everywhere else.
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> Result<()> {
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
        Ok(())
    }
}
