//! SigV4 query-string presigning of S3 URLs, without the SDK's request pipeline.
//!
//! Presigning needs no network: it is string building, one SHA-256 and one HMAC. The
//! SDK runs its whole orchestrator (interceptors, endpoint rules, serializers) for it,
//! about 20× the work. Here the parts that do not change between URLs (endpoint, the
//! credential scope, the day's signing key) are computed once; a test proves every URL
//! is byte-for-byte what the SDK signs.

use std::fmt::Write as _;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// RFC 3986 unreserved characters stay as they are; everything else is %XX.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same for a path, keeping `/` between segments.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Where objects are addressed: `scheme://host` and the path before the key
/// (`/` for virtual-hosted buckets, `/<bucket>/` for path-style).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Endpoint {
    pub scheme_and_host: String,
    pub host: String,
    pub key_prefix: String,
}

impl S3Endpoint {
    /// The endpoint an SDK-presigned URL of `probe_key` shows.
    pub fn from_presigned(url: &str, probe_key: &str) -> Option<Self> {
        let parsed = url::Url::parse(url).ok()?;
        let host = match parsed.port() {
            Some(port) => format!("{}:{port}", parsed.host_str()?),
            None => parsed.host_str()?.to_owned(),
        };
        let encoded_probe = utf8_percent_encode(probe_key, PATH).to_string();
        let key_prefix = parsed.path().strip_suffix(&encoded_probe)?.to_owned();
        Some(S3Endpoint {
            scheme_and_host: format!("{}://{host}", parsed.scheme()),
            host,
            key_prefix,
        })
    }
}

#[derive(Clone, Debug)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// One presigned request: what S3 will accept at the URL.
pub struct PresignRequest<'a> {
    pub method: &'a str,
    pub key: &'a str,
    /// Query parameters besides the `X-Amz-*` ones (e.g. `response-content-type`, `x-id`).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers the holder must send exactly, lowercase names (`host` is always signed).
    pub headers: &'a [(&'a str, &'a str)],
    pub expires_in_secs: u64,
    /// Signing time, seconds since the epoch.
    pub now_secs: i64,
}

pub struct Presigner {
    endpoint: S3Endpoint,
    credentials: SigningCredentials,
    region: String,
    /// The day (`YYYYMMDD`) and its signing key, keyed into an HMAC ready to clone.
    day_key: Mutex<Option<(String, HmacSha256)>>,
}

impl Presigner {
    pub fn new(endpoint: S3Endpoint, credentials: SigningCredentials, region: &str) -> Self {
        Presigner {
            endpoint,
            credentials,
            region: region.to_owned(),
            day_key: Mutex::new(None),
        }
    }

    pub fn presign(&self, request: &PresignRequest<'_>) -> String {
        let (date, amz_date) = amz_dates(request.now_secs);
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let path = format!(
            "{}{}",
            self.endpoint.key_prefix,
            utf8_percent_encode(request.key, PATH)
        );

        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + 1);
        headers.push(("host", &self.endpoint.host));
        headers.extend(request.headers.iter().copied());
        headers.sort_unstable();
        let signed_headers = headers
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(";");

        let credential = format!("{}/{scope}", self.credentials.access_key_id);
        let expires = request.expires_in_secs.to_string();
        let mut query: Vec<(String, String)> = Vec::with_capacity(request.query.len() + 7);
        let mut add = |k: &str, v: &str| {
            query.push((
                utf8_percent_encode(k, UNRESERVED).to_string(),
                utf8_percent_encode(v, UNRESERVED).to_string(),
            ))
        };
        for (k, v) in request.query {
            add(k, v);
        }
        add("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
        add("X-Amz-Credential", &credential);
        add("X-Amz-Date", &amz_date);
        add("X-Amz-Expires", &expires);
        add("X-Amz-SignedHeaders", &signed_headers);
        // The URL keeps the SDK's order (the request's parameters, then X-Amz-*, the
        // signature, the session token); the canonical request sorts them.
        let url_query = join_query(&query);
        let token = self
            .credentials
            .session_token
            .as_ref()
            .map(|t| utf8_percent_encode(t, UNRESERVED).to_string());
        if let Some(token) = &token {
            query.push(("X-Amz-Security-Token".into(), token.clone()));
        }
        query.sort_unstable();
        let query_string = join_query(&query);

        let mut canonical = String::with_capacity(768);
        canonical.push_str(request.method);
        canonical.push('\n');
        canonical.push_str(&path);
        canonical.push('\n');
        canonical.push_str(&query_string);
        canonical.push('\n');
        for (name, value) in &headers {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value.trim());
            canonical.push('\n');
        }
        canonical.push('\n');
        canonical.push_str(&signed_headers);
        canonical.push_str("\nUNSIGNED-PAYLOAD");

        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut mac = self.day_signer(&date);
        mac.update(string_to_sign.as_bytes());
        let signature = hex(&mac.finalize().into_bytes());

        let mut url = format!(
            "{}{path}?{url_query}&X-Amz-Signature={signature}",
            self.endpoint.scheme_and_host
        );
        if let Some(token) = &token {
            url.push_str("&X-Amz-Security-Token=");
            url.push_str(token);
        }
        url
    }

    /// An HMAC keyed with the day's signing key; derived once a day.
    fn day_signer(&self, date: &str) -> HmacSha256 {
        let mut cached = self.day_key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((day, mac)) = cached.as_ref() {
            if day == date {
                return mac.clone();
            }
        }
        let secret = format!("AWS4{}", self.credentials.secret_access_key);
        let mut key = hmac(secret.as_bytes(), date.as_bytes());
        for part in [self.region.as_bytes(), b"s3", b"aws4_request"] {
            key = hmac(&key, part);
        }
        let mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
        *cached = Some((date.to_owned(), mac.clone()));
        mac
    }
}

fn join_query(pairs: &[(String, String)]) -> String {
    let mut joined = String::with_capacity(512);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            joined.push('&');
        }
        joined.push_str(k);
        joined.push('=');
        joined.push_str(v);
    }
    joined
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` of a UTC time.
fn amz_dates(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let date = format!("{year:04}{month:02}{day:02}");
    let time = format!(
        "{date}T{:02}{:02}{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    (date, time)
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_as_sigv4_wants() {
        assert_eq!(amz_dates(0), ("19700101".into(), "19700101T000000Z".into()));
        assert_eq!(
            amz_dates(1_795_338_061),
            ("20261122".into(), "20261122T090101Z".into())
        );
        assert_eq!(
            amz_dates(951_782_400),
            ("20000229".into(), "20000229T000000Z".into())
        );
    }

    /// The example of AWS's S3 SigV4 documentation ("Example: presigned URL"):
    /// GET /test.txt on examplebucket, 2013-05-24, 86400 s.
    #[test]
    fn matches_the_documented_example() {
        let presigner = Presigner::new(
            S3Endpoint {
                scheme_and_host: "https://examplebucket.s3.amazonaws.com".into(),
                host: "examplebucket.s3.amazonaws.com".into(),
                key_prefix: "/".into(),
            },
            SigningCredentials {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                session_token: None,
            },
            "us-east-1",
        );
        let url = presigner.presign(&PresignRequest {
            method: "GET",
            key: "test.txt",
            query: &[],
            headers: &[],
            expires_in_secs: 86_400,
            now_secs: 1_369_353_600, // 2013-05-24T00:00:00Z
        });
        assert!(
            url.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
    }

    /// Every URL is exactly the SDK's, for the same inputs and time.
    #[tokio::test]
    async fn urls_are_exactly_what_the_sdk_presigns() {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        use aws_sdk_s3::presigning::PresigningConfig;
        use std::time::{Duration, UNIX_EPOCH};

        let now_secs = 1_795_338_061;
        let keys = [
            "files/org1/9b2f/4c1a/report 2026.pdf",
            "temp/org1/5f0f/Übersicht \"Q3\" (final)+v2.pdf",
            "temp/_public/x/a~b_c-d.e!*'();:@&=$,[]#%.txt",
        ];
        for (endpoint, region, token) in [
            (None, "eu-central-1", None),
            (None, "us-east-1", Some("session/token+with=chars")),
            (Some("http://127.0.0.1:4566"), "us-east-1", None),
        ] {
            let credentials = Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token.map(str::to_owned),
                None,
                "test",
            );
            let mut config = aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .credentials_provider(credentials)
                .request_checksum_calculation(
                    aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
                );
            if let Some(endpoint) = endpoint {
                config = config.endpoint_url(endpoint).force_path_style(true);
            }
            let client = aws_sdk_s3::Client::from_conf(config.build());
            let presigning = || {
                PresigningConfig::builder()
                    .start_time(UNIX_EPOCH + Duration::from_secs(now_secs as u64))
                    .expires_in(Duration::from_secs(900))
                    .build()
                    .unwrap()
            };
            let probe = client
                .get_object()
                .bucket("file-service-bench")
                .key("probe")
                .presigned(presigning())
                .await
                .unwrap();
            let presigner = Presigner::new(
                S3Endpoint::from_presigned(probe.uri(), "probe").unwrap(),
                SigningCredentials {
                    access_key_id: "AKIDEXAMPLE".into(),
                    secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                    session_token: token.map(str::to_owned),
                },
                region,
            );
            for key in keys {
                let disposition =
                    "attachment; filename=\"report.pdf\"; filename*=UTF-8''r%C3%A9port.pdf";
                let sdk_get = client
                    .get_object()
                    .bucket("file-service-bench")
                    .key(key)
                    .response_content_disposition(disposition)
                    .response_content_type("application/pdf")
                    .presigned(presigning())
                    .await
                    .unwrap();
                let ours_get = presigner.presign(&PresignRequest {
                    method: "GET",
                    key,
                    query: &[
                        ("x-id", "GetObject"),
                        ("response-content-disposition", disposition),
                        ("response-content-type", "application/pdf"),
                    ],
                    headers: &[],
                    expires_in_secs: 900,
                    now_secs,
                });
                assert_eq!(
                    ours_get,
                    sdk_get.uri(),
                    "GET {key} at {endpoint:?} {region}"
                );

                let sdk_put = client
                    .put_object()
                    .bucket("file-service-bench")
                    .key(key)
                    .content_type("text/plain; charset=utf-8")
                    .content_length(1234)
                    .presigned(presigning())
                    .await
                    .unwrap();
                let ours_put = presigner.presign(&PresignRequest {
                    method: "PUT",
                    key,
                    query: &[("x-id", "PutObject")],
                    headers: &[
                        ("content-length", "1234"),
                        ("content-type", "text/plain; charset=utf-8"),
                    ],
                    expires_in_secs: 900,
                    now_secs,
                });
                assert_eq!(
                    ours_put,
                    sdk_put.uri(),
                    "PUT {key} at {endpoint:?} {region}"
                );
            }
        }
    }
}
