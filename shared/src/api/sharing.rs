//! Handlers of sharing and version history: public links, sessions, signed links,
//! redirects to the bytes, links by S3 key, and versions.

use lambda_http::http::StatusCode;

use super::handlers::{caller, entity, Input};
use super::parse::{self, file_id};
use super::respond::Reply;
use super::session::{
    bearer_token, caller_by_token_or_cookie, cleared_cookie, seconds_left, session_cookie,
};
use super::wire::{
    public_link_url, DownloadLinkJson, NumberedVersionJson, PublicLinkJson, ResultsJson,
    SessionJson, SignedUrlsJson,
};
use crate::error::{Error, Result};
use crate::ports::{Backend, ObjectStore};
use crate::service::FileService;

pub(super) async fn download_s3_file<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let key = parse::required_query(&input.query, "s3_key")?;
    let bucket = parse::required_query(&input.query, "s3_bucket")?;
    let attachment = parse::bool_param(&input.query, "attachment", true)?;
    let url = s.download_s3(&caller, bucket, key, attachment).await?;
    Reply::ok(&DownloadLinkJson { download_url: &url })
}

/// getSession: the bearer token (checked by API Gateway) as the session cookie, for as
/// long as the token is valid.
pub(super) async fn get_session<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    caller(s, input)?;
    let token = bearer_token(input.request.headers()).ok_or_else(|| {
        Error::unauthorized("an Authorization: Bearer <token> header is required")
    })?;
    let claims = parse::authorizer_claims(input.request);
    let expires_in = seconds_left(claims.and_then(|c| c.get("exp")), &s.clock);
    if expires_in <= 0 {
        return Err(Error::unauthorized("the token has expired"));
    }
    let body = Reply::ok(&SessionJson { expires_in })?;
    Ok(Reply::WithCookie(
        session_cookie(token, expires_in),
        Box::new(body),
    ))
}

/// deleteSession: the cookie cleared. Needs no token: an expired session can end too.
pub(super) fn delete_session() -> Result<Reply> {
    Ok(Reply::WithCookie(
        cleared_cookie(),
        Box::new(Reply::NoContent),
    ))
}

pub(super) async fn generate_public_link<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let (record, link) = s.generate_link(&caller, file_id(input.id)?).await?;
    let base = parse::public_base_url(&s.config, input.request)?;
    Reply::created(&public_link_url(&base, &link.id, &record.filename))
}

pub(super) async fn list_public_links<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let record = s.list_links(&caller, file_id(input.id)?).await?;
    let base = parse::public_base_url(&s.config, input.request)?;
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
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let link = input.id.unwrap_or_default();
    Ok(Reply::Redirect(s.access_link(link).await?))
}

pub(super) async fn revoke_public_link<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    s.revoke_link(&caller, input.id.unwrap_or_default()).await?;
    Ok(Reply::NoContent)
}

pub(super) async fn sign_urls<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let (ids, expires_in, attachment) =
        parse::sign_urls_request(&parse::json_body(input.request)?)?;
    let signed = s.sign_urls(&caller, &ids, expires_in, attachment).await?;
    Reply::ok(&SignedUrlsJson::from(&signed))
}

/// The bytes of a version, by redirect: bearer token or session cookie; inline unless
/// `attachment=true`.
pub(super) async fn file_content<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller_by_token_or_cookie(&s.config, &s.clock, input.request).await?;
    let version = parse::version_param(input.query.get("version").map(String::as_str))?;
    let attachment = parse::bool_param(&input.query, "attachment", false)?;
    let url = s
        .download(&caller, file_id(input.id)?, version, attachment)
        .await?;
    Ok(Reply::Redirect(url))
}

pub(super) async fn list_versions<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let record = s.get(&caller, file_id(input.id)?).await?;
    Reply::ok(&ResultsJson {
        results: NumberedVersionJson::all(&record, s.store().bucket()),
    })
}

pub(super) async fn restore_version<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let id = file_id(input.id)?;
    let number = parse::version_number(input.second, ":restore")?;
    let record = s.restore_version(&caller, id, number).await?;
    Reply::json(StatusCode::CREATED, &entity(s, input, &record)?)
}

pub(super) async fn delete_version<B: Backend>(
    s: &FileService<B>,
    input: &Input<'_>,
) -> Result<Reply> {
    let caller = caller(s, input)?;
    let id = file_id(input.id)?;
    let number = parse::version_number(input.second, "")?;
    let record = s.delete_version(&caller, id, number).await?;
    Reply::ok(&entity(s, input, &record)?)
}
