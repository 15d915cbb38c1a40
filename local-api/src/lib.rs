//! A local stand-in for API Gateway's HTTP API: it checks bearer tokens the way
//! the JWT authorizer does, routes each request to the function `template.yaml`
//! routes it to, and runs that function's handler code from `shared`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, ORIGIN};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::json;
use shared::api::{direct, error_response, find_route, handle, Operation};
use shared::ingest::{BackgroundQueue, Fetcher};
use shared::ports::Backend;
use shared::service::FileService;
use shared::{Error, ErrorCode};
use tokio::net::TcpListener;

pub mod assets;
pub mod cors;
mod malformed;
mod throttle;

use jwt::{claims_as_strings, JwtSettings};
pub use shared::auth::jwt;
pub use throttle::Throttle;

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How long a client may take to send a request's head, and then its body: a slow
/// client has its connection closed (a slow body gets a 408 first) instead of
/// holding it forever.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header: Duration,
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

pub struct LocalApi<B> {
    pub service: FileService<B>,
    pub jwt: JwtSettings,
    /// Throttling of the public upload route, as the template sets it for API Gateway.
    pub public_upload_throttle: Option<Throttle>,
    pub timeouts: Timeouts,
}

type HttpResponse = Response<Full<Bytes>>;

/// `service` with fetches from a URL run in this process's background, by `worker` (a
/// service over the same storage): the local stand-in for the ingest function.
pub fn with_background_ingest<B: Backend + 'static>(
    service: FileService<B>,
    worker: FileService<B>,
) -> shared::Result<FileService<B>> {
    let fetcher = Fetcher::new(worker.config.url_policy, worker.config.fetch_limits)?;
    Ok(service.with_ingest(Arc::new(BackgroundQueue::start(worker, fetcher))))
}

/// Accepts connections until the task is dropped.
pub async fn serve<B: Backend + 'static>(
    listener: TcpListener,
    api: Arc<LocalApi<B>>,
) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let api = api.clone();
        let timeouts = api.timeouts;
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(api.respond(request, peer).await) }
            });
            let io = TokioIo::new(malformed::JsonErrors::new(stream));
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header)
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}

impl<B: Backend> LocalApi<B> {
    async fn respond(&self, request: Request<Incoming>, peer: SocketAddr) -> HttpResponse {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let origin = request.headers().get(ORIGIN).cloned();
        let mut response = if method == Method::OPTIONS {
            cors::preflight()
        } else {
            self.route(request, peer).await
        };
        if origin.is_some() {
            cors::allow(&mut response);
        }
        tracing::info!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
        response
    }

    async fn route(&self, request: Request<Incoming>, peer: SocketAddr) -> HttpResponse {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        if parts.method == Method::GET || parts.method == Method::HEAD {
            if let Some(asset) = assets::find(&path) {
                return asset_response(asset, parts.method == Method::HEAD);
            }
        }
        let (def, params) = match find_route(parts.method.as_str(), &path) {
            Ok(found) => found,
            Err(e) => return from_lambda(error_response(&e)),
        };
        if def.operation == Operation::UploadFilePublic
            && self
                .public_upload_throttle
                .as_ref()
                .is_some_and(|t| !t.admit())
        {
            return from_lambda(error_response(&Error::new(
                ErrorCode::RateLimited,
                "too many public uploads; try again shortly",
            )));
        }
        // Routes that take the session cookie have no authorizer on AWS either: their
        // function checks the token (with the development secret here).
        let claims = if def.gateway_open() {
            None
        } else {
            match self.authorize(&parts.headers) {
                Ok(claims) => Some(claims),
                Err(e) => return from_lambda(error_response(&e)),
            }
        };
        let too_large = || {
            from_lambda(error_response(&Error::too_large(format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes"
            ))))
        };
        // Refused on its declared length, before a byte of the body is read.
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return close(too_large());
        }
        // A direct upload over its own limit, likewise (on AWS the function refuses it
        // once API Gateway has passed the body on).
        if def.operation == Operation::SaveFile && direct::is_direct_upload(&parts.headers) {
            let max = self.service.config.direct_upload_max_bytes;
            if let Err(e) = direct::check_declared_length(&parts.headers, max) {
                return close(from_lambda(error_response(&e)));
            }
        }
        let read = tokio::time::timeout(
            self.timeouts.body,
            Limited::new(body, MAX_BODY_BYTES).collect(),
        );
        let body = match read.await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return close(too_large()),
            Ok(Err(_)) => {
                return close(from_lambda(error_response(&Error::new(
                    ErrorCode::InvalidRequest,
                    "the request body could not be read",
                ))))
            }
            Err(_) => {
                return close(from_lambda(error_response(&Error::new(
                    ErrorCode::RequestTimeout,
                    "the request body did not arrive in time",
                ))))
            }
        };
        // What API Gateway reports as the stage's domain; the Host header plays no part.
        let host = LOCAL_DOMAIN;
        let now = now_millis();
        let context = json!({
            "routeKey": format!("{} {}", def.method, def.path),
            "accountId": "000000000000",
            "stage": "$default",
            "requestId": uuid_like(now),
            "apiId": "local",
            "domainName": host,
            "time": shared::time::rfc3339(now),
            "timeEpoch": now,
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": parts.headers.get(hyper::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default(),
            },
            "authorizer": claims.map(|c| json!({ "jwt": { "claims": c, "scopes": null } })),
        });
        let context: RequestContext = match serde_json::from_value(context) {
            Ok(c) => c,
            Err(e) => {
                return from_lambda(error_response(&Error::internal("local request context", e)))
            }
        };
        let uri = format!(
            "http://{host}{}",
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        match uri.parse() {
            Ok(uri) => parts.uri = uri,
            Err(e) => {
                return from_lambda(error_response(&Error::new(
                    ErrorCode::InvalidRequest,
                    e.to_string(),
                )))
            }
        }
        parts
            .headers
            .insert("x-forwarded-proto", HeaderValue::from_static("http"));
        let path_parameters: std::collections::HashMap<String, String> =
            [("id", params.id), ("second", params.second)]
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
                .collect();
        let lambda_request = Request::from_parts(parts, lambda_http::Body::from(body.to_vec()))
            .with_raw_http_path(path.as_str())
            .with_path_parameters(path_parameters)
            .with_request_context(context);
        from_lambda(handle(&self.service, def.function, lambda_request).await)
    }

    /// What API Gateway's JWT authorizer does: a valid bearer token, or 401.
    fn authorize(
        &self,
        headers: &hyper::HeaderMap,
    ) -> Result<std::collections::HashMap<String, String>, Error> {
        let token = shared::api::session::bearer_token(headers).ok_or_else(|| {
            Error::unauthorized("an Authorization: Bearer <token> header is required")
        })?;
        let now_secs = now_millis() as f64 / 1000.0;
        let claims = self
            .jwt
            .verify(token, now_secs, &self.service.config.org_claim)?;
        Ok(claims_as_strings(&claims))
    }
}

/// A file of the console, or the OpenAPI document.
fn asset_response(asset: &assets::Asset, head: bool) -> HttpResponse {
    let body = if head { &[][..] } else { asset.body };
    let mut response = Response::new(Full::new(Bytes::from_static(body)));
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(assets::CONSOLE_CSP),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The domain the local API reports to the handlers, as API Gateway reports its own.
const LOCAL_DOMAIN: &str = "localhost";

/// Asks hyper to close the connection after this answer: the rest of a refused body
/// is not read.
fn close(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn uuid_like(now: i64) -> String {
    format!("local-{now:x}-{:x}", std::process::id())
}

fn from_lambda(response: lambda_http::Response<lambda_http::Body>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
}
