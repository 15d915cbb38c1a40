//! saveFileV2 with the file in the request: a `multipart/form-data` form (part `file`,
//! the other parts as save fields) or any body that is not JSON (save fields as query
//! parameters, the name from `?filename=` or `Content-Disposition`).

use std::collections::HashMap;

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::form::parse_form;
use super::save_body::file_fields;
use crate::domain::{filename_from_disposition, header_param};
use crate::error::{Error, ErrorCode, Result};
use crate::service::{SaveIntent, SaveRequest};

/// The route a file too large for a direct upload takes instead.
pub const LARGE_FILE_ROUTES: &str =
    "POST /v2/files/upload (a presigned upload) or POST /v2/files/uploads (multipart, for large files)";

use crate::domain::mime_essence as essence;

/// saveFileV2's query options, which a raw body's query parameters never turn into fields.
const SAVE_OPTIONS: &[&str] = &[
    "delete_temp_file",
    "version_only",
    "strict",
    "async",
    "activity_id",
    "fill_activity",
];

/// Whether a save carries the file itself: a `Content-Type` that is not JSON (a save
/// without one is JSON, as clients that send JSON without saying so expect).
pub fn is_direct_upload(headers: &HeaderMap) -> bool {
    match headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => false,
        Some(value) => {
            let essence = essence(value);
            !(essence.is_empty() || essence == "application/json" || essence.ends_with("+json"))
        }
    }
}

/// 413 for a body over `max_bytes`, naming the routes that take it.
pub fn too_large(max_bytes: u64) -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "a direct upload may have at most {max_bytes} bytes; upload larger files with {LARGE_FILE_ROUTES}"
        ),
    )
}

/// Refuses a declared `Content-Length` over the limit before the body is read.
pub fn check_declared_length(headers: &HeaderMap, max_bytes: u64) -> Result<()> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > max_bytes => Err(too_large(max_bytes)),
        _ => Ok(()),
    }
}

/// The save a direct upload asks for.
pub(super) fn direct_upload(
    headers: &HeaderMap,
    body: &[u8],
    query: &HashMap<String, String>,
    max_bytes: u64,
) -> Result<SaveRequest> {
    check_declared_length(headers, max_bytes)?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut fields: Map<String, Value> = Map::new();
    let bytes = if essence(content_type) == "multipart/form-data" {
        let boundary = header_param(content_type, "boundary").ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidBody,
                "multipart/form-data needs a boundary",
            )
        })?;
        let parts = parse_form(body, &boundary)?;
        let mut file = None;
        for part in parts {
            if part.name == "file" {
                if file.is_some() {
                    return Err(Error::new(
                        ErrorCode::InvalidBody,
                        "a direct upload holds one file part",
                    ));
                }
                file = Some(part);
                continue;
            }
            let value = String::from_utf8(part.body.to_vec()).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidBody,
                    format!("form field {} is not UTF-8 text", part.name),
                )
            })?;
            fields.insert(part.name, Value::String(value));
        }
        let file = file
            .ok_or_else(|| Error::new(ErrorCode::InvalidBody, "the form has no part named file"))?;
        if file.body.len() as u64 > max_bytes {
            return Err(too_large(max_bytes));
        }
        if let Some(name) = file.filename {
            fields.entry("filename").or_insert(Value::String(name));
        }
        if let Some(mime) = file.content_type {
            fields.entry("mime_type").or_insert(Value::String(mime));
        }
        Bytes::copy_from_slice(file.body)
    } else {
        if body.len() as u64 > max_bytes {
            return Err(too_large(max_bytes));
        }
        // The JSON save's options are not fields: a direct upload has no temporary object
        // to keep, and `_id` alone makes it a version.
        for (name, value) in query
            .iter()
            .filter(|(n, _)| !SAVE_OPTIONS.contains(&n.as_str()))
        {
            fields.insert(name.clone(), Value::String(value.clone()));
        }
        if !fields.contains_key("filename") {
            let named = headers
                .get(CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(filename_from_disposition);
            if let Some(name) = named {
                fields.insert("filename".into(), Value::String(name));
            }
        }
        fields
            .entry("mime_type")
            .or_insert(Value::String(content_type.to_owned()));
        Bytes::copy_from_slice(body)
    };
    for not_here in ["s3ref", "custom_download_url", "source_url"] {
        if fields.contains_key(not_here) {
            return Err(Error::new(
                ErrorCode::InvalidBody,
                format!("a direct upload carries its bytes; {not_here} does not belong to it"),
            ));
        }
    }
    let (file, fields) = file_fields(fields)?;
    Ok(SaveRequest {
        intent: SaveIntent::DirectBody { file, body: bytes },
        fields,
    })
}
