//! What every HTTP function's `main` runs, and the same path for tests that feed API
//! Gateway's events straight in.

use std::sync::Arc;

use axum::http::Uri;
use axum::Router;
use lambda_http::{run, tracing, Body, Error, Request, Response};
use tower::ServiceExt;

use super::authorizer::behind_dev_authorizer;
use super::functions::Function;
use super::route::{router, Api, Route, Serving};
use crate::ports::Backend;
use crate::service::FileService;

/// Serves `routes` over `service` until Lambda stops the process. The service is built
/// once per cold start, by the caller (configuration and AWS clients, no network calls).
pub async fn serve<B: Backend + 'static>(
    routes: Vec<Route<B>>,
    service: FileService<B>,
) -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = match service.config.dev_tokens.clone() {
        Some(jwt) => {
            tracing::warn!("sam local: this function checks development tokens itself");
            let org_claim = service.config.org_claim.clone();
            let routes = behind_dev_authorizer(routes, jwt, org_claim);
            router(routes, Arc::new(service), Serving::OneFunction)
        }
        None => router(routes, Arc::new(service), Serving::OneFunction),
    };
    run(tower::service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, Error>(app.oneshot(without_trailing_slash(request)).await?) }
    }))
    .await
}

/// One request through `function`'s router over `service`, as Lambda would deliver it
/// (for tests that feed API Gateway's events in; a router is built per call).
pub async fn handle<B: Backend + 'static>(
    service: &Api<B>,
    function: Function,
    request: Request,
) -> Response<Body> {
    handle_with(
        &router(function.routes(), service.clone(), Serving::OneFunction),
        request,
    )
    .await
}

/// One request through `app`, as the Lambda runtime hands it over and takes the answer
/// back (the body whole, as API Gateway gets it).
pub async fn handle_with(app: &Router, request: Request) -> Response<Body> {
    let response = match app.clone().oneshot(without_trailing_slash(request)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) if !is_binary(&parts.headers) => Body::Text(text),
            _ => Body::Binary(bytes.to_vec()),
        }
    };
    Response::from_parts(parts, body)
}

fn is_binary(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("image/"))
}

/// `/v2/files/x/` is `/v2/files/x`, as API Gateway routes it.
pub fn without_trailing_slash<T>(mut request: axum::http::Request<T>) -> axum::http::Request<T> {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let rebuilt = match request.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}
