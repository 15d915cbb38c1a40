//! The ingest function, invoked asynchronously: its event is an [`IngestEvent`], the job
//! with its headers sealed.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{HeaderSeal, IngestJob, IngestQueue};
use crate::error::{Error, ErrorCode, Result};
use crate::service::{SourceMethod, SourceRequest};

/// What the ingest function receives (and what a dead-letter queue keeps of a job that
/// failed): everything but the headers in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestEvent {
    pub org: String,
    pub file: Uuid,
    pub job: Uuid,
    pub url: String,
    #[serde(default)]
    pub method: SourceMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_headers: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<String>,
}

impl IngestEvent {
    pub fn seal(job: IngestJob, seal: Option<&HeaderSeal>) -> Result<Self> {
        let sealed_headers = match (job.source.headers.is_empty(), seal) {
            (true, _) => None,
            (false, Some(seal)) => Some(seal.seal(&job.source.headers)?),
            (false, None) => {
                return Err(Error::new(
                    ErrorCode::Unsupported,
                    "source_headers need the service's signing key (CustomUrlSigningKey), which is not configured",
                ))
            }
        };
        Ok(IngestEvent {
            org: job.org,
            file: job.file,
            job: job.job,
            url: job.source.url,
            method: job.source.method,
            sealed_headers,
            filename: job.filename,
            mime_type: job.mime_type,
            uploaded_by: job.uploaded_by,
        })
    }

    pub fn open(self, seal: Option<&HeaderSeal>) -> Result<IngestJob> {
        let headers = match (&self.sealed_headers, seal) {
            (None, _) => Vec::new(),
            (Some(sealed), Some(seal)) => seal.open(sealed)?,
            (Some(_), None) => {
                return Err(Error::internal(
                    "configuration",
                    "a job with sealed headers arrived but no signing key is configured",
                ))
            }
        };
        Ok(IngestJob {
            org: self.org,
            file: self.file,
            job: self.job,
            source: SourceRequest {
                url: self.url,
                method: self.method,
                headers,
            },
            filename: self.filename,
            mime_type: self.mime_type,
            uploaded_by: self.uploaded_by,
        })
    }
}

/// Invokes the ingest function with `InvocationType::Event`: Lambda queues the job and
/// answers at once.
pub struct LambdaQueue {
    pub client: aws_sdk_lambda::Client,
    /// `INGEST_FUNCTION`: its name or ARN.
    pub function: String,
    pub seal: Option<HeaderSeal>,
}

impl IngestQueue for LambdaQueue {
    fn submit(&self, job: IngestJob) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let event = IngestEvent::seal(job, self.seal.as_ref())?;
            let payload =
                serde_json::to_vec(&event).map_err(|e| Error::internal("ingest event", e))?;
            self.client
                .invoke()
                .function_name(&self.function)
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(payload))
                .send()
                .await
                .map_err(|e| {
                    let context = aws_sdk_lambda::error::DisplayErrorContext(e).to_string();
                    Error::storage("Invoke", context)
                })?;
            Ok(())
        })
    }
}

/// The ingest function's work for one event. `Err` (Lambda retries, then the dead-letter
/// queue) only where a retry may help; a job that cannot run is recorded failed.
pub async fn handle_event<B: crate::ports::Backend>(
    service: &crate::service::FileService<B>,
    fetcher: &super::Fetcher,
    seal: Option<&HeaderSeal>,
    event: IngestEvent,
) -> Result<()> {
    let (org, file, job) = (event.org.clone(), event.file, event.job);
    match event.open(seal) {
        Ok(job) => service.run_ingest(job, fetcher).await,
        Err(e) => {
            tracing::error!(error = %e, %file, "fetch job cannot run");
            let failed = crate::ports::FetchFailed::not_started();
            service.fail_fetch(&org, file, job, failed).await
        }
    }
}
