//! The `delete` Lambda function: deleteFile, bulk delete, deleteVersion (its table is
//! `shared::api::functions::delete`; only those handlers are linked).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_from_env()?;
    shared::api::serve(shared::api::functions::delete(), service).await
}
