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
    Preview,
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
            Function::Preview => "preview",
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
    UploadFileV1,
    SaveFileV1,
    DownloadS3File,
    GetSession,
    DeleteSession,
    GeneratePublicLink,
    ListPublicLinks,
    AccessPublicLink,
    RevokePublicLink,
    SignUrls,
    FileContent,
    ListVersions,
    RestoreVersion,
    DeleteVersion,
    PreviewFile,
    PreviewS3File,
    PreviewS3FileGet,
    PreviewPublicFile,
}

/// How a route's caller shows who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// A bearer token, checked by API Gateway's JWT authorizer.
    Token,
    /// A bearer token or the session cookie `token` (getSession), for `<img src>` and
    /// links a browser follows. API Gateway's JWT authorizer reads only a header, so on
    /// AWS these routes have none and the function checks the token itself.
    TokenOrCookie,
    /// Nobody in particular.
    Public,
}

/// One row of the API.
#[derive(Clone, Copy, Debug)]
pub struct RouteDef {
    pub method: &'static str,
    /// `{id}` stands for one path segment.
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
    pub auth: Auth,
}

impl RouteDef {
    /// Served without a token at API Gateway (public, or checked by the function).
    pub fn gateway_open(&self) -> bool {
        self.auth != Auth::Token
    }
}

const fn token(method: &'static str, path: &'static str, f: Function, o: Operation) -> RouteDef {
    RouteDef {
        method,
        path,
        function: f,
        operation: o,
        auth: Auth::Token,
    }
}

const fn public(method: &'static str, path: &'static str, f: Function, o: Operation) -> RouteDef {
    RouteDef {
        auth: Auth::Public,
        ..token(method, path, f, o)
    }
}

const fn cookie(method: &'static str, path: &'static str, f: Function, o: Operation) -> RouteDef {
    RouteDef {
        auth: Auth::TokenOrCookie,
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
    token("POST",   "/v1/files/upload",          F::Upload,          O::UploadFileV1),
    token("POST",   "/v1/files",                 F::Save,            O::SaveFileV1),
    token("POST",   "/v1/files:downloadS3",      F::Download,        O::DownloadS3File),
    token("GET",    "/v1/files/session",         F::Download,        O::GetSession),
    public("DELETE", "/v1/files/session",        F::Download,        O::DeleteSession),
    token("POST",   "/v1/files/{id}/public/links",  F::Download,     O::GeneratePublicLink),
    token("GET",    "/v1/files/{id}/public/links",  F::Download,     O::ListPublicLinks),
    public("GET",   "/v1/files/public/links/{id}/{filename}", F::Download, O::AccessPublicLink),
    token("DELETE", "/v1/files/public/links/{id}",  F::Download,     O::RevokePublicLink),
    token("POST",   "/v2/files:signUrls",        F::Download,        O::SignUrls),
    cookie("GET",   "/v2/files/{id}/content",    F::Download,        O::FileContent),
    token("GET",    "/v2/files/{id}/versions",   F::Get,             O::ListVersions),
    // `{version}` is `<n>:restore`: API Gateway's path variables span whole segments.
    token("POST",   "/v2/files/{id}/versions/{version}", F::Save,    O::RestoreVersion),
    token("DELETE", "/v2/files/{id}/versions/{version}", F::Delete,  O::DeleteVersion),
    cookie("GET",   "/v1/files/{id}/preview",    F::Preview,         O::PreviewFile),
    cookie("POST",  "/v1/files:previewS3",       F::Preview,         O::PreviewS3File),
    cookie("GET",   "/v1/files:previewS3",       F::Preview,         O::PreviewS3FileGet),
    public("GET",   "/v1/files/public/{id}/preview", F::Preview,     O::PreviewPublicFile),
];

/// The variable segments of a matched path, in order (`{id}` first where there is one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathParams<'p> {
    pub id: Option<&'p str>,
    /// The segment after `{id}`: `{filename}` or `{version}`.
    pub second: Option<&'p str>,
}

/// Matches a path against a template; its variable segments are returned.
fn match_path<'p>(template: &str, path: &'p str) -> Option<PathParams<'p>> {
    let mut params = PathParams::default();
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(segment)) if w.starts_with('{') && !segment.is_empty() => {
                match params.id {
                    None => params.id = Some(segment),
                    Some(_) => params.second = Some(segment),
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// The route a request is for: 404 for an unknown path, 405 for a known path with another method.
pub fn find_route<'p>(method: &str, path: &'p str) -> Result<(&'static RouteDef, PathParams<'p>)> {
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
        let (def, params) = find_route("GET", "/v2/files/abc").unwrap();
        assert_eq!(
            (def.operation, params.id),
            (Operation::GetFile, Some("abc"))
        );
        let (def, _) = find_route("POST", "/v1/files:downloadFiles").unwrap();
        assert_eq!(def.function, Function::Download);
        let (def, params) = find_route("DELETE", "/v2/files/abc/").unwrap();
        assert_eq!(
            (def.operation, params.id),
            (Operation::DeleteFile, Some("abc"))
        );
        assert_eq!(
            find_route("PUT", "/v2/files/abc").unwrap_err().status(),
            405
        );
        assert_eq!(find_route("GET", "/v2/nothing").unwrap_err().status(), 404);
        assert_eq!(find_route("PUT", "/v2/files").unwrap_err().status(), 405);
        let (def, _) = find_route("GET", "/v2/files:count").unwrap();
        assert_eq!(def.operation, Operation::CountFiles);
        let (def, params) = find_route("POST", "/v2/files/uploads/u-1/complete").unwrap();
        assert_eq!(
            (def.operation, params.id),
            (Operation::CompleteMultipartUpload, Some("u-1"))
        );
        let (def, params) = find_route("DELETE", "/v2/files/uploads/u-1").unwrap();
        assert_eq!(
            (def.operation, params.id),
            (Operation::AbortMultipartUpload, Some("u-1"))
        );
        let (def, params) = find_route("GET", "/v1/files/public/links/L/a%20b.pdf").unwrap();
        assert_eq!(def.operation, Operation::AccessPublicLink);
        assert_eq!((params.id, params.second), (Some("L"), Some("a%20b.pdf")));
        let (def, params) = find_route("POST", "/v2/files/F/versions/2:restore").unwrap();
        assert_eq!(def.operation, Operation::RestoreVersion);
        assert_eq!((params.id, params.second), (Some("F"), Some("2:restore")));
        let (def, _) = find_route("DELETE", "/v1/files/session").unwrap();
        assert_eq!(def.auth, Auth::Public);
        let (def, params) = find_route("GET", "/v2/files/F/content").unwrap();
        assert_eq!((def.auth, params.id), (Auth::TokenOrCookie, Some("F")));
        let (def, _) = find_route("POST", "/v1/files/upload").unwrap();
        assert_eq!(def.operation, Operation::UploadFileV1);
        let (def, params) = find_route("GET", "/v1/files/F/preview").unwrap();
        assert_eq!(
            (def.function, def.auth, params.id),
            (Function::Preview, Auth::TokenOrCookie, Some("F"))
        );
        let (def, params) = find_route("GET", "/v1/files/public/F/preview").unwrap();
        assert_eq!(
            (def.operation, def.auth, params.id),
            (Operation::PreviewPublicFile, Auth::Public, Some("F"))
        );
        let (def, _) = find_route("POST", "/v1/files:previewS3").unwrap();
        assert_eq!(def.operation, Operation::PreviewS3File);
        assert_eq!(
            find_route("GET", "/v1/files/public/links/L")
                .unwrap_err()
                .status(),
            405
        );
    }
}
