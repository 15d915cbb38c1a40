//! Configuration read once per cold start from the environment.

use std::env;
use std::time::Duration;

use crate::auth::jwt::{self, JwtSettings};
use crate::auth::{KeySetUrl, TokenVerifier};
use crate::custom_url::SigningKeys;
use crate::error::{Error, Result};
use crate::url_policy::UrlPolicy;

/// How long and how large a fetch from a URL may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchLimits {
    /// Until the source's server accepts the connection.
    pub connect: Duration,
    /// From the first request until the last byte is stored.
    pub total: Duration,
    /// Most bytes a source may have.
    pub max_bytes: u64,
}

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
    /// `PUBLIC_BASE_URL` (template parameter `PublicBaseUrl`, e.g. a custom domain): base of
    /// `public_url`; when empty, the API's own domain as API Gateway reports it.
    pub public_base_url: Option<String>,
    /// `CUSTOM_URL_SIGNING_KEY` (+ `_PREVIOUS`): signs links to external files; without it they cannot be downloaded.
    pub custom_url_keys: Option<SigningKeys>,
    /// `CUSTOM_URL_TTL_SECONDS` (default 900): how long a signed external link stays valid.
    pub custom_url_ttl: Duration,
    /// `ALLOW_HTTP_LOOPBACK_URLS`: which custom URLs a save accepts.
    pub url_policy: UrlPolicy,
    /// `PUBLIC_URL_TTL_SECONDS` (default 60): lifetime of the presigned URL a `public_url` redirects to.
    pub public_url_ttl: Duration,
    /// `PUBLIC_UPLOAD_*`: what an upload without a token may be.
    pub public_uploads: PublicUploadLimits,
    /// `INGEST_WAIT_SECONDS` (default 5, at most 25: below API Gateway's 30 s): how long a
    /// save from a URL waits for the fetch before it answers 202 with the file pending.
    pub ingest_wait: Duration,
    /// `SOURCE_CONNECT_TIMEOUT_SECONDS` (10), `SOURCE_TIMEOUT_SECONDS` (840, inside the
    /// ingest function's 900 s), `SOURCE_MAX_BYTES` (5 GiB): the bounds of one fetch.
    pub fetch_limits: FetchLimits,
    /// `DIRECT_UPLOAD_MAX_BYTES` (default 4 MiB; a body is base64 in Lambda's 6 MB
    /// payload): the largest direct upload through the API.
    pub direct_upload_max_bytes: u64,
    /// `MULTIPART_COPY_THRESHOLD_BYTES` (default 5 GiB, CopyObject's limit; at least
    /// 5 MiB): a save copies an upload larger than this in parts (UploadPartCopy).
    pub multipart_copy_threshold: u64,
    /// `COPY_CONCURRENCY` (default 16): parts of such a copy in flight at once.
    pub copy_concurrency: usize,
    /// `QUOTA_BYTES` (every organisation; empty: none) and `QUOTA_BYTES_BY_ORG`
    /// (`org=bytes,org=bytes`, before the default): past these, uploads and saves
    /// answer 413 `quota_exceeded`.
    pub quotas: crate::ports::Quotas,
    /// `JWT_ISSUER`, `JWT_AUDIENCE` (the authorizer's) and `JWKS_URL` (default: OpenID
    /// Connect discovery from the issuer): how the function itself checks the token of
    /// a route that takes the session cookie. The local API sets its development secret.
    pub tokens: Option<TokenVerifier>,
    /// `DEV_JWT_SECRET` (+ `DEV_JWT_ISSUER`, `DEV_JWT_AUDIENCE`) under `sam local` only:
    /// SAM runs no JWT authorizer, so the function checks development tokens itself
    /// (the API's `behind_dev_authorizer`). See [`dev_tokens`].
    pub dev_tokens: Option<JwtSettings>,
    /// `PREVIEW_*`: what one preview may read and spend.
    pub previews: PreviewLimits,
    /// `TRASH_RETENTION_DAYS` (template parameter `TrashRetentionDays`, default 30, at
    /// most 3650): how long a deleted file stays in the trash; 0 deletes at once.
    pub trash_retention_days: u64,
    /// `SCAN_MODE`, `SCAN_BLOCKS_DOWNLOADS`, `INFECTED_ACTION`: malware scanning.
    pub scan: ScanSettings,
}

/// Malware scanning: whether saved versions wait for a scanner's verdict, whether bytes
/// are served before it is clean, and what an infected file comes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanSettings {
    /// `SCAN_MODE`: `none` (default) or `guardduty`.
    pub mode: ScanMode,
    /// `SCAN_BLOCKS_DOWNLOADS` (default `true` when scanning): a version not yet clean
    /// answers 409 `scan_pending`, an infected one 403 `file_infected`, on every path
    /// that hands out bytes.
    pub blocks_downloads: bool,
    /// `INFECTED_ACTION`: `keep` (default; blocked as above) or `delete` (purged).
    pub infected_action: InfectedAction,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanMode {
    #[default]
    None,
    GuardDuty,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InfectedAction {
    #[default]
    Keep,
    Delete,
}

impl ScanSettings {
    /// Scanning by GuardDuty, blocking bytes until clean, keeping infected files.
    pub fn guardduty() -> Self {
        ScanSettings {
            mode: ScanMode::GuardDuty,
            blocks_downloads: true,
            infected_action: InfectedAction::Keep,
        }
    }

    pub fn from_env() -> Result<Self> {
        let bad = |name: &str, allowed: &str| {
            Error::internal("configuration", format!("{name} must be {allowed}"))
        };
        let mode = match optional("SCAN_MODE").as_deref() {
            None | Some("none") => ScanMode::None,
            Some("guardduty") => ScanMode::GuardDuty,
            Some(_) => return Err(bad("SCAN_MODE", "none or guardduty")),
        };
        let blocks_downloads = match optional("SCAN_BLOCKS_DOWNLOADS").as_deref() {
            None => mode != ScanMode::None,
            Some("true") => mode != ScanMode::None,
            Some("false") => false,
            Some(_) => return Err(bad("SCAN_BLOCKS_DOWNLOADS", "true or false")),
        };
        let infected_action = match optional("INFECTED_ACTION").as_deref() {
            None | Some("keep") => InfectedAction::Keep,
            Some("delete") => InfectedAction::Delete,
            Some(_) => return Err(bad("INFECTED_ACTION", "keep or delete")),
        };
        Ok(ScanSettings {
            mode,
            blocks_downloads,
            infected_action,
        })
    }
}

/// How long a deleted file stays in the trash when `TRASH_RETENTION_DAYS` is not set.
pub const DEFAULT_TRASH_RETENTION_DAYS: u64 = 30;

/// The bounds of one preview (previewFile and its variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewLimits {
    /// `PREVIEW_MAX_SOURCE_BYTES` (default 64 MiB): the largest file read for a preview.
    pub max_source_bytes: u64,
    /// `PREVIEW_MAX_PIXELS` (default 50,000,000): the most pixels an image's header may
    /// claim; decoded, that is at most 200 MB (RGBA), inside the function's 512 MB.
    pub max_pixels: u64,
    /// `PREVIEW_TIMEOUT_SECONDS` (default 20, below API Gateway's 30 s): the longest a
    /// decode may run before the preview answers 422.
    pub timeout: Duration,
    /// `PREVIEW_MAX_DRAW_OPERATIONS` (default 500,000): the most drawing operations a PDF
    /// page may make (paths, text runs, images, clips), counted before it is drawn.
    pub max_draw_operations: u64,
}

impl Default for PreviewLimits {
    fn default() -> Self {
        PreviewLimits {
            max_source_bytes: 64 * 1024 * 1024,
            max_pixels: 50_000_000,
            timeout: Duration::from_secs(20),
            max_draw_operations: 500_000,
        }
    }
}

impl PreviewLimits {
    pub fn from_env() -> Result<Self> {
        let default = PreviewLimits::default();
        Ok(PreviewLimits {
            max_source_bytes: whole_number(
                "PREVIEW_MAX_SOURCE_BYTES",
                default.max_source_bytes,
                1024 * 1024 * 1024,
                "bytes",
            )?,
            max_pixels: whole_number("PREVIEW_MAX_PIXELS", default.max_pixels, 1 << 32, "pixels")?,
            timeout: Duration::from_secs(whole_number(
                "PREVIEW_TIMEOUT_SECONDS",
                default.timeout.as_secs(),
                28,
                "seconds",
            )?),
            max_draw_operations: whole_number(
                "PREVIEW_MAX_DRAW_OPERATIONS",
                default.max_draw_operations,
                100_000_000,
                "operations",
            )?,
        })
    }
}

/// `JWT_ISSUER` + `JWT_AUDIENCE`, `JWKS_URL`: the function's own token check.
fn tokens_from_env() -> Result<Option<TokenVerifier>> {
    let (Some(issuer), Some(audience)) = (optional("JWT_ISSUER"), optional("JWT_AUDIENCE")) else {
        return Ok(None);
    };
    let url = match optional("JWKS_URL") {
        Some(url) => KeySetUrl::Given(url),
        None => KeySetUrl::Discovered,
    };
    let audiences: Vec<String> = audience
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    TokenVerifier::remote(&issuer, &audiences, url).map(Some)
}

/// The development tokens a function checks itself, under `sam local` only.
///
/// Only a Lambda function reads them (`AWS_LAMBDA_RUNTIME_API` is set; the local API has
/// its own authorizer). The template sets `DEV_JWT_SECRET` only when its `DevJwtSecret`
/// parameter is not empty, which a deployment's default never is. And if it is set
/// anyway, a function on Lambda (where SAM's `AWS_SAM_LOCAL` is not `true`) refuses to
/// start: a stack that accepted tokens anyone with the secret can mint is worse than one
/// that does not run.
pub fn dev_tokens(var: impl Fn(&str) -> Option<String>) -> Result<Option<JwtSettings>> {
    let (Some(secret), Some(_)) = (var("DEV_JWT_SECRET"), var("AWS_LAMBDA_RUNTIME_API")) else {
        return Ok(None);
    };
    if var("AWS_SAM_LOCAL").as_deref() != Some("true") {
        return Err(Error::internal(
            "configuration",
            "DEV_JWT_SECRET is set on Lambda: development tokens are for sam local only; \
             deploy with the parameter DevJwtSecret empty",
        ));
    }
    let or_default = |name: &str, default: &str| var(name).unwrap_or_else(|| default.into());
    Ok(Some(JwtSettings {
        secret: secret.into_bytes(),
        issuer: or_default("DEV_JWT_ISSUER", jwt::DEFAULT_DEV_ISSUER),
        audience: or_default("DEV_JWT_AUDIENCE", jwt::DEFAULT_DEV_AUDIENCE),
    }))
}

/// `QUOTA_BYTES` and `QUOTA_BYTES_BY_ORG`.
fn quotas_from_env() -> Result<crate::ports::Quotas> {
    let default_bytes = match optional("QUOTA_BYTES") {
        Some(_) => Some(whole_number("QUOTA_BYTES", 0, u64::MAX, "bytes")?),
        None => None,
    };
    let by_org = optional("QUOTA_BYTES_BY_ORG").unwrap_or_default();
    parse_quotas(default_bytes, &by_org)
}

pub(crate) fn parse_quotas(
    default_bytes: Option<u64>,
    by_org: &str,
) -> Result<crate::ports::Quotas> {
    let mut quotas = crate::ports::Quotas {
        default_bytes,
        ..Default::default()
    };
    for entry in by_org.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry
            .split_once('=')
            .and_then(|(org, bytes)| Some((org.trim(), bytes.trim().parse::<u64>().ok()?)))
            .filter(|(org, _)| crate::domain::OrgId::parse(org).is_ok());
        let Some((org, bytes)) = parsed else {
            return Err(Error::internal(
                "configuration",
                format!("QUOTA_BYTES_BY_ORG: {entry:?} is not org=bytes"),
            ));
        };
        quotas.by_org.insert(org.to_owned(), bytes);
    }
    Ok(quotas)
}

pub const DEFAULT_DIRECT_UPLOAD_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Lambda's synchronous payload is 6 MB and a binary body arrives base64 (4/3 larger).
const MAX_DIRECT_UPLOAD_BYTES: u64 = 4_400_000;
pub const DEFAULT_SOURCE_MAX_BYTES: u64 = 5 * 1024 * 1024 * 1024;

impl FetchLimits {
    pub fn from_env() -> Result<Self> {
        Ok(FetchLimits {
            connect: Duration::from_secs(whole_number(
                "SOURCE_CONNECT_TIMEOUT_SECONDS",
                10,
                60,
                "seconds",
            )?),
            total: Duration::from_secs(whole_number(
                "SOURCE_TIMEOUT_SECONDS",
                840,
                890,
                "seconds",
            )?),
            max_bytes: whole_number(
                "SOURCE_MAX_BYTES",
                DEFAULT_SOURCE_MAX_BYTES,
                crate::domain::MAX_UPLOAD_BYTES,
                "bytes",
            )?,
        })
    }
}

/// The tighter limits of uploadFilePublic (no token).
#[derive(Clone, Debug, PartialEq)]
pub struct PublicUploadLimits {
    /// `PUBLIC_UPLOAD_MAX_BYTES` (default 10 MiB).
    pub max_bytes: u64,
    /// `PUBLIC_UPLOAD_MIME_TYPES`: comma-separated; `type/*` allows a whole family.
    pub mime_types: Vec<String>,
    /// `PUBLIC_UPLOAD_REQUIRE_SIZE` (default false): refuse public uploads that do not
    /// declare `size_bytes` (which is then signed into the upload URL, so S3 enforces it).
    pub require_size: bool,
}

pub const DEFAULT_PUBLIC_UPLOAD_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Route throttling of uploadFilePublic: API Gateway's on AWS (template parameters
/// `PublicUploadRateLimit` / `PublicUploadBurstLimit` default to these), the local API's here.
pub const DEFAULT_PUBLIC_UPLOAD_RATE_LIMIT: f64 = 5.0;
pub const DEFAULT_PUBLIC_UPLOAD_BURST_LIMIT: u32 = 10;
/// Documents and raster images: what a public form typically collects. No HTML, SVG or
/// scripts, which a browser could run.
pub const DEFAULT_PUBLIC_UPLOAD_MIME_TYPES: &str =
    "application/pdf,image/jpeg,image/png,image/gif,image/webp,image/heic,text/plain,text/csv";

impl PublicUploadLimits {
    pub fn from_env() -> Result<Self> {
        let max_bytes = whole_number(
            "PUBLIC_UPLOAD_MAX_BYTES",
            DEFAULT_PUBLIC_UPLOAD_MAX_BYTES,
            crate::domain::MAX_UPLOAD_BYTES,
            "bytes",
        )?;
        let mime_types = optional("PUBLIC_UPLOAD_MIME_TYPES")
            .unwrap_or_else(|| DEFAULT_PUBLIC_UPLOAD_MIME_TYPES.into());
        Ok(PublicUploadLimits {
            max_bytes,
            mime_types: parse_mime_list(&mime_types),
            require_size: optional("PUBLIC_UPLOAD_REQUIRE_SIZE").is_some_and(|v| v == "true"),
        })
    }

    /// Whether a public upload may have this content type (parameters such as `; charset` ignored).
    pub fn allows_mime_type(&self, mime_type: &str) -> bool {
        let essence = crate::domain::mime_essence(mime_type);
        self.mime_types
            .iter()
            .any(|allowed| match allowed.strip_suffix("/*") {
                Some(family) => essence
                    .strip_prefix(family)
                    .is_some_and(|rest| rest.starts_with('/')),
                None => *allowed == essence,
            })
    }
}

impl Default for PublicUploadLimits {
    fn default() -> Self {
        PublicUploadLimits {
            max_bytes: DEFAULT_PUBLIC_UPLOAD_MAX_BYTES,
            mime_types: parse_mime_list(DEFAULT_PUBLIC_UPLOAD_MIME_TYPES),
            require_size: false,
        }
    }
}

fn parse_mime_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty())
        .collect()
}

/// A presigned S3 URL may live at most seven days.
const MAX_PRESIGN_SECONDS: u64 = 7 * 24 * 3600;

impl Config {
    pub fn from_env() -> Result<Self> {
        let dev_tokens = dev_tokens(optional)?;
        // Under sam local the cookie routes check development tokens too.
        let tokens = match &dev_tokens {
            Some(dev) => Some(dev.verifier()),
            None => tokens_from_env()?,
        };
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
            public_url_ttl: seconds("PUBLIC_URL_TTL_SECONDS", 60)?,
            public_uploads: PublicUploadLimits::from_env()?,
            ingest_wait: Duration::from_secs(whole_number(
                "INGEST_WAIT_SECONDS",
                5,
                25,
                "seconds",
            )?),
            fetch_limits: FetchLimits::from_env()?,
            direct_upload_max_bytes: whole_number(
                "DIRECT_UPLOAD_MAX_BYTES",
                DEFAULT_DIRECT_UPLOAD_MAX_BYTES,
                MAX_DIRECT_UPLOAD_BYTES,
                "bytes",
            )?,
            multipart_copy_threshold: whole_number(
                "MULTIPART_COPY_THRESHOLD_BYTES",
                crate::domain::MAX_UPLOAD_BYTES,
                crate::domain::MAX_UPLOAD_BYTES,
                "bytes",
            )?
            .max(crate::ports::MIN_PART_BYTES as u64),
            copy_concurrency: whole_number("COPY_CONCURRENCY", 16, 64, "requests")? as usize,
            quotas: quotas_from_env()?,
            tokens,
            dev_tokens,
            previews: PreviewLimits::from_env()?,
            trash_retention_days: whole_number_from(
                "TRASH_RETENTION_DAYS",
                DEFAULT_TRASH_RETENTION_DAYS,
                0,
                3650,
                "days",
            )?,
            scan: ScanSettings::from_env()?,
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
            public_base_url: Some("https://api.example.com".into()),
            custom_url_keys: Some(
                SigningKeys::new(b"unit-test-signing-key-0123456789abcdef", None)
                    .expect("a long enough key"),
            ),
            custom_url_ttl: Duration::from_secs(900),
            url_policy: UrlPolicy {
                allow_http_loopback: true,
            },
            public_url_ttl: Duration::from_secs(60),
            public_uploads: PublicUploadLimits::default(),
            ingest_wait: Duration::from_secs(5),
            fetch_limits: FetchLimits {
                connect: Duration::from_secs(5),
                total: Duration::from_secs(60),
                max_bytes: DEFAULT_SOURCE_MAX_BYTES,
            },
            direct_upload_max_bytes: DEFAULT_DIRECT_UPLOAD_MAX_BYTES,
            multipart_copy_threshold: crate::domain::MAX_UPLOAD_BYTES,
            copy_concurrency: 16,
            quotas: Default::default(),
            tokens: Some(TokenVerifier::shared_secret(
                b"unit-test-token-secret",
                "unit-test-issuer",
                &["unit-test-audience".to_owned()],
            )),
            dev_tokens: None,
            previews: PreviewLimits::default(),
            trash_retention_days: DEFAULT_TRASH_RETENTION_DAYS,
            scan: ScanSettings::default(),
        }
    }
}

pub fn optional(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn required(name: &str) -> Result<String> {
    optional(name).ok_or_else(|| Error::internal("configuration", format!("{name} is not set")))
}

fn seconds(name: &str, default: u64) -> Result<Duration> {
    whole_number(name, default, MAX_PRESIGN_SECONDS, "seconds").map(Duration::from_secs)
}

/// `name` as a whole number from 1 to `max` (`default` when unset); `unit` names it in errors.
fn whole_number(name: &str, default: u64, max: u64, unit: &str) -> Result<u64> {
    whole_number_from(name, default, 1, max, unit)
}

fn whole_number_from(name: &str, default: u64, min: u64, max: u64, unit: &str) -> Result<u64> {
    let Some(raw) = optional(name) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            Error::internal(
                "configuration",
                format!("{name} must be a whole number of {unit} from {min} to {max}"),
            )
        })
}

#[cfg(test)]
mod dev_token_tests {
    use super::dev_tokens;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn only_a_function_under_sam_local_checks_development_tokens() {
        let sam = [
            ("DEV_JWT_SECRET", "s3cret"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_SAM_LOCAL", "true"),
            ("DEV_JWT_AUDIENCE", "file-service,console"),
        ];
        let jwt = dev_tokens(env(&sam)).unwrap().expect("on under sam local");
        assert_eq!(jwt.secret, b"s3cret");
        assert_eq!(jwt.audiences(), ["file-service", "console"]);

        // On Lambda (no AWS_SAM_LOCAL=true) the secret stops the function.
        let lambda = [
            ("DEV_JWT_SECRET", "s3cret"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ];
        let refused = dev_tokens(env(&lambda)).unwrap_err();
        assert!(refused.to_string().contains("sam local only"), "{refused}");

        // Without the secret, or outside Lambda (the local API has its own authorizer): off.
        assert!(dev_tokens(env(&sam[1..])).unwrap().is_none());
        assert!(dev_tokens(env(&[("DEV_JWT_SECRET", "s3cret")]))
            .unwrap()
            .is_none());
    }
}
