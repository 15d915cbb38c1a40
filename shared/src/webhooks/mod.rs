//! Signed webhooks. The events function queues one delivery per event and webhook that
//! wants it ([`WebhookFanout`]); the webhooks function sends each, signed as the
//! Standard Webhooks specification says, and a failed one waits longer before each
//! attempt (`deliver`). Nothing of this runs on an API request's path.

mod deliver;

pub use deliver::{deliver_batch, RetryTimer, Sender, SenderSettings};

use std::collections::HashMap;

use crate::domain::Webhook;
use crate::events::{Event, Fanout};
use crate::ports::{Delivery, DeliveryQueue, OutgoingEvent, WebhookStore};

/// Hands each event to the queue once for every webhook of its organisation that wants
/// its type.
pub struct WebhookFanout<'a, S, Q> {
    pub store: &'a S,
    pub queue: &'a Q,
}

impl<S: WebhookStore, Q: DeliveryQueue> Fanout for WebhookFanout<'_, S, Q> {
    async fn fan_out(&self, events: &[(&Event, &OutgoingEvent)]) -> usize {
        let mut hooks: HashMap<String, Vec<Webhook>> = HashMap::new();
        let mut deliveries = Vec::new();
        // The event each delivery is of.
        let mut owners = Vec::new();
        let mut read = events.len();
        for (i, (event, outgoing)) in events.iter().enumerate() {
            let org = event.org();
            if !hooks.contains_key(org) {
                match self.store.webhooks(org).await {
                    Ok(set) => {
                        hooks.insert(org.to_owned(), set.map(|s| s.hooks).unwrap_or_default());
                    }
                    Err(e) => {
                        tracing::error!(error = %e, org, "webhooks not read; the batch goes again");
                        read = i;
                        break;
                    }
                }
            }
            for hook in hooks[org].iter().filter(|h| h.wants(outgoing.detail_type)) {
                deliveries.push(Delivery {
                    org: org.to_owned(),
                    webhook: hook.id,
                    event_id: outgoing.id.clone(),
                    event_type: outgoing.detail_type.to_owned(),
                    body: outgoing.detail.clone(),
                });
                owners.push(i);
            }
        }
        let queued = match self.queue.enqueue(&deliveries).await {
            Ok(queued) => queued,
            Err(e) => {
                tracing::error!(error = %e, "deliveries not queued; the batch goes again");
                0
            }
        };
        owners.get(queued).map_or(read, |event| (*event).min(read))
    }
}
