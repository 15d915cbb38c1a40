//! Resumable multipart uploads: start, sign parts, status, complete, abort.

use axum::extract::State;
use serde::Deserialize;

use super::request::{Json, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::{
    CompletedUploadJson, MultipartSessionJson, MultipartStatusJson, SignedPartsJson, StoredPartJson,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, PartTag};
use crate::service::{Caller, MultipartStart, PartToSign};

#[derive(Deserialize)]
pub(super) struct StartBody {
    filename: String,
    mime_type: Option<String>,
    size_bytes: Option<u64>,
    part_size: Option<u64>,
    checksum_sha256: Option<String>,
}

pub(super) async fn start_multipart<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    Json(body): Json<StartBody>,
) -> Answer {
    let start = MultipartStart {
        filename: body.filename,
        mime_type: body.mime_type,
        size_bytes: body.size_bytes.ok_or_else(|| {
            Error::new(
                ErrorCode::SizeRequired,
                "size_bytes (the exact size of the file) is required to plan its parts",
            )
        })?,
        part_size: body.part_size,
        checksum_sha256: body.checksum_sha256,
    };
    let session = s.start_multipart(&caller, start).await?;
    Reply::created(&MultipartSessionJson::from(&session))
}

#[derive(Deserialize)]
pub(super) struct PartItem {
    part_number: u32,
    checksum_sha256: Option<String>,
}

/// `{part_numbers: [..]}`, or `{parts: [{part_number, checksum_sha256?}]}` to sign each
/// part's SHA-256 into its URL.
#[derive(Deserialize)]
pub(super) struct SignBody {
    part_numbers: Option<Vec<u32>>,
    parts: Option<Vec<PartItem>>,
}

impl SignBody {
    fn into_parts(self) -> Result<Vec<PartToSign>> {
        match (self.part_numbers, self.parts) {
            (Some(numbers), None) => Ok(numbers
                .into_iter()
                .map(|part_number| PartToSign {
                    part_number,
                    checksum_sha256: None,
                })
                .collect()),
            (None, Some(parts)) => Ok(parts
                .into_iter()
                .map(|p| PartToSign {
                    part_number: p.part_number,
                    checksum_sha256: p.checksum_sha256,
                })
                .collect()),
            _ => Err(Error::new(
                ErrorCode::InvalidBody,
                "give part_numbers (an array of part numbers) or parts (an array of {part_number, checksum_sha256})",
            )),
        }
    }
}

pub(super) async fn sign_parts<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    Json(body): Json<SignBody>,
) -> Answer {
    let parts = body.into_parts()?;
    let (session, signed) = s.sign_parts(&caller, path.id(), &parts).await?;
    Reply::ok(&SignedPartsJson::new(&session, &signed))
}

pub(super) async fn multipart_status<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let (session, parts) = s.multipart_status(&caller, path.id()).await?;
    Reply::ok(&MultipartStatusJson {
        session: MultipartSessionJson::from(&session),
        parts: parts.iter().map(StoredPartJson::from).collect(),
    })
}

#[derive(Deserialize)]
pub(super) struct CompletedPart {
    part_number: u32,
    etag: String,
}

/// `{parts: [{part_number, etag}]}`, as S3 answered each PUT.
#[derive(Deserialize)]
pub(super) struct CompleteBody {
    parts: Option<Vec<CompletedPart>>,
}

pub(super) async fn complete_multipart<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    Json(body): Json<CompleteBody>,
) -> Answer {
    let parts: Vec<PartTag> = body
        .parts
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidBody,
                "parts (an array of {part_number, etag}, as S3 answered each PUT) is required",
            )
        })?
        .into_iter()
        .map(|p| PartTag {
            part_number: p.part_number,
            etag: p.etag,
            size_bytes: 0,
        })
        .collect();
    let s3ref = s.complete_multipart(&caller, path.id(), &parts).await?;
    Reply::ok(&CompletedUploadJson { s3ref: &s3ref })
}

pub(super) async fn abort_multipart<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    s.abort_multipart(&caller, path.id()).await?;
    Ok(Reply::NoContent)
}
