//! Events: each committed change of a file is one event, in order, from the table's
//! stream (the local copy of the table with its stream on), and refused writes are
//! none. The events function's publishing reaches an EventBridge bus (moto's), whose
//! rule delivers to a queue, as a platform's rule would.

use std::time::Duration;

use integration_tests::stream::{streamed_config, StreamReader};
use integration_tests::{clients, new_org, stack_with};
use reqwest::Method;
use serde_json::{json, Value};
use shared::adapters::eventbridge::EventBus;
use shared::adapters::memory::MemoryEvents;
use shared::events::detail::detail_json;
use shared::events::{publish_batch, Event, EVENT_SOURCE};

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

fn detail(event: &Event) -> Value {
    serde_json::from_str(&detail_json(event, "bucket", "https://files.example.com")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_through_the_api_is_one_event_in_order() {
    let config = streamed_config().await;
    let mut stream = StreamReader::at_end(&config.table).await;
    let s = stack_with(config).await;
    let org = new_org();

    let file = s.new_file(&org, "a.txt", "text/plain", b"one").await;
    let id = file["_id"].as_str().unwrap().to_owned();
    let s3ref = s.upload(&org, "a.txt", "text/plain", b"two").await;
    s.save(&org, json!({"_id": id, "s3ref": s3ref}))
        .await
        .expect(201);
    s.save(&org, json!({"_id": id, "access_control": "public-read"}))
        .await
        .expect(201);
    // A public link is no change of the entity: no event.
    s.call(
        &org,
        Method::POST,
        &format!("/v1/files/{id}/public/links"),
        None,
    )
    .await
    .expect(201);
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}/versions/1"),
        None,
    )
    .await
    .expect(200);
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    s.call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await
        .expect(200);
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}?purge=true"),
        None,
    )
    .await
    .expect(200);

    let events = stream.events_of(&org).await;
    assert_eq!(
        kinds(&events),
        [
            "file.created",
            "file.version_added",
            "file.updated",
            "file.updated",
            "file.trashed",
            "file.restored",
            "file.deleted"
        ]
    );
    let details: Vec<Value> = events.iter().map(detail).collect();
    for d in &details {
        assert_eq!(d["org"], org.as_str());
        assert_eq!(d["file_id"], id.as_str());
        assert_eq!(d["file"]["_id"], id.as_str());
        assert!(d["file"].get("public_links").is_none(), "no link ids: {d}");
    }
    let versions: Vec<&Value> = details.iter().map(|d| &d["version"]).collect();
    assert_eq!(
        versions,
        [
            &json!(1),
            &json!(2),
            &json!(2),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1)
        ]
    );
    assert_eq!(details[2]["file"]["access_control"], "public-read");
    assert!(details[4]["file"]["deleted_at"].is_string());
    assert!(details[5]["file"].get("deleted_at").is_none());
    assert_eq!(details[6]["reason"], "purged");
    // Ordered by sequence, each id once.
    let sequences: Vec<&str> = events.iter().map(|e| e.sequence.as_str()).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    assert!(sequences.iter().all(|s| s.len() == 40));
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "ids are unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_writes_are_no_events() {
    let config = streamed_config().await;
    let s = stack_with(config.clone()).await;
    let org = new_org();
    let other = new_org();
    let upload = s.upload(&org, "a.txt", "text/plain", b"one").await;
    let file = s.save(&org, json!({"s3ref": upload})).await.expect(201);
    let id = file["_id"].as_str().unwrap().to_owned();
    let mut stream = StreamReader::at_end(&config.table).await;

    // Not found, not theirs, nothing to restore, bad input, a version that is the only one.
    let unknown = uuid::Uuid::new_v4();
    s.call(&org, Method::DELETE, &format!("/v2/files/{unknown}"), None)
        .await
        .expect_error(404);
    s.call(&other, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect_error(404);
    s.save(&other, json!({"_id": id, "access_control": "public-read"}))
        .await
        .expect_error(404);
    s.call(&org, Method::POST, &format!("/v2/files/{id}/restore"), None)
        .await
        .expect_error(404);
    s.save(&org, json!({"_id": id, "access_control": "everyone"}))
        .await
        .expect_error(400);
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}/versions/1"),
        None,
    )
    .await
    .expect_error(409);
    // An upload already consumed by this file's save.
    s.save(&org, json!({"s3ref": upload}))
        .await
        .expect_error(404);

    let events = stream.events_of(&org).await;
    assert!(
        events.is_empty(),
        "events of refused writes: {:?}",
        kinds(&events)
    );
    assert!(stream.events_of(&other).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsaved_upload_that_expired_is_an_event_and_a_saved_one_is_not() {
    use aws_lambda_events::event::s3::S3Event;
    let config = streamed_config().await;
    let s = stack_with(config.clone()).await;
    let org = new_org();
    let kept = s.upload(&org, "kept.txt", "text/plain", b"kept").await;
    let left = s.upload(&org, "left.txt", "text/plain", b"left").await;
    let uploads =
        shared::adapters::dynamodb::DynamoUploads::new(clients().dynamodb, config.table.clone());
    let event = |key: &str, name: &str, sequencer: &str| -> S3Event {
        serde_json::from_value(json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-06T10:00:00.000Z", "eventName": name,
            "userIdentity": {"principalId": "AWS"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "temp",
                   "bucket": {"name": config.bucket, "arn": "arn:aws:s3:::b"},
                   "object": {"key": key, "size": 4, "sequencer": sequencer}}
        }]}))
        .unwrap()
    };
    let key = |r: &Value| r["key"].as_str().unwrap().to_owned();
    for r in [&kept, &left] {
        shared::expiry::handle_s3_event(&uploads, event(&key(r), "ObjectCreated:Put", "0A"))
            .await
            .unwrap();
    }
    s.save(&org, json!({"s3ref": kept, "filename": "kept.txt"}))
        .await
        .expect(201);
    let mut stream = StreamReader::at_end(&config.table).await;
    for r in [&kept, &left] {
        shared::expiry::handle_s3_event(
            &uploads,
            event(&key(r), "LifecycleExpiration:Delete", "0B"),
        )
        .await
        .unwrap();
    }
    let events = stream.events_of(&org).await;
    assert_eq!(kinds(&events), ["upload.expired"]);
    let d = detail(&events[0]);
    assert_eq!(d["upload"]["key"], left["key"]);
    assert!(d.get("file_id").is_none());
}

/// moto's EventBridge: a bus, and a rule that delivers its file events to a queue.
async fn bus_with_a_queue() -> (EventBus, aws_sdk_sqs::Client, String) {
    let events = clients().eventbridge();
    let sqs = clients().sqs();
    let name = format!("events-{}", uuid::Uuid::new_v4().simple());
    events.create_event_bus().name(&name).send().await.unwrap();
    let queue = sqs.create_queue().queue_name(&name).send().await.unwrap();
    let queue_url = queue.queue_url().unwrap().to_owned();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(json!({"source": [EVENT_SOURCE]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (EventBus::new(events, &name), sqs, queue_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_delivers_each_event_with_its_source_type_and_detail() {
    let config = streamed_config().await;
    let mut stream = StreamReader::at_end(&config.table).await;
    let s = stack_with(config.clone()).await;
    let org = new_org();
    let file = s.new_file(&org, "a.txt", "text/plain", b"one").await;
    let id = file["_id"].as_str().unwrap().to_owned();
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    let batch = stream.records_of(&org).await;
    assert_eq!(batch.records.len(), 2);

    let (bus, sqs, queue) = bus_with_a_queue().await;
    let answer = publish_batch(&bus, &(), &batch, &config.bucket, "").await;
    assert!(answer.failures.is_empty(), "{answer:?}");
    let mut delivered = Vec::new();
    for _ in 0..20 {
        let page = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in page.messages() {
            delivered.push(serde_json::from_str::<Value>(m.body().unwrap()).unwrap());
        }
        if delivered.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let types: Vec<&Value> = delivered.iter().map(|e| &e["detail-type"]).collect();
    assert_eq!(types, [&json!("file.created"), &json!("file.trashed")]);
    for envelope in &delivered {
        assert_eq!(envelope["source"], EVENT_SOURCE);
        assert_eq!(envelope["detail"]["file_id"], id.as_str());
        assert_eq!(envelope["detail"]["type"], envelope["detail-type"]);
        assert_eq!(
            envelope["detail"]["file"]["s3ref"]["bucket"],
            config.bucket.as_str()
        );
    }
    let ids: Vec<&Value> = delivered.iter().map(|e| &e["detail"]["id"]).collect();
    let expected: Vec<Value> = batch.records.iter().map(|r| json!(r.event_id)).collect();
    assert_eq!(
        ids,
        expected.iter().collect::<Vec<_>>(),
        "the stream record ids"
    );

    // Delivered again (Lambda retries a batch): the same ids, for consumers to drop.
    let memory = MemoryEvents::default();
    publish_batch(&memory, &(), &batch, &config.bucket, "").await;
    publish_batch(&memory, &(), &batch, &config.bucket, "").await;
    let again: Vec<String> = memory.published().into_iter().map(|e| e.id).collect();
    assert_eq!(again[..2], again[2..]);
}
