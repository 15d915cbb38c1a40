//! Responses out: JSON with the right status, redirects, and the one place an error
//! becomes an HTTP answer (and a log line).

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::wire::ErrorJson;
use crate::error::Error;
use crate::service::{Preview, PreviewBody};

/// What an operation answers: JSON, or a redirect to the bytes.
pub enum Reply {
    Json(StatusCode, String),
    Redirect(String),
    /// 204.
    NoContent,
    /// Another reply with a `Set-Cookie` header.
    WithCookie(String, Box<Reply>),
    /// Another reply with `X-Next-Cursor`: where a list answered as a bare array goes on.
    WithNextCursor(String, Box<Reply>),
    /// A thumbnail; `public` ones may be kept by shared caches, briefly.
    Image {
        preview: Preview,
        public: bool,
    },
}

/// The header that carries the next page's cursor of a list answered as an array.
pub const NEXT_CURSOR: &str = "x-next-cursor";

/// What every handler returns.
pub type Answer = Result<Reply, Error>;

impl Reply {
    pub(super) fn json(status: StatusCode, body: &impl Serialize) -> Answer {
        serde_json::to_string(body)
            .map(|text| Reply::Json(status, text))
            .map_err(|e| Error::internal("serialize answer", e))
    }

    pub(super) fn ok(body: &impl Serialize) -> Answer {
        Self::json(StatusCode::OK, body)
    }

    pub(super) fn created(body: &impl Serialize) -> Answer {
        Self::json(StatusCode::CREATED, body)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(status, text) => json_response(status, text),
            Reply::Redirect(location) => redirect(&location),
            Reply::NoContent => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Reply::Image { preview, public } => image_response(preview, public),
            Reply::WithCookie(cookie, reply) => {
                let mut response = reply.into_response();
                match HeaderValue::from_str(&cookie) {
                    Ok(value) => {
                        response.headers_mut().insert(SET_COOKIE, value);
                        response
                    }
                    Err(e) => Error::internal("session cookie", e).into_response(),
                }
            }
            Reply::WithNextCursor(cursor, reply) => {
                let mut response = reply.into_response();
                match HeaderValue::from_str(&cursor) {
                    Ok(value) => {
                        response.headers_mut().insert(NEXT_CURSOR, value);
                        response
                    }
                    Err(e) => Error::internal("next cursor", e).into_response(),
                }
            }
        }
    }
}

/// The one place an error becomes an answer: its code's status, a safe message, and
/// the source in the log.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, "request refused");
        }
        let body = ErrorJson {
            error: self.code().as_str(),
            message: self.public_message(),
            retryable: self.is_retryable(),
        };
        let text = serde_json::to_string(&body).unwrap_or_default();
        let mut response = json_response(status, text);
        if self.is_retryable() {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// 302 to a short-lived URL. Not cacheable: a file made private must stop being served at once.
fn redirect(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    match HeaderValue::from_str(location) {
        Ok(value) => headers.insert(LOCATION, value),
        Err(e) => return Error::internal("redirect location", e).into_response(),
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Says whether a preview was read from the cache or decoded now.
const PREVIEW_CACHE: &str = "x-preview-cache";

fn image_response(preview: Preview, public: bool) -> Response {
    let mut response = match preview.body {
        PreviewBody::Redirect(url) => redirect(&url),
        PreviewBody::Inline { bytes, format } => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.mime_type()));
            // A version's thumbnail never changes, but "latest" and access do: minutes.
            let cache = if public {
                "public, max-age=60"
            } else {
                "private, max-age=300"
            };
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
    };
    let state = if preview.cached { "hit" } else { "miss" };
    response
        .headers_mut()
        .insert(PREVIEW_CACHE, HeaderValue::from_static(state));
    response
}

fn json_response(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
