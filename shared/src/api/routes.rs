//! The route table: what API Gateway routes, to which function, with or without a token.

use crate::error::{Error, ErrorCode, Result};

/// The Lambda functions, by the binary name `template.yaml` gives each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Upload,
    Save,
    Get,
    Download,
    Delete,
    VerifyCustomUrl,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Upload => "upload",
            Function::Save => "save",
            Function::Get => "get",
            Function::Download => "download",
            Function::Delete => "delete",
            Function::VerifyCustomUrl => "verify-custom-url",
        }
    }
}

/// One operation of the API; `handlers` has one arm for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    UploadFile,
    UploadFilePublic,
    SaveFile,
    GetFile,
    DownloadFile,
    DownloadFiles,
    DeleteFile,
    VerifyCustomDownloadUrl,
    PublicFile,
    StartMultipartUpload,
    SignMultipartParts,
    GetMultipartUpload,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListFiles,
    CountFiles,
    DeleteFiles,
    GetUsage,
}

/// One row of the API.
#[derive(Clone, Copy, Debug)]
pub struct RouteDef {
    pub method: &'static str,
    /// `{id}` stands for one path segment.
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
    /// Served without a token.
    pub public: bool,
}

const fn token(method: &'static str, path: &'static str, f: Function, o: Operation) -> RouteDef {
    RouteDef {
        method,
        path,
        function: f,
        operation: o,
        public: false,
    }
}

const fn public(method: &'static str, path: &'static str, f: Function, o: Operation) -> RouteDef {
    RouteDef {
        public: true,
        ..token(method, path, f, o)
    }
}

use Function as F;
use Operation as O;

/// The routes `template.yaml` declares, row for row (a test holds them together).
#[rustfmt::skip]
pub const ROUTES: &[RouteDef] = &[
    token("POST",   "/v2/files/upload",          F::Upload,          O::UploadFile),
    public("POST",  "/v1/files/public/upload",   F::Upload,          O::UploadFilePublic),
    token("POST",   "/v2/files",                 F::Save,            O::SaveFile),
    token("GET",    "/v2/files/{id}",            F::Get,             O::GetFile),
    token("GET",    "/v1/files/{id}/download",   F::Download,        O::DownloadFile),
    token("POST",   "/v1/files:downloadFiles",   F::Download,        O::DownloadFiles),
    token("DELETE", "/v2/files/{id}",            F::Delete,          O::DeleteFile),
    token("POST",   "/v1/files/download:verify", F::VerifyCustomUrl, O::VerifyCustomDownloadUrl),
    public("GET",   "/v1/files/public/{id}",     F::Download,        O::PublicFile),
    token("POST",   "/v2/files/uploads",                F::Upload,   O::StartMultipartUpload),
    token("POST",   "/v2/files/uploads/{id}/parts",     F::Upload,   O::SignMultipartParts),
    token("GET",    "/v2/files/uploads/{id}",           F::Upload,   O::GetMultipartUpload),
    token("POST",   "/v2/files/uploads/{id}/complete",  F::Upload,   O::CompleteMultipartUpload),
    token("DELETE", "/v2/files/uploads/{id}",           F::Upload,   O::AbortMultipartUpload),
    token("GET",    "/v2/files",                 F::Get,             O::ListFiles),
    token("GET",    "/v2/files:count",           F::Get,             O::CountFiles),
    token("DELETE", "/v2/files",                 F::Delete,          O::DeleteFiles),
    token("GET",    "/v2/usage",                 F::Get,             O::GetUsage),
];

/// Matches a path against a template; the `{id}` segment is returned if there is one.
fn match_path<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut id = None;
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(segment)) if !segment.is_empty() => id = Some(segment),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// The route a request is for: 404 for an unknown path, 405 for a known path with another method.
pub fn find_route<'p>(method: &str, path: &'p str) -> Result<(&'static RouteDef, Option<&'p str>)> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut path_known = false;
    for def in ROUTES {
        if let Some(id) = match_path(def.path, path) {
            if def.method.eq_ignore_ascii_case(method) {
                return Ok((def, id));
            }
            path_known = true;
        }
    }
    if path_known {
        Err(Error::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not served on {path}"),
        ))
    } else {
        Err(Error::not_found(format!("no route for {method} {path}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_method_and_path() {
        let (def, id) = find_route("GET", "/v2/files/abc").unwrap();
        assert_eq!((def.operation, id), (Operation::GetFile, Some("abc")));
        let (def, _) = find_route("POST", "/v1/files:downloadFiles").unwrap();
        assert_eq!(def.function, Function::Download);
        let (def, id) = find_route("DELETE", "/v2/files/abc/").unwrap();
        assert_eq!((def.operation, id), (Operation::DeleteFile, Some("abc")));
        assert_eq!(
            find_route("PUT", "/v2/files/abc").unwrap_err().status(),
            405
        );
        assert_eq!(find_route("GET", "/v2/nothing").unwrap_err().status(), 404);
        assert_eq!(find_route("PUT", "/v2/files").unwrap_err().status(), 405);
        let (def, _) = find_route("GET", "/v2/files:count").unwrap();
        assert_eq!(def.operation, Operation::CountFiles);
        let (def, id) = find_route("POST", "/v2/files/uploads/u-1/complete").unwrap();
        assert_eq!(
            (def.operation, id),
            (Operation::CompleteMultipartUpload, Some("u-1"))
        );
        let (def, id) = find_route("DELETE", "/v2/files/uploads/u-1").unwrap();
        assert_eq!(
            (def.operation, id),
            (Operation::AbortMultipartUpload, Some("u-1"))
        );
    }
}
