//! Events: every committed change of a file (and every unsaved upload that expired),
//! told after the commit. They come from the table's stream, not from the request's
//! path: DynamoDB writes a stream record for each write that committed and for nothing
//! else, so an event is never early, never for a write that rolled back, and never lost
//! when the function that wrote lost its answer. The events function reads the stream
//! ([`events_of`]) and hands each event to an [`EventSink`](crate::ports::EventSink):
//! the stack's EventBridge bus.

mod change;
pub mod detail;
mod publish;
pub mod stream;

pub use change::{event_of, events_of};
pub use publish::{publish_batch, BatchAnswer, Fanout, ItemFailure};

use crate::domain::{FileRecord, PendingUpload};

/// The `source` of every event on the bus.
pub const EVENT_SOURCE: &str = "file-service";

/// What happened, as the event's `type` (and EventBridge's `detail-type`) names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    FileCreated,
    FileVersionAdded,
    /// Metadata, access control, fetch status, or a version removed.
    FileUpdated,
    FileTrashed,
    FileRestored,
    FileDeleted(DeleteReason),
    /// A version's malware scan ended (its number, from 1).
    FileScanCompleted(usize),
    UploadExpired,
}

/// Why a file went for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// A delete with `purge=true` (or of an external file).
    Purged,
    /// It stayed in the trash past the retention.
    Retention,
    /// Its `ttl_seconds` ran out.
    Expired,
    /// A malware scan found a threat and `INFECTED_ACTION` is `delete`.
    Infected,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::FileCreated => "file.created",
            EventType::FileVersionAdded => "file.version_added",
            EventType::FileUpdated => "file.updated",
            EventType::FileTrashed => "file.trashed",
            EventType::FileRestored => "file.restored",
            EventType::FileDeleted(_) => "file.deleted",
            EventType::FileScanCompleted(_) => "file.scan_completed",
            EventType::UploadExpired => "upload.expired",
        }
    }

    /// Every type a webhook may subscribe to.
    pub const NAMES: [&'static str; 8] = [
        "file.created",
        "file.version_added",
        "file.updated",
        "file.trashed",
        "file.restored",
        "file.deleted",
        "file.scan_completed",
        "upload.expired",
    ];
}

impl DeleteReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteReason::Purged => "purged",
            DeleteReason::Retention => "retention",
            DeleteReason::Expired => "expired",
            DeleteReason::Infected => "infected",
        }
    }
}

/// What an event is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// The file as the change left it (as it was last, once deleted).
    File(Box<FileRecord>),
    Upload(PendingUpload),
}

/// One event, ready to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Stable across deliveries: the stream record's id.
    pub id: String,
    pub kind: EventType,
    /// When the change committed (RFC 3339).
    pub occurred_at: String,
    /// Orders the events of one file (or upload): the stream's sequence number, zero
    /// padded to 40 digits so that comparing the strings compares the numbers.
    pub sequence: String,
    pub subject: Subject,
}

impl Event {
    pub fn org(&self) -> &str {
        match &self.subject {
            Subject::File(file) => &file.org,
            Subject::Upload(upload) => &upload.org,
        }
    }
}
