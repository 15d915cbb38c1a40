//! Webhooks: an organisation's endpoints, the events each wants, and how a delivery is
//! signed (the Standard Webhooks specification: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, an HMAC-SHA256 over `id.timestamp.body` with the secret's bytes).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// Most webhooks one organisation may have.
pub const MAX_WEBHOOKS: usize = 10;
/// How many delivery attempts a webhook's log keeps (the latest).
pub const MAX_LOGGED_ATTEMPTS: usize = 25;
/// The prefix Standard Webhooks gives secrets.
const SECRET_PREFIX: &str = "whsec_";

/// One endpoint of an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// The event types it wants; empty: every type.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `whsec_` and the base64 of 24 random bytes; shown once, when it is made.
    pub secret: String,
    pub created_at: String,
}

impl Webhook {
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event_type)
    }
}

/// An organisation's webhooks, stored together and written back on their revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSet {
    pub org: String,
    pub revision: u64,
    pub hooks: Vec<Webhook>,
}

/// How one attempt to deliver an event went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt of this event.
    pub attempt: u32,
    pub at: String,
    pub outcome: DeliveryOutcome,
    /// The endpoint's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed, in words (never the secret or the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// It will be tried again.
    Failed,
    /// The last attempt failed: the delivery waits in the dead-letter queue.
    GaveUp,
    /// The URL no longer passes the address policy: not sent, not retried.
    Refused,
}

/// A webhook's latest delivery attempts, newest last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub org: String,
    pub webhook: Uuid,
    pub revision: u64,
    pub attempts: Vec<DeliveryAttempt>,
}

impl DeliveryLog {
    /// Adds `attempt`, keeping the latest [`MAX_LOGGED_ATTEMPTS`].
    pub fn push(&mut self, attempt: DeliveryAttempt) {
        self.attempts.push(attempt);
        let over = self.attempts.len().saturating_sub(MAX_LOGGED_ATTEMPTS);
        self.attempts.drain(..over);
    }
}

/// A new secret from 24 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system's random source");
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header of `body`, sent as `id` at `timestamp` (Unix seconds).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// How long a failed delivery waits before its next attempt: `base` doubled with each
/// attempt, at most six hours (SQS holds a message out of sight at most 12 h).
pub fn retry_delay_seconds(base: u64, failed_attempts: u32) -> u64 {
    const MAX: u64 = 6 * 3600;
    let doubling = failed_attempts.saturating_sub(1).min(20);
    base.saturating_mul(1 << doubling).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_specifications_example() {
        // The Standard Webhooks specification's own example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_new_each_time_and_in_the_specifications_form() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&a[6..]).unwrap().len(), 24);
    }

    #[test]
    fn retries_back_off_past_a_day_within_fourteen_attempts() {
        let delays: Vec<u64> = (1..=13).map(|n| retry_delay_seconds(30, n)).collect();
        assert_eq!(delays[..4], [30, 60, 120, 240]);
        assert!(delays.iter().all(|d| *d <= 6 * 3600));
        assert!(delays.iter().sum::<u64>() > 24 * 3600, "{delays:?}");
    }

    #[test]
    fn a_log_keeps_the_latest_attempts() {
        let mut log = DeliveryLog::default();
        for n in 0..40 {
            log.push(DeliveryAttempt {
                event_id: format!("e{n}"),
                event_type: "file.created".into(),
                attempt: 1,
                at: String::new(),
                outcome: DeliveryOutcome::Delivered,
                status: Some(200),
                error: None,
                duration_ms: 1,
            });
        }
        assert_eq!(log.attempts.len(), MAX_LOGGED_ATTEMPTS);
        assert_eq!(log.attempts.last().unwrap().event_id, "e39");
    }
}
