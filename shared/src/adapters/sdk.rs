//! What the S3 and DynamoDB adapters share: turning an SDK failure into the service's
//! error, and recognising a failed condition.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::ports::StorageError;

/// An SDK call that failed at `operation`: a retryable storage fault, cause kept for the log.
pub(crate) fn sdk_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> StorageError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StorageError::unavailable(operation, err)
}

/// Whether the service refused the call because its condition did not hold
/// (DynamoDB's condition expressions, S3's `If-Match`/`If-None-Match`).
pub(crate) fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| {
            matches!(
                code,
                "ConditionalCheckFailedException"
                    | "PreconditionFailed"
                    | "ConditionalRequestConflict"
            )
        })
}

/// Whether the service said the thing asked for does not exist.
pub(crate) fn is_not_found<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    matches!(err, SdkError::ServiceError(service)
        if matches!(service.err().code(), Some("NoSuchKey" | "NotFound" | "NoSuchUpload"))
            || service.raw().status().as_u16() == 404)
}
