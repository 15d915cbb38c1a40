//! A route is one row: method, path, how its caller shows who they are, and the handler
//! itself. `functions` groups the rows by Lambda function; [`router`] turns any set of
//! rows into the axum router that both the functions and the local API serve.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::handler::Handler;
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tracing::{Instrument, Span};

use crate::error::{Error, ErrorCode};
use crate::ports::Backend;
use crate::service::FileService;

/// What every handler shares: the service, built once per cold start.
pub type Api<B> = Arc<FileService<B>>;

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
pub struct Route<B> {
    pub method: Method,
    /// `{name}` stands for one path segment, as in API Gateway and axum.
    pub path: &'static str,
    pub auth: Auth,
    /// The handler's path (`shared::api::upload::upload_file`), for logs and the test
    /// that each function's binary links only its own handlers.
    pub handler_name: &'static str,
    /// The handler, as axum routes to it (the local API adds its edge layers here).
    pub handler: MethodRouter<Api<B>>,
}

impl<B: Backend + 'static> Route<B> {
    fn new<H, T>(auth: Auth, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Api<B>>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} cannot be routed"));
        let name = std::any::type_name::<H>();
        Route {
            method,
            path,
            auth,
            // Without its type parameters: `upload_file<Stores<..>>` is `upload_file`.
            handler_name: name.split('<').next().unwrap_or(name),
            handler: on(filter, handler),
        }
    }

    /// A route behind API Gateway's JWT authorizer.
    pub fn token<H: Handler<T, Api<B>>, T: 'static>(
        method: Method,
        path: &'static str,
        handler: H,
    ) -> Self {
        Self::new(Auth::Token, method, path, handler)
    }

    /// A route whose handler takes a bearer token or the session cookie.
    pub fn cookie<H: Handler<T, Api<B>>, T: 'static>(
        method: Method,
        path: &'static str,
        handler: H,
    ) -> Self {
        Self::new(Auth::TokenOrCookie, method, path, handler)
    }

    /// A route open to anyone.
    pub fn public<H: Handler<T, Api<B>>, T: 'static>(
        method: Method,
        path: &'static str,
        handler: H,
    ) -> Self {
        Self::new(Auth::Public, method, path, handler)
    }

    /// Served without a token at API Gateway (public, or checked by the function).
    pub fn gateway_open(&self) -> bool {
        self.auth != Auth::Token
    }
}

/// What serves a router: the whole API (the local API), or one function, which API
/// Gateway hands only its own route keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// A known path with another method answers 405.
    WholeApi,
    /// A known path with another method is another function's route: 404.
    OneFunction,
}

/// The router of `routes` over `service`: unknown paths answer 404, known paths with
/// another method as `serving` says, in JSON like every other error; each request is
/// logged in a span that names its route.
pub fn router<B: Backend + 'static>(
    routes: impl IntoIterator<Item = Route<B>>,
    service: Api<B>,
    serving: Serving,
) -> Router {
    let mut router = Router::new();
    for route in routes {
        router = router.route(route.path, route.handler);
    }
    let router = router.fallback(no_route);
    match serving {
        Serving::WholeApi => router.method_not_allowed_fallback(wrong_method),
        Serving::OneFunction => router.method_not_allowed_fallback(not_this_function),
    }
    // API Gateway (or the local API's edge) bounds bodies; a handler sees it whole.
    .layer(DefaultBodyLimit::disable())
    .layer(middleware::from_fn(in_span))
    .with_state(service)
}

async fn no_route(method: Method, uri: Uri) -> Response {
    Error::not_found(format!("no route for {method} {}", uri.path())).into_response()
}

async fn not_this_function(method: Method, uri: Uri) -> Response {
    Error::not_found(format!(
        "{method} {} is not served by this function",
        uri.path()
    ))
    .into_response()
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    Error::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not served on {}", uri.path()),
    )
    .into_response()
}

/// Every log line of a request carries API Gateway's request id, the route and (once a
/// handler knows it) the organisation.
async fn in_span(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| format!("{} {}", request.method(), p.as_str()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id(&request),
        route = route.as_deref().unwrap_or_default(),
        org = tracing::field::Empty,
    );
    async move {
        let response = next.run(request).await;
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

fn request_id(request: &Request) -> String {
    super::request::gateway_context(request.extensions())
        .and_then(|ctx| ctx.request_id.clone())
        .unwrap_or_default()
}

/// Records the caller's organisation on the request's span.
pub(super) fn record_org(org: &str) {
    Span::current().record("org", org);
}
