//! The file service's shared crate: domain, ports, AWS adapters and HTTP mapping.
//! Every Lambda function and the local API are thin shells around it.

pub mod adapters;
pub mod address_registry;
pub mod api;
pub mod auth;
pub mod aws;
pub mod config;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod custom_url;
pub mod domain;
pub mod error;
pub mod events;
pub mod expiry;
pub mod guardduty;
pub mod ingest;
pub mod ports;
pub mod presign;
pub mod seal;
pub mod service;
pub mod sweep;
#[cfg(any(test, feature = "conformance"))]
pub mod testing;
pub mod time;
pub mod url_policy;
pub mod webhooks;

pub use error::{Error, ErrorCode, Result};

use adapters::dynamodb::{DynamoFiles, DynamoUploads};
use adapters::s3::S3Store;
use ports::Stores;

/// Storage as deployed: S3 for bytes, DynamoDB for entities and upload records.
pub type AwsBackend = Stores<S3Store, DynamoFiles, DynamoUploads>;

/// The service as deployed.
pub type AwsFileService = service::FileService<AwsBackend>;

/// Reads configuration and builds the AWS clients: once per cold start, no network calls.
pub fn aws_service_from_env() -> Result<AwsFileService> {
    Ok(aws_service(
        config::Config::from_env()?,
        aws::AwsClients::from_env()?,
    ))
}

/// [`aws_service_from_env`] that hands fetches from a URL to the function
/// `INGEST_FUNCTION` names (the save function's setting), when it is set.
pub fn aws_service_with_ingest_from_env() -> Result<AwsFileService> {
    let config = config::Config::from_env()?;
    let clients = aws::AwsClients::from_env()?;
    let ingest = config::optional("INGEST_FUNCTION").map(|function| ingest::lambda::LambdaQueue {
        client: clients.lambda(),
        function,
        seal: config.custom_url_keys.as_ref().map(ingest::HeaderSeal::new),
    });
    let service = aws_service(config, clients);
    Ok(match ingest {
        Some(queue) => service.with_ingest(std::sync::Arc::new(queue)),
        None => service,
    })
}

/// The upload records alone, for the S3-event function (it needs no bucket).
pub fn upload_records_from_env() -> Result<DynamoUploads> {
    let table = config::required("FILES_TABLE")?;
    Ok(DynamoUploads::new(
        aws::AwsClients::from_env()?.dynamodb,
        table,
    ))
}

pub fn aws_backend(config: &config::Config, clients: aws::AwsClients) -> AwsBackend {
    Stores {
        store: S3Store::new(clients.s3, clients.credentials, config.bucket.clone()),
        files: DynamoFiles::new(clients.dynamodb.clone(), config.table.clone())
            .with_quotas(config.quotas.clone()),
        uploads: DynamoUploads::new(clients.dynamodb, config.table.clone()),
    }
}

pub fn aws_service(config: config::Config, clients: aws::AwsClients) -> AwsFileService {
    service::FileService::new(aws_backend(&config, clients), config, time::Clock::system())
}
