//! The `expire` Lambda function: S3 events under `temp/` keep the table's records
//! of unsaved uploads in step with the bucket (see `shared::expiry`).

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let uploads = &shared::upload_records_from_env()?;
    run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        shared::expiry::handle_s3_event(uploads, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
