//! Version history: several versions saved in one write (version_only), restoring an
//! old version as the latest, and deleting one version's bytes.

use futures::future::join_all;
use uuid::Uuid;

use super::save::InspectedUpload;
use super::write::Revision;
use super::{Caller, FileFields, FileService, VersionUpload};
use crate::domain::{version_key, FileRecord, StoredVersion};
use crate::error::{Error, Result};
use crate::ports::{Backend, Clash, CopyOutcome, ObjectStore, StorageError};

impl<B: Backend> FileService<B> {
    /// version_only: `uploads` become new versions of `file`, oldest first, in one
    /// write that consumes them all; the file keeps its own name, type and fields. The
    /// copies run at once; if one fails, none is kept and no upload is consumed.
    pub(super) async fn save_versions(
        &self,
        caller: &Caller,
        file: Uuid,
        uploads: &[VersionUpload],
        delete_temp_file: bool,
    ) -> Result<FileRecord> {
        let (existing, inspected) = tokio::join!(
            self.owned(caller, file),
            join_all(
                uploads
                    .iter()
                    .map(|u| self.inspect_upload(caller, &u.s3ref))
            )
        );
        let existing = existing?;
        Self::check_can_store(Some(&existing))?;
        let inspected: Vec<InspectedUpload> = inspected.into_iter().collect::<Result<_>>()?;
        let adding = inspected.iter().map(|i| i.meta.size_bytes).sum();
        self.check_quota(&caller.org, adding).await?;
        let copied = join_all(
            uploads
                .iter()
                .zip(inspected)
                .map(|(upload, inspected)| self.copy_as_version(caller, file, upload, inspected)),
        )
        .await;
        let kept: Vec<String> = copied
            .iter()
            .filter_map(|c| c.as_ref().ok().map(|v| v.key.clone()))
            .collect();
        let versions = match copied.into_iter().collect::<Result<Vec<_>>>() {
            Ok(versions) => versions,
            Err(e) => {
                self.remove_all_unreferenced(&kept).await;
                return Err(e);
            }
        };
        let revision = Revision {
            versions,
            keep_fields: true,
            ..Revision::default()
        };
        let fields = FileFields::default();
        self.write_uploads(
            caller,
            file,
            Some(existing),
            &fields,
            revision,
            uploads,
            delete_temp_file,
        )
        .await
    }

    /// The file and its version `number` (from 1, the oldest); 404 for either missing.
    async fn numbered_version(
        &self,
        caller: &Caller,
        id: Uuid,
        number: u32,
    ) -> Result<(FileRecord, StoredVersion)> {
        let record = self.owned(caller, id).await?;
        let version = (number as usize)
            .checked_sub(1)
            .and_then(|i| record.versions.get(i))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "file {id} has {} version(s); version {number} does not exist",
                    record.versions.len()
                ))
            })?;
        Ok((record, version))
    }

    /// Version `number` copied as the file's new latest version: history is never
    /// rewritten. Its name and type become the file's again.
    pub async fn restore_version(
        &self,
        caller: &Caller,
        id: Uuid,
        number: u32,
    ) -> Result<FileRecord> {
        let (record, old) = self.numbered_version(caller, id, number).await?;
        self.check_quota(&caller.org, old.size_bytes).await?;
        let key = version_key(&caller.org, id, Uuid::new_v4(), &old.filename);
        let etag = match self.store().copy(&old.key, &key, Some(&old.etag)).await {
            Ok(CopyOutcome::Copied { etag }) => etag,
            Ok(CopyOutcome::Missing | CopyOutcome::Changed) => {
                return Err(Error::conflict(
                    "the bytes of this version are gone (it was deleted meanwhile)",
                ))
            }
            Err(e) => {
                self.remove_unreferenced(&key).await;
                return Err(e.into());
            }
        };
        let now = self.clock.now_rfc3339();
        let version = StoredVersion {
            key: key.clone(),
            etag,
            created_at: now.clone(),
            uploaded_at: Some(now),
            uploaded_by: caller.sub.clone(),
            ..old
        };
        let fields = FileFields::default();
        match self
            .change_file(caller, record, &fields, Revision::adding(vec![version]))
            .await
        {
            Ok(record) => Ok(record),
            Err(e) => self.settle_failed_write(caller, id, &[key], &[], e).await,
        }
    }

    /// Version `number` removed from the file, then its bytes deleted; the only version
    /// left is refused (409): delete the file instead.
    pub async fn delete_version(
        &self,
        caller: &Caller,
        id: Uuid,
        number: u32,
    ) -> Result<FileRecord> {
        let (record, version) = self.numbered_version(caller, id, number).await?;
        if record.versions.len() == 1 {
            return Err(StorageError::Conflict(Clash::OnlyVersion).into());
        }
        let index = number as usize - 1;
        let after = self
            .remove_version_of(caller, id, index, &version.key)
            .await?;
        // The entity no longer points at the bytes: they go now, and if that fails they
        // are unreferenced and never served.
        tokio::join!(
            self.remove_unreferenced(&version.key),
            self.remove_previews(&version.key)
        );
        Ok(after)
    }
}
