//! Checks of `WebhookStore`.

use uuid::Uuid;

use crate::domain::{DeliveryAttempt, DeliveryLog, DeliveryOutcome, Webhook, WebhookSet};
use crate::error::ErrorCode;
use crate::ports::WebhookStore;

fn webhook() -> Webhook {
    Webhook {
        id: Uuid::new_v4(),
        url: "https://hooks.example.com/files".into(),
        events: vec!["file.created".into()],
        description: Some("ours".into()),
        secret: crate::domain::new_secret(),
        created_at: "2026-12-06T10:00:00.000Z".into(),
    }
}

fn code<T: std::fmt::Debug>(result: crate::ports::StoreResult<T>) -> ErrorCode {
    crate::Error::from(result.expect_err("an error")).code()
}

pub async fn webhooks_round_trip_on_their_revision<R: WebhookStore>(repo: &R, org: &str) {
    assert_eq!(repo.webhooks(org).await.unwrap(), None);
    let mut set = WebhookSet {
        org: org.into(),
        revision: 1,
        hooks: vec![webhook()],
    };
    repo.put_webhooks(&set, 0).await.unwrap();
    assert_eq!(repo.webhooks(org).await.unwrap(), Some(set.clone()));
    assert_eq!(
        code(repo.put_webhooks(&set, 0).await),
        ErrorCode::Conflict,
        "a second first write is a conflict"
    );
    set.hooks.push(webhook());
    set.revision = 2;
    repo.put_webhooks(&set, 1).await.unwrap();
    assert_eq!(
        code(repo.put_webhooks(&set, 1).await),
        ErrorCode::Conflict,
        "a write on a stale revision is a conflict"
    );
    assert_eq!(repo.webhooks(org).await.unwrap().unwrap().hooks.len(), 2);
    let other = format!("{org}-other");
    assert_eq!(
        repo.webhooks(&other).await.unwrap(),
        None,
        "organisations apart"
    );
}

pub async fn delivery_logs_round_trip_per_webhook_and_organisation<R: WebhookStore>(
    repo: &R,
    org: &str,
) {
    let id = Uuid::new_v4();
    assert_eq!(repo.delivery_log(org, id).await.unwrap(), None);
    let mut log = DeliveryLog {
        org: org.into(),
        webhook: id,
        revision: 1,
        attempts: vec![],
    };
    log.push(DeliveryAttempt {
        event_id: "ev-1".into(),
        event_type: "file.created".into(),
        attempt: 1,
        at: "2026-12-06T10:00:00.000Z".into(),
        outcome: DeliveryOutcome::Failed,
        status: Some(500),
        error: Some("the endpoint answered 500".into()),
        duration_ms: 12,
    });
    repo.put_delivery_log(&log, 0).await.unwrap();
    assert_eq!(repo.delivery_log(org, id).await.unwrap(), Some(log.clone()));
    assert_eq!(
        code(repo.put_delivery_log(&log, 0).await),
        ErrorCode::Conflict
    );
    let other = format!("{org}-other");
    assert_eq!(repo.delivery_log(&other, id).await.unwrap(), None);
}
