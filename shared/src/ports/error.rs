//! What a port answers when storage says no: in storage's terms (what is missing, which
//! condition failed, which limit), never in HTTP's. The service maps each to the API's
//! error code in one place (`service::storage_error`).

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

type Source = Arc<dyn std::error::Error + Send + Sync>;

/// Every way a port's call can fail.
#[derive(Clone)]
pub enum StorageError {
    /// What the call names is not there.
    NotFound(Missing),
    /// A condition of the write did not hold: someone else wrote first, or the state
    /// forbids it. Nothing was changed.
    Conflict(Clash),
    /// The write would take the organisation past its byte quota.
    QuotaExceeded { limit: u64 },
    /// The store refuses the call's arguments.
    Refused(Refusal),
    /// The store failed or could not be reached; nothing was changed, a retry may work.
    Unavailable {
        operation: &'static str,
        source: Source,
    },
    /// The store answered what the adapter cannot read (a bug, or data not ours).
    Internal {
        operation: &'static str,
        source: Source,
    },
}

/// What was not found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    File(Uuid),
    MultipartUpload,
    PublicLink,
}

/// Which condition failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clash {
    /// A file with this id exists already.
    FileExists(Uuid),
    /// The upload was consumed by an earlier save.
    UploadConsumed,
    /// A version to remove is the file's only one.
    OnlyVersion,
    /// The file's versions changed under a removal.
    VersionsChanged,
    /// The file has as many public links as it may.
    TooManyLinks,
    /// The file no longer waits for this fetch (another fetch or a delete came first).
    SupersededFetch(Uuid),
    /// A stored document (a scope's collections, webhooks, a delivery log) changed
    /// since it was read.
    DocumentChanged,
}

/// Arguments the store refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A listing's cursor that is not one of the store's.
    Cursor,
    /// A multipart part number out of 1..=10,000.
    PartNumber,
    /// Completed parts not in ascending order, or not the ones stored.
    Parts,
}

/// What every port's call answers.
pub type StoreResult<T> = Result<T, StorageError>;

impl StorageError {
    pub fn unavailable(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StorageError::Unavailable {
            operation,
            source: Arc::from(source.into()),
        }
    }

    pub fn internal(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StorageError::Internal {
            operation,
            source: Arc::from(source.into()),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound(_))
    }

    /// Whether the same call may work when tried again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StorageError::Unavailable { .. })
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, StorageError::Conflict(_))
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::NotFound(what) => write!(f, "not found: {what:?}"),
            StorageError::Conflict(clash) => write!(f, "conflict: {clash:?}"),
            StorageError::QuotaExceeded { limit } => write!(f, "past the quota of {limit} bytes"),
            StorageError::Refused(refusal) => write!(f, "refused: {refusal:?}"),
            StorageError::Unavailable { operation, source } => {
                write!(f, "{operation} unavailable: {source}")
            }
            StorageError::Internal { operation, source } => write!(f, "{operation}: {source}"),
        }
    }
}

impl fmt::Debug for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for StorageError {}
