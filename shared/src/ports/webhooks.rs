//! Webhooks: each organisation's endpoints and each endpoint's delivery log, stored as
//! documents written back whole on their revision (as collections are); and the queue
//! that holds deliveries until they are sent.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::StoreResult;
use crate::domain::{DeliveryLog, WebhookSet};

pub trait WebhookStore: Send + Sync {
    /// The organisation's webhooks; `None` when it has never had any.
    fn webhooks(&self, org: &str) -> impl Future<Output = StoreResult<Option<WebhookSet>>> + Send;

    /// Stores `set` (its revision one more than `read`) if the stored set is still at
    /// revision `read` (0: none stored). `Conflict` otherwise; then nothing changed.
    fn put_webhooks(
        &self,
        set: &WebhookSet,
        read: u64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A webhook's delivery log; `None` before its first attempt.
    fn delivery_log(
        &self,
        org: &str,
        webhook: Uuid,
    ) -> impl Future<Output = StoreResult<Option<DeliveryLog>>> + Send;

    /// As [`WebhookStore::put_webhooks`], for a delivery log.
    fn put_delivery_log(
        &self,
        log: &DeliveryLog,
        read: u64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// One event for one webhook, as it waits in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub org: String,
    pub webhook: Uuid,
    pub event_id: String,
    pub event_type: String,
    /// The body to send: the event's JSON.
    pub body: String,
}

pub trait DeliveryQueue: Send + Sync {
    /// Queues `deliveries` in order: answers how many, from the first, were queued.
    fn enqueue(&self, deliveries: &[Delivery]) -> impl Future<Output = StoreResult<usize>> + Send;
}
