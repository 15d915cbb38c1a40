//! Configuration read once per cold start from the environment.

use std::env;
use std::time::Duration;

use crate::custom_url::{SigningKeys, UrlPolicy};
use crate::error::{Error, Result};

/// Settings every function shares. Names are the environment variables that
/// `template.yaml` sets (and that the local API reads the same way).
#[derive(Clone, Debug)]
pub struct Config {
    /// `FILES_BUCKET`: where uploads and stored versions live.
    pub bucket: String,
    /// `FILES_TABLE`: the DynamoDB table of file entities.
    pub table: String,
    /// `ORG_CLAIM` (default `org_id`): the JWT claim that names the organisation.
    pub org_claim: String,
    /// `UPLOAD_URL_TTL_SECONDS` (default 900): lifetime of presigned PUT URLs.
    pub upload_url_ttl: Duration,
    /// `DOWNLOAD_URL_TTL_SECONDS` (default 900): lifetime of presigned GET URLs.
    pub download_url_ttl: Duration,
    /// `PUBLIC_BASE_URL` (optional): base of `public_url`; otherwise taken from the request's host.
    pub public_base_url: Option<String>,
    /// `CUSTOM_URL_SIGNING_KEY` (+ `_PREVIOUS`): signs links to external files; without it they cannot be downloaded.
    pub custom_url_keys: Option<SigningKeys>,
    /// `CUSTOM_URL_TTL_SECONDS` (default 900): how long a signed external link stays valid.
    pub custom_url_ttl: Duration,
    /// `ALLOW_HTTP_LOOPBACK_URLS`: which custom URLs a save accepts.
    pub url_policy: UrlPolicy,
}

/// A presigned S3 URL may live at most seven days.
const MAX_PRESIGN_SECONDS: u64 = 7 * 24 * 3600;

impl Config {
    pub fn from_env() -> Result<Self> {
        Ok(Config {
            bucket: required("FILES_BUCKET")?,
            table: required("FILES_TABLE")?,
            org_claim: optional("ORG_CLAIM").unwrap_or_else(|| "org_id".into()),
            upload_url_ttl: seconds("UPLOAD_URL_TTL_SECONDS", 900)?,
            download_url_ttl: seconds("DOWNLOAD_URL_TTL_SECONDS", 900)?,
            public_base_url: optional("PUBLIC_BASE_URL").map(|u| u.trim_end_matches('/').into()),
            custom_url_keys: SigningKeys::from_env()?,
            custom_url_ttl: seconds("CUSTOM_URL_TTL_SECONDS", 900)?,
            url_policy: UrlPolicy::from_env(),
        })
    }

    /// A configuration for unit tests and benchmarks.
    pub fn for_tests(bucket: &str, table: &str) -> Self {
        Config {
            bucket: bucket.into(),
            table: table.into(),
            org_claim: "org_id".into(),
            upload_url_ttl: Duration::from_secs(900),
            download_url_ttl: Duration::from_secs(900),
            public_base_url: None,
            custom_url_keys: Some(
                SigningKeys::new(b"unit-test-signing-key-0123456789abcdef", None)
                    .expect("a long enough key"),
            ),
            custom_url_ttl: Duration::from_secs(900),
            url_policy: UrlPolicy {
                allow_http_loopback: true,
            },
        }
    }
}

pub(crate) fn optional(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> Result<String> {
    optional(name).ok_or_else(|| Error::invalid("configuration", format!("{name} is not set")))
}

fn seconds(name: &str, default: u64) -> Result<Duration> {
    let value = match optional(name) {
        None => default,
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=MAX_PRESIGN_SECONDS).contains(s))
            .ok_or_else(|| {
                Error::invalid(
                    "configuration",
                    format!(
                        "{name} must be a whole number of seconds from 1 to {MAX_PRESIGN_SECONDS}"
                    ),
                )
            })?,
    };
    Ok(Duration::from_secs(value))
}
