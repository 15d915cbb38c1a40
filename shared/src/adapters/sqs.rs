//! Webhook deliveries in an SQS queue (`DeliveryQueue`): ten a call, in order; and the
//! delay of a failed one's next attempt (its message kept out of sight that long).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use super::sdk::sdk_error;
use crate::ports::{Delivery, DeliveryQueue, StorageError, StoreResult};

/// SendMessageBatch takes at most ten messages.
const BATCH: usize = 10;

#[derive(Clone, Debug)]
pub struct SqsDeliveries {
    client: Client,
    queue_url: String,
}

impl SqsDeliveries {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsDeliveries {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Keeps a received delivery out of sight for `seconds`: its next attempt then.
    pub async fn retry_after(&self, receipt: &str, seconds: u64) -> StoreResult<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds.min(12 * 3600) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("ChangeMessageVisibility", e))?;
        Ok(())
    }
}

impl DeliveryQueue for SqsDeliveries {
    async fn enqueue(&self, deliveries: &[Delivery]) -> StoreResult<usize> {
        let mut queued = 0;
        for batch in deliveries.chunks(BATCH) {
            let mut entries = Vec::with_capacity(batch.len());
            for (i, delivery) in batch.iter().enumerate() {
                let body = serde_json::to_string(delivery)
                    .map_err(|e| StorageError::internal("encode delivery", e))?;
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| StorageError::internal("encode delivery", e))?,
                );
            }
            let answer = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("SendMessageBatch", e))?;
            let first_failed = answer
                .failed()
                .iter()
                .filter_map(|f| f.id().parse::<usize>().ok())
                .min();
            if let Some(first) = first_failed {
                tracing::warn!(
                    failed = answer.failed().len(),
                    "deliveries not queued; their batch goes again"
                );
                return Ok(queued + first);
            }
            queued += batch.len();
        }
        Ok(queued)
    }
}
