//! `multipart/form-data` bodies (RFC 7578), already whole in memory: a direct upload is
//! at most a few MiB, so the parts are slices of the body, never copies.

use crate::domain::{filename_from_disposition, header_param};
use crate::error::{Error, ErrorCode, Result};

/// One part of a form.
#[derive(Debug, PartialEq, Eq)]
pub struct FormPart<'a> {
    pub name: String,
    /// The part's `filename`, when it is a valid filename.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: &'a [u8],
}

/// Most parts a form may have.
const MAX_PARTS: usize = 100;

fn invalid(message: &'static str) -> Error {
    Error::new(ErrorCode::InvalidBody, message)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The parts of `body`, delimited by `boundary` (the `boundary` parameter of its
/// `Content-Type`).
pub fn parse_form<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<FormPart<'a>>> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(invalid("the form's boundary must be 1 to 70 characters"));
    }
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)
        .ok_or_else(|| invalid("the form has no part (its boundary never occurs)"))?
        + delimiter.len();
    let mut parts = Vec::new();
    loop {
        match body.get(at..at + 2) {
            Some(b"--") => return Ok(parts),
            Some(b"\r\n") => at += 2,
            _ => return Err(invalid("the form is malformed after a boundary")),
        }
        if parts.len() == MAX_PARTS {
            return Err(invalid("the form has too many parts (at most 100)"));
        }
        let head_end = find(body, b"\r\n\r\n", at)
            .ok_or_else(|| invalid("a form part's headers do not end"))?;
        let head = std::str::from_utf8(&body[at..head_end])
            .map_err(|_| invalid("a form part's headers are not UTF-8"))?;
        let content_start = head_end + 4;
        let content_end = find(body, next_delimiter.as_bytes(), content_start - 2)
            .filter(|end| *end >= content_start)
            .or_else(|| {
                // An empty part: the delimiter follows the blank line at once.
                find(body, next_delimiter.as_bytes(), head_end).filter(|e| *e == head_end)
            })
            .ok_or_else(|| invalid("a form part does not end with the boundary"))?;
        let mut part = FormPart {
            name: String::new(),
            filename: None,
            content_type: None,
            body: body.get(content_start..content_end).unwrap_or_default(),
        };
        let mut named = false;
        for line in head.split("\r\n") {
            let Some((header, value)) = line.split_once(':') else {
                return Err(invalid("a form part has a malformed header"));
            };
            let value = value.trim();
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                if let Some(name) = header_param(value, "name") {
                    part.name = name;
                    named = true;
                }
                part.filename = filename_from_disposition(value);
            } else if header.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(value.to_owned());
            }
        }
        if !named {
            return Err(invalid(
                "every form part needs a Content-Disposition with a name",
            ));
        }
        parts.push(part);
        at = content_end + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_with_their_names_files_and_types() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"access_control\"\r\n\r\npublic-read\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--Xy\r\n\xff\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--XyZ--\r\n";
        let parts = parse_form(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "access_control");
        assert_eq!(parts[0].body, b"public-read");
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].filename.as_deref(), Some("a \"q\".bin"));
        assert_eq!(
            parts[1].content_type.as_deref(),
            Some("application/octet-stream")
        );
        // Bytes that look like a boundary's start, CRLFs and non-UTF-8 stay as they are.
        assert_eq!(parts[1].body, b"\x00\x01\r\n--Xy\r\n\xff");
        assert_eq!(parts[2].body, b"");
    }

    #[test]
    fn malformed_forms_are_refused_not_guessed() {
        for (body, boundary) in [
            (&b"no boundary here"[..], "b"),
            (
                b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nnever ends",
                "b",
            ),
            (b"--b\r\nX-No-Name: 1\r\n\r\nv\r\n--b--", "b"),
            (b"--b\r\nContent-Disposition: form-data; name=\"x\"", "b"),
            (b"--bgarbage", "b"),
            (b"--b--", ""),
        ] {
            let refused = parse_form(body, boundary).unwrap_err();
            assert_eq!(refused.code(), ErrorCode::InvalidBody, "{body:?}");
        }
        assert_eq!(parse_form(b"--b--\r\n", "b").unwrap(), vec![]);
    }

    /// The fuzz run (`FUZZ_ITERATIONS`, `make fuzz` for a long one): mutated forms end
    /// in parts that lie inside the body or in a 400 `invalid_body`, never a panic.
    #[test]
    fn fuzz_the_form_parser() {
        let corpus: Vec<Vec<u8>> = vec![
            b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"access_control\"\r\n\r\npublic-read\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--Xy\r\n\xff\r\n--XyZ--\r\n".to_vec(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\na,b\r\n--XyZ--".to_vec(),
        ];
        let mut parsed = 0;
        for (i, input) in fuzzing::fuzz_inputs(&corpus, 20_000).enumerate() {
            let outcome = std::panic::catch_unwind(|| match parse_form(&input, "XyZ") {
                Ok(parts) => {
                    let range = input.as_ptr_range();
                    for part in &parts {
                        let inside = part.body.is_empty()
                            || (range.contains(&part.body.as_ptr())
                                && part.body.len() <= input.len());
                        assert!(inside, "a part outside the body");
                    }
                    true
                }
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::InvalidBody);
                    false
                }
            });
            match outcome {
                Ok(true) => parsed += 1,
                Ok(false) => {}
                Err(_) => panic!("input {i} panicked: {:?}", String::from_utf8_lossy(&input)),
            }
        }
        assert!(parsed > 0, "some mutants still parse");
    }
}
