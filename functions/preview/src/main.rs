//! The `preview` Lambda function: thumbnails (previewFile, previewS3File,
//! previewPublicFile). The only binary that links the image and PDF decoders.

use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::api::serve_function_with(shared::api::Function::Preview, |service| {
        service.with_previews(Arc::new(thumbnail::Renderer))
    })
    .await
}
