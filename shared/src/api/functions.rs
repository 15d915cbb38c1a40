//! Which routes each Lambda function serves: one table per function, each row naming its
//! handler. A function's `main` calls its own table only, so its binary links only its
//! own handlers. Adding a route is one row here (and its event in `template.yaml`).

use axum::http::Method;

use super::route::Route;
use super::{
    browse, collections, delete, download, multipart, preview, save, session, share, upload,
    versions, webhooks,
};
use crate::ports::Backend;

/// The one route open to uploads without a token; API Gateway throttles it.
pub const PUBLIC_UPLOAD: &str = "/v1/files/public/upload";

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;
const PUT: Method = Method::PUT;

/// The Lambda functions, by the binary name `template.yaml` gives each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Upload,
    Save,
    Get,
    Download,
    Delete,
    VerifyCustomUrl,
    Preview,
}

impl Function {
    pub const ALL: [Function; 7] = [
        Function::Upload,
        Function::Save,
        Function::Get,
        Function::Download,
        Function::Delete,
        Function::VerifyCustomUrl,
        Function::Preview,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Upload => "upload",
            Function::Save => "save",
            Function::Get => "get",
            Function::Download => "download",
            Function::Delete => "delete",
            Function::VerifyCustomUrl => "verify-custom-url",
            Function::Preview => "preview",
        }
    }

    /// The function's table: for the local API and the tests, which serve every
    /// function. A function's own binary calls its table directly.
    pub fn routes<B: Backend + 'static>(self) -> Vec<Route<B>> {
        match self {
            Function::Upload => upload(),
            Function::Save => save(),
            Function::Get => get(),
            Function::Download => download(),
            Function::Delete => delete(),
            Function::VerifyCustomUrl => verify_custom_url(),
            Function::Preview => preview(),
        }
    }
}

/// Every route of the API, with the function that serves it.
pub fn all_routes<B: Backend + 'static>() -> Vec<(Function, Route<B>)> {
    Function::ALL
        .into_iter()
        .flat_map(|f| f.routes().into_iter().map(move |r| (f, r)))
        .collect()
}

#[rustfmt::skip]
pub fn upload<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(POST,   "/v2/files/upload",                upload::upload_file),
        Route::token(POST,   "/v1/files/upload",                upload::upload_file),
        Route::public(POST,  PUBLIC_UPLOAD,                     upload::upload_file_public),
        Route::token(POST,   "/v2/files/uploads",               multipart::start_multipart),
        Route::token(POST,   "/v2/files/uploads/{id}/parts",    multipart::sign_parts),
        Route::token(GET,    "/v2/files/uploads/{id}",          multipart::multipart_status),
        Route::token(POST,   "/v2/files/uploads/{id}/complete", multipart::complete_multipart),
        Route::token(DELETE, "/v2/files/uploads/{id}",          multipart::abort_multipart),
    ]
}

#[rustfmt::skip]
pub fn save<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(POST, "/v2/files",                        save::save_file),
        Route::token(POST, "/v1/files",                        save::save_file),
        Route::token(POST, "/v2/files/{id}/versions/{version}", versions::restore_version),
        Route::token(POST, "/v1/{slug}/collections",           collections::create_user_collection),
        Route::token(PUT,  "/v1/{slug}/collections/{collectionSlug}", collections::update_user_collection),
        Route::token(POST, "/v1/collections/{schemaSlug}",     collections::create_global_collection),
        Route::token(PUT,  "/v1/collections/{schemaSlug}/{collectionSlug}", collections::update_global_collection),
        Route::token(POST, "/v2/webhooks",                     webhooks::create_webhook),
    ]
}

#[rustfmt::skip]
pub fn get<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(GET, "/v2/files/{id}",          browse::get_file),
        Route::token(GET, "/v2/files",               browse::list_files),
        Route::token(GET, "/v2/files:count",         browse::count_files),
        Route::token(GET, "/v2/usage",               browse::get_usage),
        Route::token(GET, "/v2/files/{id}/versions", versions::list_versions),
        Route::token(GET, "/v1/{slug}/collections",  collections::user_collections),
        Route::token(GET, "/v1/collections/{schemaSlug}", collections::global_collections),
        Route::token(GET, "/v1/entity/{id}/collections/{collectionSlug}/files", collections::files_in_collection),
        Route::token(GET, "/v2/webhooks",            webhooks::list_webhooks),
        Route::token(GET, "/v2/webhooks/{id}/deliveries", webhooks::webhook_deliveries),
    ]
}

#[rustfmt::skip]
pub fn download<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(GET,     "/v1/files/{id}/download",      download::download_file),
        Route::token(POST,    "/v1/files:downloadFiles",      download::download_files),
        Route::public(GET,    "/v1/files/public/{id}",        download::public_file),
        Route::token(POST,    "/v1/files:downloadS3",         share::download_s3_file),
        Route::token(GET,     "/v1/files/session",            session::get_session),
        Route::public(DELETE, "/v1/files/session",            session::delete_session),
        Route::token(POST,    "/v1/files/{id}/public/links",  share::generate_public_link),
        Route::token(GET,     "/v1/files/{id}/public/links",  share::list_public_links),
        Route::public(GET,    "/v1/files/public/links/{id}/{filename}", share::access_public_link),
        Route::token(DELETE,  "/v1/files/public/links/{id}",  share::revoke_public_link),
        Route::token(POST,    "/v2/files:signUrls",           share::sign_urls),
        Route::cookie(GET,    "/v2/files/{id}/content",       share::file_content),
    ]
}

#[rustfmt::skip]
pub fn delete<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(DELETE, "/v2/files/{id}",                    delete::delete_file),
        Route::token(POST,   "/v2/files/{id}/restore",            delete::restore_file),
        Route::token(DELETE, "/v2/files",                         browse::delete_files),
        Route::token(DELETE, "/v2/files/{id}/versions/{version}", versions::delete_version),
        Route::token(DELETE, "/v1/{slug}/collections/{collectionSlug}", collections::delete_user_collection),
        Route::token(DELETE, "/v1/collections/{schemaSlug}/{collectionSlug}", collections::delete_global_collection),
        Route::token(DELETE, "/v2/webhooks/{id}",                 webhooks::delete_webhook),
    ]
}

#[rustfmt::skip]
pub fn verify_custom_url<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::token(POST, "/v1/files/download:verify", download::verify_custom_url),
    ]
}

#[rustfmt::skip]
pub fn preview<B: Backend + 'static>() -> Vec<Route<B>> {
    vec![
        Route::cookie(GET,  "/v1/files/{id}/preview",        preview::preview_file),
        Route::cookie(POST, "/v1/files:previewS3",           preview::preview_s3_file),
        Route::cookie(GET,  "/v1/files:previewS3",           preview::preview_s3_file_get),
        Route::public(GET,  "/v1/files/public/{id}/preview", preview::preview_public_file),
    ]
}
