//! deleteFile.

use uuid::Uuid;

use super::{Caller, FileService};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileRepository, ObjectStore};

/// How often a delete re-reads a file that gained a version while it was being deleted.
const DELETE_ATTEMPTS: usize = 3;

impl<B: Backend> FileService<B> {
    /// Every version's object, then the entity.
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> Result<()> {
        for _ in 0..DELETE_ATTEMPTS {
            let record = self.owned(caller, id).await?;
            let keys: Vec<String> = record.versions.iter().map(|v| v.key.clone()).collect();
            // Objects first: if this fails the entity still exists and a retry finishes the job.
            self.store().delete(&keys).await?;
            match self
                .files()
                .delete(id, caller.org.as_str(), keys.len())
                .await
            {
                Ok(()) => return Ok(()),
                // A version was added meanwhile: delete its object too.
                Err(e) if e.code() == ErrorCode::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::conflict(format!(
            "file {id} keeps changing; delete it again"
        )))
    }
}
