//! The `verify-custom-url` Lambda function: verifyCustomDownloadUrl (its table is
//! `shared::api::functions::verify_custom_url`; only those handlers are linked).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_from_env()?;
    shared::api::serve(shared::api::functions::verify_custom_url(), service).await
}
