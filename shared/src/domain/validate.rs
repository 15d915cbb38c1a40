//! The rules client-given fields follow before anything is stored.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// Longest filename accepted, in bytes of UTF-8 (S3 keys stop at 1,024).
pub const MAX_FILENAME_BYTES: usize = 255;
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_VALUE_BYTES: usize = 4096;

/// Checks a client-given filename: it becomes the last segment of an S3 key.
pub fn validate_filename(name: &str) -> Result<()> {
    let fail = |message: &'static str| Err(Error::new(ErrorCode::InvalidFilename, message));
    if name.trim().is_empty() {
        return fail("filename must not be empty");
    }
    if name.len() > MAX_FILENAME_BYTES {
        return fail("filename must be at most 255 bytes long");
    }
    if name.contains('/') || name.contains('\\') {
        return fail("filename must not contain '/' or '\\'");
    }
    if name.contains("..") || name == "." {
        return fail("filename must not contain '..' or be '.'");
    }
    if name.chars().any(char::is_control) {
        return fail("filename must not contain control characters");
    }
    Ok(())
}

/// Checks a client-declared SHA-256: base64 of 32 bytes, as S3's `x-amz-checksum-sha256`.
pub fn validate_sha256(field: &str, value: &str) -> Result<()> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value);
    if decoded.is_ok_and(|d| d.len() == 32) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidChecksum,
            format!("{field} must be a SHA-256 in base64 (44 characters), as `openssl dgst -sha256 -binary | base64` prints it"),
        ))
    }
}

/// Checks a MIME type such as `application/pdf` or `text/plain; charset=utf-8`: a
/// `type/subtype` of RFC 9110 tokens, then parameters `; name=value` whose name is a
/// token and whose value is a token or a quoted string, all printable ASCII, at most 255
/// bytes.
pub fn validate_mime_type(mime: &str) -> Result<()> {
    if is_valid_media_type(mime) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidMimeType,
            "mime_type must look like type/subtype, e.g. application/pdf",
        ))
    }
}

/// What a type that comes from outside becomes (a source's `Content-Type` on a fetch,
/// an object's type in S3): itself when it passes [`validate_mime_type`], else
/// `application/octet-stream`. A fetch is not failed for its source's header; a type
/// that is not one is simply not believed.
pub fn media_type_from_outside(raw: &str) -> String {
    let raw = raw.trim();
    if is_valid_media_type(raw) {
        raw.to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

fn is_valid_media_type(mime: &str) -> bool {
    // A type and subtype: RFC 6838's restricted names (no `*`: that is a wildcard).
    fn name(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    }
    // A parameter's name and plain value: RFC 9110 tokens.
    fn token(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    }
    fn quoted(s: &str) -> bool {
        let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
            return false;
        };
        let mut escaped = false;
        for b in inner.bytes() {
            match (b, escaped) {
                (_, true) => escaped = false,
                (b'\\', false) => escaped = true,
                (b'"', false) => return false,
                _ => {}
            }
        }
        !escaped
    }
    if mime.len() > 255 || !mime.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return false;
    }
    let mut parts = mime.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let essence_ok = matches!(essence.split_once('/'), Some((t, s)) if name(t) && name(s));
    // A quoted value may hold `;`: rejoin what the split cut inside quotes.
    let mut parameters: Vec<String> = Vec::new();
    for piece in parts {
        match parameters.last_mut() {
            Some(open) if open.matches('"').count() % 2 == 1 => {
                open.push(';');
                open.push_str(piece);
            }
            _ => parameters.push(piece.to_owned()),
        }
    }
    essence_ok
        && parameters.iter().all(|p| {
            let p = p.trim();
            matches!(p.split_once('='), Some((name, value))
                if token(name) && (token(value) || quoted(value)))
        })
}

/// Fields of the File entity that a client's extra attributes may not replace.
pub const RESERVED_ATTRIBUTES: &[&str] = &[
    "_id",
    "_org",
    "_schema",
    "_title",
    "_created_at",
    "_updated_at",
    "filename",
    "mime_type",
    "type",
    "size_bytes",
    "readable_size",
    "etag",
    "access_control",
    "public_url",
    "s3ref",
    "versions",
    "custom_download_url",
    "source_url",
    "source_method",
    "source_headers",
    "status",
    "status_reason",
    "expires_at",
    "ttl_seconds",
    "checksum_sha256",
    "download_url",
];

/// Most entries, and most bytes of keys and values together, of an upload's metadata
/// (S3 keeps at most 2 KB of user metadata).
pub const MAX_METADATA_ENTRIES: usize = 32;
pub const MAX_METADATA_BYTES: usize = 1536;

/// Checks an upload's `metadata`: keys S3 keeps as they are (lowercase letters, digits,
/// `-`, `_`; not the service's own `sha256`), string values, bounded in size.
pub fn validate_metadata(metadata: &std::collections::BTreeMap<String, String>) -> Result<()> {
    let fail = |message: String| Err(Error::new(ErrorCode::InvalidMetadata, message));
    if metadata.len() > MAX_METADATA_ENTRIES {
        return fail(format!(
            "metadata holds at most {MAX_METADATA_ENTRIES} entries"
        ));
    }
    let mut bytes = 0;
    for (key, value) in metadata {
        let key_ok = (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !key_ok || key == "sha256" {
            return fail(format!(
                "metadata key {key:?}: 1 to 64 lowercase letters, digits, '-' or '_' (not \"sha256\")"
            ));
        }
        if value.chars().any(char::is_control) {
            return fail(format!(
                "metadata value of {key:?} holds a control character"
            ));
        }
        bytes += key.len() + value.len();
    }
    if bytes > MAX_METADATA_BYTES {
        return fail(format!(
            "metadata keys and values hold at most {MAX_METADATA_BYTES} bytes together"
        ));
    }
    Ok(())
}

/// `relations`: the entities a file belongs to, as epilot writes them:
/// `[{entity_id, _schema?, _tags?}]`.
fn validate_relations(value: &Value) -> Result<()> {
    let fail = || {
        Err(Error::new(
            ErrorCode::InvalidAttribute,
            "relations must be a list of {entity_id, _schema?, _tags?} with string values",
        ))
    };
    let Value::Array(relations) = value else {
        return fail();
    };
    for relation in relations {
        let Value::Object(fields) = relation else {
            return fail();
        };
        let id_ok = fields
            .get("entity_id")
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty() && id.len() <= 256);
        let rest_ok = fields.iter().all(|(k, v)| match k.as_str() {
            "entity_id" => true,
            "_schema" => v.is_string(),
            "_tags" => v.as_array().is_some_and(|t| t.iter().all(Value::is_string)),
            _ => false,
        });
        if !id_ok || !rest_ok {
            return fail();
        }
    }
    Ok(())
}

/// Checks the extra attributes of a save: scalar values (or lists of scalars), sane keys.
pub fn validate_attributes(attributes: &Map<String, Value>) -> Result<()> {
    let fail = |message: String| Err(Error::new(ErrorCode::InvalidAttribute, message));
    if attributes.len() > MAX_ATTRIBUTES {
        return fail(format!(
            "at most {MAX_ATTRIBUTES} extra attributes are kept"
        ));
    }
    for (key, value) in attributes {
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key_ok {
            // The name is not echoed: it may hold anything, control characters included.
            return fail(
                "attribute names are 1 to 64 letters, digits, '_' and '-'; one is not".into(),
            );
        }
        if RESERVED_ATTRIBUTES.contains(&key.as_str()) {
            return fail(format!("attribute name \"{key}\" is reserved"));
        }
        let scalar = |v: &Value| {
            matches!(
                v,
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
            )
        };
        if key == "relations" {
            validate_relations(value)?;
        } else if key == "_tags" {
            let tags_ok = match value {
                Value::Array(items) => items.iter().all(Value::is_string),
                _ => false,
            };
            if !tags_ok {
                return fail("_tags must be a list of strings".into());
            }
        }
        let shape_ok = key == "relations"
            || match value {
                Value::Array(items) => items.iter().all(scalar),
                other => scalar(other),
            };
        if !shape_ok {
            return fail(format!(
                "attribute \"{key}\" must be a string, number, boolean or a list of them"
            ));
        }
        if value.to_string().len() > MAX_ATTRIBUTE_VALUE_BYTES {
            return fail(format!(
                "attribute \"{key}\" is longer than {MAX_ATTRIBUTE_VALUE_BYTES} bytes"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_that_would_escape_or_break_a_key_are_refused() {
        for bad in [
            "",
            "   ",
            "a/b.pdf",
            "..",
            "../x",
            "a\\b",
            "x\u{0}y",
            "tab\there",
            ".",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_filename(&"a".repeat(1000)).is_err());
        for good in [
            "example.pdf",
            "Report Q3 \"final\".pdf",
            "Übersicht – 2026.xlsx",
            "日本.txt",
        ] {
            assert!(validate_filename(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn mime_types_are_checked() {
        assert!(validate_mime_type("application/pdf").is_ok());
        assert!(validate_mime_type("text/plain; charset=utf-8").is_ok());
        assert!(validate_mime_type("text/plain;charset=\"utf-8\"").is_ok());
        assert!(validate_mime_type("multipart/mixed; boundary=\"a;b\"").is_ok());
        for bad in [
            "pdf",
            "/",
            "a/",
            "text/plain\r\nX: y",
            "ä/b",
            "text/html; charset",
            "text/html; =utf-8",
            "text/html; charset=utf 8",
            "text/html; charset=\"utf-8",
            "text/html;;",
            "text/html; a=b; <script>=x",
            "image/png, text/html",
        ] {
            assert!(validate_mime_type(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn types_from_outside_are_kept_when_valid_and_replaced_otherwise() {
        assert_eq!(
            media_type_from_outside("application/pdf"),
            "application/pdf"
        );
        assert_eq!(
            media_type_from_outside(" text/csv; charset=utf-8 "),
            "text/csv; charset=utf-8"
        );
        for hostile in [
            "text/html; charset=\"x\r\nSet-Cookie: a=b\"",
            "text/html\u{0}",
            "image/png; name=<svg onload=alert(1)>",
            "not a type",
            "",
        ] {
            assert_eq!(
                media_type_from_outside(hostile),
                "application/octet-stream",
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn attributes_must_be_flat() {
        let ok: Map<String, Value> =
            serde_json::from_str(r#"{"a":"x","b":1,"c":true,"_tags":["x"]}"#).unwrap();
        assert!(validate_attributes(&ok).is_ok());
        let nested: Map<String, Value> = serde_json::from_str(r#"{"a":{"b":1}}"#).unwrap();
        assert!(validate_attributes(&nested).is_err());
        let reserved: Map<String, Value> = serde_json::from_str(r#"{"_org":"other"}"#).unwrap();
        assert!(validate_attributes(&reserved).is_err());
        let related: Map<String, Value> = serde_json::from_str(
            r#"{"relations":[{"entity_id":"e1","_schema":"contact","_tags":["a"]}]}"#,
        )
        .unwrap();
        assert!(validate_attributes(&related).is_ok());
        for bad in [
            r#"{"relations":[{"_schema":"contact"}]}"#,
            r#"{"relations":[{"entity_id":"e1","x":{"y":1}}]}"#,
            r#"{"relations":"e1"}"#,
            r#"{"_tags":["a",1]}"#,
        ] {
            let bad: Map<String, Value> = serde_json::from_str(bad).unwrap();
            assert!(validate_attributes(&bad).is_err(), "{bad:?} accepted");
        }
    }
}
