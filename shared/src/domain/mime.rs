//! Content types: a guess from the filename, the coarse `type`, and the headers a
//! download carries.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The extension of a filename, lower-cased, without the dot.
fn extension(filename: &str) -> String {
    filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// A MIME type for a filename whose client did not say one.
pub fn guess_mime_type(filename: &str) -> &'static str {
    match extension(filename).as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "heic" => "image/heic",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "rtf" => "application/rtf",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "7z" => "application/x-7z-compressed",
        "rar" => "application/vnd.rar",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The essence of a content type: `type/subtype`, lower case, parameters dropped.
pub fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The coarse file type shown in the entity's `type`, from MIME type and extension.
pub fn file_type(mime_type: &str, filename: &str) -> &'static str {
    let mime = mime_essence(mime_type);
    let ext = extension(filename);
    let (top, sub) = mime.split_once('/').unwrap_or(("", ""));
    let any = |words: &[&str]| words.iter().any(|w| sub.contains(w) || ext == *w);
    if any(&[
        "spreadsheet",
        "excel",
        "xls",
        "xlsx",
        "ods",
        "csv",
        "numbers",
    ]) {
        "spreadsheet"
    } else if any(&["presentation", "powerpoint", "ppt", "pptx", "odp", "key"]) {
        "presentation"
    } else if any(&[
        "zip",
        "x-tar",
        "gzip",
        "x-7z-compressed",
        "rar",
        "x-bzip2",
        "tar",
        "gz",
        "7z",
        "tgz",
    ]) {
        "archive"
    } else if top == "font" || any(&["font", "ttf", "otf", "woff", "woff2"]) {
        "font"
    } else if any(&[
        "pdf",
        "msword",
        "wordprocessing",
        "opendocument.text",
        "rtf",
        "doc",
        "docx",
        "odt",
    ]) {
        "document"
    } else if top == "image" {
        "image"
    } else if top == "video" {
        "video"
    } else if top == "audio" {
        "audio"
    } else if top == "text" {
        "text"
    } else if top == "application" && sub != "octet-stream" {
        "application"
    } else {
        "unknown"
    }
}

/// Characters left as they are in an RFC 5987 `filename*` value.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` for a download: an ASCII fallback plus the exact UTF-8 name.
pub fn content_disposition(filename: &str, attachment: bool) -> String {
    let kind = if attachment { "attachment" } else { "inline" };
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    let exact = utf8_percent_encode(filename, ATTR_CHAR);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

/// The filename a `Content-Disposition` header gives (`filename*=UTF-8''…` before
/// `filename="…"`), if it is a valid filename; the last path segment only.
pub fn filename_from_disposition(header: &str) -> Option<String> {
    let extended = header_param(header, "filename*").and_then(|value| {
        let (charset, rest) = value.split_once('\'')?;
        let (_, encoded) = rest.split_once('\'')?;
        charset
            .eq_ignore_ascii_case("utf-8")
            .then(|| percent_encoding::percent_decode_str(encoded))?
            .decode_utf8()
            .ok()
            .map(|d| d.into_owned())
    });
    extended
        .or_else(|| header_param(header, "filename"))
        .map(|name| {
            name.rsplit(['/', '\\'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|name| super::validate_filename(name).is_ok())
}

/// A parameter of a header such as `Content-Disposition` or `Content-Type`
/// (`name=value` or `name="quoted \"value\""`), its name matched without case.
pub fn header_param(header: &str, name: &str) -> Option<String> {
    split_params(header).into_iter().skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let value = value.trim();
        Some(
            match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(quoted) => {
                    let mut out = String::with_capacity(quoted.len());
                    let mut chars = quoted.chars();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => out.extend(chars.next()),
                            c => out.push(c),
                        }
                    }
                    out
                }
                None => value.to_owned(),
            },
        )
    })
}

/// A header's `;`-separated parts, with `;` inside quotes kept.
fn split_params(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_read_from_content_disposition() {
        let read = filename_from_disposition;
        assert_eq!(
            read("attachment; filename=\"a b.pdf\"").as_deref(),
            Some("a b.pdf")
        );
        assert_eq!(
            read("inline; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(
            read("attachment; filename=\"fallback.txt\"; filename*=UTF-8''%C3%BCber%20x.txt")
                .as_deref(),
            Some("über x.txt")
        );
        assert_eq!(
            read("attachment; filename=\"a;b.txt\"").as_deref(),
            Some("a;b.txt")
        );
        assert_eq!(
            read("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(read("attachment").as_deref(), None);
        assert_eq!(read("attachment; filename=\"\"").as_deref(), None);
        // The round trip with what downloads send.
        assert_eq!(
            read(&content_disposition("Ünïcode \"q\".txt", true)).as_deref(),
            Some("Ünïcode \"q\".txt")
        );
    }

    #[test]
    fn types_come_from_mime_and_extension() {
        assert_eq!(file_type("application/pdf", "x.pdf"), "document");
        assert_eq!(file_type("image/png", "x.png"), "image");
        assert_eq!(file_type("text/csv", "x.csv"), "spreadsheet");
        assert_eq!(
            file_type("application/octet-stream", "deck.pptx"),
            "presentation"
        );
        assert_eq!(file_type("application/zip", "x.zip"), "archive");
        assert_eq!(file_type("text/plain", "x.txt"), "text");
        assert_eq!(file_type("application/octet-stream", "blob"), "unknown");
        assert_eq!(file_type("application/json", "x.json"), "application");
        assert_eq!(file_type("font/woff2", "x.woff2"), "font");
    }

    #[test]
    fn content_disposition_keeps_the_exact_name_and_a_safe_fallback() {
        let header = content_disposition("Q3 \"final\" Übersicht.pdf", true);
        assert_eq!(
            header,
            "attachment; filename=\"Q3 _final_ _bersicht.pdf\"; filename*=UTF-8''Q3%20%22final%22%20%C3%9Cbersicht.pdf"
        );
    }
}
