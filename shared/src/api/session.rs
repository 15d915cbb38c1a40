//! Browser sessions: getSession turns the bearer token into the cookie `token`, and the
//! routes a browser follows without headers (`<img src>`, a link) accept that cookie.
//!
//! On AWS those routes have no authorizer at API Gateway (its JWT authorizer reads only
//! the `Authorization` header), so the function checks the token itself, from the
//! header or the cookie, with the issuer's keys ([`crate::auth::TokenVerifier`]). The
//! local API does the same with its development secret.

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::request::{authorizer_claims, caller_from_claims};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::SessionJson;
use crate::auth::jwt::claims_as_strings;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ports::Backend;
use crate::service::Caller;
use crate::time::Clock;

/// The name of the session cookie (epilot's).
pub const SESSION_COOKIE: &str = "token";

/// The bearer token of the `Authorization` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The value of the cookie `name`, from every `Cookie` header (API Gateway's payload 2.0
/// joins them into one; browsers send one).
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The caller of a route that takes the session cookie: the authorizer's claims where
/// API Gateway checked a token, else the function's own check of the bearer token or,
/// without one, the cookie. 401 without any.
async fn caller_by_token_or_cookie(
    config: &Config,
    clock: &Clock,
    parts: &Parts,
) -> Result<Caller> {
    if let Ok(caller) = caller_from_claims(config, authorizer_claims(parts)) {
        return Ok(caller);
    }
    let headers = &parts.headers;
    let token = bearer_token(headers)
        .or_else(|| cookie(headers, SESSION_COOKIE))
        .ok_or_else(|| {
            Error::unauthorized(
                "a bearer token, or the session cookie of GET /v1/files/session, is required",
            )
        })?;
    let verifier = config.tokens.as_ref().ok_or_else(|| {
        Error::internal(
            "configuration",
            "JWT_ISSUER and JWT_AUDIENCE are not set; this route cannot check tokens",
        )
    })?;
    let now_secs = clock.now_millis() as f64 / 1000.0;
    let claims = verifier.verify(token, now_secs, &config.org_claim).await?;
    caller_from_claims(config, Some(&claims_as_strings(&claims)))
}

/// The caller of a route that takes a bearer token or the session cookie.
pub struct CookieCaller(pub Caller);

impl<B: Backend> FromRequestParts<Api<B>> for CookieCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, api: &Api<B>) -> Result<Self> {
        caller_by_token_or_cookie(&api.config, &api.clock, parts)
            .await
            .map(CookieCaller)
    }
}

/// The claims of the token API Gateway checked.
pub struct Claims(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        Ok(Claims(
            authorizer_claims(parts).cloned().unwrap_or_default(),
        ))
    }
}

/// getSession: the bearer token (checked by API Gateway) as the session cookie, for as
/// long as the token is valid.
pub(super) async fn get_session<B: Backend>(
    State(s): State<Api<B>>,
    _: Caller,
    Claims(claims): Claims,
    headers: HeaderMap,
) -> Answer {
    let token = bearer_token(&headers).ok_or_else(|| {
        Error::unauthorized("an Authorization: Bearer <token> header is required")
    })?;
    let expires_in = seconds_left(claims.get("exp"), &s.clock);
    if expires_in <= 0 {
        return Err(Error::unauthorized("the token has expired"));
    }
    let body = Reply::ok(&SessionJson { expires_in })?;
    Ok(Reply::WithCookie(
        session_cookie(token, expires_in),
        Box::new(body),
    ))
}

/// deleteSession: the cookie cleared. Needs no token: an expired session can end too.
pub(super) async fn delete_session() -> Answer {
    Ok(Reply::WithCookie(
        cleared_cookie(),
        Box::new(Reply::NoContent),
    ))
}

/// getSession's cookie: the token itself, for as long as it is valid, sent back only
/// over HTTPS, never readable by scripts, and with top-level navigations and same-site
/// requests (`Lax`), so `<img src>` on the API's own site works.
fn session_cookie(token: &str, max_age_secs: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        max_age_secs.max(0)
    )
}

/// deleteSession's cookie: the same, expired.
fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Seconds until the claims' `exp` (as API Gateway passes claims: strings).
fn seconds_left(exp: Option<&String>, clock: &Clock) -> i64 {
    // A NumericDate, whole or fractional, as text.
    let exp = exp.and_then(|e| e.parse::<f64>().ok()).unwrap_or_default();
    (exp - clock.now_millis() as f64 / 1000.0).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; token=abc.def.ghi; b=2"),
        );
        assert_eq!(cookie(&headers, "token"), Some("abc.def.ghi"));
        assert_eq!(cookie(&headers, "tok"), None);
        let mut split = HeaderMap::new();
        split.append(COOKIE, HeaderValue::from_static("a=1"));
        split.append(COOKIE, HeaderValue::from_static("token=x"));
        assert_eq!(cookie(&split, "token"), Some("x"));
        let mut empty = HeaderMap::new();
        empty.append(COOKIE, HeaderValue::from_static("token="));
        assert_eq!(cookie(&empty, "token"), None);
    }

    #[test]
    fn cookies_are_http_only_secure_and_lax() {
        let set = session_cookie("t", 300);
        assert_eq!(
            set,
            "token=t; Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(cleared_cookie().contains("Max-Age=0"));
        assert!(session_cookie("t", -5).contains("Max-Age=0"));
    }
}
