//! Webhooks on DynamoDB: an organisation's as one document (`WEBHOOKS#<org>`, at most
//! `MAX_WEBHOOKS`), and each webhook's delivery log as another
//! (`WEBHOOKLOG#<org>#<id>`, its latest attempts).

use uuid::Uuid;

use super::DynamoFiles;
use crate::domain::{DeliveryLog, WebhookSet};
use crate::ports::{StoreResult as Result, WebhookStore};

fn webhooks_pk(org: &str) -> String {
    format!("WEBHOOKS#{org}")
}

fn log_pk(org: &str, webhook: Uuid) -> String {
    format!("WEBHOOKLOG#{org}#{webhook}")
}

impl WebhookStore for DynamoFiles {
    async fn webhooks(&self, org: &str) -> Result<Option<WebhookSet>> {
        self.document(&webhooks_pk(org), "decode webhooks").await
    }

    async fn put_webhooks(&self, set: &WebhookSet, read: u64) -> Result<()> {
        let pk = webhooks_pk(&set.org);
        self.put_document(&pk, "webhooks", set, set.revision, read)
            .await
    }

    async fn delivery_log(&self, org: &str, webhook: Uuid) -> Result<Option<DeliveryLog>> {
        self.document(&log_pk(org, webhook), "decode delivery log")
            .await
    }

    async fn put_delivery_log(&self, log: &DeliveryLog, read: u64) -> Result<()> {
        let pk = log_pk(&log.org, log.webhook);
        self.put_document(&pk, "delivery_log", log, log.revision, read)
            .await
    }
}
