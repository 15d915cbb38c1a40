//! CORS as template.yaml configures the HTTP API (a test holds the two together).

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};

/// The methods the routes use.
pub const ALLOW_METHODS: &str = "GET,POST,PUT,DELETE";
pub const ALLOW_HEADERS: &str = "authorization,content-type";
/// What a browser's script may read of an answer.
pub const EXPOSE_HEADERS: &str = "etag,content-disposition,retry-after,x-next-cursor";

/// The answer to a preflight request.
pub fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static(ALLOW_METHODS),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("3600"));
    response
}

/// What every answer to a request with an `Origin` carries (AllowOrigins defaults to "*").
pub fn allow<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}
