//! The `ingest` Lambda function: invoked asynchronously by a save from a URL, it fetches
//! the source into S3 and records the file ready or failed (see `shared::ingest`).

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use shared::ingest::lambda::{handle_event, IngestEvent};
use shared::ingest::{Fetcher, HeaderSeal};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let service = &shared::aws_service_from_env()?;
    let fetcher = &Fetcher::new(service.config.url_policy, service.config.fetch_limits)?;
    let seal = &service.config.custom_url_keys.as_ref().map(HeaderSeal::new);
    run(service_fn(
        move |event: LambdaEvent<IngestEvent>| async move {
            handle_event(service, fetcher, seal.as_ref(), event.payload)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}
