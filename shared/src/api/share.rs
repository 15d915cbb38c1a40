//! Sharing: links by S3 key, public links, signed links and the content redirect (the
//! token or the session cookie).

use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::download::VersionQuery;
use super::request::{file_id, BaseUrl, Json, Query, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::session::CookieCaller;
use super::wire::{public_link_url, DownloadLinkJson, PublicLinkJson, ResultsJson, SignedUrlsJson};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Backend;
use crate::service::{Caller, DEFAULT_SIGNED_URL_SECONDS, MAX_BATCH, MAX_SIGNED_URL_SECONDS};

#[derive(Deserialize)]
pub(super) struct S3FileQuery {
    #[serde(deserialize_with = "super::request::non_empty")]
    s3_key: String,
    #[serde(deserialize_with = "super::request::non_empty")]
    s3_bucket: String,
    #[serde(default, deserialize_with = "super::request::flag")]
    attachment: Option<bool>,
}

/// downloadS3File: a link to an object of the organisation's by its bucket and key.
pub(super) async fn download_s3_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    Query(query): Query<S3FileQuery>,
) -> Answer {
    let attachment = query.attachment.unwrap_or(true);
    let url = s
        .download_s3(&caller, &query.s3_bucket, &query.s3_key, attachment)
        .await?;
    Reply::ok(&DownloadLinkJson { download_url: &url })
}

pub(super) async fn generate_public_link<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let (record, link) = s.generate_link(&caller, path.file_id()?).await?;
    Reply::created(&public_link_url(&base, &link.id, &record.filename))
}

pub(super) async fn list_public_links<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let record = s.list_links(&caller, path.file_id()?).await?;
    Reply::ok(&ResultsJson {
        results: record
            .public_links
            .iter()
            .map(|l| PublicLinkJson {
                id: &l.id,
                link: public_link_url(&base, &l.id, &record.filename),
                last_accessed_at: l.last_accessed_at.as_deref(),
            })
            .collect(),
    })
}

/// accessPublicLink: needs no token; the filename in the path is for people only.
pub(super) async fn access_public_link<B: Backend>(
    State(s): State<Api<B>>,
    path: Segments,
) -> Answer {
    Ok(Reply::Redirect(s.access_link(path.id()).await?))
}

pub(super) async fn revoke_public_link<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    s.revoke_link(&caller, path.id()).await?;
    Ok(Reply::NoContent)
}

/// signUrls' body: `{ids, expires_in?, attachment?}`.
#[derive(Deserialize)]
pub(super) struct SignUrlsBody {
    /// Kept as JSON values: an id that is not a UUID (or not a string) answers invalid_id.
    ids: Option<Vec<Value>>,
    expires_in: Option<u64>,
    attachment: Option<bool>,
}

impl SignUrlsBody {
    fn ids(&self) -> Result<Vec<uuid::Uuid>> {
        let ids = self.ids.as_ref().ok_or_else(|| {
            Error::new(ErrorCode::InvalidBody, "ids must be an array of file ids")
        })?;
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorCode::TooManyItems,
                format!("ids has 1 to {MAX_BATCH} file ids"),
            ));
        }
        ids.iter().map(|id| file_id(id.as_str())).collect()
    }

    fn expires_in(&self) -> Result<u64> {
        match self.expires_in {
            None => Ok(DEFAULT_SIGNED_URL_SECONDS),
            Some(s) if (1..=MAX_SIGNED_URL_SECONDS).contains(&s) => Ok(s),
            Some(_) => Err(Error::new(
                ErrorCode::InvalidBody,
                format!(
                    "expires_in is a whole number of seconds from 1 to {MAX_SIGNED_URL_SECONDS}"
                ),
            )),
        }
    }
}

pub(super) async fn sign_urls<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    Json(body): Json<SignUrlsBody>,
) -> Answer {
    let (ids, expires_in) = (body.ids()?, body.expires_in()?);
    let attachment = body.attachment.unwrap_or(true);
    let signed = s.sign_urls(&caller, &ids, expires_in, attachment).await?;
    Reply::ok(&SignedUrlsJson::from(&signed))
}

/// The bytes of a version, by redirect: bearer token or session cookie; inline unless
/// `attachment=true`.
pub(super) async fn file_content<B: Backend>(
    State(s): State<Api<B>>,
    CookieCaller(caller): CookieCaller,
    path: Segments,
    Query(query): Query<VersionQuery>,
) -> Answer {
    let attachment = query.attachment.unwrap_or(false);
    let url = s
        .download(&caller, path.file_id()?, query.version, attachment)
        .await?;
    Ok(Reply::Redirect(url))
}
