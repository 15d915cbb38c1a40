//! downloadFile, downloadFiles, the public_url redirect, and verifyCustomDownloadUrl.

use axum::extract::State;
use serde::Deserialize;

use super::request::{Json, Query, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::{BatchLinkJson, DownloadLinkJson, VerificationJson};
use crate::ports::Backend;
use crate::service::{Caller, DownloadItem};

/// Which version, and whether as an attachment.
#[derive(Deserialize)]
pub(super) struct VersionQuery {
    #[serde(default, deserialize_with = "super::request::version")]
    pub version: u32,
    #[serde(default, deserialize_with = "super::request::flag")]
    pub attachment: Option<bool>,
}

pub(super) async fn download_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    Query(query): Query<VersionQuery>,
) -> Answer {
    let attachment = query.attachment.unwrap_or(true);
    let url = s
        .download(&caller, path.file_id()?, query.version, attachment)
        .await?;
    Reply::ok(&DownloadLinkJson { download_url: &url })
}

#[derive(Deserialize)]
pub(super) struct DownloadItemBody {
    id: String,
    /// 0 (or absent) is the latest, 1 the first.
    version: Option<u32>,
}

pub(super) async fn download_files<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    Json(items): Json<Vec<DownloadItemBody>>,
) -> Answer {
    let items = items
        .into_iter()
        .map(|item| {
            Ok(DownloadItem {
                id: super::request::file_id(Some(&item.id))?,
                version: item.version.unwrap_or(0),
            })
        })
        .collect::<crate::Result<Vec<_>>>()?;
    let links = s.download_many(&caller, &items).await?;
    Reply::ok(&links.iter().map(BatchLinkJson::from).collect::<Vec<_>>())
}

/// The public_url of a public file: a redirect to its bytes, for anyone.
pub(super) async fn public_file<B: Backend>(State(s): State<Api<B>>, path: Segments) -> Answer {
    Ok(Reply::Redirect(s.public_file(path.file_id()?).await?))
}

#[derive(Deserialize)]
pub(super) struct VerifyBody {
    custom_download_url: String,
}

pub(super) async fn verify_custom_url<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    Json(body): Json<VerifyBody>,
) -> Answer {
    let valid = s.verify_custom_url(&caller, &body.custom_download_url)?;
    Reply::ok(&VerificationJson { valid })
}
