//! What every HTTP function's `main` runs.

use lambda_http::{run, service_fn, tracing, Error};

use super::{handle, Function};
use crate::AwsFileService;

/// Builds the service once per cold start (configuration and AWS clients, no network
/// calls) and serves `function`'s routes with it until Lambda stops the process.
pub async fn serve_function(function: Function) -> Result<(), Error> {
    serve_function_with(function, |service| service).await
}

/// [`serve_function`] with the service completed by `setup` first: the preview
/// function adds the thumbnailer only it links.
pub async fn serve_function_with(
    function: Function,
    setup: impl FnOnce(AwsFileService) -> AwsFileService,
) -> Result<(), Error> {
    tracing::init_default_subscriber();
    let service = &setup(crate::aws_service_from_env()?);
    run(service_fn(move |request| async move {
        Ok::<_, Error>(handle(service, function, request).await)
    }))
    .await
}
