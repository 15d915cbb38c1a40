//! The preview routes: a thumbnail in the body (or a redirect to it), by bearer token,
//! session cookie (`<img src>`), or for a public file, by nobody in particular.

use super::handlers::Input;
use super::parse::{self, file_id};
use super::respond::Reply;
use super::session::caller_by_token_or_cookie;
use crate::domain::S3Ref;
use crate::error::Result;
use crate::ports::Backend;
use crate::service::{FileService, Preview};

pub(super) async fn preview_file<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller_by_token_or_cookie(&s.config, &s.clock, input.request).await?;
    let version = parse::version_param(input.query.get("version").map(String::as_str))?;
    let fit = parse::preview_fit(&input.query)?;
    let preview = s
        .preview_file(&caller, file_id(input.id)?, version, fit)
        .await?;
    Ok(image(preview, false))
}

pub(super) async fn preview_public_file<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let version = parse::version_param(input.query.get("version").map(String::as_str))?;
    let fit = parse::preview_fit(&input.query)?;
    let org = input
        .query
        .get("org_id")
        .map(String::as_str)
        .filter(|o| !o.is_empty());
    let preview = s
        .preview_public_file(file_id(input.id)?, version, org, fit)
        .await?;
    Ok(image(preview, true))
}

/// previewS3File: the object named in the body (POST) or the query (GET).
pub(super) async fn preview_s3_file<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
    in_body: bool,
) -> Result<Reply> {
    let caller = caller_by_token_or_cookie(&s.config, &s.clock, input.request).await?;
    let fit = parse::preview_fit(&input.query)?;
    let object = if in_body {
        parse::s3_object(&parse::json_body(input.request)?)?
    } else {
        S3Ref {
            bucket: parse::required_query(&input.query, "bucket")?.to_owned(),
            key: parse::required_query(&input.query, "key")?.to_owned(),
        }
    };
    let preview = s
        .preview_s3(&caller, &object.bucket, &object.key, fit)
        .await?;
    Ok(image(preview, false))
}

fn image(preview: Preview, public: bool) -> Reply {
    Reply::Image { preview, public }
}
