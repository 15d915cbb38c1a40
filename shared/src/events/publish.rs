//! The events function's work: the events of a batch of stream records, published in
//! the records' order, then handed to the webhooks. The first record not both published
//! and handed on is answered as the batch's failure, so Lambda hands the batch again
//! from there: events before it are not sent again; events from it on that had reached
//! the bus are published a second time with the same id (delivery is at least once).

use std::future::Future;

use serde::Serialize;

use super::detail::detail_json;
use super::stream::StreamEvent;
use super::{events_of, Event};
use crate::ports::{EventSink, OutgoingEvent};

/// Lambda's partial batch answer for a stream (`ReportBatchItemFailures`).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchAnswer {
    #[serde(rename = "batchItemFailures")]
    pub failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    /// The stream record's sequence number.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Where events go besides the bus: each organisation's webhooks.
pub trait Fanout: Send + Sync {
    /// Hands `events` on in order: answers how many, from the first, were handed on.
    fn fan_out(&self, events: &[(&Event, &OutgoingEvent)]) -> impl Future<Output = usize> + Send;
}

/// No webhooks: the bus alone.
impl Fanout for () {
    async fn fan_out(&self, events: &[(&Event, &OutgoingEvent)]) -> usize {
        events.len()
    }
}

/// Publishes the events of `batch` to `sink`, then hands them to `fanout`; the File
/// entities as the API shows them (`bucket`, `public_base_url`).
pub async fn publish_batch<K: EventSink, F: Fanout>(
    sink: &K,
    fanout: &F,
    batch: &StreamEvent,
    bucket: &str,
    public_base_url: &str,
) -> BatchAnswer {
    let events = events_of(batch);
    let outgoing: Vec<OutgoingEvent> = events
        .iter()
        .map(|(_, event)| OutgoingEvent {
            id: event.id.clone(),
            detail_type: event.kind.as_str(),
            detail: detail_json(event, bucket, public_base_url),
        })
        .collect();
    let published = match sink.publish(&outgoing).await {
        Ok(published) => published,
        Err(e) => {
            tracing::error!(error = %e, "events not published; the batch goes again");
            0
        }
    };
    let pairs: Vec<(&Event, &OutgoingEvent)> = events[..published]
        .iter()
        .map(|(_, e)| e)
        .zip(&outgoing)
        .collect();
    let handed_on = fanout.fan_out(&pairs).await.min(published);
    for (_, event) in &events[..handed_on] {
        tracing::info!(event = event.kind.as_str(), id = %event.id, "published");
    }
    match events.get(handed_on) {
        None => BatchAnswer::default(),
        Some((record, _)) => BatchAnswer {
            failures: vec![ItemFailure {
                item_identifier: batch.records[*record].dynamodb.sequence_number.clone(),
            }],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::dynamodb::stream_image_of_file;
    use crate::adapters::memory::MemoryEvents;
    use crate::domain::FileRecord;
    use crate::events::stream::{StreamData, StreamRecord};

    fn created(n: u32) -> StreamRecord {
        let file = FileRecord {
            id: uuid::Uuid::new_v4(),
            org: "org-1".into(),
            ..FileRecord::default()
        };
        StreamRecord {
            event_id: format!("ev-{n}"),
            event_name: "INSERT".into(),
            dynamodb: StreamData {
                new_image: stream_image_of_file(&file),
                sequence_number: format!("{}", 1_000 + n),
                ..StreamData::default()
            },
            ..StreamRecord::default()
        }
    }

    #[tokio::test]
    async fn a_refused_event_hands_the_batch_back_from_its_record_and_no_earlier() {
        let mut batch = StreamEvent {
            records: (1..=12).map(created).collect(),
        };
        // A record that means no event, between them.
        batch.records.insert(3, StreamRecord::default());
        let sink = MemoryEvents::default();
        sink.refuse_after(Some(5));
        let answer = publish_batch(&sink, &(), &batch, "bucket", "").await;
        assert_eq!(
            answer.failures,
            vec![ItemFailure {
                item_identifier: "1006".into()
            }]
        );
        let ids: Vec<_> = sink.published().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"]);

        sink.refuse_after(None);
        let answer = publish_batch(&sink, &(), &batch, "bucket", "").await;
        assert_eq!(answer, BatchAnswer::default());
        assert_eq!(sink.published().len(), 5 + 12);
    }
}
