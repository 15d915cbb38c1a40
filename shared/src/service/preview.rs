//! Previews: previewFile, previewPublicFile and previewS3File. A thumbnail of a stored
//! version is cached in S3 beside it, per size, so the next request for it is one read.

use std::sync::Arc;

use uuid::Uuid;

use super::{Caller, FileService};
use crate::domain::{preview_prefix, AccessControl, FileRecord};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{
    may_preview, Backend, DecodeLimits, FileRepository, Fit, ImageFormat, ObjectStore,
    ResponseHeaders,
};

/// The largest thumbnail answered in the response body: Lambda's 6 MB payload carries
/// binary bodies base64 (4/3 larger). A larger one (a 2048 px PNG of noise) is a
/// redirect to its cached copy.
pub const MAX_INLINE_PREVIEW_BYTES: usize = 4 * 1024 * 1024;

/// A preview, ready to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub body: PreviewBody,
    /// Whether it came from the cache rather than a decoder.
    pub cached: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreviewBody {
    Inline {
        bytes: Vec<u8>,
        format: ImageFormat,
    },
    /// A short-lived URL of the cached thumbnail, too large to answer inline.
    Redirect(String),
}

/// The object a preview is made of, and where its thumbnails are cached (none for an
/// unsaved upload, which its uploader may still overwrite).
struct PreviewSource<'a> {
    key: &'a str,
    mime_type: &'a str,
    size_bytes: u64,
    cache: Option<String>,
}

impl<B: Backend> FileService<B> {
    /// previewFile: a thumbnail of version `version` (0 = latest) of the caller's file.
    pub async fn preview_file(
        &self,
        caller: &Caller,
        id: Uuid,
        version: u32,
        fit: Fit,
    ) -> Result<Preview> {
        let record = self.owned(caller, id).await?;
        self.preview_version(&record, version, fit).await
    }

    /// previewPublicFile: the same for anyone, while the file is `public-read` (403
    /// while private). `org`, when given, must be the file's organisation.
    pub async fn preview_public_file(
        &self,
        id: Uuid,
        version: u32,
        org: Option<&str>,
        fit: Fit,
    ) -> Result<Preview> {
        let record = self
            .files()
            .get(id)
            .await?
            .filter(|r| self.is_live(r) && org.is_none_or(|org| org == r.org))
            .ok_or_else(|| Error::not_found(format!("file {id} not found")))?;
        if record.access_control != AccessControl::PublicRead {
            return Err(Error::new(ErrorCode::Forbidden, "this file is not public"));
        }
        self.preview_version(&record, version, fit).await
    }

    /// previewS3File: a thumbnail of an object the caller may read by its key (its own
    /// unsaved upload, or a version of its file).
    pub async fn preview_s3(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        fit: Fit,
    ) -> Result<Preview> {
        let object = self.object_by_key(caller, bucket, key).await?;
        let cache = if object.saved {
            preview_prefix(key).map(|prefix| format!("{prefix}{}", fit.key_part()))
        } else {
            None
        };
        let source = PreviewSource {
            key,
            mime_type: &object.mime_type,
            size_bytes: object.size_bytes,
            cache,
        };
        self.preview(source, fit).await
    }

    async fn preview_version(
        &self,
        record: &FileRecord,
        version: u32,
        fit: Fit,
    ) -> Result<Preview> {
        if record.custom_download_url.is_some() {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                "an external file's bytes are elsewhere: it has no preview",
            ));
        }
        let stored = self.readable_version(record, version)?;
        let source = PreviewSource {
            key: &stored.key,
            mime_type: &stored.mime_type,
            size_bytes: stored.size_bytes,
            cache: preview_prefix(&stored.key).map(|prefix| format!("{prefix}{}", fit.key_part())),
        };
        self.preview(source, fit).await
    }

    /// The cached thumbnail if there is one; else the source read, decoded on a
    /// blocking thread within the time limit, and the result cached.
    async fn preview(&self, source: PreviewSource<'_>, fit: Fit) -> Result<Preview> {
        if !may_preview(source.mime_type) {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "{} has no preview: previews are made of JPEG, PNG, GIF and WebP images and PDF documents",
                    source.mime_type
                ),
            ));
        }
        if let Some(cache) = &source.cache {
            if let Some(bytes) = self.store().get(cache).await? {
                if let Some(format) = ImageFormat::sniff(&bytes) {
                    return self.answer(cache, bytes, format, true).await;
                }
            }
        }
        let limits = self.config.previews;
        if source.size_bytes > limits.max_source_bytes {
            return Err(Error::new(
                ErrorCode::ImageTooLarge,
                format!(
                    "the file is {} bytes; previews are made of files up to {} bytes",
                    source.size_bytes, limits.max_source_bytes
                ),
            ));
        }
        let thumbnailer = self.previews.clone().ok_or_else(|| {
            Error::internal("configuration", "this function does not make previews")
        })?;
        let bytes = self
            .store()
            .get(source.key)
            .await?
            .ok_or_else(|| Error::not_found("the file's bytes are gone"))?;
        let decode_limits = DecodeLimits {
            max_pixels: limits.max_pixels,
            max_draw_operations: limits.max_draw_operations,
        };
        let decoding =
            tokio::task::spawn_blocking(move || thumbnailer.render(bytes, fit, decode_limits));
        let thumbnail = match tokio::time::timeout(limits.timeout, decoding).await {
            Ok(Ok(rendered)) => rendered?,
            Ok(Err(e)) if e.is_panic() => {
                return Err(Error::new(
                    ErrorCode::UnreadableImage,
                    "the file could not be decoded (the decoder failed)",
                ))
            }
            Ok(Err(e)) => return Err(Error::internal("preview", e)),
            // The decoder goes on to its end on its thread; its answer is dropped.
            Err(_) => {
                return Err(Error::new(
                    ErrorCode::UnreadableImage,
                    format!(
                        "the file took longer than {} ms to decode",
                        limits.timeout.as_millis()
                    ),
                ))
            }
        };
        let Some(cache) = source.cache else {
            return inline_only(thumbnail.bytes, thumbnail.format);
        };
        // A cache that cannot be written costs the next request a decode, nothing more.
        if let Err(e) = self
            .store()
            .put(
                &cache,
                thumbnail.bytes.clone(),
                Some(thumbnail.format.mime_type()),
            )
            .await
        {
            tracing::warn!(error = %e, key = %cache, "preview not cached");
            return inline_only(thumbnail.bytes, thumbnail.format);
        }
        self.answer(&cache, thumbnail.bytes, thumbnail.format, false)
            .await
    }

    /// The thumbnail inline, or a redirect to its cached copy when too large for that.
    async fn answer(
        &self,
        cache: &str,
        bytes: Vec<u8>,
        format: ImageFormat,
        cached: bool,
    ) -> Result<Preview> {
        let body = if bytes.len() <= MAX_INLINE_PREVIEW_BYTES {
            PreviewBody::Inline { bytes, format }
        } else {
            let headers = ResponseHeaders::for_file("preview", format.mime_type(), false);
            let url = self
                .store()
                .presign_get(cache, &headers, self.config.public_url_ttl)
                .await?;
            PreviewBody::Redirect(url)
        };
        Ok(Preview { body, cached })
    }

    /// Removes the cached previews of the version at `key`; a failure leaves them for the
    /// file's deletion or expiry, which sweep its whole prefix.
    pub(super) async fn remove_previews(&self, key: &str) {
        let Some(prefix) = preview_prefix(key) else {
            return;
        };
        let removed = async {
            let keys = self.store().list(&prefix).await?;
            self.store().delete(&keys).await
        };
        if let Err(e) = removed.await {
            tracing::warn!(error = %e, prefix = %prefix, "previews of a deleted version left");
        }
    }
}

/// An uncached thumbnail: inline, or refused when too large for a response.
fn inline_only(bytes: Vec<u8>, format: ImageFormat) -> Result<Preview> {
    if bytes.len() > MAX_INLINE_PREVIEW_BYTES {
        return Err(Error::new(
            ErrorCode::ImageTooLarge,
            "the thumbnail is too large to answer; ask for a smaller w or h",
        ));
    }
    Ok(Preview {
        body: PreviewBody::Inline { bytes, format },
        cached: false,
    })
}

/// The thumbnailer a service makes previews with.
pub type SharedThumbnailer = Arc<dyn crate::ports::Thumbnailer>;
