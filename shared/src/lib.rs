//! The file service's shared crate: domain, ports, AWS adapters and HTTP mapping.
//! Every Lambda function and the local API are thin shells around it.

pub mod adapters;
pub mod api;
pub mod auth;
pub mod aws;
pub mod config;
pub mod conformance;
pub mod custom_url;
pub mod domain;
pub mod error;
pub mod expiry;
pub mod ports;
pub mod presign;
pub mod service;
pub mod time;

pub use error::{Error, Result};

use adapters::dynamodb::DynamoRepository;
use adapters::s3::S3Store;

/// The service as deployed: S3 for bytes, DynamoDB for entities.
pub type AwsFileService = service::FileService<S3Store, DynamoRepository>;

/// Reads configuration and builds the AWS clients: once per cold start, no network calls.
pub fn aws_service_from_env() -> Result<AwsFileService> {
    Ok(aws_service(
        config::Config::from_env()?,
        aws::AwsClients::from_env()?,
    ))
}

/// The table alone, for the S3-event function (it needs no bucket).
pub fn dynamo_repository_from_env() -> Result<DynamoRepository> {
    let table = config::optional("FILES_TABLE")
        .ok_or_else(|| Error::invalid("configuration", "FILES_TABLE is not set"))?;
    Ok(DynamoRepository::new(
        aws::AwsClients::from_env()?.dynamodb,
        table,
    ))
}

pub fn aws_service(config: config::Config, clients: aws::AwsClients) -> AwsFileService {
    service::FileService::new(
        S3Store::new(clients.s3, clients.credentials, config.bucket.clone()),
        DynamoRepository::new(clients.dynamodb, config.table.clone()),
        config,
        time::Clock::system(),
    )
}
