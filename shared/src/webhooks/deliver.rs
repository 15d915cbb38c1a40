//! The webhooks function's work: each queued delivery sent to its webhook's URL, signed;
//! the attempt written to the webhook's log; a failed one kept out of sight for longer
//! each time (`retry_delay_seconds`), until the queue's last receive, after which SQS
//! moves it to the dead-letter queue.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use reqwest::redirect::Policy;
use uuid::Uuid;

use crate::adapters::sqs::SqsDeliveries;
use crate::domain::{
    retry_delay_seconds, signature, DeliveryAttempt, DeliveryLog, DeliveryOutcome,
};
use crate::error::{Error, Result};
use crate::ingest::fetch::CheckedResolver;
use crate::ports::{Delivery, StoreResult, WebhookStore};
use crate::service::document::revise;
use crate::time::Clock;
use crate::url_policy::UrlPolicy;

/// How deliveries are sent and retried.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    pub policy: UrlPolicy,
    /// The first retry's delay; each later one doubles it (at most 6 h).
    pub retry_base_seconds: u64,
    /// The queue's `maxReceiveCount`: the attempt after which a delivery is given up.
    pub max_attempts: u32,
    pub timeout: Duration,
}

impl SenderSettings {
    pub fn from_env() -> Result<Self> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match crate::config::optional(name) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| {
                    Error::internal("configuration", format!("{name} must be a whole number"))
                }),
            }
        };
        Ok(SenderSettings {
            policy: UrlPolicy::from_env(),
            retry_base_seconds: number("WEBHOOK_RETRY_BASE_SECONDS", 30)?,
            max_attempts: number("WEBHOOK_MAX_ATTEMPTS", 14)? as u32,
            timeout: Duration::from_secs(number("WEBHOOK_TIMEOUT_SECONDS", 10)?),
        })
    }
}

/// The HTTP client of deliveries, built once per cold start: no redirects, and every
/// address a name resolves to checked against the policy.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    pub settings: SenderSettings,
    clock: Clock,
}

impl Sender {
    pub fn new(settings: SenderSettings, clock: Clock) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .dns_resolver(Arc::new(CheckedResolver {
                policy: settings.policy,
            }))
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .timeout(settings.timeout)
            .no_proxy()
            .user_agent(concat!("file-service-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal("HTTP client", e))?;
        Ok(Sender {
            client,
            settings,
            clock,
        })
    }

    /// Sends `delivery` to `url` signed with `secret`: the endpoint's status, or why
    /// it was not reached.
    async fn send(
        &self,
        delivery: &Delivery,
        url: &str,
        secret: &str,
    ) -> std::result::Result<u16, String> {
        let timestamp = self.clock.now_millis() / 1000;
        let signed = signature(secret, &delivery.event_id, timestamp, &delivery.body)
            .ok_or("the webhook's secret is not valid")?;
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "the endpoint did not answer in time".to_owned()
                } else if e.is_connect() {
                    "the endpoint could not be reached (or its address is not public)".to_owned()
                } else {
                    "the request failed".to_owned()
                }
            })?;
        Ok(answer.status().as_u16())
    }
}

/// Where a failed delivery's next attempt is put off.
pub trait RetryTimer: Send + Sync {
    fn retry_after(
        &self,
        receipt: &str,
        seconds: u64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

impl RetryTimer for SqsDeliveries {
    async fn retry_after(&self, receipt: &str, seconds: u64) -> StoreResult<()> {
        SqsDeliveries::retry_after(self, receipt, seconds).await
    }
}

/// What one delivery came to: whether to receive it again, and the attempt to log.
struct Sent {
    again: bool,
    logged: Option<(String, Uuid, DeliveryAttempt)>,
}

/// Sends every delivery of `event` (at once), then logs the attempts (one write per
/// webhook); answers the ones to receive again.
pub async fn deliver_batch<S: WebhookStore, T: RetryTimer>(
    store: &S,
    sender: &Sender,
    timer: &T,
    event: &SqsEvent,
) -> SqsBatchResponse {
    let sent = futures::future::join_all(
        event
            .records
            .iter()
            .map(|message| deliver_one(store, sender, timer, message)),
    )
    .await;
    let mut logs: BTreeMap<(String, Uuid), Vec<DeliveryAttempt>> = BTreeMap::new();
    for (org, webhook, attempt) in sent.iter().filter_map(|s| s.logged.clone()) {
        logs.entry((org, webhook)).or_default().push(attempt);
    }
    for ((org, webhook), attempts) in logs {
        if let Err(e) = log_attempts(store, &org, webhook, attempts).await {
            tracing::warn!(error = %e, %webhook, "delivery attempts not logged");
        }
    }
    let mut answer = SqsBatchResponse::default();
    for (message, Sent { again, .. }) in event.records.iter().zip(sent) {
        if again {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            answer.batch_item_failures.push(failure);
        }
    }
    answer
}

/// One delivery: whether it is to be received again, and its attempt.
async fn deliver_one<S: WebhookStore, T: RetryTimer>(
    store: &S,
    sender: &Sender,
    timer: &T,
    message: &SqsMessage,
) -> Sent {
    let done = |again| Sent {
        again,
        logged: None,
    };
    let Some(delivery) = message
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Delivery>(b).ok())
    else {
        tracing::error!(message = ?message.message_id, "a delivery that does not parse; dropped");
        return done(false);
    };
    let attempt: u32 = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let hook = match store.webhooks(&delivery.org).await {
        Ok(set) => set.and_then(|s| s.hooks.into_iter().find(|h| h.id == delivery.webhook)),
        Err(e) => {
            tracing::error!(error = %e, "webhooks not read; the delivery goes again");
            return done(true);
        }
    };
    let Some(hook) = hook else {
        tracing::info!(webhook = %delivery.webhook, "the webhook was deleted; its delivery is dropped");
        return done(false);
    };
    let started = Instant::now();
    let (outcome, status, error) = match sender.settings.policy.check_webhook(&hook.url) {
        Err(e) => (
            DeliveryOutcome::Refused,
            None,
            Some(e.public_message().to_owned()),
        ),
        Ok(url) => match sender.send(&delivery, url.as_str(), &hook.secret).await {
            Ok(status) if (200..300).contains(&status) => {
                (DeliveryOutcome::Delivered, Some(status), None)
            }
            Ok(status) => (
                DeliveryOutcome::Failed,
                Some(status),
                Some(format!("the endpoint answered {status}")),
            ),
            Err(reason) => (DeliveryOutcome::Failed, None, Some(reason)),
        },
    };
    let outcome = match outcome {
        DeliveryOutcome::Failed if attempt >= sender.settings.max_attempts => {
            DeliveryOutcome::GaveUp
        }
        other => other,
    };
    tracing::info!(
        webhook = %hook.id, event = %delivery.event_id, attempt, ?outcome, status, "delivery"
    );
    let logged = DeliveryAttempt {
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type.clone(),
        attempt,
        at: sender.clock.now_rfc3339(),
        outcome,
        status,
        error,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let sent = |again| Sent {
        again,
        logged: Some((delivery.org.clone(), delivery.webhook, logged.clone())),
    };
    let delay = match outcome {
        DeliveryOutcome::Delivered | DeliveryOutcome::Refused => return sent(false),
        // Back at once: the next receive passes the queue's maxReceiveCount and moves it
        // to the dead-letter queue.
        DeliveryOutcome::GaveUp => 0,
        DeliveryOutcome::Failed => retry_delay_seconds(sender.settings.retry_base_seconds, attempt),
    };
    if let Some(receipt) = &message.receipt_handle {
        if let Err(e) = timer.retry_after(receipt, delay).await {
            tracing::warn!(error = %e, "the retry's delay not set; it comes back at the queue's");
        }
    }
    sent(true)
}

/// Appends a webhook's attempts to its log.
async fn log_attempts<S: WebhookStore>(
    store: &S,
    org: &str,
    webhook: Uuid,
    attempts: Vec<DeliveryAttempt>,
) -> Result<()> {
    revise(
        "delivery log",
        || async move {
            Ok(store
                .delivery_log(org, webhook)
                .await?
                .unwrap_or_else(|| DeliveryLog {
                    org: org.to_owned(),
                    webhook,
                    ..DeliveryLog::default()
                }))
        },
        |log, read| async move { store.put_delivery_log(&log, read).await },
        |log| {
            for attempt in &attempts {
                log.push(attempt.clone());
            }
            Ok(())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryFiles;
    use crate::domain::{Webhook, WebhookSet};
    use crate::ports::WebhookStore;

    struct NoTimer;

    impl RetryTimer for NoTimer {
        async fn retry_after(&self, _: &str, _: u64) -> StoreResult<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_batch_of_one_webhooks_deliveries_logs_every_attempt_once() {
        let store = MemoryFiles::default();
        let hook = Webhook {
            id: Uuid::new_v4(),
            // A URL the policy refuses at delivery: no network needed.
            url: "https://10.0.0.1/hook".into(),
            events: vec![],
            description: None,
            secret: crate::domain::new_secret(),
            created_at: "2026-12-06T10:00:00.000Z".into(),
        };
        let set = WebhookSet {
            org: "org-1".into(),
            revision: 1,
            hooks: vec![hook.clone()],
        };
        store.put_webhooks(&set, 0).await.unwrap();
        let records: Vec<serde_json::Value> = (0..10)
            .map(|n| {
                let delivery = Delivery {
                    org: "org-1".into(),
                    webhook: hook.id,
                    event_id: format!("ev-{n}"),
                    event_type: "file.created".into(),
                    body: "{}".into(),
                };
                serde_json::json!({
                    "messageId": format!("m{n}"), "receiptHandle": format!("r{n}"),
                    "body": serde_json::to_string(&delivery).unwrap(),
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                })
            })
            .collect();
        let event: SqsEvent =
            serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        let sender = Sender::new(
            SenderSettings {
                policy: UrlPolicy::default(),
                retry_base_seconds: 30,
                max_attempts: 14,
                timeout: Duration::from_secs(1),
            },
            Clock::system(),
        )
        .unwrap();
        let answer = deliver_batch(&store, &sender, &NoTimer, &event).await;
        assert!(
            answer.batch_item_failures.is_empty(),
            "refused: not retried"
        );
        let log = store.delivery_log("org-1", hook.id).await.unwrap().unwrap();
        let mut ids: Vec<&str> = log.attempts.iter().map(|a| a.event_id.as_str()).collect();
        ids.sort();
        assert_eq!(ids.len(), 10);
        ids.dedup();
        assert_eq!(ids.len(), 10, "each attempt logged once");
        assert!(log
            .attempts
            .iter()
            .all(|a| a.outcome == DeliveryOutcome::Refused));
        assert_eq!(log.revision, 1, "one write for the batch");
    }
}
