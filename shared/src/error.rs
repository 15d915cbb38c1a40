//! The one error type of the service, and its mapping to HTTP (in exactly one place).

use std::fmt;

/// Everything that can go wrong while serving a request.
///
/// The `message` of client-facing variants is safe to show; the `cause` of
/// `Upstream` is logged, never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The request is malformed or breaks a rule (400).
    Invalid { code: &'static str, message: String },
    /// No credentials, or credentials that do not name an organisation (401).
    Unauthorized(String),
    /// Authenticated, but not allowed (403).
    Forbidden(String),
    /// Absent, or belongs to another organisation (404).
    NotFound(String),
    /// The path exists, the method does not (405).
    MethodNotAllowed(String),
    /// The request conflicts with the current state (409).
    Conflict(String),
    /// An unsaved upload past the time it could be saved (410).
    Expired(String),
    /// The body is larger than this route accepts (413).
    TooLarge(String),
    /// The content type is not accepted here (415).
    UnsupportedMediaType(String),
    /// Too many requests from this caller (429).
    RateLimited(String),
    /// S3, DynamoDB or the network failed; the client may retry (503).
    Upstream {
        operation: &'static str,
        cause: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound(message.into())
    }

    pub fn upstream(operation: &'static str, cause: impl fmt::Display) -> Self {
        Error::Upstream {
            operation,
            cause: cause.to_string(),
        }
    }

    /// HTTP status for this error: the single place where that mapping lives.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid { .. } => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::Conflict(_) => 409,
            Error::Expired(_) => 410,
            Error::TooLarge(_) => 413,
            Error::UnsupportedMediaType(_) => 415,
            Error::RateLimited(_) => 429,
            Error::Upstream { .. } => 503,
        }
    }

    /// Stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } => code,
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed(_) => "method_not_allowed",
            Error::Conflict(_) => "conflict",
            Error::Expired(_) => "upload_expired",
            Error::TooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::RateLimited(_) => "rate_limited",
            Error::Upstream { .. } => "storage_unavailable",
        }
    }

    /// Message that is safe to send to the client.
    pub fn public_message(&self) -> String {
        match self {
            Error::Invalid { message, .. }
            | Error::Unauthorized(message)
            | Error::Forbidden(message)
            | Error::NotFound(message)
            | Error::MethodNotAllowed(message)
            | Error::Conflict(message)
            | Error::Expired(message)
            | Error::TooLarge(message)
            | Error::UnsupportedMediaType(message)
            | Error::RateLimited(message) => message.clone(),
            Error::Upstream { .. } => {
                "storage is temporarily unavailable; nothing was changed, retry the request".into()
            }
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Upstream { .. } | Error::RateLimited(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Upstream { operation, cause } => write!(f, "{operation} failed: {cause}"),
            other => write!(f, "{}: {}", other.code(), other.public_message()),
        }
    }
}

impl std::error::Error for Error {}
