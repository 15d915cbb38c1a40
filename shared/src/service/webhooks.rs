//! Webhooks through the API: an organisation registers endpoints (the secret shown
//! once), lists and removes them, and reads each one's latest delivery attempts.

use uuid::Uuid;

use super::document::revise;
use super::{Caller, FileService};
use crate::domain::{new_secret, DeliveryAttempt, Webhook, WebhookSet, MAX_WEBHOOKS};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, WebhookStore};

/// A webhook to register, its event types checked at the edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    pub url: String,
    /// Empty: every event type.
    pub events: Vec<String>,
    pub description: Option<String>,
}

fn not_found(id: Uuid) -> Error {
    Error::not_found(format!("webhook {id} not found"))
}

impl<B: Backend> FileService<B> {
    async fn webhook_set(&self, caller: &Caller) -> Result<WebhookSet> {
        let org = caller.org.as_str();
        Ok(self
            .files()
            .webhooks(org)
            .await?
            .unwrap_or_else(|| WebhookSet {
                org: org.to_owned(),
                ..WebhookSet::default()
            }))
    }

    /// Registers a webhook; its answer is the only one that holds the secret. 400 for a
    /// URL the address policy refuses, 409 past [`MAX_WEBHOOKS`].
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        request: WebhookRequest,
    ) -> Result<Webhook> {
        let url = self.config.url_policy.check_webhook(&request.url)?;
        let webhook = Webhook {
            id: Uuid::new_v4(),
            url: url.to_string(),
            events: request.events,
            description: request.description,
            secret: new_secret(),
            created_at: self.clock.now_rfc3339(),
        };
        revise(
            "webhooks",
            || self.webhook_set(caller),
            |set, read| async move { self.files().put_webhooks(&set, read).await },
            |set| {
                if set.hooks.len() >= MAX_WEBHOOKS {
                    return Err(Error::new(
                        ErrorCode::Conflict,
                        format!(
                            "an organisation has at most {MAX_WEBHOOKS} webhooks; delete one first"
                        ),
                    ));
                }
                set.hooks.push(webhook.clone());
                Ok(())
            },
        )
        .await?;
        Ok(webhook)
    }

    /// The organisation's webhooks, oldest first (the API leaves their secrets out).
    pub async fn webhooks(&self, caller: &Caller) -> Result<Vec<Webhook>> {
        Ok(self.webhook_set(caller).await?.hooks)
    }

    /// Removes a webhook: deliveries of it still queued are dropped when they come up.
    pub async fn delete_webhook(&self, caller: &Caller, id: Uuid) -> Result<Webhook> {
        revise(
            "webhooks",
            || self.webhook_set(caller),
            |set, read| async move { self.files().put_webhooks(&set, read).await },
            |set| {
                let at = set
                    .hooks
                    .iter()
                    .position(|h| h.id == id)
                    .ok_or_else(|| not_found(id))?;
                Ok(set.hooks.remove(at))
            },
        )
        .await
    }

    /// A webhook's latest delivery attempts, newest first.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Vec<DeliveryAttempt>> {
        let org = caller.org.as_str();
        if !self
            .webhook_set(caller)
            .await?
            .hooks
            .iter()
            .any(|h| h.id == id)
        {
            return Err(not_found(id));
        }
        let mut attempts = self
            .files()
            .delivery_log(org, id)
            .await?
            .map(|log| log.attempts)
            .unwrap_or_default();
        attempts.reverse();
        Ok(attempts)
    }
}
