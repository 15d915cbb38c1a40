//! One handler per operation: parse, call the service, answer. Adding a route is a row
//! in `routes::ROUTES`, an arm in [`dispatch`] and a handler here.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt, Response};
use tracing::{Instrument, Span};

use super::direct;
use super::listing;
use super::parse::{self, file_id};
use super::preview;
use super::respond::{error_response, Reply};
use super::routes::{find_route, Function, Operation};
use super::sharing;
use super::wire::{
    BatchLinkJson, BulkDeletedJson, CompletedUploadJson, CountJson, DeletedJson, DownloadLinkJson,
    FileEntity, FileListJson, MultipartSessionJson, MultipartStatusJson, SignedPartsJson,
    StoredPartJson, UploadTicketJson, UploadedFileJson, UsageJson, VerificationJson,
};
use crate::domain::{FileRecord, FileStatus};
use crate::error::{Error, Result};
use crate::ports::{Backend, ObjectStore};
use crate::service::{Caller, FileService, SaveIntent};
use lambda_http::http::StatusCode;

/// Serves one request for `function`; never fails: errors become JSON answers. Every
/// log line written meanwhile carries the request id, the route and the organisation.
pub async fn handle<B: Backend>(
    service: &FileService<B>,
    function: Function,
    request: Request,
) -> Response<Body> {
    let span = request_span(&request);
    async {
        // On the heap: the operations' futures together are larger than a small stack.
        let response = match Box::pin(dispatch(service, function, &request)).await {
            Ok(reply) => reply.into_response(),
            Err(e) => error_response(&e),
        };
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

/// The span of one request: API Gateway's request id now, the route and the
/// organisation once they are known.
fn request_span(request: &Request) -> Span {
    let request_id = request
        .request_context_ref()
        .and_then(|c| match c {
            lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
            _ => None,
        })
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %request_id,
        route = tracing::field::Empty,
        org = tracing::field::Empty,
    )
}

/// A request and what routing found in it.
pub(super) struct Input<'r> {
    pub request: &'r Request,
    pub id: Option<&'r str>,
    /// The path's second variable segment (`{filename}`, `{version}`).
    pub second: Option<&'r str>,
    pub query: HashMap<String, String>,
}

async fn dispatch<B: Backend>(
    service: &FileService<B>,
    function: Function,
    request: &Request,
) -> Result<Reply> {
    let (def, params) = find_route(request.method().as_str(), parse::request_path(request))?;
    Span::current().record("route", format!("{} {}", def.method, def.path));
    if def.function != function {
        return Err(Error::not_found(format!(
            "{} {} is not served by the {} function",
            def.method,
            def.path,
            function.name()
        )));
    }
    let input = Input {
        request,
        id: params.id,
        second: params.second,
        query: parse::query_params(request),
    };
    let s = service;
    match def.operation {
        Operation::UploadFile => upload_file(s, &input).await,
        Operation::UploadFilePublic => upload_file_public(s, &input).await,
        Operation::SaveFile => save_file(s, &input).await,
        Operation::GetFile => get_file(s, &input).await,
        Operation::DownloadFile => download_file(s, &input).await,
        Operation::DownloadFiles => download_files(s, &input).await,
        Operation::DeleteFile => delete_file(s, &input).await,
        Operation::VerifyCustomDownloadUrl => verify_custom_url(s, &input).await,
        Operation::PublicFile => public_file(s, &input).await,
        Operation::StartMultipartUpload => start_multipart(s, &input).await,
        Operation::SignMultipartParts => sign_parts(s, &input).await,
        Operation::GetMultipartUpload => multipart_status(s, &input).await,
        Operation::CompleteMultipartUpload => complete_multipart(s, &input).await,
        Operation::AbortMultipartUpload => abort_multipart(s, &input).await,
        Operation::ListFiles => list_files(s, &input).await,
        Operation::CountFiles => count_files(s, &input).await,
        Operation::DeleteFiles => delete_files(s, &input).await,
        Operation::GetUsage => get_usage(s, &input).await,
        Operation::UploadFileV1 => upload_file(s, &input).await,
        Operation::SaveFileV1 => save_file(s, &input).await,
        Operation::DownloadS3File => sharing::download_s3_file(s, &input).await,
        Operation::GetSession => sharing::get_session(s, &input).await,
        Operation::DeleteSession => sharing::delete_session(),
        Operation::GeneratePublicLink => sharing::generate_public_link(s, &input).await,
        Operation::ListPublicLinks => sharing::list_public_links(s, &input).await,
        Operation::AccessPublicLink => sharing::access_public_link(s, &input).await,
        Operation::RevokePublicLink => sharing::revoke_public_link(s, &input).await,
        Operation::SignUrls => sharing::sign_urls(s, &input).await,
        Operation::FileContent => sharing::file_content(s, &input).await,
        Operation::ListVersions => sharing::list_versions(s, &input).await,
        Operation::RestoreVersion => sharing::restore_version(s, &input).await,
        Operation::DeleteVersion => sharing::delete_version(s, &input).await,
        Operation::PreviewFile => preview::preview_file(s, &input).await,
        Operation::PreviewS3File => preview::preview_s3_file(s, &input, true).await,
        Operation::PreviewS3FileGet => preview::preview_s3_file(s, &input, false).await,
        Operation::PreviewPublicFile => preview::preview_public_file(s, &input).await,
    }
}

/// The caller of a route that needs a token: 401 without one.
pub(super) fn caller<B>(service: &FileService<B>, input: &Input<'_>) -> Result<Caller> {
    let caller = parse::caller(&service.config, input.request)?;
    Span::current().record("org", caller.org.as_str());
    Ok(caller)
}

/// The File entity of `record`, with links to this API.
pub(super) fn entity<'a, B: Backend>(
    service: &'a FileService<B>,
    input: &Input<'_>,
    record: &'a FileRecord,
) -> Result<FileEntity<'a>> {
    let base = parse::public_base_url(&service.config, input.request)?;
    Ok(FileEntity::new(record, service.store().bucket(), &base))
}

async fn upload_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let request = parse::upload_request(&parse::json_body(input.request)?)?;
    // `file_entity_id`: the upload is for that file, whose public_url comes back too.
    let file = match input.query.get("file_entity_id").filter(|f| !f.is_empty()) {
        Some(id) => Some(s.get(&caller, file_id(Some(id))?).await?),
        None => None,
    };
    let ticket = s.upload(Some(&caller.org), request).await?;
    let mut answer = UploadTicketJson::from(&ticket);
    if let Some(file) = file {
        let base = parse::public_base_url(&s.config, input.request)?;
        answer.public_url = Some(super::wire::public_url(&base, file.id));
    }
    Reply::created(&answer)
}

async fn upload_file_public<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let request = parse::upload_request(&parse::json_body(input.request)?)?;
    let ticket = s.upload(None, request).await?;
    Reply::created(&UploadTicketJson::from(&ticket))
}

async fn save_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    if direct::is_direct_upload(input.request.headers()) {
        let max_bytes = s.config.direct_upload_max_bytes;
        let request = direct::direct_upload(input.request, &input.query, max_bytes)?;
        let record = s.save(&caller, request).await?;
        let url = s.link(&record).await?;
        return Reply::created(&UploadedFileJson {
            entity: entity(s, input, &record)?,
            download_url: &url,
        });
    }
    let body = parse::json_body(input.request)?;
    let delete_temp_file = parse::bool_param(&input.query, "delete_temp_file", true)?;
    let version_only = parse::bool_param(&input.query, "version_only", false)?;
    let request = parse::save_request(body, delete_temp_file, version_only)?;
    let fetches = matches!(request.intent, SaveIntent::FromSource { .. });
    let record = s.save(&caller, request).await?;
    // A fetch from a URL that goes on after the answer: 202, the file pending. Any other
    // save of a file whose fetch is still running did what it was asked: 201.
    let status = match record.status {
        FileStatus::Pending if fetches => StatusCode::ACCEPTED,
        _ => StatusCode::CREATED,
    };
    Reply::json(status, &entity(s, input, &record)?)
}

async fn get_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let record = s.get(&caller, file_id(input.id)?).await?;
    Reply::ok(&entity(s, input, &record)?)
}

async fn download_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let version = parse::version_param(input.query.get("version").map(String::as_str))?;
    let attachment = parse::bool_param(&input.query, "attachment", true)?;
    let url = s
        .download(&caller, file_id(input.id)?, version, attachment)
        .await?;
    Reply::ok(&DownloadLinkJson { download_url: &url })
}

async fn download_files<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let items = parse::download_items(&parse::json_body(input.request)?)?;
    let links = s.download_many(&caller, &items).await?;
    Reply::ok(&links.iter().map(BatchLinkJson::from).collect::<Vec<_>>())
}

async fn delete_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let id = file_id(input.id)?;
    s.delete(&caller, id).await?;
    Reply::ok(&DeletedJson { id, deleted: true })
}

async fn verify_custom_url<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let url = parse::url_to_verify(&parse::json_body(input.request)?)?;
    let valid = s.verify_custom_url(&caller, &url)?;
    Reply::ok(&VerificationJson { valid })
}

async fn public_file<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    Ok(Reply::Redirect(s.public_file(file_id(input.id)?).await?))
}

/// The `{id}` of a multipart upload route.
fn upload_id<'r>(input: &Input<'r>) -> Result<&'r str> {
    input
        .id
        .ok_or_else(|| Error::not_found("no upload id in the path"))
}

async fn start_multipart<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let start = parse::multipart_start(&parse::json_body(input.request)?)?;
    let session = s.start_multipart(&caller, start).await?;
    Reply::created(&MultipartSessionJson::from(&session))
}

async fn sign_parts<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let parts = parse::parts_to_sign(&parse::json_body(input.request)?)?;
    let (session, signed) = s.sign_parts(&caller, upload_id(input)?, &parts).await?;
    Reply::ok(&SignedPartsJson::new(&session, &signed))
}

async fn multipart_status<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let (session, parts) = s.multipart_status(&caller, upload_id(input)?).await?;
    Reply::ok(&MultipartStatusJson {
        session: MultipartSessionJson::from(&session),
        parts: parts.iter().map(StoredPartJson::from).collect(),
    })
}

async fn complete_multipart<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let parts = parse::completed_parts(&parse::json_body(input.request)?)?;
    let s3ref = s
        .complete_multipart(&caller, upload_id(input)?, &parts)
        .await?;
    Reply::ok(&CompletedUploadJson { s3ref: &s3ref })
}

async fn abort_multipart<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    s.abort_multipart(&caller, upload_id(input)?).await?;
    Ok(Reply::NoContent)
}

async fn list_files<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let (query, limit, cursor) = listing::list_request(&input.query)?;
    let page = s.list(&caller, &query, limit, cursor.as_deref()).await?;
    let base = parse::public_base_url(&s.config, input.request)?;
    let bucket = s.store().bucket();
    Reply::ok(&FileListJson {
        results: page
            .items
            .iter()
            .map(|r| FileEntity::new(r, bucket, &base))
            .collect(),
        next_cursor: page.next_cursor.as_deref(),
    })
}

async fn count_files<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let filters = listing::count_request(&input.query)?;
    let count = s.count(&caller, &filters).await?;
    Reply::ok(&CountJson { count })
}

async fn delete_files<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    let selection = listing::delete_request(&input.query)?;
    let deleted = s.bulk_delete(&caller, selection).await?;
    Reply::ok(&BulkDeletedJson::from(deleted))
}

async fn get_usage<B: Backend>(s: &FileService<B>, input: &Input<'_>) -> Result<Reply> {
    let caller = caller(s, input)?;
    Reply::ok(&UsageJson::from(s.usage(&caller).await?))
}
