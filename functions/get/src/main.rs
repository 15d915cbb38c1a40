//! The `get` Lambda function: getFile, listing, counting, usage and version lists (its table is
//! `shared::api::functions::get`; only those handlers are linked).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_from_env()?;
    shared::api::serve(shared::api::functions::get(), service).await
}
