//! The `webhooks` Lambda function: the queue of deliveries brings each event meant for
//! a webhook, and it goes to the webhook's URL, signed (see `shared::webhooks`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use shared::adapters::dynamodb::DynamoFiles;
use shared::adapters::sqs::SqsDeliveries;
use shared::aws::AwsClients;
use shared::config::required;
use shared::time::Clock;
use shared::webhooks::{deliver_batch, Sender, SenderSettings};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = AwsClients::from_env()?;
    let store = &DynamoFiles::new(clients.dynamodb.clone(), required("FILES_TABLE")?);
    let queue = &SqsDeliveries::new(clients.sqs(), required("WEBHOOK_QUEUE_URL")?);
    let sender = &Sender::new(SenderSettings::from_env()?, Clock::system())?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // Boxed: the batch's future is deep (each delivery's send and the logs' writes).
        let delivered = Box::pin(deliver_batch(store, sender, queue, &event.payload));
        Ok::<SqsBatchResponse, Error>(delivered.await)
    }))
    .await
}
