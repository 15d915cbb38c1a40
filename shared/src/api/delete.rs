//! deleteFile.

use axum::extract::State;

use super::request::Segments;
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::DeletedJson;
use crate::ports::Backend;
use crate::service::Caller;

pub(super) async fn delete_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let id = path.file_id()?;
    s.delete(&caller, id).await?;
    Reply::ok(&DeletedJson { id, deleted: true })
}
