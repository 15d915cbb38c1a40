//! Fetches from a URL that outlive a request: a save hands an [`IngestJob`] to an
//! [`IngestQueue`] and waits a few seconds for it. On AWS the queue invokes the ingest
//! function asynchronously (Lambda retries it and keeps what fails in a dead-letter
//! queue); locally and in tests the job runs on the process's own runtime.

pub mod fetch;
pub mod lambda;

use std::sync::Arc;

use futures::future::BoxFuture;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ports::Backend;
use crate::service::{FileService, SourceRequest};

pub use crate::seal::HeaderSeal;
pub use fetch::{FetchLimits, Fetcher};

/// One fetch of a source into a file: only while `job` is the file's fetch may it end it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestJob {
    pub org: String,
    pub file: Uuid,
    pub job: Uuid,
    pub source: SourceRequest,
    /// What the client named the file and its type; else the source's answer says.
    pub filename: Option<String>,
    pub mime_type: Option<String>,
    /// The `sub` of the token that asked for the fetch.
    pub uploaded_by: Option<String>,
}

/// Where a save hands a fetch over.
pub trait IngestQueue: Send + Sync {
    /// Accepted for running; an error means the job will not run.
    fn submit(&self, job: IngestJob) -> BoxFuture<'_, Result<()>>;
}

/// Runs jobs on this process's runtime, each in its own task: the local API's stand-in
/// for the ingest function.
pub struct BackgroundQueue {
    jobs: tokio::sync::mpsc::UnboundedSender<IngestJob>,
}

impl BackgroundQueue {
    /// Starts the worker; `service` runs the jobs (a service of its own, over the same
    /// storage as the one that submits them).
    pub fn start<B: Backend + 'static>(service: FileService<B>, fetcher: Fetcher) -> Self {
        let (jobs, mut received) = tokio::sync::mpsc::unbounded_channel::<IngestJob>();
        let service = Arc::new(service);
        tokio::spawn(async move {
            while let Some(job) = received.recv().await {
                let (service, fetcher) = (service.clone(), fetcher.clone());
                tokio::spawn(async move {
                    if let Err(e) = service.run_ingest(job, &fetcher).await {
                        tracing::error!(error = %e, "fetch from a URL failed and was not recorded");
                    }
                });
            }
        });
        BackgroundQueue { jobs }
    }
}

impl IngestQueue for BackgroundQueue {
    fn submit(&self, job: IngestJob) -> BoxFuture<'_, Result<()>> {
        let sent = self
            .jobs
            .send(job)
            .map_err(|_| Error::storage("ingest worker", "the worker has stopped"));
        Box::pin(async move { sent })
    }
}
