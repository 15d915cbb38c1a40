//! deleteFile and restore.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::request::{BaseUrl, Query, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::FileEntity;
use crate::ports::{Backend, ObjectStore};
use crate::service::{Caller, DeleteMode};

/// deleteFile's query. `activity_id` and `strict` are epilot's (an activity feed, and
/// schema-strict answers); there is no activity feed here and answers are always the
/// schema's, so they are accepted and change nothing.
#[derive(Deserialize)]
pub(super) struct DeleteOptions {
    #[serde(default, deserialize_with = "super::request::flag")]
    purge: Option<bool>,
    #[serde(default, deserialize_with = "super::request::flag")]
    #[allow(dead_code)]
    strict: Option<bool>,
    #[allow(dead_code)]
    activity_id: Option<String>,
}

impl DeleteOptions {
    pub(super) fn mode(&self) -> DeleteMode {
        match self.purge {
            Some(true) => DeleteMode::Purge,
            _ => DeleteMode::Trash,
        }
    }
}

/// The file as it was deleted, and that it was.
#[derive(Serialize)]
struct DeletedFileJson<'a> {
    #[serde(flatten)]
    entity: FileEntity<'a>,
    deleted: bool,
}

pub(super) async fn delete_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Query(options): Query<DeleteOptions>,
    path: Segments,
) -> Answer {
    let record = s.delete(&caller, path.file_id()?, options.mode()).await?;
    Reply::ok(&DeletedFileJson {
        entity: FileEntity::new(&record, s.store().bucket(), &base),
        deleted: true,
    })
}

pub(super) async fn restore_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let record = s.restore(&caller, path.file_id()?).await?;
    Reply::ok(&FileEntity::new(&record, s.store().bucket(), &base))
}
