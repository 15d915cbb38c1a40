//! A local stand-in for API Gateway's HTTP API. It serves the very router the Lambda
//! functions serve (`shared::api::router` over every function's table), with thin
//! layers for what API Gateway does in front of them: the JWT authorizer's check and
//! claims, CORS as the template configures it, the public upload route's throttle, and
//! the payload limit. It also serves the console and the OpenAPI document.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, ORIGIN};
use axum::http::{HeaderValue, Method, Response};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use shared::api::{all_routes, behind_dev_authorizer, functions::PUBLIC_UPLOAD, router, Serving};
use shared::ingest::{BackgroundQueue, Fetcher};
use shared::ports::Backend;
use shared::service::FileService;
use shared::{Error, ErrorCode};
use tokio::net::TcpListener;
use tower::ServiceExt;

pub mod assets;
pub mod cors;
mod malformed;
mod throttle;

use jwt::JwtSettings;
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

/// `service` with fetches from a URL run in this process's background, by `worker` (a
/// service over the same storage): the local stand-in for the ingest function.
pub fn with_background_ingest<B: Backend + 'static>(
    service: FileService<B>,
    worker: FileService<B>,
) -> shared::Result<FileService<B>> {
    let fetcher = Fetcher::new(worker.config.url_policy, worker.config.fetch_limits)?;
    Ok(service.with_ingest(Arc::new(BackgroundQueue::start(worker, fetcher))))
}

impl<B: Backend + 'static> LocalApi<B> {
    /// The functions' router, every route behind what API Gateway puts in front of it.
    pub fn router(self) -> (Router, Timeouts) {
        let throttle = self.public_upload_throttle.map(Arc::new);
        let org_claim = self.service.config.org_claim.clone();
        let routes = all_routes::<B>().into_iter().map(|(_, route)| route);
        let routes = behind_dev_authorizer(routes, self.jwt, org_claim).map(|mut route| {
            if let (Some(throttle), PUBLIC_UPLOAD) = (&throttle, route.path) {
                route.handler = route
                    .handler
                    .route_layer(middleware::from_fn_with_state(throttle.clone(), throttled));
            }
            route
        });
        (
            router(routes, Arc::new(self.service), Serving::WholeApi),
            self.timeouts,
        )
    }
}

/// The route's throttle, as `RouteSettings` sets it: 429 past its rate.
async fn throttled(
    State(throttle): State<Arc<Throttle>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    if throttle.admit() {
        next.run(request).await
    } else {
        Error::new(
            ErrorCode::RateLimited,
            "too many public uploads; try again shortly",
        )
        .into_response()
    }
}

/// Accepts connections until the task is dropped.
pub async fn serve<B: Backend + 'static>(
    listener: TcpListener,
    api: LocalApi<B>,
) -> std::io::Result<()> {
    let (app, timeouts) = api.router();
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = tower::service_fn(move |request: hyper::Request<Incoming>| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(edge(app, timeouts, request).await) }
            });
            let io = TokioIo::new(malformed::JsonErrors::new(stream));
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header)
                .serve_connection(io, TowerToHyperService::new(service))
                .await
            {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}

/// API Gateway's edge: preflights, the payload limit (the body read whole, as the
/// function gets it), CORS headers; the console's files beside the API.
async fn edge(
    app: Router,
    timeouts: Timeouts,
    request: hyper::Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let origin = request.headers().get(ORIGIN).cloned();
    let mut response = if method == Method::OPTIONS {
        cors::preflight()
    } else {
        route(app, timeouts, request).await
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

async fn route(
    app: Router,
    timeouts: Timeouts,
    request: hyper::Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET || parts.method == Method::HEAD {
        if let Some(asset) = assets::find(parts.uri.path()) {
            return asset_response(asset, parts.method == Method::HEAD);
        }
    }
    let too_large = || {
        close(
            Error::too_large(format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes"
            ))
            .into_response(),
        )
    };
    // Over API Gateway's limit: refused on its declared length, before a byte is read.
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    // Within it, the body is read whole before the function sees it, as API Gateway
    // does: a function's own refusal (a direct upload over its limit) reaches a client
    // that sends the whole body before it reads an answer.
    let read = tokio::time::timeout(timeouts.body, Limited::new(body, MAX_BODY_BYTES).collect());
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(_)) => {
            return close(
                Error::new(
                    ErrorCode::InvalidRequest,
                    "the request body could not be read",
                )
                .into_response(),
            )
        }
        Err(_) => {
            return close(
                Error::new(
                    ErrorCode::RequestTimeout,
                    "the request body did not arrive in time",
                )
                .into_response(),
            )
        }
    };
    let request = shared::api::without_trailing_slash(Request::from_parts(parts, Body::from(body)));
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A file of the console, or the OpenAPI document.
fn asset_response(asset: &assets::Asset, head: bool) -> Response<Body> {
    let body = if head { &[][..] } else { asset.body };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
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

/// Asks hyper to close the connection after this answer: the rest of a refused body
/// is not read.
fn close(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        HeaderValue::from_static("close"),
    );
    response
}
