//! uploadFileV2 and uploadFilePublic: a fresh temp key and a presigned PUT.

use uuid::Uuid;

use super::{stored_mime_type, FileService, UploadRequest, UploadTicket, PUBLIC_UPLOADS};
use crate::domain::{
    guess_mime_type, temp_key, validate_filename, validate_mime_type, validate_sha256, OrgId,
    S3Ref, MAX_UPLOAD_BYTES, UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, ObjectMeta, ObjectStore, PutTerms};

impl<B: Backend> FileService<B> {
    /// uploadFileV2 (`org` set) and uploadFilePublic (`org` none).
    pub async fn upload(
        &self,
        org: Option<&OrgId>,
        request: UploadRequest,
    ) -> Result<UploadTicket> {
        validate_filename(&request.filename)?;
        if let Some(mime) = &request.mime_type {
            validate_mime_type(mime)?;
        }
        if let Some(checksum) = &request.checksum_sha256 {
            validate_sha256("checksum_sha256", checksum)?;
        }
        if org.is_none() {
            self.check_public_upload(&request)?;
        }
        if let Some(size) = request.size_bytes {
            if size > MAX_UPLOAD_BYTES {
                return Err(Error::too_large(format!(
                    "one upload can be at most {MAX_UPLOAD_BYTES} bytes (5 GiB)"
                )));
            }
        }
        if let Some(org) = org {
            // An upload of unknown size needs at least a byte of room.
            self.check_quota(org, request.size_bytes.unwrap_or(1))
                .await?;
        }
        let owner = org.map(OrgId::as_str).unwrap_or(PUBLIC_UPLOADS);
        // The key is always fresh: an upload can never name (and so overwrite) an existing object.
        let key = temp_key(&OrgId::trusted(owner), Uuid::new_v4(), &request.filename);
        let terms = PutTerms {
            content_type: request.mime_type.as_deref(),
            content_length: request.size_bytes,
            checksum_sha256: request.checksum_sha256.as_deref(),
            metadata: Some(&request.metadata).filter(|m| !m.is_empty()),
        };
        let upload_url = self
            .store()
            .presign_put(&key, &terms, self.config.upload_url_ttl)
            .await?;
        Ok(UploadTicket {
            s3ref: S3Ref {
                bucket: self.store().bucket().to_owned(),
                key,
            },
            upload_url,
            upload_url_expires_in: self.config.upload_url_ttl.as_secs(),
            unsaved_upload_expires_in: (UNSAVED_UPLOAD_LIFETIME_MS / 1000) as u64,
        })
    }

    /// uploadFilePublic's tighter limits, checked before a URL is handed out.
    fn check_public_upload(&self, request: &UploadRequest) -> Result<()> {
        let limits = &self.config.public_uploads;
        match request.size_bytes {
            Some(size) if size > limits.max_bytes => {
                return Err(Error::too_large(format!(
                    "a public upload can be at most {} bytes",
                    limits.max_bytes
                )))
            }
            None if limits.require_size => {
                return Err(Error::new(
                    ErrorCode::SizeRequired,
                    "size_bytes (the exact size of the file) is required for public uploads",
                ))
            }
            _ => {}
        }
        let mime_type = request
            .mime_type
            .clone()
            .unwrap_or_else(|| guess_mime_type(&request.filename).to_owned());
        if !limits.allows_mime_type(&mime_type) {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "public uploads cannot be of type {mime_type}; allowed: {}",
                    limits.mime_types.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The same limits on what was actually uploaded, when a public upload is saved:
    /// the upload URL cannot enforce a size the client did not declare.
    pub(super) async fn check_public_object(&self, key: &str, meta: &ObjectMeta) -> Result<()> {
        let limits = &self.config.public_uploads;
        let filename = key.rsplit('/').next().unwrap_or_default();
        let mime_type = stored_mime_type(meta, None, filename);
        let refusal = if meta.size_bytes > limits.max_bytes {
            Error::too_large(format!(
                "this public upload is {} bytes; public uploads can be at most {} bytes",
                meta.size_bytes, limits.max_bytes
            ))
        } else if !limits.allows_mime_type(&mime_type) {
            Error::new(
                ErrorCode::UnsupportedMediaType,
                format!("public uploads cannot be of type {mime_type}"),
            )
        } else {
            return Ok(());
        };
        // Nobody may save it: remove it now rather than when the lifecycle rule does.
        if let Err(e) = self.store().delete(&[key.to_owned()]).await {
            tracing::warn!(error = %e, key, "refused public upload not deleted");
        }
        Err(refusal)
    }
}
