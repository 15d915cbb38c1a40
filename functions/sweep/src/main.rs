//! The `sweep` Lambda function: DynamoDB's TTL removed an expired file, and the stream
//! of that removal brings it here; its objects go (see `shared::sweep`).

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use shared::sweep::{sweep_expired, StreamEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let service = &shared::aws_service_from_env()?;
    run(service_fn(
        move |event: LambdaEvent<StreamEvent>| async move {
            sweep_expired(service.store(), service.files(), &event.payload)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}
