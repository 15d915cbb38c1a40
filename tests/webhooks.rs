//! Webhooks: registered through the API (the address policy at registration), fed by the
//! events function's fan-out into a queue (moto's SQS), sent by the webhooks function's
//! code to an endpoint that verifies each delivery with the Standard Webhooks library
//! from PyPI. A failing endpoint is retried with backoff; one that always fails ends in
//! the dead-letter queue; a deleted webhook gets nothing more; a URL that no longer
//! passes the policy is refused at delivery.

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use integration_tests::stream::{streamed_config, StreamReader};
use integration_tests::{clients, new_org, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::adapters::dynamodb::DynamoFiles;
use shared::adapters::memory::MemoryEvents;
use shared::adapters::sqs::SqsDeliveries;
use shared::events::publish_batch;
use shared::time::Clock;
use shared::url_policy::UrlPolicy;
use shared::webhooks::{deliver_batch, Sender, SenderSettings, WebhookFanout};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The Python endpoint (tests/fixtures/webhook_receiver.py) on a free port.
struct Receiver {
    _child: tokio::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Receiver {
    async fn start() -> Self {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let venv = format!("{root}/.venv/bin/python");
        let python = if std::path::Path::new(&venv).exists() {
            venv
        } else {
            "python3".into()
        };
        let mut child = tokio::process::Command::new(python)
            .arg(format!("{root}/tests/fixtures/webhook_receiver.py"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python (make venv installs standardwebhooks)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the receiver's ready line");
        let port = line
            .strip_prefix("ready ")
            .expect("ready <port>")
            .to_owned();
        Receiver {
            _child: child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.base)
    }

    async fn control(&self, name: &str, settings: Value) {
        let url = format!("{}/_control/{name}", self.base);
        self.http.put(url).json(&settings).send().await.unwrap();
    }

    async fn received(&self, name: &str) -> Value {
        let url = format!("{}/_received/{name}", self.base);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Registers a webhook through the API; the endpoint learns its secret.
async fn register(
    s: &Stack,
    org: &str,
    receiver: &Receiver,
    name: &str,
    events: Value,
    settings: Value,
) -> Value {
    let hook = s
        .call(
            org,
            Method::POST,
            "/v2/webhooks",
            Some(json!({"url": receiver.url(name), "events": events, "description": name})),
        )
        .await
        .expect(201);
    let mut settings = settings;
    settings["secret"] = hook["secret"].clone();
    receiver.control(name, settings).await;
    hook
}

fn sqs() -> aws_sdk_sqs::Client {
    clients().sqs()
}

/// A delivery queue whose messages go to a dead-letter queue after `max_receives`.
async fn queues(max_receives: u32) -> (String, String) {
    let sqs = sqs();
    let name = format!("webhooks-{}", uuid::Uuid::new_v4().simple());
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap();
    let dlq_url = dlq.queue_url().unwrap().to_owned();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let queue = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string()})
                .to_string(),
        )
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .unwrap();
    (queue.queue_url().unwrap().to_owned(), dlq_url)
}

/// Messages as Lambda's SQS event hands them to the function.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: HashMap<String, String> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "attributes": attributes, "messageAttributes": {},
                "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// What Lambda's SQS source does, until `done` or 30 s: receive, invoke the function's
/// code, delete what it did not answer as failed.
async fn pump<F, Fut>(
    queue: &SqsDeliveries,
    queue_url: &str,
    sender: &Sender,
    store: &DynamoFiles,
    done: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let sqs = sqs();
    for _ in 0..150 {
        if done().await {
            return;
        }
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .unwrap();
        let messages = got.messages().to_vec();
        if messages.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let answer = deliver_batch(store, sender, queue, &sqs_event(&messages)).await;
        for m in &messages {
            let failed = answer
                .batch_item_failures
                .iter()
                .any(|f| Some(f.item_identifier.as_str()) == m.message_id());
            if !failed {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    panic!("the deliveries did not settle in 30 s");
}

fn sender(allow_loopback: bool, max_attempts: u32) -> Sender {
    Sender::new(
        SenderSettings {
            policy: UrlPolicy {
                allow_http_loopback: allow_loopback,
            },
            retry_base_seconds: 1,
            max_attempts,
            timeout: Duration::from_secs(5),
        },
        Clock::system(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_retried_and_dead_lettered() {
    let config = streamed_config().await;
    let s = stack_with(config.clone()).await;
    let store = DynamoFiles::new(clients().dynamodb, config.table.clone());
    let receiver = Receiver::start().await;
    let org = new_org();
    let every = register(&s, &org, &receiver, "every", json!([]), json!({})).await;
    let flaky = register(
        &s,
        &org,
        &receiver,
        "flaky",
        json!(["file.created"]),
        json!({"fail_first": 2}),
    )
    .await;
    let dead = register(
        &s,
        &org,
        &receiver,
        "dead",
        json!(["file.trashed"]),
        json!({"always_fail": true}),
    )
    .await;
    let (queue_url, dlq_url) = queues(3).await;
    let queue = SqsDeliveries::new(sqs(), &queue_url);

    let mut stream = StreamReader::at_end(&config.table).await;
    let file = s.new_file(&org, "a.txt", "text/plain", b"hello").await;
    let id = file["_id"].as_str().unwrap().to_owned();
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let batch = stream.records_of(&org).await;
    let bus = MemoryEvents::default();
    let fanout = WebhookFanout {
        store: &store,
        queue: &queue,
    };
    let answer = publish_batch(&bus, &fanout, &batch, &config.bucket, "").await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    let ids: Vec<String> = bus.published().into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 2);

    let sender = sender(true, 3);
    let dead_lettered = || async {
        sqs()
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()[&QueueAttributeName::ApproximateNumberOfMessages]
            .clone()
    };
    pump(&queue, &queue_url, &sender, &store, || async {
        receiver.received("every").await["verified"]
            .as_array()
            .unwrap()
            .len()
            == 2
            && receiver.received("flaky").await["verified"]
                .as_array()
                .unwrap()
                .len()
                == 1
            && receiver.received("dead").await["attempts"] == 3
    })
    .await;
    // The last failed attempt leaves the message in the queue; the next receive moves it.
    pump(&queue, &queue_url, &sender, &store, || async {
        dead_lettered().await == "1"
    })
    .await;

    // Verified by the library: both events, each with its event id. Deliveries of one
    // batch are sent at once, so they may arrive in any order: `sequence` orders them.
    let every_got = receiver.received("every").await;
    let mut got: Vec<(&str, &str, &str)> = every_got["verified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["body"]["sequence"].as_str().unwrap(),
                d["id"].as_str().unwrap(),
                d["body"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    let got: Vec<(&str, &str)> = got.into_iter().map(|(_, id, kind)| (id, kind)).collect();
    assert_eq!(
        got,
        [
            (ids[0].as_str(), "file.created"),
            (ids[1].as_str(), "file.trashed")
        ]
    );
    assert_eq!(every_got["rejected"], 0);
    assert_eq!(every_got["verified"][0]["body"]["file"]["_id"], id.as_str());
    // The flaky endpoint: two failures, then the third attempt delivered, and only the
    // type it asked for.
    let flaky_got = receiver.received("flaky").await;
    assert_eq!(flaky_got["attempts"], 3);
    assert_eq!(flaky_got["verified"][0]["id"], ids[0].as_str());
    let log = s
        .call(
            &org,
            Method::GET,
            &format!("/v2/webhooks/{}/deliveries", flaky["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    let outcomes: Vec<(&str, u64, Value)> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["outcome"].as_str().unwrap(),
                a["attempt"].as_u64().unwrap(),
                a["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("delivered", 3, json!(204)),
            ("failed", 2, json!(500)),
            ("failed", 1, json!(500))
        ]
    );
    // The dead endpoint: three attempts, the last given up, the delivery dead-lettered.
    let log = s
        .call(
            &org,
            Method::GET,
            &format!("/v2/webhooks/{}/deliveries", dead["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(log["results"][0]["outcome"], "gave_up");
    assert_eq!(log["results"].as_array().unwrap().len(), 3);
    let dead_letter = sqs()
        .receive_message()
        .queue_url(&dlq_url)
        .send()
        .await
        .unwrap();
    let kept: Value = serde_json::from_str(dead_letter.messages()[0].body().unwrap()).unwrap();
    assert_eq!(kept["event_id"], ids[1].as_str());
    assert_eq!(kept["webhook"], dead["id"]);
    assert_eq!(every["events"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_webhook_gets_nothing_more_and_a_refused_url_is_not_sent() {
    let config = streamed_config().await;
    let s = stack_with(config.clone()).await;
    let store = DynamoFiles::new(clients().dynamodb, config.table.clone());
    let receiver = Receiver::start().await;
    let org = new_org();
    let gone = register(&s, &org, &receiver, "gone", json!([]), json!({})).await;
    let local = register(&s, &org, &receiver, "local", json!([]), json!({})).await;
    let (queue_url, _) = queues(3).await;
    let queue = SqsDeliveries::new(sqs(), &queue_url);
    let mut stream = StreamReader::at_end(&config.table).await;
    s.new_file(&org, "a.txt", "text/plain", b"hello").await;
    let batch = stream.records_of(&org).await;
    let fanout = WebhookFanout {
        store: &store,
        queue: &queue,
    };
    publish_batch(
        &MemoryEvents::default(),
        &fanout,
        &batch,
        &config.bucket,
        "",
    )
    .await;
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/webhooks/{}", gone["id"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200);

    // A sender whose policy refuses loopback, as a deployment's does.
    let strict = sender(false, 3);
    let log_of = |hook: &Value| {
        let path = format!("/v2/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
        let s = &s;
        let org = &org;
        async move { s.call(org, Method::GET, &path, None).await }
    };
    pump(&queue, &queue_url, &strict, &store, || async {
        log_of(&local).await.json["results"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    })
    .await;
    let attempt = &log_of(&local).await.expect(200)["results"][0];
    assert_eq!(attempt["outcome"], "refused");
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("public address"),
        "{attempt}"
    );
    assert_eq!(receiver.received("local").await["attempts"], 0, "not sent");
    assert_eq!(
        receiver.received("gone").await["attempts"],
        0,
        "deleted: not sent"
    );
    assert_eq!(log_of(&gone).await.expect_error(404), "not_found");
    let left = sqs()
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessages],
        "0",
        "neither is tried again"
    );
}

#[tokio::test]
async fn registration_checks_the_url_the_types_and_the_organisation() {
    let s = stack_with(streamed_config().await).await;
    let org = new_org();
    let post = |body: Value| {
        let s = &s;
        let org = &org;
        async move { s.call(org, Method::POST, "/v2/webhooks", Some(body)).await }
    };
    for url in [
        "http://example.com/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        assert_eq!(
            post(json!({"url": url})).await.expect_error(400),
            "invalid_webhook_url",
            "{url}"
        );
    }
    assert_eq!(
        post(json!({"url": "https://example.com/h", "events": ["file.exploded"]}))
            .await
            .expect_error(400),
        "invalid_body"
    );
    assert_eq!(
        post(json!({"url": "https://example.com/h", "colour": "red"}))
            .await
            .expect_error(400),
        "invalid_body"
    );
    let made =
        post(json!({"url": "https://example.com/h", "events": ["file.created", "file.created"]}))
            .await
            .expect(201);
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(made["events"], json!(["file.created"]));
    let listed = s
        .call(&org, Method::GET, "/v2/webhooks", None)
        .await
        .expect(200);
    assert_eq!(listed["results"].as_array().unwrap().len(), 1);
    assert!(
        listed["results"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    // Another organisation sees none, and cannot delete or read it.
    let other = new_org();
    let id = made["id"].as_str().unwrap();
    assert_eq!(
        s.call(&other, Method::GET, "/v2/webhooks", None)
            .await
            .expect(200)["results"],
        json!([])
    );
    s.call(&other, Method::DELETE, &format!("/v2/webhooks/{id}"), None)
        .await
        .expect_error(404);
    s.call(
        &other,
        Method::GET,
        &format!("/v2/webhooks/{id}/deliveries"),
        None,
    )
    .await
    .expect_error(404);
    s.call(&org, Method::DELETE, "/v2/webhooks/not-a-uuid", None)
        .await
        .expect_error(400);
    // At most ten.
    for _ in 1..10 {
        post(json!({"url": "https://example.com/h"}))
            .await
            .expect(201);
    }
    assert_eq!(
        post(json!({"url": "https://example.com/h"}))
            .await
            .expect_error(409),
        "conflict"
    );
    s.call(&org, Method::DELETE, &format!("/v2/webhooks/{id}"), None)
        .await
        .expect(200);
    s.call(&org, Method::DELETE, &format!("/v2/webhooks/{id}"), None)
        .await
        .expect_error(404);
}
