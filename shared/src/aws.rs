//! AWS SDK clients, built once per cold start with no network calls.
//!
//! Credentials and region come from the environment Lambda sets (and the
//! local stack sets the same variables); endpoints from `AWS_ENDPOINT_URL_S3`,
//! `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL`, so LocalStack or moto
//! stand in for AWS unchanged.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use crate::config::optional;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct AwsClients {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The clients' credentials, for signing without the SDK (see `crate::presign`).
    pub credentials: SharedCredentialsProvider,
    /// What [`AwsClients::lambda`] builds its client from.
    region: Region,
    http_client: aws_sdk_dynamodb::config::SharedHttpClient,
    lambda_endpoint: Option<String>,
    events_endpoint: Option<String>,
    sqs_endpoint: Option<String>,
}

/// Where and as whom the clients talk.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    pub region: String,
    pub credentials: Credentials,
    pub s3_endpoint: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    pub lambda_endpoint: Option<String>,
    pub events_endpoint: Option<String>,
    pub sqs_endpoint: Option<String>,
}

impl AwsSettings {
    pub fn from_env() -> Result<Self> {
        let general_endpoint = optional("AWS_ENDPOINT_URL");
        Ok(AwsSettings {
            region: optional("AWS_REGION")
                .or_else(|| optional("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            credentials: credentials_from_env()?,
            s3_endpoint: optional("AWS_ENDPOINT_URL_S3").or_else(|| general_endpoint.clone()),
            dynamodb_endpoint: optional("AWS_ENDPOINT_URL_DYNAMODB")
                .or_else(|| general_endpoint.clone()),
            lambda_endpoint: optional("AWS_ENDPOINT_URL_LAMBDA")
                .or_else(|| general_endpoint.clone()),
            events_endpoint: optional("AWS_ENDPOINT_URL_EVENTBRIDGE")
                .or_else(|| general_endpoint.clone()),
            sqs_endpoint: optional("AWS_ENDPOINT_URL_SQS").or(general_endpoint),
        })
    }

    /// An emulator at `endpoint` with its conventional `test` credentials.
    pub fn emulator(endpoint: &str) -> Self {
        AwsSettings {
            region: "us-east-1".into(),
            credentials: Credentials::new("test", "test", None, None, "emulator"),
            s3_endpoint: Some(endpoint.into()),
            dynamodb_endpoint: Some(endpoint.into()),
            lambda_endpoint: Some(endpoint.into()),
            events_endpoint: Some(endpoint.into()),
            sqs_endpoint: Some(endpoint.into()),
        }
    }
}

/// A client of `$sdk` on the clients' region, credentials and HTTP client, at
/// `$endpoint` when one is set (an emulator).
macro_rules! client {
    ($sdk:ident, $clients:expr, $endpoint:expr) => {{
        let mut config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region($clients.region.clone())
            .credentials_provider($clients.credentials.clone())
            .http_client($clients.http_client.clone());
        if let Some(endpoint) = &$endpoint {
            config = config.endpoint_url(endpoint);
        }
        $sdk::Client::from_conf(config.build())
    }};
}

impl AwsClients {
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(AwsSettings::from_env()?))
    }

    pub fn new(settings: AwsSettings) -> Self {
        let region = Region::new(settings.region);
        let credentials = SharedCredentialsProvider::new(settings.credentials);
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();

        let mut s3 = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(credentials.clone())
            .http_client(http_client.clone())
            // Checksums only where S3 requires them: a default CRC32 would be signed into
            // presigned PUT URLs for an empty body and make every browser upload fail.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if let Some(endpoint) = settings.s3_endpoint {
            // Emulators serve buckets by path, not by virtual host.
            s3 = s3.endpoint_url(endpoint).force_path_style(true);
        }

        let mut dynamodb = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(credentials.clone())
            .http_client(http_client.clone());
        if let Some(endpoint) = settings.dynamodb_endpoint {
            dynamodb = dynamodb.endpoint_url(endpoint);
        }

        AwsClients {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            credentials,
            region,
            http_client,
            lambda_endpoint: settings.lambda_endpoint,
            events_endpoint: settings.events_endpoint,
            sqs_endpoint: settings.sqs_endpoint,
        }
    }

    /// A client that invokes functions: built only by the function that hands work on
    /// (save, to ingest), so no other binary links it.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        client!(aws_sdk_lambda, self, self.lambda_endpoint)
    }

    /// A client of SQS: built only by the functions that queue or send webhook deliveries.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        client!(aws_sdk_sqs, self, self.sqs_endpoint)
    }

    /// A client of EventBridge: built only by the events function.
    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        client!(aws_sdk_eventbridge, self, self.events_endpoint)
    }

    /// The one HTTP client every SDK client here uses (tests build more clients on it).
    pub fn http_client(&self) -> aws_sdk_dynamodb::config::SharedHttpClient {
        self.http_client.clone()
    }
}

fn credentials_from_env() -> Result<Credentials> {
    let access_key = optional("AWS_ACCESS_KEY_ID");
    let secret_key = optional("AWS_SECRET_ACCESS_KEY");
    match (access_key, secret_key) {
        (Some(access_key), Some(secret_key)) => Ok(Credentials::new(
            access_key,
            secret_key,
            optional("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ => Err(Error::internal(
            "configuration",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them; locally use test/test)",
        )),
    }
}
