//! Large and resumable uploads: S3 multipart uploads whose parts the client PUTs
//! straight to S3 with presigned URLs. The upload id the client holds is sealed
//! (organisation, key, S3's upload id, sizes, end): opaque, unforgeable and bound to
//! its organisation, so no record of it is kept here; S3 holds the parts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, FileService};
use crate::domain::{
    temp_key, validate_filename, validate_mime_type, validate_sha256, S3Ref, MAX_MULTIPART_BYTES,
    UNSAVED_UPLOAD_LIFETIME_MS,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    Backend, MultipartStore, MultipartTerms, ObjectStore, PartTag, PutTerms, StorageError,
    MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES,
};
use crate::seal::Seal;
use crate::time::rfc3339;

/// Most parts one call signs.
pub const MAX_PARTS_PER_SIGNING: usize = 100;
/// The part size when the client names none and the file is small enough for it.
pub const DEFAULT_PART_BYTES: u64 = 8 * 1024 * 1024;
const SEAL_PURPOSE: &str = "file-service/multipart-upload/v1";

/// `POST /v2/files/uploads`.
#[derive(Clone, Debug, Default)]
pub struct MultipartStart {
    pub filename: String,
    pub mime_type: Option<String>,
    pub size_bytes: u64,
    pub part_size: Option<u64>,
    /// The whole file's SHA-256 (base64); the save refuses other bytes.
    pub checksum_sha256: Option<String>,
}

/// An upload in progress, as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartSession {
    pub upload_id: String,
    pub s3ref: S3Ref,
    pub size_bytes: u64,
    pub part_size: u64,
    pub part_count: u32,
    /// After this the bucket's lifecycle rule may abort the upload.
    pub expires_at: String,
}

impl MultipartSession {
    /// The size of part `number` (1-based): `part_size`, but the last holds the rest.
    pub fn part_len(&self, number: u32) -> u64 {
        let start = (number as u64 - 1) * self.part_size;
        self.part_size.min(self.size_bytes - start)
    }
}

/// One part to sign, with its SHA-256 if the client declares one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartToSign {
    pub part_number: u32,
    pub checksum_sha256: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPart {
    pub part_number: u32,
    pub url: String,
    /// Headers the PUT must carry as given (they are signed into the URL).
    pub headers: Vec<(&'static str, String)>,
}

/// What the sealed upload id holds.
#[derive(Serialize, Deserialize)]
struct SealedUpload {
    #[serde(rename = "o")]
    org: String,
    #[serde(rename = "k")]
    key: String,
    #[serde(rename = "u")]
    s3_upload_id: String,
    #[serde(rename = "s")]
    size_bytes: u64,
    #[serde(rename = "p")]
    part_size: u64,
    #[serde(rename = "e")]
    expires_at_ms: i64,
}

/// The part size for `size` bytes: the client's if S3 can take it, else 8 MiB or the
/// smallest whole MiB that keeps the upload within 10,000 parts.
pub fn choose_part_size(size: u64, requested: Option<u64>) -> Result<u64> {
    let fewest = size.div_ceil(MAX_PARTS);
    let Some(part_size) = requested else {
        const MIB: u64 = 1024 * 1024;
        return Ok(DEFAULT_PART_BYTES.max(fewest.div_ceil(MIB) * MIB));
    };
    let invalid = |message: String| Err(Error::new(ErrorCode::InvalidSize, message));
    if !(MIN_PART_BYTES as u64..=MAX_PART_BYTES).contains(&part_size) {
        return invalid(format!(
            "part_size must be from {MIN_PART_BYTES} (5 MiB) to {MAX_PART_BYTES} (5 GiB) bytes"
        ));
    }
    if size.div_ceil(part_size) > MAX_PARTS {
        return invalid(format!(
            "part_size {part_size} would cut {size} bytes into more than {MAX_PARTS} parts; use at least {fewest}"
        ));
    }
    Ok(part_size)
}

fn upload_not_found() -> Error {
    Error::not_found("no such upload (it may have been completed, aborted or forgotten)")
}

impl<B: Backend> FileService<B> {
    fn upload_seal(&self) -> Result<Seal> {
        let keys = self.config.custom_url_keys.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                "multipart uploads need CUSTOM_URL_SIGNING_KEY, which this deployment lacks",
            )
        })?;
        Ok(Seal::new(keys, SEAL_PURPOSE))
    }

    /// Starts a multipart upload to a fresh temp key (saved later like any upload).
    pub async fn start_multipart(
        &self,
        caller: &Caller,
        start: MultipartStart,
    ) -> Result<MultipartSession> {
        validate_filename(&start.filename)?;
        if let Some(mime) = &start.mime_type {
            validate_mime_type(mime)?;
        }
        if let Some(checksum) = &start.checksum_sha256 {
            validate_sha256("checksum_sha256", checksum)?;
        }
        if start.size_bytes == 0 {
            return Err(Error::new(
                ErrorCode::InvalidSize,
                "size_bytes must be at least 1; upload an empty file with POST /v2/files/upload",
            ));
        }
        if start.size_bytes > MAX_MULTIPART_BYTES {
            return Err(Error::too_large(format!(
                "a multipart upload can be at most {MAX_MULTIPART_BYTES} bytes (5 TiB)"
            )));
        }
        let part_size = choose_part_size(start.size_bytes, start.part_size)?;
        self.check_quota(&caller.org, start.size_bytes).await?;
        let seal = self.upload_seal()?;
        let key = temp_key(&caller.org, Uuid::new_v4(), &start.filename);
        let terms = MultipartTerms {
            content_type: start.mime_type.as_deref(),
            declared_sha256: start.checksum_sha256.as_deref(),
        };
        let s3_upload_id = self.store().start_multipart(&key, &terms).await?;
        let sealed = SealedUpload {
            org: caller.org.as_str().to_owned(),
            key,
            s3_upload_id,
            size_bytes: start.size_bytes,
            part_size,
            expires_at_ms: self.clock.now_millis() + UNSAVED_UPLOAD_LIFETIME_MS,
        };
        let upload_id = seal.seal(&sealed)?;
        Ok(self.session(upload_id, sealed))
    }

    fn session(&self, upload_id: String, sealed: SealedUpload) -> MultipartSession {
        MultipartSession {
            upload_id,
            s3ref: S3Ref {
                bucket: self.store().bucket().to_owned(),
                key: sealed.key,
            },
            size_bytes: sealed.size_bytes,
            part_size: sealed.part_size,
            part_count: sealed.size_bytes.div_ceil(sealed.part_size) as u32,
            expires_at: rfc3339(sealed.expires_at_ms),
        }
    }

    /// The upload an id names, if it is the caller's: 404 for anything else, 410 once
    /// the lifecycle rule may have aborted it. Answers the session and S3's upload id.
    fn open_upload(&self, caller: &Caller, upload_id: &str) -> Result<(MultipartSession, String)> {
        let sealed: SealedUpload = self
            .upload_seal()?
            .open(upload_id)
            .filter(|u: &SealedUpload| u.org == caller.org.as_str())
            .ok_or_else(upload_not_found)?;
        if sealed.expires_at_ms <= self.clock.now_millis() {
            return Err(Error::new(
                ErrorCode::UploadExpired,
                "this upload was not completed within 24 hours and has expired; start again",
            ));
        }
        let s3_upload_id = sealed.s3_upload_id.clone();
        Ok((self.session(upload_id.to_owned(), sealed), s3_upload_id))
    }

    /// Presigned PUTs of the parts asked for, each only for its exact length (and
    /// SHA-256, when declared), so S3 refuses a part that is not what it should be.
    pub async fn sign_parts(
        &self,
        caller: &Caller,
        upload_id: &str,
        parts: &[PartToSign],
    ) -> Result<(MultipartSession, Vec<SignedPart>)> {
        let (session, s3_upload_id) = self.open_upload(caller, upload_id)?;
        if parts.is_empty() || parts.len() > MAX_PARTS_PER_SIGNING {
            return Err(Error::new(
                ErrorCode::TooManyItems,
                format!("sign from 1 to {MAX_PARTS_PER_SIGNING} parts a call"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for part in parts {
            check_part_number(&session, part.part_number)?;
            if !seen.insert(part.part_number) {
                return Err(Error::new(
                    ErrorCode::InvalidPart,
                    format!("part {} is asked for twice", part.part_number),
                ));
            }
            if let Some(checksum) = &part.checksum_sha256 {
                validate_sha256("checksum_sha256", checksum)?;
            }
        }
        // Never a URL for an upload S3 no longer has (aborted, completed, expired).
        self.parts_held(&session, &s3_upload_id).await?;
        let ttl = self.config.upload_url_ttl;
        let signing = parts.iter().map(|part| {
            let (session, s3_upload_id) = (&session, &s3_upload_id);
            async move {
                let length = session.part_len(part.part_number);
                let terms = PutTerms {
                    content_type: None,
                    content_length: Some(length),
                    checksum_sha256: part.checksum_sha256.as_deref(),
                    ..PutTerms::default()
                };
                let url = self
                    .store()
                    .presign_part(
                        &session.s3ref.key,
                        s3_upload_id,
                        part.part_number,
                        &terms,
                        ttl,
                    )
                    .await?;
                Ok::<_, Error>(SignedPart {
                    part_number: part.part_number,
                    url,
                    headers: terms.signed_headers(),
                })
            }
        });
        let signed = futures::future::try_join_all(signing).await?;
        Ok((session, signed))
    }

    /// The session and the parts S3 holds so far: what a resumed upload can skip.
    pub async fn multipart_status(
        &self,
        caller: &Caller,
        upload_id: &str,
    ) -> Result<(MultipartSession, Vec<PartTag>)> {
        let (session, _, parts) = self.stored_parts(caller, upload_id).await?;
        Ok((session, parts))
    }

    async fn stored_parts(
        &self,
        caller: &Caller,
        upload_id: &str,
    ) -> Result<(MultipartSession, String, Vec<PartTag>)> {
        let (session, s3_upload_id) = self.open_upload(caller, upload_id)?;
        let parts = self.parts_held(&session, &s3_upload_id).await?;
        Ok((session, s3_upload_id, parts))
    }

    /// The parts S3 holds of an upload it still has; why not, where it has not.
    async fn parts_held(
        &self,
        session: &MultipartSession,
        s3_upload_id: &str,
    ) -> Result<Vec<PartTag>> {
        match self
            .store()
            .list_parts(&session.s3ref.key, s3_upload_id)
            .await
        {
            Ok(parts) => Ok(parts),
            Err(e) if e.is_not_found() => Err(self.ended(session).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Why S3 no longer has an upload: completed (its object is there: 409) or aborted
    /// or expired (404).
    async fn ended(&self, session: &MultipartSession) -> Error {
        match self.store().head(&session.s3ref.key).await {
            Ok(Some(_)) => Error::conflict(
                "this upload is already completed; save its s3ref, or start a new upload",
            ),
            Ok(None) => upload_not_found(),
            Err(e) => e.into(),
        }
    }

    /// Joins the parts into the upload's object, once each of them is what S3 holds: the
    /// answer's s3ref is then saved like any upload.
    pub async fn complete_multipart(
        &self,
        caller: &Caller,
        upload_id: &str,
        given: &[PartTag],
    ) -> Result<S3Ref> {
        let (session, s3_upload_id, parts) = self.stored_parts(caller, upload_id).await?;
        let mut given = given.to_vec();
        given.sort_by_key(|p| p.part_number);
        for (i, part) in given.iter().enumerate() {
            check_part_number(&session, part.part_number)?;
            if i > 0 && given[i - 1].part_number == part.part_number {
                return Err(Error::new(
                    ErrorCode::InvalidPart,
                    format!("part {} is listed twice", part.part_number),
                ));
            }
        }
        if given.len() != session.part_count as usize {
            return Err(Error::new(
                ErrorCode::InvalidPart,
                format!(
                    "all {} parts must be listed to complete; {} were",
                    session.part_count,
                    given.len()
                ),
            ));
        }
        for part in &given {
            let etag = part.etag.trim_matches('"');
            match parts.iter().find(|p| p.part_number == part.part_number) {
                None => {
                    return Err(Error::new(
                        ErrorCode::InvalidPart,
                        format!("part {} has not been uploaded", part.part_number),
                    ))
                }
                Some(stored) if stored.etag != etag => {
                    return Err(Error::new(
                        ErrorCode::InvalidPart,
                        format!(
                            "part {}'s ETag is not the one S3 answered for it",
                            part.part_number
                        ),
                    ))
                }
                Some(stored) if stored.size_bytes != session.part_len(part.part_number) => {
                    return Err(Error::new(
                        ErrorCode::InvalidPart,
                        format!(
                            "part {} is {} bytes; it must be {}",
                            part.part_number,
                            stored.size_bytes,
                            session.part_len(part.part_number)
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let ordered: Vec<PartTag> = given
            .iter()
            .map(|p| PartTag {
                part_number: p.part_number,
                etag: p.etag.trim_matches('"').to_owned(),
                size_bytes: session.part_len(p.part_number),
            })
            .collect();
        self.store()
            .complete_multipart(&session.s3ref.key, &s3_upload_id, &ordered)
            .await
            .map_err(not_found_as_gone)?;
        Ok(session.s3ref)
    }

    /// Drops the upload and its parts; aborting again is not an error.
    pub async fn abort_multipart(&self, caller: &Caller, upload_id: &str) -> Result<()> {
        let (session, s3_upload_id) = self.open_upload(caller, upload_id)?;
        Ok(self
            .store()
            .abort_multipart(&session.s3ref.key, &s3_upload_id)
            .await?)
    }
}

fn check_part_number(session: &MultipartSession, number: u32) -> Result<()> {
    if (1..=session.part_count).contains(&number) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidPart,
            format!(
                "part {number} is out of range: this upload has parts 1 to {}",
                session.part_count
            ),
        ))
    }
}

/// S3 forgets an upload once it is completed or aborted.
fn not_found_as_gone(e: StorageError) -> Error {
    if e.is_not_found() {
        upload_not_found()
    } else {
        e.into()
    }
}
