//! The `download` Lambda function: see `shared::api::ROUTES` for the routes it serves.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::api::serve_function(shared::api::Function::Download).await
}
