//! API Gateway's JWT authorizer, played where there is no API Gateway: by the local API,
//! and by a function under `sam local`, which runs no authorizer, when the template's
//! `DevJwtSecret` is set ([`crate::config::Config::dev_tokens`]). Development tokens only
//! (HS256 with a shared secret), with the authorizer's rules: signature, expiry, issuer,
//! audience and the organisation claim. Its claims reach the handlers as
//! [`AuthorizerClaims`], where API Gateway's would.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Response};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;

use super::request::{has_authorizer_claims, AuthorizerClaims};
use super::route::{Auth, Route};
use super::session::bearer_token;
use crate::auth::jwt::{claims_as_strings, JwtSettings};
use crate::error::{Error, Result};
use crate::ports::Backend;
use crate::time::Clock;

/// What the authorizer checks a bearer token with.
struct Authorizer {
    jwt: JwtSettings,
    org_claim: String,
    clock: Clock,
}

/// `routes`, each that takes a token (`Auth::Token`) behind the authorizer; the routes
/// that take the session cookie check the token in their handler, as on AWS.
pub fn behind_dev_authorizer<B: Backend + 'static>(
    routes: impl IntoIterator<Item = Route<B>>,
    jwt: JwtSettings,
    org_claim: String,
) -> impl Iterator<Item = Route<B>> {
    let authorizer = Arc::new(Authorizer {
        jwt,
        org_claim,
        clock: Clock::system(),
    });
    routes.into_iter().map(move |mut route| {
        if route.auth == Auth::Token {
            route.handler = route.handler.route_layer(middleware::from_fn_with_state(
                authorizer.clone(),
                authorize,
            ));
        }
        route
    })
}

/// A valid bearer token and its claims, or 401. A request that arrives with an
/// authorizer's claims already (an API Gateway event given to `sam local invoke`) passes.
async fn authorize(
    State(authorizer): State<Arc<Authorizer>>,
    mut request: Request,
    next: Next,
) -> Response<Body> {
    if has_authorizer_claims(request.extensions()) {
        return next.run(request).await;
    }
    match authorizer.check(request.headers()) {
        Ok(claims) => {
            request.extensions_mut().insert(AuthorizerClaims(claims));
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

impl Authorizer {
    fn check(&self, headers: &HeaderMap) -> Result<std::collections::HashMap<String, String>> {
        let token = bearer_token(headers).ok_or_else(|| {
            Error::unauthorized("an Authorization: Bearer <token> header is required")
        })?;
        let now_secs = self.clock.now_millis() as f64 / 1000.0;
        let claims = self.jwt.verify(token, now_secs, &self.org_claim)?;
        Ok(claims_as_strings(&claims))
    }
}
