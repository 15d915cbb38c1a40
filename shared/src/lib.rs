//! The file service's shared crate: domain, ports, AWS adapters and HTTP mapping.
//! Every Lambda function and the local API are thin shells around it.

pub mod adapters;
pub mod api;
pub mod aws;
pub mod config;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod custom_url;
pub mod domain;
pub mod error;
pub mod expiry;
pub mod ports;
pub mod presign;
pub mod service;
#[cfg(any(test, feature = "conformance"))]
pub mod testing;
pub mod time;
pub mod url_policy;

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
        files: DynamoFiles::new(clients.dynamodb.clone(), config.table.clone()),
        uploads: DynamoUploads::new(clients.dynamodb, config.table.clone()),
    }
}

pub fn aws_service(config: config::Config, clients: aws::AwsClients) -> AwsFileService {
    service::FileService::new(aws_backend(&config, clients), config, time::Clock::system())
}
