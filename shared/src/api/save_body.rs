//! saveFileV2's (and saveFile's) JSON body: which kind of save it is, and the fields it
//! sets. The object is walked by hand where it must be: whatever a client sends beyond
//! the known fields becomes the file's free attributes. The array body (versions of one
//! file) is typed.

use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::request::file_id;
use crate::domain::{AccessControl, S3Ref};
use crate::error::{Error, ErrorCode, Result};
use crate::ingest::fetch::check_source_header;
use crate::service::{
    FileFields, SaveIntent, SaveRequest, SourceMethod, SourceRequest, VersionUpload,
    MAX_TTL_SECONDS, MAX_VERSIONS_PER_SAVE, MIN_TTL_SECONDS,
};

fn invalid_body(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::InvalidBody, message)
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

/// One item of the array body: a version of one file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionItem {
    #[serde(rename = "_id")]
    id: Option<String>,
    file_entity_id: Option<String>,
    s3ref: Option<S3Ref>,
    filename: Option<String>,
    mime_type: Option<String>,
    access_control: Option<String>,
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
        let item: VersionItem = serde_json::from_value(item).map_err(|e| {
            invalid_body(format!(
                "each item is an object {{_id, s3ref, filename?, mime_type?}}: {e}"
            ))
        })?;
        let target = match (item.id, item.file_entity_id) {
            (Some(id), Some(alias)) if id != alias => {
                return Err(invalid_body("_id and file_entity_id name different files"))
            }
            (Some(id), _) | (None, Some(id)) => file_id(Some(&id))?,
            (None, None) => {
                return Err(invalid_body(
                    "each item names its file: _id or file_entity_id",
                ))
            }
        };
        if file.is_some_and(|f| f != target) {
            return Err(invalid_body("all items must name the same file"));
        }
        file = Some(target);
        let s3ref = item
            .s3ref
            .ok_or_else(|| invalid_body("each item needs an s3ref"))?;
        if uploads.iter().any(|u| u.s3ref == s3ref) {
            return Err(invalid_body("an upload can become one version only"));
        }
        if let Some(name) = &item.filename {
            crate::domain::validate_filename(name)?;
        }
        if let Some(mime) = &item.mime_type {
            crate::domain::validate_mime_type(mime)?;
        }
        if let Some(access) = &item.access_control {
            AccessControl::parse(access)?;
        }
        uploads.push(VersionUpload {
            s3ref,
            filename: item.filename,
            mime_type: item.mime_type,
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_batch_names_one_file_and_no_unknown_fields() {
        let id = Uuid::new_v4().to_string();
        let item = |key: &str| serde_json::json!({"_id": id, "s3ref": {"bucket": "b", "key": key}});
        let batch = save_request(serde_json::json!([item("a"), item("b")]), true, true).unwrap();
        assert!(
            matches!(batch.intent, SaveIntent::Versions { ref uploads, .. } if uploads.len() == 2)
        );
        let mut unknown = item("a");
        unknown["colour"] = "blue".into();
        for refused in [
            serde_json::json!([unknown]),
            serde_json::json!([item("a"), item("a")]),
            serde_json::json!([5]),
            serde_json::json!([item("a")]),
        ] {
            let version_only = refused != serde_json::json!([item("a")]);
            let err = save_request(refused, true, version_only).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidBody);
        }
    }
}
