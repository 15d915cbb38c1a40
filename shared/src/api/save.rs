//! saveFileV2 and saveFile (v1): a JSON save (an upload, an external URL, a fetch from a
//! URL, metadata, or versions), or a direct upload carrying the file itself.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::direct;
use super::request::{json, BaseUrl, Query, QueryMap};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::save_body::save_request;
use super::wire::{FileEntity, UploadedFileJson};
use crate::domain::FileStatus;
use crate::ports::{Backend, ObjectStore};
use crate::service::{Caller, SaveIntent};

/// The JSON save's options.
/// Save's query. epilot's `strict` (schema-strict answers: ours always are), `async`
/// (do not wait for the search index: ours is read-after-write at once), `activity_id`
/// and `fill_activity` (its activity feed: there is none here) are checked and change
/// nothing.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(super) struct SaveOptions {
    #[serde(default, deserialize_with = "super::request::flag")]
    delete_temp_file: Option<bool>,
    #[serde(default, deserialize_with = "super::request::flag")]
    version_only: Option<bool>,
    #[serde(default, deserialize_with = "super::request::flag")]
    strict: Option<bool>,
    #[serde(default, rename = "async", deserialize_with = "super::request::flag")]
    asynchronous: Option<bool>,
    activity_id: Option<String>,
    #[serde(default, deserialize_with = "super::request::flag")]
    fill_activity: Option<bool>,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn save_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Query(options): Query<SaveOptions>,
    QueryMap(query): QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let bucket = s.store().bucket();
    if direct::is_direct_upload(&headers) {
        let max_bytes = s.config.direct_upload_max_bytes;
        let request = direct::direct_upload(&headers, &body, &query, max_bytes)?;
        let record = s.save(&caller, request).await?;
        let url = s.link(&record).await?;
        return Reply::created(&UploadedFileJson {
            entity: FileEntity::new(&record, bucket, &base),
            download_url: &url,
        });
    }
    let request = save_request(
        json(&body)?,
        options.delete_temp_file.unwrap_or(true),
        options.version_only.unwrap_or(false),
    )?;
    let fetches = matches!(request.intent, SaveIntent::FromSource { .. });
    let record = s.save(&caller, request).await?;
    // A fetch from a URL that goes on after the answer: 202, the file pending. Any other
    // save of a file whose fetch is still running did what it was asked: 201.
    let status = match record.status {
        FileStatus::Pending if fetches => StatusCode::ACCEPTED,
        _ => StatusCode::CREATED,
    };
    Reply::json(status, &FileEntity::new(&record, bucket, &base))
}
