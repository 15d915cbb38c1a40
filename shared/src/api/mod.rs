//! HTTP in and out. Every function binary and the local API call [`handle`]; API
//! Gateway (or the local API) has already checked the token and put its claims in
//! the request context.
//!
//! `routes` is the table, `handlers` one function per operation, `parse` (and
//! `listing`, the browse routes' query strings) turns requests into the service's types, `wire` its answers into JSON, `respond` makes
//! the HTTP responses (errors in one place).

pub mod direct;
mod form;
mod handlers;
mod lambda;
mod listing;
mod parse;
mod preview;
mod respond;
mod routes;
pub mod session;
mod sharing;
pub mod wire;

pub use handlers::handle;
pub use lambda::{serve_function, serve_function_with};
pub use respond::error_response;
pub use routes::{find_route, Auth, Function, Operation, PathParams, RouteDef, ROUTES};
