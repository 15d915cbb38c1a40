//! The table's stream, as the events function sees it, for tests: a copy of the local
//! table with its stream on (`NEW_AND_OLD_IMAGES`, as the template sets), and a reader of
//! its records in the JSON Lambda hands to the function. The main local table has no
//! stream: moto copies a table, stream and all, on every transaction, and a stream of a
//! whole test run would slow every test.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, Projection,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{json, Value};
use shared::config::Config;
use shared::events::stream::StreamRecord;
use shared::events::{event_of, Event};

use crate::{config, dynamodb_endpoint};

/// The streamed copy of the local table (made, or remade when its indexes are not the
/// main table's), and the configuration of a service over it.
pub async fn streamed_config() -> Config {
    let mut config = config();
    let main = config.table.clone();
    config.table = format!("{main}-streamed");
    let client = crate::clients().dynamodb;
    let describe = |name: String| {
        let client = client.clone();
        async move {
            client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .ok()?
                .table
        }
    };
    let source = describe(main.clone())
        .await
        .expect("the local table (make emulator)");
    let indexes = |t: &aws_sdk_dynamodb::types::TableDescription| -> Vec<String> {
        let mut names: Vec<String> = t
            .global_secondary_indexes()
            .iter()
            .filter_map(|i| i.index_name().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    if let Some(copy) = describe(config.table.clone()).await {
        if indexes(&copy) == indexes(&source) {
            return config;
        }
        let _ = client.delete_table().table_name(&config.table).send().await;
    }
    let key = |k: &aws_sdk_dynamodb::types::KeySchemaElement| {
        KeySchemaElement::builder()
            .attribute_name(k.attribute_name())
            .key_type(k.key_type().clone())
            .build()
            .unwrap()
    };
    let created = client
        .create_table()
        .table_name(&config.table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            source
                .attribute_definitions()
                .iter()
                .map(|a| {
                    AttributeDefinition::builder()
                        .attribute_name(a.attribute_name())
                        .attribute_type(a.attribute_type().clone())
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .set_key_schema(Some(source.key_schema().iter().map(key).collect()))
        .set_global_secondary_indexes(Some(
            source
                .global_secondary_indexes()
                .iter()
                .map(|i| {
                    GlobalSecondaryIndex::builder()
                        .index_name(i.index_name().unwrap())
                        .set_key_schema(Some(i.key_schema().iter().map(key).collect()))
                        .projection(
                            i.projection()
                                .cloned()
                                .unwrap_or_else(|| Projection::builder().build()),
                        )
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await;
    if let Err(e) = created {
        // Another test of this run made it first.
        let text = format!("{e:?}");
        assert!(
            text.contains("ResourceInUse"),
            "create the streamed table: {text}"
        );
    }
    config
}

/// Reads the stream of a table from where it stood when the reader was made.
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    iterators: Vec<Option<String>>,
}

impl StreamReader {
    pub async fn at_end(table: &str) -> Self {
        let settings = {
            let mut s = shared::aws::AwsSettings::emulator(&dynamodb_endpoint());
            s.dynamodb_endpoint = Some(dynamodb_endpoint());
            s
        };
        let conf = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodbstreams::config::Region::new(
                settings.region,
            ))
            .credentials_provider(settings.credentials)
            .http_client(crate::clients().http_client())
            .endpoint_url(dynamodb_endpoint())
            .build();
        let client = aws_sdk_dynamodbstreams::Client::from_conf(conf);
        let table_client = crate::clients().dynamodb;
        let arn = table_client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap()
            .table
            .and_then(|t| t.latest_stream_arn)
            .expect("a table with a stream");
        let stream = client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        let mut iterators = Vec::new();
        for shard in stream.shards() {
            let iterator = client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap())
                .shard_iterator_type(ShardIteratorType::Latest)
                .send()
                .await
                .unwrap()
                .shard_iterator;
            iterators.push(iterator);
        }
        StreamReader { client, iterators }
    }

    /// The records written since the last read, as Lambda hands them to a function.
    pub async fn records(&mut self) -> Vec<StreamRecord> {
        let mut records = Vec::new();
        for slot in &mut self.iterators {
            while let Some(iterator) = slot.clone() {
                let page = self
                    .client
                    .get_records()
                    .shard_iterator(iterator)
                    .send()
                    .await
                    .unwrap();
                *slot = page.next_shard_iterator.clone();
                if page.records().is_empty() {
                    break;
                }
                records.extend(page.records().iter().map(lambda_record));
            }
        }
        records
    }

    /// The records written since the last read that are events of `org`, as the
    /// events function receives them.
    pub async fn records_of(&mut self, org: &str) -> shared::events::stream::StreamEvent {
        let records = self.records().await;
        shared::events::stream::StreamEvent {
            records: records
                .into_iter()
                .filter(|r| event_of(r).is_some_and(|e| e.org() == org))
                .collect(),
        }
    }

    /// The events of the records written since the last read, of `org`'s files.
    pub async fn events_of(&mut self, org: &str) -> Vec<Event> {
        self.records()
            .await
            .iter()
            .filter_map(event_of)
            .filter(|e| e.org() == org)
            .collect()
    }
}

/// A record of the streams API in the JSON of Lambda's DynamoDB event.
fn lambda_record(record: &Record) -> StreamRecord {
    let data = record.dynamodb().expect("stream data");
    let image = |image: Option<&HashMap<String, AttributeValue>>| -> Value {
        image
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), attribute_json(v)))
                    .collect::<serde_json::Map<_, _>>()
            })
            .map(Value::Object)
            .unwrap_or_else(|| json!({}))
    };
    let mut value = json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "dynamodb": {
            "OldImage": image(data.old_image()),
            "NewImage": image(data.new_image()),
            "SequenceNumber": data.sequence_number(),
            "ApproximateCreationDateTime": data.approximate_creation_date_time().map(|t| t.as_secs_f64()),
        }
    });
    if let Some(identity) = record.user_identity() {
        value["userIdentity"] =
            json!({"type": identity.r#type(), "principalId": identity.principal_id()});
    }
    serde_json::from_value(value).expect("a stream record")
}

fn attribute_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(list) => json!({ "SS": list }),
        AttributeValue::Ns(list) => json!({ "NS": list }),
        AttributeValue::L(list) => {
            json!({ "L": list.iter().map(attribute_json).collect::<Vec<_>>() })
        }
        AttributeValue::M(map) => json!({ "M": map
            .iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect::<serde_json::Map<_, _>>() }),
        other => panic!("an attribute the adapter does not write: {other:?}"),
    }
}
