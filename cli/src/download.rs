//! `files download`: the file's bytes from its presigned URL, streamed to disk and
//! checked against the SHA-256 the service stored.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::StreamExt;
use reqwest::Method;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::api::{Api, Failure, Outcome};
use crate::progress;

/// Downloads file `id` to `out` (default: its filename here); answers where it went.
pub async fn download(api: &Api, id: &str, out: Option<&Path>, quiet: bool) -> Outcome<PathBuf> {
    let entity = api
        .call(Method::GET, &format!("/v2/files/{id}"), None)
        .await?;
    let out = match out {
        Some(path) => path.to_owned(),
        None => {
            let name = entity["filename"].as_str().unwrap_or(id);
            // Only the last segment: a name never writes outside this directory.
            PathBuf::from(Path::new(name).file_name().unwrap_or(id.as_ref()))
        }
    };
    let link = api
        .call(Method::GET, &format!("/v1/files/{id}/download"), None)
        .await?;
    let url = link["download_url"]
        .as_str()
        .ok_or_else(|| Failure::new("the API answered no download_url"))?;
    let response = api.http.get(url).send().await?;
    if !response.status().is_success() {
        return Err(Failure::new(format!(
            "the download link answered HTTP {}",
            response.status().as_u16()
        )));
    }
    let total = response.content_length().unwrap_or(0);
    let bar = progress::bytes_bar(total, "downloading", quiet);
    let partial = out.with_extension(format!(
        "{}.part",
        out.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let mut file = tokio::fs::File::create(&partial).await?;
    let mut hasher = Sha256::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    file.flush().await?;
    drop(file);
    bar.finish_and_clear();
    let checksum = STANDARD.encode(hasher.finalize());
    if let Some(expected) = entity["checksum_sha256"].as_str() {
        if expected != checksum {
            tokio::fs::remove_file(&partial).await.ok();
            return Err(Failure::new(format!(
                "the downloaded bytes have SHA-256 {checksum}, not the stored {expected}; nothing was written"
            )));
        }
    }
    tokio::fs::rename(&partial, &out).await?;
    Ok(out)
}
