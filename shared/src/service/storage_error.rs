//! The one place where storage's answers become the API's: each [`StorageError`] to
//! its error code and a message safe to show; the source stays for the log.

use crate::domain::MAX_PUBLIC_LINKS;
use crate::error::{Error, ErrorCode};
use crate::ports::{quota_message, Clash, Missing, Refusal, StorageError};

const UNAVAILABLE: &str =
    "storage is temporarily unavailable; nothing was changed, retry the request";
const INTERNAL: &str = "the service failed to handle this request";

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(Missing::File(id)) => {
                Error::not_found(format!("file {id} not found"))
            }
            StorageError::NotFound(Missing::MultipartUpload) => {
                Error::not_found("no such multipart upload")
            }
            StorageError::NotFound(Missing::PublicLink) => {
                Error::not_found("public link not found (revoked, or its file was deleted)")
            }
            StorageError::Conflict(clash) => Error::conflict(match clash {
                Clash::FileExists(id) => format!("file {id} already exists"),
                Clash::UploadConsumed => {
                    "this upload has already been saved; upload the file again to save it anew"
                        .into()
                }
                Clash::OnlyVersion => {
                    "this is the file's only version; delete the file instead".into()
                }
                Clash::VersionsChanged => {
                    "the file's versions changed meanwhile; look again and retry".into()
                }
                Clash::TooManyLinks => format!(
                    "a file has at most {MAX_PUBLIC_LINKS} public links; revoke one first"
                ),
                Clash::SupersededFetch(id) => format!(
                    "file {id} is no longer waiting for this fetch (another fetch or a delete came first)"
                ),
                Clash::DocumentChanged => {
                    "what this changes was changed meanwhile; look again and retry".into()
                }
            }),
            StorageError::QuotaExceeded { limit } => {
                Error::new(ErrorCode::QuotaExceeded, quota_message(limit))
            }
            StorageError::Refused(refusal) => match refusal {
                Refusal::Cursor => Error::new(ErrorCode::InvalidQuery, "the cursor is not valid"),
                Refusal::PartNumber => Error::new(
                    ErrorCode::InvalidRequest,
                    "part numbers run from 1 to 10,000",
                ),
                Refusal::Parts => Error::new(
                    ErrorCode::InvalidRequest,
                    "parts must be given in ascending order, each as stored",
                ),
            },
            StorageError::Unavailable { operation, source } => Error::with_source(
                ErrorCode::StorageUnavailable,
                UNAVAILABLE,
                operation,
                source,
            ),
            StorageError::Internal { operation, source } => {
                Error::with_source(ErrorCode::Internal, INTERNAL, operation, source)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_storage_answer_has_its_code_and_a_safe_message() {
        let id = uuid::Uuid::nil();
        let cases = [
            (StorageError::NotFound(Missing::File(id)), 404),
            (StorageError::Conflict(Clash::UploadConsumed), 409),
            (StorageError::QuotaExceeded { limit: 7 }, 413),
            (StorageError::Refused(Refusal::Cursor), 400),
            (
                StorageError::unavailable("GetItem", "socket closed at 10.0.0.1"),
                503,
            ),
            (StorageError::internal("item", "field x malformed"), 500),
        ];
        for (storage, status) in cases {
            let error = Error::from(storage);
            assert_eq!(error.status(), status);
            assert!(!error.public_message().contains("10.0.0.1"));
            assert!(!error.public_message().contains("malformed"));
        }
        let retry = Error::from(StorageError::unavailable("PutObject", "reset"));
        assert!(retry.is_retryable());
    }
}
