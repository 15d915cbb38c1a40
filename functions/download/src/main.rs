//! The `download` Lambda function: downloads, public files and links, sessions, signed URLs, content (its table is
//! `shared::api::functions::download`; only those handlers are linked).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_from_env()?;
    shared::api::serve(shared::api::functions::download(), service).await
}
