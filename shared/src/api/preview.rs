//! The preview routes: a thumbnail in the body (or a redirect to it), by bearer token,
//! session cookie (`<img src>`), or for a public file, by nobody in particular.

use axum::extract::State;
use serde::Deserialize;

use super::request::{Json, Query, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::session::CookieCaller;
use crate::domain::S3Ref;
use crate::error::Result;
use crate::ports::{Backend, Fit};

/// `w` and `h`: whole numbers 1–2048, either or both (neither: 300 wide); `version` 0
/// for the latest; `org_id` narrows a public file's lookup.
#[derive(Deserialize)]
pub(super) struct PreviewQuery {
    #[serde(default, deserialize_with = "super::request::pixels")]
    w: Option<u32>,
    #[serde(default, deserialize_with = "super::request::pixels")]
    h: Option<u32>,
    #[serde(default, deserialize_with = "super::request::version")]
    version: u32,
    org_id: Option<String>,
}

impl PreviewQuery {
    fn fit(&self) -> Result<Fit> {
        Fit::new(self.w, self.h)
    }
}

pub(super) async fn preview_file<B: Backend>(
    State(s): State<Api<B>>,
    CookieCaller(caller): CookieCaller,
    path: Segments,
    Query(query): Query<PreviewQuery>,
) -> Answer {
    let preview = s
        .preview_file(&caller, path.file_id()?, query.version, query.fit()?)
        .await?;
    Ok(image(preview, false))
}

pub(super) async fn preview_public_file<B: Backend>(
    State(s): State<Api<B>>,
    path: Segments,
    Query(query): Query<PreviewQuery>,
) -> Answer {
    let org = query.org_id.as_deref().filter(|o| !o.is_empty());
    let preview = s
        .preview_public_file(path.file_id()?, query.version, org, query.fit()?)
        .await?;
    Ok(image(preview, true))
}

/// previewS3File (POST): the object named in the body.
pub(super) async fn preview_s3_file<B: Backend>(
    State(s): State<Api<B>>,
    CookieCaller(caller): CookieCaller,
    Query(query): Query<PreviewQuery>,
    Json(object): Json<S3Ref>,
) -> Answer {
    preview_object(&s, &caller, &query, &object.bucket, &object.key).await
}

#[derive(Deserialize)]
pub(super) struct S3ObjectQuery {
    #[serde(deserialize_with = "super::request::non_empty")]
    bucket: String,
    #[serde(deserialize_with = "super::request::non_empty")]
    key: String,
}

/// previewS3File (GET): the object named in the query.
pub(super) async fn preview_s3_file_get<B: Backend>(
    State(s): State<Api<B>>,
    CookieCaller(caller): CookieCaller,
    Query(query): Query<PreviewQuery>,
    Query(object): Query<S3ObjectQuery>,
) -> Answer {
    preview_object(&s, &caller, &query, &object.bucket, &object.key).await
}

/// The thumbnail of an object the caller's organisation holds, by bucket and key.
async fn preview_object<B: Backend>(
    s: &Api<B>,
    caller: &crate::service::Caller,
    query: &PreviewQuery,
    bucket: &str,
    key: &str,
) -> Answer {
    let preview = s.preview_s3(caller, bucket, key, query.fit()?).await?;
    Ok(image(preview, false))
}

fn image(preview: crate::service::Preview, public: bool) -> Reply {
    Reply::Image { preview, public }
}
