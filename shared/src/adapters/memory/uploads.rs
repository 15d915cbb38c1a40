//! Records of unsaved uploads in a map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::files::State;
use super::{lock, MemoryFiles};
use crate::domain::PendingUpload;
use crate::ports::StoreResult as Result;
use crate::ports::UploadRecords;

/// Event records; whether a save consumed an upload is the files' claims, shared.
#[derive(Default)]
pub struct MemoryUploads {
    uploads: Mutex<HashMap<String, PendingUpload>>,
    files: Arc<Mutex<State>>,
}

impl MemoryUploads {
    /// Records that see the claims `files` takes.
    pub fn beside(files: &MemoryFiles) -> Self {
        MemoryUploads {
            uploads: Mutex::default(),
            files: files.state.clone(),
        }
    }
}

impl UploadRecords for MemoryUploads {
    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        if lock(&self.files).claims.contains_key(key) {
            return Ok(None);
        }
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
}
