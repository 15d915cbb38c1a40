//! uploadFileV2, uploadFile (v1) and uploadFilePublic: presigned PUTs into `temp/`.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::Deserialize;

use super::request::{file_id, BaseUrl, Json, Query};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::{public_url, UploadTicketJson};
use crate::error::Result;
use crate::ports::Backend;
use crate::service::{Caller, UploadRequest};

#[derive(Deserialize)]
pub(super) struct UploadBody {
    filename: String,
    mime_type: Option<String>,
    size_bytes: Option<u64>,
    checksum_sha256: Option<String>,
    /// Kept as the object's S3 metadata.
    metadata: Option<BTreeMap<String, String>>,
    /// Accepted for compatibility with epilot clients; nothing depends on it yet.
    #[allow(dead_code)]
    index_tag: Option<String>,
}

impl UploadBody {
    fn into_request(self) -> Result<UploadRequest> {
        let metadata = self.metadata.unwrap_or_default();
        crate::domain::validate_metadata(&metadata)?;
        Ok(UploadRequest {
            filename: self.filename,
            mime_type: self.mime_type,
            size_bytes: self.size_bytes,
            checksum_sha256: self.checksum_sha256,
            metadata,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    /// The upload is for that file, whose public_url comes back too.
    file_entity_id: Option<String>,
}

pub(super) async fn upload_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Query(query): Query<UploadQuery>,
    Json(body): Json<UploadBody>,
) -> Answer {
    let request = body.into_request()?;
    let file = match query.file_entity_id.filter(|f| !f.is_empty()) {
        Some(id) => Some(s.get(&caller, file_id(Some(&id))?).await?),
        None => None,
    };
    let ticket = s.upload(Some(&caller.org), request).await?;
    let mut answer = UploadTicketJson::from(&ticket);
    if let Some(file) = file {
        answer.public_url = Some(public_url(&base, file.id));
    }
    Reply::created(&answer)
}

pub(super) async fn upload_file_public<B: Backend>(
    State(s): State<Api<B>>,
    Json(body): Json<UploadBody>,
) -> Answer {
    let ticket = s.upload(None, body.into_request()?).await?;
    Reply::created(&UploadTicketJson::from(&ticket))
}
