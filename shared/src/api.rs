//! HTTP in and out: the route table, request parsing, and JSON responses.
//!
//! Every function binary and the local API call [`handle`]; API Gateway (or the
//! local API) has already checked the token and put its claims in the request context.

use std::collections::HashMap;

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, LOCATION, RETRY_AFTER};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::domain::{AccessControl, OrgId, S3Ref};
use crate::error::{Error, Result};
use crate::ports::{FileRepository, ObjectStore};
use crate::service::{Caller, DownloadItem, FileService, SaveRequest, UploadRequest};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    UploadFile,
    UploadFilePublic,
    SaveFile,
    GetFile,
    DownloadFile,
    DownloadFiles,
    DeleteFile,
    VerifyCustomUrl,
    PublicFile,
}

/// One row of the API: what API Gateway routes, and to which function.
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

const fn route(
    method: &'static str,
    path: &'static str,
    function: Function,
    operation: Operation,
    public: bool,
) -> RouteDef {
    RouteDef {
        method,
        path,
        function,
        operation,
        public,
    }
}

/// The routes `template.yaml` declares, row for row (a test holds them together).
pub const ROUTES: &[RouteDef] = &[
    route(
        "POST",
        "/v2/files/upload",
        Function::Upload,
        Operation::UploadFile,
        false,
    ),
    route(
        "POST",
        "/v1/files/public/upload",
        Function::Upload,
        Operation::UploadFilePublic,
        true,
    ),
    route(
        "POST",
        "/v2/files",
        Function::Save,
        Operation::SaveFile,
        false,
    ),
    route(
        "GET",
        "/v2/files/{id}",
        Function::Get,
        Operation::GetFile,
        false,
    ),
    route(
        "GET",
        "/v1/files/{id}/download",
        Function::Download,
        Operation::DownloadFile,
        false,
    ),
    route(
        "POST",
        "/v1/files:downloadFiles",
        Function::Download,
        Operation::DownloadFiles,
        false,
    ),
    route(
        "DELETE",
        "/v2/files/{id}",
        Function::Delete,
        Operation::DeleteFile,
        false,
    ),
    route(
        "POST",
        "/v1/files/download:verify",
        Function::VerifyCustomUrl,
        Operation::VerifyCustomUrl,
        false,
    ),
    route(
        "GET",
        "/v1/files/public/{id}",
        Function::Download,
        Operation::PublicFile,
        true,
    ),
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
        Err(Error::MethodNotAllowed(format!(
            "{method} is not served on {path}"
        )))
    } else {
        Err(Error::not_found(format!("no route for {method} {path}")))
    }
}

/// Serves one request for `function`; never fails: errors become JSON answers.
pub async fn handle<S: ObjectStore, R: FileRepository>(
    service: &FileService<S, R>,
    function: Function,
    request: Request,
) -> Response<Body> {
    match dispatch(service, function, &request).await {
        Ok(Reply::Redirect(location)) => redirect(&location),
        Ok(Reply::Json(status, body)) => respond(Ok((status, body))),
        Err(e) => respond(Err(e)),
    }
}

/// What an operation answers: JSON, or (for `public_url`) a redirect to the bytes.
enum Reply {
    Json(StatusCode, Value),
    Redirect(String),
}

async fn dispatch<S: ObjectStore, R: FileRepository>(
    service: &FileService<S, R>,
    function: Function,
    request: &Request,
) -> Result<Reply> {
    let path = request_path(request);
    let (def, id) = find_route(request.method().as_str(), path)?;
    if def.function != function {
        return Err(Error::not_found(format!(
            "{} {} is not served by the {} function",
            def.method,
            def.path,
            function.name()
        )));
    }
    // The two public routes: no caller.
    match def.operation {
        Operation::UploadFilePublic => {
            let body = upload_request(&json_body(request)?)?;
            let answer = service.upload(None, body).await?;
            return Ok(Reply::Json(StatusCode::CREATED, answer));
        }
        Operation::PublicFile => {
            return Ok(Reply::Redirect(service.public_file(file_id(id)?).await?));
        }
        _ => {}
    }
    let caller = caller(service, request)?;
    authenticated(service, &caller, def.operation, id, request)
        .await
        .map(|(status, body)| Reply::Json(status, body))
}

async fn authenticated<S: ObjectStore, R: FileRepository>(
    service: &FileService<S, R>,
    caller: &Caller,
    operation: Operation,
    id: Option<&str>,
    request: &Request,
) -> Result<(StatusCode, Value)> {
    let query = query_params(request);
    match operation {
        Operation::UploadFile => {
            let body = upload_request(&json_body(request)?)?;
            Ok((
                StatusCode::CREATED,
                service.upload(Some(&caller.org), body).await?,
            ))
        }
        Operation::SaveFile => {
            let mut body = save_request(json_body(request)?)?;
            body.delete_temp_file = bool_param(&query, "delete_temp_file", true)?;
            Ok((StatusCode::CREATED, service.save(caller, body).await?))
        }
        Operation::GetFile => Ok((StatusCode::OK, service.get(caller, file_id(id)?).await?)),
        Operation::DownloadFile => {
            let version = version_param(query.get("version").map(String::as_str))?;
            let attachment = bool_param(&query, "attachment", true)?;
            let answer = service
                .download(caller, file_id(id)?, version, attachment)
                .await?;
            Ok((StatusCode::OK, answer))
        }
        Operation::DownloadFiles => {
            let items = download_items(&json_body(request)?)?;
            Ok((StatusCode::OK, service.download_many(caller, &items).await?))
        }
        Operation::DeleteFile => Ok((StatusCode::OK, service.delete(caller, file_id(id)?).await?)),
        Operation::VerifyCustomUrl => {
            let body = json_body(request)?;
            let url = required_string(object(&body)?, "custom_download_url")?;
            Ok((StatusCode::OK, service.verify_custom_url(caller, &url)?))
        }
        Operation::UploadFilePublic | Operation::PublicFile => {
            unreachable!("answered above")
        }
    }
}

/// The path without an API Gateway stage prefix.
fn request_path(request: &Request) -> &str {
    let raw = request.raw_http_path();
    if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    }
}

/// The organisation from the authorizer's claims; 401 without one.
fn caller<S, R>(service: &FileService<S, R>, request: &Request) -> Result<Caller> {
    let claim = &service.config.org_claim;
    let org = request
        .request_context_ref()
        .and_then(|context| context.authorizer())
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .and_then(|jwt| jwt.claims.get(claim))
        .ok_or_else(|| {
            Error::Unauthorized(format!(
                "a bearer token with an organisation claim ({claim}) is required"
            ))
        })?;
    Ok(Caller {
        org: OrgId::parse(org)?,
        base_url: base_url(request),
    })
}

/// `scheme://host` the client used, for links back to this API.
fn base_url(request: &Request) -> String {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header(HOST.as_str())
        .or_else(|| {
            request.request_context_ref().and_then(|c| match c {
                lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.domain_name.clone(),
                _ => None,
            })
        })
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or_else(|| "localhost".into());
    let scheme = match header("x-forwarded-proto").as_deref() {
        Some("http") => "http",
        _ => "https",
    };
    format!("{scheme}://{host}")
}

fn query_params(request: &Request) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn json_body(request: &Request) -> Result<Value> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid(
            "invalid_body",
            "the request body must be JSON",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

fn object(value: &Value) -> Result<&Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::invalid("invalid_body", "the request body must be a JSON object"))
}

/// An optional string field: absent and null are `None`, anything but a string is refused.
fn optional_string(body: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid(
            "invalid_body",
            format!("{name} must be a string"),
        )),
    }
}

fn required_string(body: &Map<String, Value>, name: &str) -> Result<String> {
    optional_string(body, name)?
        .ok_or_else(|| Error::invalid("invalid_body", format!("{name} is required")))
}

fn upload_request(body: &Value) -> Result<UploadRequest> {
    let body = object(body)?;
    // Accepted for compatibility with epilot clients; nothing depends on them yet.
    optional_string(body, "index_tag")?;
    if !matches!(
        body.get("metadata"),
        None | Some(Value::Null) | Some(Value::Object(_))
    ) {
        return Err(Error::invalid("invalid_body", "metadata must be an object"));
    }
    Ok(UploadRequest {
        filename: required_string(body, "filename")?,
        mime_type: optional_string(body, "mime_type")?,
        size_bytes: match body.get("size_bytes") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                Error::invalid("invalid_body", "size_bytes must be a whole number of bytes")
            })?),
        },
    })
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
];

fn save_request(body: Value) -> Result<SaveRequest> {
    let Value::Object(mut body) = body else {
        return Err(Error::invalid(
            "invalid_body",
            "the request body must be a JSON object",
        ));
    };
    let s3ref = match body.remove("s3ref") {
        None | Some(Value::Null) => None,
        Some(Value::Object(r)) => Some(S3Ref {
            bucket: required_string(&r, "bucket")?,
            key: required_string(&r, "key")?,
        }),
        Some(_) => {
            return Err(Error::invalid(
                "invalid_body",
                "s3ref must be an object {bucket, key}",
            ))
        }
    };
    let request = SaveRequest {
        s3ref,
        custom_download_url: optional_string(&body, "custom_download_url")?,
        id: optional_string(&body, "_id")?
            .map(|id| file_id(Some(&id)))
            .transpose()?,
        filename: optional_string(&body, "filename")?,
        mime_type: optional_string(&body, "mime_type")?,
        access_control: optional_string(&body, "access_control")?
            .map(|a| AccessControl::parse(&a))
            .transpose()?,
        attributes: Map::new(),
        delete_temp_file: true,
    };
    for known in [
        "custom_download_url",
        "_id",
        "filename",
        "mime_type",
        "access_control",
    ] {
        body.remove(known);
    }
    // Clients that save an entity they fetched send its computed fields back: the
    // service computes them itself, so they are dropped rather than refused.
    for computed in COMPUTED_FIELDS {
        body.remove(*computed);
    }
    if body.contains_key("source_url") {
        return Err(Error::invalid(
            "unsupported",
            "source_url (upload from a URL) is not supported yet",
        ));
    }
    Ok(SaveRequest {
        attributes: body,
        ..request
    })
}

fn download_items(body: &Value) -> Result<Vec<DownloadItem>> {
    let items = body.as_array().ok_or_else(|| {
        Error::invalid(
            "invalid_body",
            "the request body must be a JSON array of {id, version?}",
        )
    })?;
    items
        .iter()
        .map(|item| {
            let item = object(item)?;
            let id = required_string(item, "id")?;
            let version = match item.get("version") {
                None | Some(Value::Null) => 0,
                Some(Value::Number(n)) => version_param(Some(&n.to_string()))?,
                Some(_) => {
                    return Err(Error::invalid(
                        "invalid_version",
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

fn file_id(raw: Option<&str>) -> Result<Uuid> {
    raw.and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Error::invalid("invalid_id", "the file id must be a UUID"))
}

/// `version`: 0 (or absent) is the latest, 1 the first.
fn version_param(raw: Option<&str>) -> Result<u32> {
    match raw {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            Error::invalid(
                "invalid_version",
                "version must be a whole number, 0 for the latest",
            )
        }),
    }
}

fn bool_param(query: &HashMap<String, String>, name: &str, default: bool) -> Result<bool> {
    match query.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(Error::invalid(
            "invalid_query",
            format!("{name} must be true or false"),
        )),
    }
}

/// The one place a result becomes an HTTP response.
pub fn respond(result: Result<(StatusCode, Value)>) -> Response<Body> {
    match result {
        Ok((status, body)) => json_response(status, &body),
        Err(err) => error_response(&err),
    }
}

pub fn error_response(err: &Error) -> Response<Body> {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
    } else {
        tracing::info!(error = %err, "request refused");
    }
    let mut body = json!({ "error": err.code(), "message": err.public_message() });
    if err.is_retryable() {
        body["retryable"] = Value::Bool(true);
    }
    let mut response = json_response(status, &body);
    if err.is_retryable() {
        response.headers_mut().insert(
            RETRY_AFTER,
            lambda_http::http::HeaderValue::from_static("1"),
        );
    }
    response
}

/// 302 to a short-lived URL. Not cacheable: a file made private must stop being served at once.
fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    match lambda_http::http::HeaderValue::from_str(location) {
        Ok(value) => headers.insert(LOCATION, value),
        Err(e) => return error_response(&Error::upstream("redirect location", e)),
    };
    headers.insert(
        CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("no-store"),
    );
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("no-store"),
    );
    response
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
        assert_eq!(find_route("GET", "/v2/files//").unwrap_err().status(), 405);
    }

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
}
