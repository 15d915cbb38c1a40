//! `files upload`: one presigned PUT for a small file; for a large one a multipart
//! upload, parts in parallel straight to S3, resumable from a small state file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::api::{Api, Failure, Outcome};
use crate::progress;

const MIB: u64 = 1024 * 1024;
/// The server signs at most this many parts a call.
const SIGN_BATCH: usize = 100;
const PART_ATTEMPTS: u32 = 4;

pub struct UploadOptions {
    pub name: Option<String>,
    pub mime_type: Option<String>,
    pub public: bool,
    pub ttl_seconds: Option<u64>,
    pub parallel: usize,
    pub part_size: Option<u64>,
    /// Files larger than this go up in parts.
    pub multipart_threshold: u64,
    /// Bytes a second, at most.
    pub limit_rate: Option<u64>,
    pub state_dir: PathBuf,
    pub quiet: bool,
}

/// What a multipart upload needs to resume: written once it has started, removed once
/// the file is saved.
#[derive(Serialize, Deserialize)]
struct UploadState {
    path: PathBuf,
    size_bytes: u64,
    modified_ms: u128,
    upload_id: String,
    part_size: u64,
    sha256: String,
    /// Each part's SHA-256 (base64), signed into its URL so S3 checks it.
    part_sha256: Vec<String>,
}

/// Uploads and saves `path`; answers the saved file entity.
pub async fn upload(api: &Api, path: &Path, options: &UploadOptions) -> Outcome<Value> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Failure::new(format!("{} is not a file", path.display())));
    }
    let filename = match &options.name {
        Some(name) => name.clone(),
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Failure::new("the file has no usable name; give one with --name"))?
            .to_owned(),
    };
    let s3ref = if meta.len() > options.multipart_threshold {
        upload_in_parts(api, path, &filename, meta.len(), options).await?
    } else {
        upload_at_once(api, path, &filename, options).await?
    };
    let mut body = json!({ "s3ref": s3ref, "filename": filename });
    if options.public {
        body["access_control"] = json!("public-read");
    }
    if let Some(ttl) = options.ttl_seconds {
        body["ttl_seconds"] = json!(ttl);
    }
    if let Some(mime) = &options.mime_type {
        body["mime_type"] = json!(mime);
    }
    api.call(Method::POST, "/v2/files", Some(&body)).await
}

async fn upload_at_once(
    api: &Api,
    path: &Path,
    filename: &str,
    options: &UploadOptions,
) -> Outcome<Value> {
    let bytes = tokio::fs::read(path).await?;
    let checksum = STANDARD.encode(Sha256::digest(&bytes));
    let mut request = json!({
        "filename": filename,
        "size_bytes": bytes.len(),
        "checksum_sha256": checksum,
    });
    if let Some(mime) = &options.mime_type {
        request["mime_type"] = json!(mime);
    }
    let ticket = api
        .call(Method::POST, "/v2/files/upload", Some(&request))
        .await?;
    let url = ticket["upload_url"]
        .as_str()
        .ok_or_else(|| Failure::new("the API answered no upload_url"))?;
    let bar = progress::bytes_bar(bytes.len() as u64, "uploading", options.quiet);
    let mut put = api.http.put(url).header("x-amz-checksum-sha256", &checksum);
    if let Some(mime) = &options.mime_type {
        put = put.header("content-type", mime);
    }
    let size = bytes.len() as u64;
    let response = put.body(bytes).send().await?;
    check_put(response.status(), "the upload")?;
    bar.inc(size);
    bar.finish_and_clear();
    Ok(ticket["s3ref"].clone())
}

/// S3's answer to a PUT, as one line.
fn check_put(status: StatusCode, what: &str) -> Outcome<()> {
    if status.is_success() {
        return Ok(());
    }
    Err(Failure::new(match status.as_u16() {
        400 => format!("S3 refused {what}: its bytes do not match their checksum (the file changed while it was read?)"),
        403 => format!("S3 refused {what} (HTTP 403): its URL expired or does not match the request"),
        code => format!("S3 answered HTTP {code} to {what}"),
    }))
}

/// The part size the server would choose: 8 MiB, or the smallest whole MiB that keeps
/// the file within 10,000 parts.
fn part_size_for(size: u64, requested: Option<u64>) -> u64 {
    requested.unwrap_or_else(|| (8 * MIB).max(size.div_ceil(10_000).div_ceil(MIB) * MIB))
}

fn state_path(dir: &Path, path: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("upload-{name}.json"))
}

fn modified_ms(path: &Path) -> u128 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// The state of an unfinished upload of this very file (same size, same mtime), if any.
fn load_state(file: &Path, state: &Path, size: u64) -> Option<UploadState> {
    let text = std::fs::read(state).ok()?;
    let saved: UploadState = serde_json::from_slice(&text).ok()?;
    (saved.size_bytes == size && saved.modified_ms == modified_ms(file)).then_some(saved)
}

fn save_state(path: &Path, state: &UploadState) -> Outcome<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, serde_json::to_vec(state).unwrap_or_default())?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

/// One pass over the file: its SHA-256 and each part's.
async fn hash_parts(path: &Path, part_size: u64, quiet: bool) -> Outcome<(String, Vec<String>)> {
    let size = tokio::fs::metadata(path).await?.len();
    let bar = progress::bytes_bar(size, "checksum", quiet);
    let mut file = tokio::fs::File::open(path).await?;
    let (mut whole, mut parts) = (Sha256::new(), Vec::new());
    let mut buffer = vec![0u8; part_size as usize];
    loop {
        let read = read_full(&mut file, &mut buffer).await?;
        if read == 0 {
            break;
        }
        whole.update(&buffer[..read]);
        parts.push(STANDARD.encode(Sha256::digest(&buffer[..read])));
        bar.inc(read as u64);
    }
    bar.finish_and_clear();
    Ok((STANDARD.encode(whole.finalize()), parts))
}

async fn read_full(file: &mut tokio::fs::File, buffer: &mut [u8]) -> Outcome<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = file.read(&mut buffer[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// A multipart upload to its completion; answers the s3ref to save.
async fn upload_in_parts(
    api: &Api,
    path: &Path,
    filename: &str,
    size: u64,
    options: &UploadOptions,
) -> Outcome<Value> {
    let state_file = state_path(&options.state_dir, path);
    let mut held: BTreeMap<u32, String> = BTreeMap::new();
    let mut state = None;
    if let Some(saved) = load_state(path, &state_file, size) {
        match api
            .call(
                Method::GET,
                &format!("/v2/files/uploads/{}", saved.upload_id),
                None,
            )
            .await
        {
            Ok(status) => {
                for part in status["parts"].as_array().into_iter().flatten() {
                    if let (Some(n), Some(etag)) =
                        (part["part_number"].as_u64(), part["etag"].as_str())
                    {
                        held.insert(n as u32, etag.to_owned());
                    }
                }
                state = Some(saved);
            }
            // Completed, aborted or expired: start again.
            Err(e) if matches!(e.status.map(|s| s.as_u16()), Some(404 | 410)) => {}
            Err(e) => return Err(e),
        }
    }
    let state = match state {
        Some(state) => {
            progress::note(
                options.quiet,
                &format!(
                    "resuming: {} of {} parts already uploaded",
                    held.len(),
                    size.div_ceil(state.part_size)
                ),
            );
            state
        }
        None => {
            let part_size = part_size_for(size, options.part_size);
            let (sha256, part_sha256) = hash_parts(path, part_size, options.quiet).await?;
            let mut request = json!({
                "filename": filename,
                "size_bytes": size,
                "part_size": part_size,
                "checksum_sha256": sha256,
            });
            if let Some(mime) = &options.mime_type {
                request["mime_type"] = json!(mime);
            }
            let session = api
                .call(Method::POST, "/v2/files/uploads", Some(&request))
                .await?;
            let state = UploadState {
                path: path.to_owned(),
                size_bytes: size,
                modified_ms: modified_ms(path),
                upload_id: session["upload_id"]
                    .as_str()
                    .ok_or_else(|| Failure::new("the API answered no upload_id"))?
                    .to_owned(),
                part_size: session["part_size"].as_u64().unwrap_or(part_size),
                sha256,
                part_sha256,
            };
            save_state(&state_file, &state)?;
            state
        }
    };
    let part_count = size.div_ceil(state.part_size) as u32;
    let part_len = |n: u32| state.part_size.min(size - (n as u64 - 1) * state.part_size);
    let bar = progress::bytes_bar(size, "uploading", options.quiet);
    bar.set_position(held.keys().map(|&n| part_len(n)).sum());
    bar.reset_eta();
    let missing: Vec<u32> = (1..=part_count).filter(|n| !held.contains_key(n)).collect();
    let limiter = Limiter::new(options.limit_rate);
    let upload = format!("/v2/files/uploads/{}", state.upload_id);
    for batch in missing.chunks(SIGN_BATCH) {
        let parts: Vec<Value> = batch
            .iter()
            .map(|&n| json!({ "part_number": n, "checksum_sha256": state.part_sha256[n as usize - 1] }))
            .collect();
        let signed = api
            .call(
                Method::POST,
                &format!("{upload}/parts"),
                Some(&json!({ "parts": parts })),
            )
            .await?;
        let signed = signed["parts"].as_array().cloned().unwrap_or_default();
        let done: Vec<(u32, String)> = futures::stream::iter(signed)
            .map(|part| {
                let (bar, limiter, state) = (&bar, &limiter, &state);
                async move {
                    let number = part["part_number"].as_u64().unwrap_or_default() as u32;
                    let etag =
                        put_part(api, path, state.part_size, part_len(number), &part, limiter)
                            .await?;
                    bar.inc(part_len(number));
                    Ok::<_, Failure>((number, etag))
                }
            })
            .buffer_unordered(options.parallel.max(1))
            .try_collect()
            .await?;
        held.extend(done);
    }
    bar.finish_and_clear();
    let parts: Vec<Value> = held
        .iter()
        .map(|(n, etag)| json!({ "part_number": n, "etag": etag }))
        .collect();
    let completed = api
        .call(
            Method::POST,
            &format!("{upload}/complete"),
            Some(&json!({ "parts": parts })),
        )
        .await?;
    // The upload is whole: nothing is left to resume.
    std::fs::remove_file(&state_file).ok();
    Ok(completed["s3ref"].clone())
}

/// Reads part `part` of the file and PUTs it to its presigned URL, retrying network
/// faults and S3's 5xx; answers the ETag S3 gave it.
async fn put_part(
    api: &Api,
    path: &Path,
    part_size: u64,
    len: u64,
    part: &Value,
    limiter: &Limiter,
) -> Outcome<String> {
    let number = part["part_number"].as_u64().unwrap_or_default();
    let url = part["url"]
        .as_str()
        .ok_or_else(|| Failure::new("the API answered a part without a url"))?;
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start((number - 1) * part_size))
        .await?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes).await?;
    let bytes = bytes::Bytes::from(bytes);
    limiter.wait(len).await;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut request = api.http.put(url).body(bytes.clone());
        for (name, value) in part["headers"].as_object().into_iter().flatten() {
            if name != "content-length" {
                request = request.header(name, value.as_str().unwrap_or_default());
            }
        }
        let retry = match request.send().await {
            Ok(response) if response.status().is_success() => {
                return response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .ok_or_else(|| Failure::new(format!("S3 answered part {number} without an ETag (is ETag exposed by the bucket's CORS?)")));
            }
            Ok(response) if response.status().is_server_error() => Failure::new(format!(
                "S3 answered HTTP {} to part {number}",
                response.status().as_u16()
            )),
            Ok(response) => {
                return Err(check_put(response.status(), &format!("part {number}")).unwrap_err())
            }
            Err(e) => Failure::from(e),
        };
        if attempt >= PART_ATTEMPTS {
            return Err(Failure::new(format!(
                "part {number} failed {attempt} times: {retry}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt))).await;
    }
}

/// Holds the upload to at most `rate` bytes a second, over the whole upload.
struct Limiter {
    rate: Option<u64>,
    started: Instant,
    sent: Mutex<u64>,
}

impl Limiter {
    fn new(rate: Option<u64>) -> Self {
        Limiter {
            rate,
            started: Instant::now(),
            sent: Mutex::new(0),
        }
    }

    async fn wait(&self, bytes: u64) {
        let Some(rate) = self.rate.filter(|r| *r > 0) else {
            return;
        };
        let due = {
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            *sent += bytes;
            Duration::from_secs_f64(*sent as f64 / rate as f64)
        };
        let elapsed = self.started.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
}
