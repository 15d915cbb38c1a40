//! Where events go: the stack's EventBridge bus, or memory in unit tests.

use std::future::Future;

use super::error::StoreResult;

/// One event as the sink takes it: its type and its JSON (`events::detail`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingEvent {
    pub id: String,
    pub detail_type: &'static str,
    pub detail: String,
}

pub trait EventSink: Send + Sync {
    /// Publishes `events` in order: answers how many, from the first, were published
    /// (all of them, or the count before the first one refused or not sent). Events
    /// before that count are published exactly once by this call.
    fn publish(&self, events: &[OutgoingEvent]) -> impl Future<Output = StoreResult<usize>> + Send;
}
