//! Events kept in memory (`EventSink`), for unit tests; `refuse_after` makes it refuse.

use std::sync::Mutex;

use crate::ports::{EventSink, OutgoingEvent, StoreResult};

#[derive(Debug, Default)]
pub struct MemoryEvents {
    published: Mutex<Vec<OutgoingEvent>>,
    /// Accept this many more events, then refuse the rest of a call.
    refuse_after: Mutex<Option<usize>>,
}

impl MemoryEvents {
    pub fn published(&self) -> Vec<OutgoingEvent> {
        self.published.lock().unwrap().clone()
    }

    pub fn refuse_after(&self, accepted: Option<usize>) {
        *self.refuse_after.lock().unwrap() = accepted;
    }
}

impl EventSink for MemoryEvents {
    async fn publish(&self, events: &[OutgoingEvent]) -> StoreResult<usize> {
        let mut limit = self.refuse_after.lock().unwrap();
        let taken = limit.map_or(events.len(), |left| left.min(events.len()));
        if let Some(left) = limit.as_mut() {
            *left -= taken;
        }
        self.published
            .lock()
            .unwrap()
            .extend_from_slice(&events[..taken]);
        Ok(taken)
    }
}
