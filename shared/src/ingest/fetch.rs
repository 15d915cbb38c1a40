//! Fetching a source URL without letting it reach inside the network: every name is
//! resolved once and each address it resolves to checked, and the connection goes to
//! those checked addresses (the resolver hands them to the client, which resolves
//! nothing itself); redirects are followed here, each target checked again.

use std::error::Error as StdError;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_DISPOSITION, CONTENT_LENGTH, LOCATION};
use reqwest::redirect::Policy;
use url::Url;

use crate::domain::filename_from_disposition;
use crate::error::{Error, ErrorCode, Result};
use crate::service::{SourceMethod, SourceRequest};
use crate::url_policy::UrlPolicy;

/// Most redirects a fetch follows.
pub const MAX_REDIRECTS: usize = 5;

pub use crate::config::FetchLimits;

/// A source that answered with bytes.
pub struct OpenedSource {
    response: reqwest::Response,
    /// Where the bytes came from, after redirects.
    pub url: Url,
    /// The response's `Content-Type`, if it gave one.
    pub content_type: Option<String>,
    /// The name its `Content-Disposition` gives, if valid.
    pub filename: Option<String>,
}

impl OpenedSource {
    /// The next chunk of the body; `None` at its end. A body longer than `max_bytes`
    /// fails (so does a broken connection), with a reason for the client.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        self.response.chunk().await.map_err(describe)
    }
}

/// The HTTP client of fetches, built once per cold start.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: UrlPolicy,
    pub limits: FetchLimits,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish()
    }
}

/// What a source's failure reads like to the client (never the headers sent).
pub fn source_failed(reason: impl Into<String>) -> Error {
    Error::new(ErrorCode::SourceFailed, reason.into())
}

impl Fetcher {
    pub fn new(policy: UrlPolicy, limits: FetchLimits) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .connect_timeout(limits.connect)
            .timeout(limits.total)
            .no_proxy()
            .user_agent(concat!("file-service/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal("HTTP client", e))?;
        Ok(Fetcher {
            client,
            policy,
            limits,
        })
    }

    /// Sends the request, follows up to [`MAX_REDIRECTS`] redirects, and answers the
    /// source once it answers 2xx. `InvalidSourceUrl` when the URL itself is refused,
    /// `SourceFailed` for everything the source did.
    pub async fn open(&self, source: &SourceRequest) -> Result<OpenedSource> {
        let mut url = self.policy.check_source(&source.url)?;
        let origin = url.origin();
        let mut method = source.method;
        let mut redirects = 0;
        loop {
            let mut request = self.client.request(method.as_http(), url.clone());
            // Credentials are for the host the client named: a redirect elsewhere
            // does not get them (as browsers and curl do).
            if url.origin() == origin {
                for (name, value) in &source.headers {
                    request = request.header(name.as_str(), value.as_str());
                }
            }
            let response = request.send().await.map_err(describe)?;
            let status = response.status();
            if status.is_redirection() && response.headers().contains_key(LOCATION) {
                if redirects == MAX_REDIRECTS {
                    return Err(source_failed(format!(
                        "the source redirected more than {MAX_REDIRECTS} times"
                    )));
                }
                redirects += 1;
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| source_failed("the source redirected to an invalid URL"))?;
                url = self.policy.check_source(location.as_str()).map_err(|e| {
                    source_failed(format!(
                        "the source redirected to a refused URL: {}",
                        e.public_message()
                    ))
                })?;
                if status == reqwest::StatusCode::SEE_OTHER
                    || (method == SourceMethod::Post && matches!(status.as_u16(), 301 | 302))
                {
                    method = SourceMethod::Get;
                }
                continue;
            }
            if !status.is_success() {
                return Err(source_failed(format!("the source answered {status}")));
            }
            let declared = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > self.limits.max_bytes) {
                return Err(too_large(self.limits.max_bytes));
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header(reqwest::header::CONTENT_TYPE);
            let filename = header(CONTENT_DISPOSITION)
                .as_deref()
                .and_then(filename_from_disposition);
            return Ok(OpenedSource {
                response,
                url,
                content_type,
                filename,
            });
        }
    }
}

pub fn too_large(max_bytes: u64) -> Error {
    source_failed(format!(
        "the source is larger than the limit of {max_bytes} bytes"
    ))
}

/// Whether a header may be sent to a source: a valid name and value, and not one the
/// client library sets itself.
pub fn check_source_header(name: &str, value: &str) -> Result<()> {
    let invalid = |message: String| Err(Error::new(ErrorCode::InvalidBody, message));
    let Ok(parsed) = HeaderName::from_bytes(name.as_bytes()) else {
        return invalid(format!(
            "source_headers: {name:?} is not a valid header name"
        ));
    };
    if HeaderValue::from_str(value).is_err() {
        return invalid(format!(
            "source_headers: the value of {name} is not a valid header value"
        ));
    }
    const SET_BY_THE_SERVICE: &[&str] = &[
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
    ];
    if SET_BY_THE_SERVICE.contains(&parsed.as_str()) {
        return invalid(format!("source_headers: {name} cannot be set"));
    }
    Ok(())
}

/// A reason for the client, without the URL's query or any header.
fn describe(e: reqwest::Error) -> Error {
    if refused_address(&e) {
        return source_failed(
            "the source's host resolves to an address that is not public (private, loopback, link-local or metadata)",
        );
    }
    if e.is_timeout() {
        return source_failed("the source did not answer in time");
    }
    if e.is_connect() {
        return source_failed("could not connect to the source");
    }
    if e.is_body() || e.is_decode() {
        return source_failed("the source's connection broke while sending the body");
    }
    source_failed(format!(
        "the source could not be fetched: {}",
        e.without_url()
    ))
}

fn refused_address(e: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<AddressRefused>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A name that resolves to at least one address the service may not reach.
#[derive(Debug)]
struct AddressRefused;

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the host resolves to an address that is not public")
    }
}

impl StdError for AddressRefused {}

/// Resolves each name once and answers its addresses only when every one is allowed:
/// a name with one private address among public ones is refused, so no choice of
/// address by the client can reach inside.
pub(crate) struct CheckedResolver {
    pub(crate) policy: UrlPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() || !addrs.iter().all(|a| policy.allows_address(a.ip())) {
                return Err(Box::new(AddressRefused) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_the_client_library_owns_are_refused() {
        assert!(check_source_header("Authorization", "Bearer x").is_ok());
        assert!(check_source_header("X-Api-Key", "k").is_ok());
        for (name, value) in [
            ("Host", "example.com"),
            ("content-length", "3"),
            ("Transfer-Encoding", "chunked"),
            ("bad name", "x"),
            ("X-Ok", "line\nbreak"),
        ] {
            assert!(check_source_header(name, value).is_err(), "{name}");
        }
    }

    #[tokio::test]
    async fn names_that_resolve_to_loopback_are_refused_unless_allowed() {
        let strict = CheckedResolver {
            policy: UrlPolicy::default(),
        };
        let refused = strict.resolve("localhost".parse::<Name>().unwrap()).await;
        assert!(refused.is_err_and(|e| e.is::<AddressRefused>()));
        let local = CheckedResolver {
            policy: UrlPolicy {
                allow_http_loopback: true,
            },
        };
        let addrs: Vec<_> = local
            .resolve("localhost".parse::<Name>().unwrap())
            .await
            .expect("loopback allowed locally")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
