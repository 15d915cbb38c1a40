//! Writes of file entities shared by save, ingest, versions and delete, and the one seam
//! every committed change passes through: [`ChangeListener`] hears each change after it
//! committed (created, version added, updated, deleted, expired), never for a write
//! that failed. A write whose answer was lost (it committed, the service saw an error)
//! is not announced here; the events issue closes that gap from the table's stream.

use std::sync::Arc;

use uuid::Uuid;

use super::{Caller, FileFields, FileService};
use crate::domain::{FileRecord, StoredVersion};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileChange, FileRepository, IngestStep, ObjectStore, UploadClaim};

/// What a committed write did to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEvent {
    Created,
    VersionAdded,
    /// Its metadata, access control, fetch status or versions (one removed) changed.
    Updated,
    /// It went to the trash.
    Trashed,
    /// It came back from the trash.
    Restored,
    Deleted,
    /// Its time to live ran out and the sweeper removed its bytes.
    Expired,
}

impl FileEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            FileEvent::Created => "file.created",
            FileEvent::VersionAdded => "file.version_added",
            FileEvent::Updated => "file.updated",
            FileEvent::Trashed => "file.trashed",
            FileEvent::Restored => "file.restored",
            FileEvent::Deleted => "file.deleted",
            FileEvent::Expired => "file.expired",
        }
    }
}

/// A change that committed: what happened, and the file as the change left it (as it
/// was last, for a deleted or expired file).
#[derive(Clone, Copy, Debug)]
pub struct Committed<'a> {
    pub event: FileEvent,
    pub file: &'a FileRecord,
}

/// Hears every committed change of a file (publishing events, webhooks). Called on the
/// request's path: it must hand the change on, not do slow work.
pub trait ChangeListener: Send + Sync {
    fn committed(&self, change: Committed<'_>);
}

pub type SharedChangeListener = Arc<dyn ChangeListener>;

/// The seam itself: the log line of a committed change, and the listener if any.
pub fn announce(listener: Option<&dyn ChangeListener>, event: FileEvent, file: &FileRecord) {
    tracing::info!(event = event.as_str(), file = %file.id, "committed");
    if let Some(listener) = listener {
        listener.committed(Committed { event, file });
    }
}

impl<B: Backend> FileService<B> {
    /// Announces a committed change of `file`.
    pub(super) fn announce(&self, event: FileEvent, file: &FileRecord) {
        announce(self.changes.as_deref(), event, file);
    }

    /// Stores a new file (consuming `claim`'s upload in the same write).
    pub(super) async fn create_file(
        &self,
        record: &FileRecord,
        claim: Option<UploadClaim<'_>>,
    ) -> Result<()> {
        self.files().create(record, claim).await?;
        self.announce(FileEvent::Created, record);
        Ok(())
    }

    /// Removes version `index` (whose object is `key`) of file `id`.
    pub(super) async fn remove_version_of(
        &self,
        caller: &Caller,
        id: Uuid,
        index: usize,
        key: &str,
    ) -> Result<FileRecord> {
        let now = self.clock.now_rfc3339();
        let after = self
            .files()
            .remove_version(id, caller.org.as_str(), index, key, &now)
            .await?;
        self.announce(FileEvent::Updated, &after);
        Ok(after)
    }

    /// Ends the delete of `record`, begun by `begin_delete`: its item goes.
    pub(super) async fn finish_delete_of(&self, record: &FileRecord) -> Result<()> {
        self.files().finish_delete(record.id, &record.org).await?;
        self.announce(FileEvent::Deleted, record);
        Ok(())
    }

    /// Stores a change of an existing file: `fields` over what it has (attributes merged,
    /// `ttl_seconds` a new end) and the revision's new versions (the latest's name and
    /// type become the file's, unless it keeps its fields), with the claims of the
    /// uploads they came from, or the step of a fetch. Answers the record as the change
    /// leaves it.
    pub(super) async fn change_file(
        &self,
        caller: &Caller,
        mut record: FileRecord,
        fields: &FileFields,
        revision: Revision<'_>,
    ) -> Result<FileRecord> {
        let Revision {
            mut versions,
            claims,
            ingest,
            keep_fields,
        } = revision;
        self.to_be_scanned(&mut versions);
        let kept = FileFields::default();
        let fields = if keep_fields { &kept } else { fields };
        let updated_at = match versions.last() {
            Some(v) => v.created_at.clone(),
            None => self.clock.now_rfc3339(),
        };
        let mut attributes = record.attributes.clone();
        attributes.extend(fields.attributes.clone());
        let (filename, mime_type) = match versions.last().filter(|_| !keep_fields) {
            Some(v) => (v.filename.clone(), v.mime_type.clone()),
            None => (
                fields
                    .filename
                    .clone()
                    .unwrap_or_else(|| record.filename.clone()),
                fields
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| record.mime_type.clone()),
            ),
        };
        let change = FileChange {
            new_versions: versions,
            filename,
            mime_type,
            access_control: fields.access_control.unwrap_or(record.access_control),
            attributes,
            updated_at,
            expires_at: self.expires_at(fields),
            ingest,
        };
        let stored = self
            .files()
            .update_file(record.id, caller.org.as_str(), &change, &claims)
            .await?;
        stored.apply_to(&mut record);
        let event = if stored.new_versions.is_empty() {
            FileEvent::Updated
        } else {
            FileEvent::VersionAdded
        };
        self.announce(event, &record);
        Ok(record)
    }

    /// Writes the revision's versions (a new file, or more versions of `existing`)
    /// together with the claims of the uploads they came from.
    pub(super) async fn write_version(
        &self,
        caller: &Caller,
        file_id: Uuid,
        existing: Option<FileRecord>,
        fields: &FileFields,
        revision: Revision<'_>,
    ) -> Result<FileRecord> {
        match existing {
            Some(record) => self.change_file(caller, record, fields, revision).await,
            None => {
                let Revision {
                    mut versions,
                    claims,
                    ..
                } = revision;
                self.to_be_scanned(&mut versions);
                let latest = versions
                    .last()
                    .ok_or_else(|| Error::internal("save", "a new file without a version"))?;
                let now = latest.created_at.clone();
                let (filename, mime_type) = (latest.filename.clone(), latest.mime_type.clone());
                let record = FileRecord {
                    created_at: now.clone(),
                    updated_at: now,
                    versions,
                    ..self.new_record(caller, file_id, filename, mime_type, fields)
                };
                self.create_file(&record, claims.first().copied()).await?;
                Ok(record)
            }
        }
    }
    /// After a failed write of the versions stored at `keys`. A fault may have hidden a
    /// write that landed: the file is read to tell, and landed versions are a success.
    /// Otherwise the copies are unreferenced and go, and removed uploads (`removed`:
    /// upload key, the copy of it) are put back from them, so that a retry, or a save
    /// into another file, still finds them; unless the uploads were consumed by another
    /// save, when nothing may save them again.
    pub(super) async fn settle_failed_write(
        &self,
        caller: &Caller,
        file_id: Uuid,
        keys: &[String],
        removed: &[(&str, &str)],
        error: Error,
    ) -> Result<FileRecord> {
        if error.is_retryable() {
            match self.owned(caller, file_id).await {
                Ok(record)
                    if keys
                        .iter()
                        .all(|k| record.versions.iter().any(|v| &v.key == k)) =>
                {
                    return Ok(record)
                }
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::NotFound => {}
                // Unknown whether the versions landed: keep their objects rather than risk
                // deleting a stored version's bytes. A retry saves again with new keys.
                Err(_) => return Err(error),
            }
        }
        if error.code() != ErrorCode::Conflict {
            for (upload, copy) in removed {
                // If this fails too, the client learns on its retry that it must upload again.
                if let Err(e) = self.store().copy(copy, upload, None).await {
                    tracing::error!(error = %e, key = upload, "upload not put back after a failed save");
                }
            }
        }
        self.remove_all_unreferenced(keys).await;
        Err(error)
    }

    /// Deletes objects no entity points at (best effort: they are never served).
    pub(super) async fn remove_all_unreferenced(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Err(e) = self.store().delete(keys).await {
            tracing::error!(error = %e, ?keys, "unreferenced version objects not deleted");
        }
    }

    /// Deletes an object no entity points at (best effort: it is never served).
    pub(super) async fn remove_unreferenced(&self, key: &str) {
        self.remove_all_unreferenced(&[key.to_owned()]).await;
    }
}

/// What a change brings besides the file's fields.
#[derive(Default)]
pub(super) struct Revision<'a> {
    /// New versions, oldest first.
    pub versions: Vec<StoredVersion>,
    /// The uploads they came from, consumed in the same write.
    pub claims: Vec<UploadClaim<'a>>,
    pub ingest: Option<IngestStep>,
    /// version_only: the file keeps its own name, type, access and attributes.
    pub keep_fields: bool,
}

impl Revision<'_> {
    pub fn adding(versions: Vec<StoredVersion>) -> Self {
        Revision {
            versions,
            ..Revision::default()
        }
    }
}
