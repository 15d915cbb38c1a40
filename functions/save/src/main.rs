//! The `save` Lambda function: saveFileV2, saveFile and version restores (its table is
//! `shared::api::functions::save`; only those handlers are linked). The one HTTP
//! function that hands fetches from a URL to the ingest function.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_with_ingest_from_env()?;
    shared::api::serve(shared::api::functions::save(), service).await
}
