//! Requests in: the caller, the query, and JSON bodies parsed into the service's types.

use std::collections::HashMap;

use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::{AccessControl, OrgId, S3Ref};
use crate::error::{Error, ErrorCode, Result};
use crate::ingest::fetch::check_source_header;
use crate::ports::{Fit, PartTag, MAX_PREVIEW_SIDE};
use crate::service::{
    Caller, DownloadItem, FileFields, MultipartStart, PartToSign, SaveIntent, SaveRequest,
    SourceMethod, SourceRequest, UploadRequest, VersionUpload, DEFAULT_SIGNED_URL_SECONDS,
    MAX_BATCH, MAX_SIGNED_URL_SECONDS, MAX_TTL_SECONDS, MAX_VERSIONS_PER_SAVE, MIN_TTL_SECONDS,
};

/// The path without an API Gateway stage prefix.
pub(super) fn request_path(request: &Request) -> &str {
    let raw = request.raw_http_path();
    if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    }
}

/// The organisation from the authorizer's claims; 401 without one.
pub(super) fn caller(config: &Config, request: &Request) -> Result<Caller> {
    caller_from_claims(config, authorizer_claims(request))
}

/// The claims API Gateway's JWT authorizer passed on, if it checked a token.
pub(super) fn authorizer_claims(request: &Request) -> Option<&HashMap<String, String>> {
    request
        .request_context_ref()
        .and_then(|context| context.authorizer())
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .map(|jwt| &jwt.claims)
}

/// The caller a token's claims name (values as API Gateway passes them: strings).
pub(super) fn caller_from_claims(
    config: &Config,
    claims: Option<&HashMap<String, String>>,
) -> Result<Caller> {
    let claim = &config.org_claim;
    let org = claims.and_then(|claims| claims.get(claim)).ok_or_else(|| {
        Error::unauthorized(format!(
            "a bearer token with an organisation claim ({claim}) is required"
        ))
    })?;
    Ok(Caller {
        org: OrgId::parse(org)?,
        sub: claims
            .and_then(|claims| claims.get("sub"))
            .filter(|sub| !sub.is_empty() && sub.len() <= 256)
            .cloned(),
    })
}

/// Where this API is served, for links back to it (`public_url`): `PUBLIC_BASE_URL`, else
/// the domain API Gateway itself reports for the stage. Never a request header, which
/// the client chooses.
pub(super) fn public_base_url(config: &Config, request: &Request) -> Result<String> {
    if let Some(base) = &config.public_base_url {
        return Ok(base.clone());
    }
    request
        .request_context_ref()
        .and_then(|c| match c {
            lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.domain_name.clone(),
            _ => None,
        })
        .filter(|domain| {
            !domain.is_empty()
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        })
        .map(|domain| format!("https://{domain}"))
        .ok_or_else(|| {
            Error::internal(
                "configuration",
                "PUBLIC_BASE_URL is not set and the request carries no API domain",
            )
        })
}

pub(super) fn query_params(request: &Request) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

pub(super) fn json_body(request: &Request) -> Result<Value> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorCode::InvalidBody,
            "the request body must be JSON",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

fn invalid_body(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::InvalidBody, message)
}

fn object(value: &Value) -> Result<&Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| invalid_body("the request body must be a JSON object"))
}

/// An optional string field: absent and null are `None`, anything but a string is refused.
fn optional_string(body: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid_body(format!("{name} must be a string"))),
    }
}

fn required_string(body: &Map<String, Value>, name: &str) -> Result<String> {
    optional_string(body, name)?.ok_or_else(|| invalid_body(format!("{name} is required")))
}

pub(super) fn upload_request(body: &Value) -> Result<UploadRequest> {
    let body = object(body)?;
    // Accepted for compatibility with epilot clients; nothing depends on them yet.
    optional_string(body, "index_tag")?;
    Ok(UploadRequest {
        filename: required_string(body, "filename")?,
        mime_type: optional_string(body, "mime_type")?,
        size_bytes: optional_u64(body, "size_bytes", "bytes")?,
        checksum_sha256: optional_string(body, "checksum_sha256")?,
        metadata: upload_metadata(body.get("metadata"))?,
    })
}

/// An upload's `metadata`: an object of strings (kept as the object's S3 metadata).
fn upload_metadata(value: Option<&Value>) -> Result<std::collections::BTreeMap<String, String>> {
    let fail = || {
        Error::new(
            ErrorCode::InvalidMetadata,
            "metadata must be an object of string values",
        )
    };
    let entries = match value {
        None | Some(Value::Null) => return Ok(Default::default()),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err(fail()),
    };
    let metadata = entries
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect::<Option<_>>()
        .ok_or_else(fail)?;
    crate::domain::validate_metadata(&metadata)?;
    Ok(metadata)
}

/// An optional whole number: absent and null are `None`.
fn optional_u64(body: &Map<String, Value>, name: &str, unit: &str) -> Result<Option<u64>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_body(format!("{name} must be a whole number of {unit}"))),
    }
}

/// A part number: a whole number (its range is the upload's to check).
fn part_number(value: &Value) -> Result<u32> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid_body("part_number must be a whole number from 1"))
}

/// `POST /v2/files/uploads`.
pub(super) fn multipart_start(body: &Value) -> Result<MultipartStart> {
    let body = object(body)?;
    Ok(MultipartStart {
        filename: required_string(body, "filename")?,
        mime_type: optional_string(body, "mime_type")?,
        size_bytes: optional_u64(body, "size_bytes", "bytes")?.ok_or_else(|| {
            Error::new(
                ErrorCode::SizeRequired,
                "size_bytes (the exact size of the file) is required to plan its parts",
            )
        })?,
        part_size: optional_u64(body, "part_size", "bytes")?,
        checksum_sha256: optional_string(body, "checksum_sha256")?,
    })
}

/// `POST /v2/files/uploads/{id}/parts`: `{part_numbers: [..]}`, or `{parts: [{part_number,
/// checksum_sha256?}]}` to sign each part's SHA-256 into its URL.
pub(super) fn parts_to_sign(body: &Value) -> Result<Vec<PartToSign>> {
    let body = object(body)?;
    match (body.get("part_numbers"), body.get("parts")) {
        (Some(Value::Array(numbers)), None) => numbers
            .iter()
            .map(|n| {
                Ok(PartToSign {
                    part_number: part_number(n)?,
                    checksum_sha256: None,
                })
            })
            .collect(),
        (None, Some(Value::Array(parts))) => parts
            .iter()
            .map(|part| {
                let part = object(part)?;
                Ok(PartToSign {
                    part_number: part_number(part.get("part_number").unwrap_or(&Value::Null))?,
                    checksum_sha256: optional_string(part, "checksum_sha256")?,
                })
            })
            .collect(),
        _ => Err(invalid_body(
            "give part_numbers (an array of part numbers) or parts (an array of {part_number, checksum_sha256})",
        )),
    }
}

/// `POST /v2/files/uploads/{id}/complete`: `{parts: [{part_number, etag}]}`.
pub(super) fn completed_parts(body: &Value) -> Result<Vec<PartTag>> {
    let body = object(body)?;
    let Some(Value::Array(parts)) = body.get("parts") else {
        return Err(invalid_body(
            "parts (an array of {part_number, etag}, as S3 answered each PUT) is required",
        ));
    };
    parts
        .iter()
        .map(|part| {
            let part = object(part)?;
            Ok(PartTag {
                part_number: part_number(part.get("part_number").unwrap_or(&Value::Null))?,
                etag: required_string(part, "etag")?,
                size_bytes: 0,
            })
        })
        .collect()
}

/// Entity fields the service computes; a save ignores what a client sends for them.
const COMPUTED_FIELDS: &[&str] = &[
    "_org",
    "_schema",
    "_title",
    "_created_at",
    "_updated_at",
    "type",
    "size_bytes",
    "readable_size",
    "etag",
    "public_url",
    "versions",
    "status",
    "status_reason",
    "expires_at",
    "checksum_sha256",
    "download_url",
];

fn s3ref_of(value: Option<Value>) -> Result<Option<S3Ref>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(r)) => Ok(Some(S3Ref {
            bucket: required_string(&r, "bucket")?,
            key: required_string(&r, "key")?,
        })),
        Some(_) => Err(invalid_body("s3ref must be an object {bucket, key}")),
    }
}

/// `_id`, or its older name `file_entity_id` (the same file if both are given).
fn target_file(body: &mut Map<String, Value>) -> Result<Option<Uuid>> {
    let alias = optional_string(body, "file_entity_id")?;
    body.remove("file_entity_id");
    let id = optional_string(body, "_id")?;
    let file = match (id, alias) {
        (Some(id), Some(alias)) if id != alias => {
            return Err(invalid_body("_id and file_entity_id name different files"))
        }
        (Some(id), _) | (None, Some(id)) => Some(file_id(Some(&id))?),
        (None, None) => None,
    };
    match file {
        Some(id) => body.insert("_id".into(), Value::String(id.to_string())),
        None => body.remove("_id"),
    };
    Ok(file)
}

/// saveFileV2's (and saveFile's) body: which kind of save it is, and the fields it
/// sets. `version_only` with a file and an upload adds a version and leaves the file's
/// own fields; an array body (1 to 20 uploads of one file) needs it.
pub(super) fn save_request(
    body: Value,
    delete_temp_file: bool,
    version_only: bool,
) -> Result<SaveRequest> {
    let mut body = match body {
        Value::Object(body) => body,
        Value::Array(items) => return version_batch(items, delete_temp_file, version_only),
        _ => {
            return Err(invalid_body(
                "the request body must be a JSON object or array",
            ))
        }
    };
    let s3ref = s3ref_of(body.remove("s3ref"))?;
    let custom_download_url = optional_string(&body, "custom_download_url")?;
    body.remove("custom_download_url");
    let source = source_request(&mut body)?;
    let target = target_file(&mut body)?;
    let (file, fields) = file_fields(body)?;
    debug_assert_eq!(file, target);
    let intent = match (s3ref, custom_download_url, source) {
        (Some(s3ref), None, None) if version_only && file.is_some() => SaveIntent::Versions {
            file: file.unwrap_or_default(),
            uploads: vec![VersionUpload {
                s3ref,
                filename: fields.filename.clone(),
                mime_type: fields.mime_type.clone(),
            }],
            delete_temp_file,
        },
        (None, None, Some(source)) => SaveIntent::FromSource { file, source },
        (_, _, Some(_)) => {
            return Err(invalid_body(
                "give one of s3ref, custom_download_url and source_url",
            ))
        }
        (Some(_), Some(_), None) => {
            return Err(invalid_body(
                "give either s3ref or custom_download_url, not both",
            ))
        }
        (Some(s3ref), None, None) => SaveIntent::Upload {
            file,
            s3ref,
            delete_temp_file,
        },
        (None, Some(url), None) => SaveIntent::External { file, url },
        (None, None, None) => match file {
            Some(file) => SaveIntent::Metadata { file },
            None => {
                return Err(invalid_body(
                    "s3ref (an uploaded file) or custom_download_url is required, \
                     or _id to change an existing file",
                ))
            }
        },
    };
    Ok(SaveRequest { intent, fields })
}

/// The array body: uploads that become versions of one file in one write.
fn version_batch(
    items: Vec<Value>,
    delete_temp_file: bool,
    version_only: bool,
) -> Result<SaveRequest> {
    if !version_only {
        return Err(invalid_body(
            "an array body adds versions to one file and needs ?version_only=true",
        ));
    }
    if items.is_empty() || items.len() > MAX_VERSIONS_PER_SAVE {
        return Err(Error::new(
            ErrorCode::TooManyItems,
            format!("an array body has 1 to {MAX_VERSIONS_PER_SAVE} items"),
        ));
    }
    let mut file = None;
    let mut uploads: Vec<VersionUpload> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut item) = item else {
            return Err(invalid_body(
                "each item must be an object {_id, s3ref, ...}",
            ));
        };
        let target = target_file(&mut item)?
            .ok_or_else(|| invalid_body("each item names its file: _id or file_entity_id"))?;
        if file.is_some_and(|f| f != target) {
            return Err(invalid_body("all items must name the same file"));
        }
        file = Some(target);
        let s3ref = s3ref_of(item.remove("s3ref"))?
            .ok_or_else(|| invalid_body("each item needs an s3ref"))?;
        if uploads.iter().any(|u| u.s3ref == s3ref) {
            return Err(invalid_body("an upload can become one version only"));
        }
        let filename = optional_string(&item, "filename")?;
        if let Some(name) = &filename {
            crate::domain::validate_filename(name)?;
        }
        let mime_type = optional_string(&item, "mime_type")?;
        if let Some(mime) = &mime_type {
            crate::domain::validate_mime_type(mime)?;
        }
        if let Some(access) = optional_string(&item, "access_control")? {
            AccessControl::parse(&access)?;
        }
        if let Some(unknown) = item.keys().find(|k| {
            !matches!(
                k.as_str(),
                "_id" | "filename" | "mime_type" | "access_control"
            )
        }) {
            return Err(invalid_body(format!(
                "{unknown} is not a field of a version (s3ref, filename, mime_type)"
            )));
        }
        uploads.push(VersionUpload {
            s3ref,
            filename,
            mime_type,
        });
    }
    Ok(SaveRequest {
        intent: SaveIntent::Versions {
            file: file.unwrap_or_default(),
            uploads,
            delete_temp_file,
        },
        fields: FileFields::default(),
    })
}

/// signUrls' body: `{ids, expires_in?, attachment?}`.
pub(super) fn sign_urls_request(body: &Value) -> Result<(Vec<Uuid>, u64, bool)> {
    let body = object(body)?;
    let ids = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_body("ids must be an array of file ids"))?;
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(Error::new(
            ErrorCode::TooManyItems,
            format!("ids has 1 to {MAX_BATCH} file ids"),
        ));
    }
    let ids = ids
        .iter()
        .map(|id| file_id(id.as_str()))
        .collect::<Result<Vec<_>>>()?;
    let expires_in = match body.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_SIGNED_URL_SECONDS,
        Some(v) => v
            .as_u64()
            .filter(|s| (1..=MAX_SIGNED_URL_SECONDS).contains(s))
            .ok_or_else(|| {
                invalid_body(format!(
                    "expires_in is a whole number of seconds from 1 to {MAX_SIGNED_URL_SECONDS}"
                ))
            })?,
    };
    let attachment = match body.get("attachment") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid_body("attachment must be true or false")),
    };
    Ok((ids, expires_in, attachment))
}

/// A version number in a path: `<n>` (or `<n>:restore` where `suffix` says), n from 1.
pub(super) fn version_number(segment: Option<&str>, suffix: &str) -> Result<u32> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidVersion,
            "the version is a whole number from 1, the oldest",
        )
    };
    let segment = segment.ok_or_else(bad)?;
    let number = if suffix.is_empty() {
        segment
    } else {
        segment
            .strip_suffix(suffix)
            .ok_or_else(|| Error::not_found(format!("no route for versions/{segment}")))?
    };
    number
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(bad)
}

/// The file a save names (`_id`) and the fields it sets; what is left of `body` (but
/// the computed fields a client may send back) are its extra attributes.
pub(super) fn file_fields(mut body: Map<String, Value>) -> Result<(Option<Uuid>, FileFields)> {
    let file = optional_string(&body, "_id")?
        .map(|id| file_id(Some(&id)))
        .transpose()?;
    let fields = FileFields {
        filename: optional_string(&body, "filename")?,
        mime_type: optional_string(&body, "mime_type")?,
        access_control: optional_string(&body, "access_control")?
            .map(|a| AccessControl::parse(&a))
            .transpose()?,
        attributes: Map::new(),
        ttl_seconds: ttl_seconds(body.get("ttl_seconds"))?,
    };
    for known in [
        "_id",
        "filename",
        "mime_type",
        "access_control",
        "ttl_seconds",
    ] {
        body.remove(known);
    }
    // Clients that save an entity they fetched send its computed fields back: the
    // service computes them itself, so they are dropped rather than refused.
    for computed in COMPUTED_FIELDS {
        body.remove(*computed);
    }
    Ok((
        file,
        FileFields {
            attributes: body,
            ..fields
        },
    ))
}

/// `ttl_seconds`: a whole number from [`MIN_TTL_SECONDS`] to [`MAX_TTL_SECONDS`]; a
/// string of digits too (form fields and query parameters are strings).
pub(super) fn ttl_seconds(value: Option<&Value>) -> Result<Option<u64>> {
    let ttl = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match ttl {
        Some(ttl) if (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) => Ok(Some(ttl)),
        _ => Err(Error::new(
            ErrorCode::InvalidTtl,
            format!(
                "ttl_seconds must be a whole number from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"
            ),
        )),
    }
}

/// Most headers, and most bytes of them, a save may have sent to its source.
const MAX_SOURCE_HEADERS: usize = 50;
const MAX_SOURCE_HEADER_BYTES: usize = 16 * 1024;

/// `source_url`, `source_method` and `source_headers`, taken out of the body.
fn source_request(body: &mut Map<String, Value>) -> Result<Option<SourceRequest>> {
    let url = optional_string(body, "source_url")?;
    let method = optional_string(body, "source_method")?;
    let headers = body.remove("source_headers");
    body.remove("source_url");
    body.remove("source_method");
    let Some(url) = url else {
        if method.is_some() || !matches!(headers, None | Some(Value::Null)) {
            return Err(invalid_body(
                "source_method and source_headers need a source_url",
            ));
        }
        return Ok(None);
    };
    let method = match method.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("GET") => SourceMethod::Get,
        Some("POST") => SourceMethod::Post,
        Some(_) => return Err(invalid_body("source_method must be GET or POST")),
    };
    let headers = match headers {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => {
            if map.len() > MAX_SOURCE_HEADERS {
                return Err(invalid_body(format!(
                    "source_headers may have at most {MAX_SOURCE_HEADERS} headers"
                )));
            }
            let mut headers = Vec::with_capacity(map.len());
            let mut bytes = 0;
            for (name, value) in map {
                let Value::String(value) = value else {
                    return Err(invalid_body(format!(
                        "source_headers: {name} must be a string"
                    )));
                };
                check_source_header(&name, &value)?;
                bytes += name.len() + value.len();
                headers.push((name, value));
            }
            if bytes > MAX_SOURCE_HEADER_BYTES {
                return Err(invalid_body(
                    "source_headers are too large (at most 16 KiB)",
                ));
            }
            headers
        }
        Some(_) => return Err(invalid_body("source_headers must be an object of strings")),
    };
    Ok(Some(SourceRequest {
        url,
        method,
        headers,
    }))
}

pub(super) fn download_items(body: &Value) -> Result<Vec<DownloadItem>> {
    let items = body
        .as_array()
        .ok_or_else(|| invalid_body("the request body must be a JSON array of {id, version?}"))?;
    items
        .iter()
        .map(|item| {
            let item = object(item)?;
            let id = required_string(item, "id")?;
            let version = match item.get("version") {
                None | Some(Value::Null) => 0,
                Some(Value::Number(n)) => version_param(Some(&n.to_string()))?,
                Some(_) => {
                    return Err(Error::new(
                        ErrorCode::InvalidVersion,
                        "version must be a whole number",
                    ))
                }
            };
            Ok(DownloadItem {
                id: file_id(Some(&id))?,
                version,
            })
        })
        .collect()
}

/// The `custom_download_url` of verifyCustomDownloadUrl's body.
pub(super) fn url_to_verify(body: &Value) -> Result<String> {
    required_string(object(body)?, "custom_download_url")
}

pub(super) fn file_id(raw: Option<&str>) -> Result<Uuid> {
    raw.and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Error::new(ErrorCode::InvalidId, "the file id must be a UUID"))
}

/// `version`: 0 (or absent) is the latest, 1 the first.
pub(super) fn version_param(raw: Option<&str>) -> Result<u32> {
    match raw {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            Error::new(
                ErrorCode::InvalidVersion,
                "version must be a whole number, 0 for the latest",
            )
        }),
    }
}

/// `w` and `h` of a preview: whole numbers 1–2048, either or both (neither: 300 wide).
pub(super) fn preview_fit(query: &HashMap<String, String>) -> Result<Fit> {
    let side = |name: &str| -> Result<Option<u32>> {
        match query.get(name).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidQuery,
                    format!("{name} must be a whole number of pixels, 1 to {MAX_PREVIEW_SIDE}"),
                )
            }),
        }
    };
    Fit::new(side("w")?, side("h")?)
}

/// A query parameter that must be there and not empty.
pub(super) fn required_query<'q>(
    query: &'q HashMap<String, String>,
    name: &str,
) -> Result<&'q str> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::new(ErrorCode::InvalidQuery, format!("{name} is required")))
}

/// previewS3File's body: `{bucket, key}`.
pub(super) fn s3_object(body: &Value) -> Result<S3Ref> {
    let body = object(body)?;
    Ok(S3Ref {
        bucket: required_string(body, "bucket")?,
        key: required_string(body, "key")?,
    })
}

pub(super) fn bool_param(
    query: &HashMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool> {
    match query.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidQuery,
            format!("{name} must be true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_flags_are_strict() {
        let q: HashMap<String, String> = [("attachment".to_string(), "maybe".to_string())].into();
        assert_eq!(
            bool_param(&q, "attachment", true).unwrap_err().status(),
            400
        );
        assert!(!bool_param(&[("a".into(), "false".into())].into(), "a", true).unwrap());
        assert_eq!(version_param(Some("-1")).unwrap_err().status(), 400);
        assert_eq!(version_param(Some("2")).unwrap(), 2);
    }

    #[test]
    fn a_save_is_parsed_into_one_intent() {
        let parse = |body: Value| save_request(body, true, false);
        let s3ref = serde_json::json!({"bucket": "b", "key": "temp/o/x/a.txt"});
        let id = Uuid::new_v4();
        assert!(matches!(
            parse(serde_json::json!({"s3ref": s3ref, "_id": id.to_string()})).unwrap().intent,
            SaveIntent::Upload { file: Some(f), .. } if f == id
        ));
        assert!(matches!(
            parse(serde_json::json!({"custom_download_url": "https://x.example/a"}))
                .unwrap()
                .intent,
            SaveIntent::External { file: None, .. }
        ));
        assert!(matches!(
            parse(serde_json::json!({"_id": id.to_string(), "access_control": "public-read"}))
                .unwrap()
                .intent,
            SaveIntent::Metadata { file } if file == id
        ));
        for refused in [
            serde_json::json!({}),
            serde_json::json!({"s3ref": s3ref, "custom_download_url": "https://x.example/a"}),
        ] {
            assert_eq!(parse(refused).unwrap_err().code(), ErrorCode::InvalidBody);
        }
    }
}
