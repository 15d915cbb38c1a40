//! The one error type of the service: a code that knows its HTTP status and whether a
//! retry can help, a message that is safe to show, and the source kept for the log.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Every way a request can fail, as clients see it (`{"error": code}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidBody,
    InvalidJson,
    InvalidQuery,
    /// A listing's cursor was changed, or made for another query or organisation.
    InvalidCursor,
    InvalidId,
    InvalidVersion,
    InvalidFilename,
    InvalidMimeType,
    InvalidAttribute,
    InvalidMetadata,
    InvalidAccessControl,
    InvalidS3Ref,
    InvalidCustomDownloadUrl,
    InvalidSourceUrl,
    InvalidWebhookUrl,
    InvalidTtl,
    InvalidChecksum,
    InvalidSize,
    /// A multipart upload's part is missing, out of range or not the one S3 holds.
    InvalidPart,
    InvalidRequest,
    TooManyItems,
    SizeRequired,
    Unsupported,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    /// The file's bytes are not there (yet): a fetch from a URL is pending or failed.
    NotReady,
    /// The version's malware scan has not found it clean (yet).
    ScanPending,
    /// The version's malware scan found a threat.
    FileInfected,
    UploadExpired,
    PayloadTooLarge,
    /// The organisation's byte quota would be passed.
    QuotaExceeded,
    UnsupportedMediaType,
    /// An image or PDF with more pixels than a preview decodes (checked from its header).
    ImageTooLarge,
    /// An image or PDF that cannot be decoded (corrupt, truncated, or past the time limit).
    UnreadableImage,
    /// A source URL answered an error, was too large or too slow.
    SourceFailed,
    /// The bytes do not match the SHA-256 the uploader declared.
    ChecksumMismatch,
    RateLimited,
    /// A bug or a misconfiguration: retrying the same request will not help.
    Internal,
    /// S3, DynamoDB or the network failed; nothing was changed and a retry may work.
    StorageUnavailable,
}

impl ErrorCode {
    /// The machine-readable code of the JSON body.
    pub const fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidBody => "invalid_body",
            InvalidJson => "invalid_json",
            InvalidQuery => "invalid_query",
            InvalidCursor => "invalid_cursor",
            InvalidId => "invalid_id",
            InvalidVersion => "invalid_version",
            InvalidFilename => "invalid_filename",
            InvalidMimeType => "invalid_mime_type",
            InvalidAttribute => "invalid_attribute",
            InvalidMetadata => "invalid_metadata",
            InvalidAccessControl => "invalid_access_control",
            InvalidS3Ref => "invalid_s3ref",
            InvalidCustomDownloadUrl => "invalid_custom_download_url",
            InvalidSourceUrl => "invalid_source_url",
            InvalidWebhookUrl => "invalid_webhook_url",
            ScanPending => "scan_pending",
            FileInfected => "file_infected",
            InvalidTtl => "invalid_ttl",
            InvalidChecksum => "invalid_checksum",
            InvalidSize => "invalid_size",
            InvalidPart => "invalid_part",
            InvalidRequest => "invalid_request",
            TooManyItems => "too_many_items",
            SizeRequired => "size_required",
            Unsupported => "unsupported",
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            RequestTimeout => "request_timeout",
            Conflict => "conflict",
            NotReady => "not_ready",
            SourceFailed => "source_failed",
            ChecksumMismatch => "checksum_mismatch",
            UploadExpired => "upload_expired",
            PayloadTooLarge => "payload_too_large",
            QuotaExceeded => "quota_exceeded",
            UnsupportedMediaType => "unsupported_media_type",
            ImageTooLarge => "image_too_large",
            UnreadableImage => "unreadable_image",
            RateLimited => "rate_limited",
            Internal => "internal_error",
            StorageUnavailable => "storage_unavailable",
        }
    }

    /// The HTTP status: the single place where that mapping lives.
    pub const fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidBody
            | InvalidJson
            | InvalidQuery
            | InvalidCursor
            | InvalidId
            | InvalidVersion
            | InvalidFilename
            | InvalidMimeType
            | InvalidAttribute
            | InvalidMetadata
            | InvalidAccessControl
            | InvalidS3Ref
            | InvalidCustomDownloadUrl
            | InvalidSourceUrl
            | InvalidWebhookUrl
            | InvalidTtl
            | InvalidChecksum
            | InvalidSize
            | InvalidPart
            | InvalidRequest
            | TooManyItems
            | SizeRequired
            | Unsupported => 400,
            Unauthorized => 401,
            Forbidden | FileInfected => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            RequestTimeout => 408,
            Conflict | NotReady | ScanPending => 409,
            UploadExpired => 410,
            PayloadTooLarge | QuotaExceeded => 413,
            UnsupportedMediaType => 415,
            SourceFailed | ChecksumMismatch | ImageTooLarge | UnreadableImage => 422,
            RateLimited => 429,
            Internal => 500,
            StorageUnavailable => 503,
        }
    }

    /// Whether the same request may succeed later.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::StorageUnavailable | ErrorCode::RateLimited | ErrorCode::RequestTimeout
        )
    }
}

pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// A failed request: what the client is told, and (for faults) what broke, for the log.
#[derive(Clone)]
pub struct Error {
    code: ErrorCode,
    message: Cow<'static, str>,
    /// The step that failed (`"HeadObject"`, `"configuration"`), for faults.
    operation: Option<&'static str>,
    source: Option<Source>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refusal whose message is shown to the client as it is.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            code,
            message: message.into(),
            operation: None,
            source: None,
        }
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn too_large(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::PayloadTooLarge, message)
    }

    /// S3, DynamoDB or the network failed at `operation`: a retryable 503. The cause is
    /// logged, never answered.
    pub fn storage(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error {
            code: ErrorCode::StorageUnavailable,
            message: Cow::Borrowed(
                "storage is temporarily unavailable; nothing was changed, retry the request",
            ),
            operation: Some(operation),
            source: Some(Arc::from(source.into())),
        }
    }

    /// A misconfiguration or a broken invariant: a 500 that a retry will not mend.
    pub fn internal(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error {
            code: ErrorCode::Internal,
            message: Cow::Borrowed("the service failed to handle this request"),
            operation: Some(operation),
            source: Some(Arc::from(source.into())),
        }
    }

    /// An error with the source it came from, for the log.
    pub fn with_source(
        code: ErrorCode,
        message: impl Into<Cow<'static, str>>,
        operation: &'static str,
        source: Source,
    ) -> Self {
        Error {
            code,
            message: message.into(),
            operation: Some(operation),
            source: Some(source),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable()
    }

    /// The message that is safe to send to the client.
    pub fn public_message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The whole story, for the log: code, message, the failed step and every cause.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(operation) = self.operation {
            write!(f, " ({operation} failed)")?;
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static));
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_status_and_retryability() {
        assert_eq!(ErrorCode::InvalidS3Ref.status(), 400);
        assert_eq!(ErrorCode::Internal.status(), 500);
        assert!(!ErrorCode::Internal.is_retryable());
        assert!(ErrorCode::StorageUnavailable.is_retryable());
        assert_eq!(ErrorCode::UploadExpired.as_str(), "upload_expired");
    }

    #[test]
    fn faults_keep_their_cause_for_the_log_but_not_for_the_client() {
        let io = std::io::Error::other("connection refused 10.0.0.7");
        let err = Error::storage("HeadObject", io);
        assert_eq!(err.status(), 503);
        assert!(!err.public_message().contains("10.0.0.7"));
        let logged = err.to_string();
        assert!(
            logged.contains("HeadObject") && logged.contains("10.0.0.7"),
            "{logged}"
        );
        assert!(std::error::Error::source(&err).is_some());
        let config = Error::internal("configuration", "FILES_TABLE is not set");
        assert_eq!((config.status(), config.is_retryable()), (500, false));
    }
}
