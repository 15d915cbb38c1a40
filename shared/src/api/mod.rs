//! HTTP in and out, on axum. A route is one row of `functions` (method, path, auth and
//! the handler); every Lambda function serves its own table through [`serve`], and the
//! local API serves all of them through the same [`router`]. API Gateway (or the local
//! API) has already checked the token and put its claims in the request.
//!
//! `request` holds the extractors (the caller, path segments, typed queries and bodies),
//! the handler modules (`upload`, `multipart`, `save`, `browse`, `download`, `share`,
//! `versions`, `delete`, `preview`, `session`) are named as the service's, `wire` turns
//! answers into JSON and `respond` makes the HTTP responses (errors in one place).

mod authorizer;
mod browse;
mod collections;
mod delete;
mod direct;
mod download;
mod form;
pub mod functions;
mod lambda;
mod multipart;
mod preview;
mod request;
mod respond;
mod route;
mod save;
mod save_body;
pub mod session;
mod share;
mod upload;
mod versions;
mod webhooks;
pub mod wire;

pub use authorizer::behind_dev_authorizer;
pub use functions::{all_routes, Function};
pub use lambda::{handle, handle_with, serve, without_trailing_slash};
pub use request::AuthorizerClaims;
pub use route::{router, Api, Auth, Route, Serving};
