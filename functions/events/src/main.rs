//! The `events` Lambda function: the table's stream brings every committed write, and
//! each change of a file (or expiry of an unsaved upload) goes to the stack's event bus
//! as one event, and to the queue of deliveries once per webhook that wants it (see
//! `shared::events`, `shared::webhooks`).

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use shared::adapters::dynamodb::DynamoFiles;
use shared::adapters::eventbridge::EventBus;
use shared::adapters::sqs::SqsDeliveries;
use shared::aws::AwsClients;
use shared::config::{optional, required};
use shared::events::{publish_batch, stream::StreamEvent, BatchAnswer};
use shared::webhooks::WebhookFanout;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = AwsClients::from_env()?;
    let bus = &EventBus::new(clients.eventbridge(), required("EVENT_BUS_NAME")?);
    let store = &DynamoFiles::new(clients.dynamodb.clone(), required("FILES_TABLE")?);
    let queue = &SqsDeliveries::new(clients.sqs(), required("WEBHOOK_QUEUE_URL")?);
    let bucket = &required("FILES_BUCKET")?;
    let public_base_url = &optional("PUBLIC_BASE_URL").unwrap_or_default();
    run(service_fn(
        move |event: LambdaEvent<StreamEvent>| async move {
            let fanout = WebhookFanout { store, queue };
            Ok::<BatchAnswer, Error>(
                publish_batch(bus, &fanout, &event.payload, bucket, public_base_url).await,
            )
        },
    ))
    .await
}
