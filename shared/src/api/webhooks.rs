//! Webhooks: `POST /v2/webhooks` registers one (the answer holds its secret, shown this
//! once), `GET /v2/webhooks` lists them, `DELETE /v2/webhooks/{id}` removes one, and
//! `GET /v2/webhooks/{id}/deliveries` reads its latest delivery attempts.

use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::request::{json, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::ResultsJson;
use crate::domain::{DeliveryAttempt, Webhook};
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventType;
use crate::ports::Backend;
use crate::service::{Caller, WebhookRequest};

const MAX_DESCRIPTION_CHARS: usize = 512;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
}

/// A webhook as answered; its secret only in the answer that made it.
#[derive(Serialize)]
struct WebhookJson<'a> {
    id: Uuid,
    url: &'a str,
    /// The event types it is sent; every type when empty.
    events: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    created_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> WebhookJson<'a> {
    fn new(hook: &'a Webhook, with_secret: bool) -> Self {
        WebhookJson {
            id: hook.id,
            url: &hook.url,
            events: &hook.events,
            description: hook.description.as_deref(),
            created_at: &hook.created_at,
            secret: with_secret.then_some(hook.secret.as_str()),
        }
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidBody, message)
}

fn webhook_request(body: &[u8]) -> Result<WebhookRequest> {
    let body: WebhookBody = json(body)?;
    let mut events = body.events.unwrap_or_default();
    if let Some(unknown) = events
        .iter()
        .find(|e| !EventType::NAMES.contains(&e.as_str()))
    {
        return Err(invalid(format!(
            "events: {unknown:?} is not an event type; one of {}",
            EventType::NAMES.join(", ")
        )));
    }
    events.sort();
    events.dedup();
    if body
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        return Err(invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(WebhookRequest {
        url: body.url,
        events,
        description: body.description,
    })
}

fn webhook_id(path: &Segments) -> Result<Uuid> {
    Uuid::parse_str(path.id())
        .map_err(|_| Error::new(ErrorCode::InvalidId, "the webhook id must be a UUID"))
}

pub(super) async fn create_webhook<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    body: Bytes,
) -> Answer {
    let created = s.create_webhook(&caller, webhook_request(&body)?).await?;
    Reply::created(&WebhookJson::new(&created, true))
}

pub(super) async fn list_webhooks<B: Backend>(State(s): State<Api<B>>, caller: Caller) -> Answer {
    let hooks = s.webhooks(&caller).await?;
    Reply::ok(&ResultsJson {
        results: hooks.iter().map(|h| WebhookJson::new(h, false)).collect(),
    })
}

pub(super) async fn delete_webhook<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let deleted = s.delete_webhook(&caller, webhook_id(&path)?).await?;
    Reply::ok(&WebhookJson::new(&deleted, false))
}

pub(super) async fn webhook_deliveries<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let attempts: Vec<DeliveryAttempt> = s.webhook_deliveries(&caller, webhook_id(&path)?).await?;
    Reply::ok(&ResultsJson { results: attempts })
}
