//! The `verify-custom-url` Lambda function: see `shared::api::ROUTES` for the routes it serves.

use lambda_http::{run, service_fn, tracing, Error};
use shared::api::{handle, Function};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let service = &shared::aws_service_from_env()?;
    run(service_fn(move |request| async move {
        Ok::<_, Error>(handle(service, Function::VerifyCustomUrl, request).await)
    }))
    .await
}
