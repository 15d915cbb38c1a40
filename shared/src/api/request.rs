//! Requests in: the extractors handlers take (the caller, path segments, typed queries
//! and bodies) and how their failures become the API's error codes.
//!
//! Bodies and queries are `Deserialize` types; a field that fails to parse answers the
//! code its name stands for (`version`, `metadata`) or the request's general one.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::route::{record_org, Api};
use crate::config::Config;
use crate::domain::OrgId;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Backend;
use crate::service::Caller;

/// The claims of a checked token, as API Gateway's JWT authorizer passes them on
/// (strings). The local API's authorizer puts them into the request as this; on Lambda
/// they come in API Gateway's request context.
#[derive(Clone, Debug, Default)]
pub struct AuthorizerClaims(pub HashMap<String, String>);

/// API Gateway's (payload 2.0) request context, where Lambda delivered the request.
pub(super) fn gateway_context(
    extensions: &axum::http::Extensions,
) -> Option<&lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext> {
    match extensions.get::<lambda_http::request::RequestContext>() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => Some(ctx),
        _ => None,
    }
}

/// The claims of the token API Gateway (or the local API) checked, if any.
pub(super) fn authorizer_claims(parts: &Parts) -> Option<&HashMap<String, String>> {
    claims_in(&parts.extensions)
}

/// Whether an authorizer has checked the request's token already.
pub(super) fn has_authorizer_claims(extensions: &axum::http::Extensions) -> bool {
    claims_in(extensions).is_some()
}

fn claims_in(extensions: &axum::http::Extensions) -> Option<&HashMap<String, String>> {
    if let Some(claims) = extensions.get::<AuthorizerClaims>() {
        return Some(&claims.0);
    }
    extensions
        .get::<lambda_http::request::RequestContext>()
        .and_then(|context| context.authorizer())
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .map(|jwt| &jwt.claims)
}

/// The caller a token's claims name (values as API Gateway passes them: strings).
pub(super) fn caller_from_claims(
    config: &Config,
    claims: Option<&HashMap<String, String>>,
) -> Result<Caller> {
    let claim = &config.org_claim;
    let org = claims.and_then(|claims| claims.get(claim)).ok_or_else(|| {
        Error::unauthorized(format!(
            "a bearer token with an organisation claim ({claim}) is required"
        ))
    })?;
    let caller = Caller {
        org: OrgId::parse(org)?,
        sub: claims
            .and_then(|claims| claims.get("sub"))
            .filter(|sub| !sub.is_empty() && sub.len() <= 256)
            .cloned(),
    };
    record_org(caller.org.as_str());
    Ok(caller)
}

/// The caller of a route behind the authorizer: 401 without a token's organisation.
impl<B: Backend> FromRequestParts<Api<B>> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, api: &Api<B>) -> Result<Self> {
        caller_from_claims(&api.config, authorizer_claims(parts))
    }
}

/// Where this API is served, for links back to it (`public_url`): `PUBLIC_BASE_URL`, else
/// the domain API Gateway itself reports for the stage. Never a request header, which
/// the client chooses.
pub struct BaseUrl(pub String);

impl<B: Backend> FromRequestParts<Api<B>> for BaseUrl {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, api: &Api<B>) -> Result<Self> {
        if let Some(base) = &api.config.public_base_url {
            return Ok(BaseUrl(base.clone()));
        }
        gateway_context(&parts.extensions)
            .and_then(|ctx| ctx.domain_name.clone())
            .filter(|domain| {
                !domain.is_empty()
                    && domain
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            })
            .map(|domain| BaseUrl(format!("https://{domain}")))
            .ok_or_else(|| {
                Error::internal(
                    "configuration",
                    "PUBLIC_BASE_URL is not set and the request carries no API domain",
                )
            })
    }
}

/// The path's variable segments by name (`{id}`, `{version}`, ...).
pub struct Segments(HashMap<String, String>);

impl Segments {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `{id}` as a file id: 400 unless a UUID.
    pub fn file_id(&self) -> Result<Uuid> {
        file_id(self.get("id"))
    }

    /// `{id}` as it stands (an upload's or a public link's id).
    pub fn id(&self) -> &str {
        self.get("id").unwrap_or_default()
    }

    /// A segment as it stands (empty when the route has none of that name).
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// `{version}`: `<n>` (or `<n>:restore` where `suffix` says), n from 1.
    pub fn version_number(&self, suffix: &str) -> Result<u32> {
        let bad = || {
            Error::new(
                ErrorCode::InvalidVersion,
                "the version is a whole number from 1, the oldest",
            )
        };
        let segment = self.get("version").ok_or_else(bad)?;
        let number = if suffix.is_empty() {
            segment
        } else {
            segment
                .strip_suffix(suffix)
                .ok_or_else(|| Error::not_found(format!("no route for versions/{segment}")))?
        };
        number
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(bad)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Segments {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorCode::InvalidRequest,
                    "the path's segments are not UTF-8 text",
                )
            })?;
        Ok(Segments(
            params
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        ))
    }
}

pub(super) fn file_id(raw: Option<&str>) -> Result<Uuid> {
    raw.and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Error::new(ErrorCode::InvalidId, "the file id must be a UUID"))
}

/// The query string as name → value (the last of repeated names).
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        Ok(QueryMap(query_map(parts.uri.query())))
    }
}

pub(super) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// A typed query string; parameters it does not name are ignored.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        let raw = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(deserializer)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                let code = field_code(e.path(), ErrorCode::InvalidQuery);
                Error::new(code, format!("{field} {}", e.inner()))
            })
    }
}

/// A typed JSON body.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let bytes = body_bytes(request, state).await?;
        json(&bytes).map(Json)
    }
}

/// The whole body (API Gateway, or the local API's edge, bounds it).
pub(super) async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes> {
    Bytes::from_request(request, state).await.map_err(|_| {
        Error::new(
            ErrorCode::InvalidRequest,
            "the request body could not be read",
        )
    })
}

/// `bytes` as JSON of type `T`.
pub(super) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorCode::InvalidBody,
            "the request body must be JSON",
        ));
    }
    let not_json = |e: &serde_json::Error| {
        Error::new(
            ErrorCode::InvalidJson,
            format!("the request body is not valid JSON: {e}"),
        )
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        match e.inner().classify() {
            serde_json::error::Category::Data => {
                let code = field_code(e.path(), ErrorCode::InvalidBody);
                let at = e.path().to_string();
                let message = if at == "." {
                    format!(
                        "the request body is not of the expected shape: {}",
                        e.inner()
                    )
                } else {
                    format!("{at}: {}", e.inner())
                };
                Error::new(code, message)
            }
            _ => not_json(e.inner()),
        }
    })?;
    deserializer.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

/// The code of a field that failed to parse: a version is a version, metadata is
/// metadata, anything else `general`.
fn field_code(path: &serde_path_to_error::Path, general: ErrorCode) -> ErrorCode {
    use serde_path_to_error::Segment;
    path.iter()
        .find_map(|segment| match segment {
            Segment::Map { key } if key == "version" => Some(ErrorCode::InvalidVersion),
            Segment::Map { key } if key == "metadata" => Some(ErrorCode::InvalidMetadata),
            _ => None,
        })
        .unwrap_or(general)
}

/// A query flag: `true`/`1`, `false`/`0`, or empty for the default.
pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    match String::deserialize(d)?.as_str() {
        "" => Ok(None),
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        _ => Err(serde::de::Error::custom("must be true or false")),
    }
}

/// `version` in a query: 0 (or empty) is the latest, 1 the first.
pub(super) fn version<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let raw = String::deserialize(d)?;
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse()
        .map_err(|_| serde::de::Error::custom("must be a whole number, 0 for the latest"))
}

/// A side of a preview in pixels, or empty for none.
pub(super) fn pixels<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u32>, D::Error> {
    let raw = String::deserialize(d)?;
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "must be a whole number of pixels, 1 to {}",
            crate::ports::MAX_PREVIEW_SIDE
        ))
    })
}

/// A query parameter that must be there and not empty.
pub(super) fn non_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let raw = String::deserialize(d)?;
    if raw.is_empty() {
        return Err(serde::de::Error::custom("is required"));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Flags {
        #[serde(default, deserialize_with = "flag")]
        attachment: Option<bool>,
        #[serde(default, deserialize_with = "version")]
        version: u32,
    }

    async fn query<T: DeserializeOwned>(q: &str) -> Result<T> {
        let request = axum::http::Request::get(format!("/x?{q}"))
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        Query::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|Query(t)| t)
    }

    #[tokio::test]
    async fn query_flags_and_versions_are_strict() {
        let flags: Flags = query("attachment=false&version=2&other=x").await.unwrap();
        assert_eq!((flags.attachment, flags.version), (Some(false), 2));
        let flags: Flags = query("attachment=&version=").await.unwrap();
        assert_eq!((flags.attachment, flags.version), (None, 0));
        let err = query::<Flags>("attachment=maybe").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, ErrorCode::InvalidQuery));
        let err = query::<Flags>("version=-1").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, ErrorCode::InvalidVersion));
    }

    #[test]
    fn bodies_answer_the_code_of_what_is_wrong() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            filename: String,
            metadata: Option<std::collections::BTreeMap<String, String>>,
        }
        assert_eq!(
            json::<Body>(b"  ").unwrap_err().code(),
            ErrorCode::InvalidBody
        );
        assert_eq!(
            json::<Body>(b"{").unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        assert_eq!(
            json::<Body>(br#"{"filename": "a"} x"#).unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        assert_eq!(
            json::<Body>(b"{}").unwrap_err().code(),
            ErrorCode::InvalidBody
        );
        assert_eq!(
            json::<Body>(b"[]").unwrap_err().code(),
            ErrorCode::InvalidBody
        );
        assert_eq!(
            json::<Body>(br#"{"filename": "a", "metadata": {"k": 1}}"#)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidMetadata
        );
        assert!(json::<Body>(br#"{"filename": "a", "metadata": null}"#).is_ok());
    }
}
