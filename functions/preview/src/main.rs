//! The `preview` Lambda function: thumbnails (previewFile, previewS3File,
//! previewPublicFile). The only binary that links the image and PDF decoders.
//!
//! A PDF is drawn in a child process of this same binary (`preview render ...`), its
//! memory capped and killed at the time limit, so a hostile PDF ends that child and
//! answers 422, whatever it does to the rasterizer. Images decode in this process,
//! bounded by the pixel check before decoding.

use std::sync::Arc;

use thumbnail::isolated::{child_main, PdfIsolated, CHILD_ARGUMENT};

fn main() -> Result<(), lambda_http::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD_ARGUMENT) {
        std::process::exit(child_main(&args[1..]));
    }
    let program = std::env::current_exe()?;
    let service = shared::aws_service_from_env()?;
    let thumbnailer = PdfIsolated::in_child_of(program, service.config.previews.timeout);
    let service = service.with_previews(Arc::new(thumbnailer));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shared::api::serve(
            shared::api::functions::preview(),
            service,
        ))
}
