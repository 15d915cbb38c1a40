//! Version history: list, restore one as the latest, delete one.

use axum::extract::State;
use axum::http::StatusCode;

use super::request::{BaseUrl, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::{FileEntity, NumberedVersionJson, ResultsJson};
use crate::ports::{Backend, ObjectStore};
use crate::service::Caller;

pub(super) async fn list_versions<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let record = s.get(&caller, path.file_id()?).await?;
    Reply::ok(&ResultsJson {
        results: NumberedVersionJson::all(&record, s.store().bucket()),
    })
}

/// `POST /v2/files/{id}/versions/{n}:restore` (API Gateway's path variables span whole
/// segments, so `{version}` is `<n>:restore`).
pub(super) async fn restore_version<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let (id, number) = (path.file_id()?, path.version_number(":restore")?);
    let record = s.restore_version(&caller, id, number).await?;
    let entity = FileEntity::new(&record, s.store().bucket(), &base);
    Reply::json(StatusCode::CREATED, &entity)
}

pub(super) async fn delete_version<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let (id, number) = (path.file_id()?, path.version_number("")?);
    let record = s.delete_version(&caller, id, number).await?;
    Reply::ok(&FileEntity::new(&record, s.store().bucket(), &base))
}
