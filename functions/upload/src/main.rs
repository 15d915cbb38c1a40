//! The `upload` Lambda function: uploadFileV2, uploadFile, uploadFilePublic and the multipart routes (its table is
//! `shared::api::functions::upload`; only those handlers are linked).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let service = shared::aws_service_from_env()?;
    shared::api::serve(shared::api::functions::upload(), service).await
}
