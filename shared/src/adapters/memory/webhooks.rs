//! Webhooks and delivery logs in maps, each written back whole on its revision.

use uuid::Uuid;

use super::files::MemoryFiles;
use super::lock;
use crate::domain::{DeliveryLog, WebhookSet};
use crate::ports::{Clash, StorageError, StoreResult as Result, WebhookStore};

impl WebhookStore for MemoryFiles {
    async fn webhooks(&self, org: &str) -> Result<Option<WebhookSet>> {
        Ok(lock(&self.state).webhooks.get(org).cloned())
    }

    async fn put_webhooks(&self, set: &WebhookSet, read: u64) -> Result<()> {
        let mut state = lock(&self.state);
        if state.webhooks.get(&set.org).map_or(0, |s| s.revision) != read {
            return Err(StorageError::Conflict(Clash::DocumentChanged));
        }
        state.webhooks.insert(set.org.clone(), set.clone());
        Ok(())
    }

    async fn delivery_log(&self, org: &str, webhook: Uuid) -> Result<Option<DeliveryLog>> {
        let state = lock(&self.state);
        Ok(state
            .delivery_logs
            .get(&webhook)
            .filter(|log| log.org == org)
            .cloned())
    }

    async fn put_delivery_log(&self, log: &DeliveryLog, read: u64) -> Result<()> {
        let mut state = lock(&self.state);
        let stored = state
            .delivery_logs
            .get(&log.webhook)
            .filter(|l| l.org == log.org)
            .map_or(0, |l| l.revision);
        if stored != read {
            return Err(StorageError::Conflict(Clash::DocumentChanged));
        }
        state.delivery_logs.insert(log.webhook, log.clone());
        Ok(())
    }
}
