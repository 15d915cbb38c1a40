//! Events to an EventBridge bus (`EventSink`): PutEvents, ten entries a call, in order.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use super::sdk::sdk_error;
use crate::events::EVENT_SOURCE;
use crate::ports::{EventSink, OutgoingEvent, StorageError, StoreResult};

/// PutEvents takes at most ten entries.
const BATCH: usize = 10;

#[derive(Clone, Debug)]
pub struct EventBus {
    client: Client,
    bus: String,
}

impl EventBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBus {
            client,
            bus: bus.into(),
        }
    }
}

impl EventSink for EventBus {
    async fn publish(&self, events: &[OutgoingEvent]) -> StoreResult<usize> {
        let mut published = 0;
        for batch in events.chunks(BATCH) {
            let entries = batch
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
            let answer = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("publish events", e))?;
            // Entries answer in order; one refused (throttled, failed) and the rest of
            // the batch is sent again with it, so the bus sees each file's events in order
            // (some maybe twice: consumers deduplicate by id).
            let refused = answer
                .entries()
                .iter()
                .position(|entry| entry.error_code().is_some());
            match refused {
                None if answer.failed_entry_count() == 0 => published += batch.len(),
                None => {
                    return Err(StorageError::unavailable(
                        "publish events",
                        format!("{} entries failed", answer.failed_entry_count()),
                    ))
                }
                Some(first) => {
                    let entry = &answer.entries()[first];
                    tracing::warn!(
                        code = entry.error_code(),
                        message = entry.error_message(),
                        "event refused by the bus; its batch goes again"
                    );
                    return Ok(published + first);
                }
            }
        }
        Ok(published)
    }
}
