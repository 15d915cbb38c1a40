//! Records of unsaved uploads in a map.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock;
use crate::domain::PendingUpload;
use crate::error::Result;
use crate::ports::UploadRecords;

#[derive(Default)]
pub struct MemoryUploads {
    uploads: Mutex<HashMap<String, PendingUpload>>,
}

impl UploadRecords for MemoryUploads {
    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        Ok(lock(&self.uploads).get(key).cloned())
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        let mut uploads = lock(&self.uploads);
        match uploads.get(&upload.key) {
            Some(known) if known.sequencer >= upload.sequencer => Ok(false),
            _ => {
                uploads.insert(upload.key.clone(), upload.clone());
                Ok(true)
            }
        }
    }

    async fn forget_upload(&self, key: &str) -> Result<()> {
        lock(&self.uploads).remove(key);
        Ok(())
    }
}
