//! Which URLs the service stores or fetches: only public web addresses, never an
//! address inside the network the service runs in (its metadata endpoint, private
//! ranges, loopback), so a stored link can never point a client, or the service, there.

use std::net::IpAddr;

use url::{Host, Url};

use crate::config::optional;
use crate::custom_url::{EXPIRES_PARAM, MAX_URL_BYTES, SIGNATURE_PARAM};
use crate::error::{Error, ErrorCode, Result};

/// Which custom URLs a save accepts.
#[derive(Clone, Copy, Debug, Default)]
pub struct UrlPolicy {
    /// `ALLOW_HTTP_LOOPBACK_URLS=true`: also `http://` to 127.0.0.1, localhost or [::1],
    /// for local development. Never other private addresses.
    pub allow_http_loopback: bool,
}

/// Whether an address is on the public internet: globally reachable unicast, as IANA's
/// special-purpose registries say ([`crate::address_registry`]), judged also by any IPv4
/// address an IPv6 one carries. One rule for a literal in a URL, each address a name
/// resolves to, and each redirect.
pub fn is_public_ip(ip: IpAddr) -> bool {
    crate::address_registry::is_globally_reachable(ip)
}

/// Whether a host is this machine: `localhost` (and `*.localhost`), 127.0.0.0/8, [::1].
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl UrlPolicy {
    pub fn from_env() -> Self {
        UrlPolicy {
            allow_http_loopback: optional("ALLOW_HTTP_LOOPBACK_URLS").is_some_and(|v| v == "true"),
        }
    }

    /// Checks a custom_download_url before it is stored; answers it normalised.
    pub fn check(&self, raw: &str) -> Result<String> {
        let fail =
            |message: &'static str| Err(Error::new(ErrorCode::InvalidCustomDownloadUrl, message));
        if raw.len() > MAX_URL_BYTES {
            return fail("custom_download_url must be at most 2048 bytes");
        }
        // URL parsing silently drops tabs and line breaks; a URL that holds any is refused.
        if raw.chars().any(|c| c.is_control()) {
            return fail("custom_download_url must not contain control characters");
        }
        let Ok(url) = Url::parse(raw) else {
            return fail("custom_download_url is not an absolute URL");
        };
        let Some(host) = url.host().filter(|h| !matches!(h, Host::Domain(""))) else {
            return fail("custom_download_url must name a host");
        };
        let loopback = is_loopback(&host);
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http_loopback && loopback => {}
            _ => return fail("custom_download_url must be an https URL"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return fail("custom_download_url must not carry credentials");
        }
        let allowed_here = loopback && self.allow_http_loopback;
        let public = match host {
            Host::Domain(_) => !loopback,
            Host::Ipv4(ip) => is_public_ip(IpAddr::V4(ip)),
            Host::Ipv6(ip) => is_public_ip(IpAddr::V6(ip)),
        };
        if !public && !allowed_here {
            return fail("custom_download_url must point to a public address, not a private, loopback or link-local one");
        }
        if url
            .query_pairs()
            .any(|(k, _)| k == SIGNATURE_PARAM || k == EXPIRES_PARAM)
        {
            return fail("custom_download_url must not have signature or expires_at parameters: they are added when it is downloaded");
        }
        Ok(url.to_string())
    }
}

/// Most bytes a source URL may have.
pub const MAX_SOURCE_URL_BYTES: usize = 4096;

impl UrlPolicy {
    /// Checks a URL the service is asked to fetch (`source_url`, and every redirect):
    /// http or https, no credentials, and a host that is not an address inside the
    /// network. A name is checked again once resolved ([`UrlPolicy::allows_address`]).
    pub fn check_source(&self, raw: &str) -> Result<Url> {
        let fail = |message: &'static str| Err(Error::new(ErrorCode::InvalidSourceUrl, message));
        if raw.len() > MAX_SOURCE_URL_BYTES {
            return fail("source_url must be at most 4096 bytes");
        }
        if raw.chars().any(|c| c.is_control()) {
            return fail("source_url must not contain control characters");
        }
        let Ok(url) = Url::parse(raw) else {
            return fail("source_url is not an absolute URL");
        };
        if !matches!(url.scheme(), "http" | "https") {
            return fail("source_url must be an http or https URL");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return fail("source_url must not carry credentials; send them in source_headers");
        }
        let Some(host) = url.host().filter(|h| !matches!(h, Host::Domain(""))) else {
            return fail("source_url must name a host");
        };
        let allowed = match host {
            Host::Domain(_) => !is_loopback(&host) || self.allow_http_loopback,
            Host::Ipv4(ip) => self.allows_address(IpAddr::V4(ip)),
            Host::Ipv6(ip) => self.allows_address(IpAddr::V6(ip)),
        };
        if !allowed {
            return fail("source_url must point to a public address, not a private, loopback, link-local or metadata one");
        }
        Ok(url)
    }

    /// Checks a webhook's URL, at registration and before each delivery: https to a
    /// public host (`http://` only to loopback with the local-development setting).
    pub fn check_webhook(&self, raw: &str) -> Result<Url> {
        let fail = |message: String| Err(Error::new(ErrorCode::InvalidWebhookUrl, message));
        let url = match self.check_source(raw) {
            Ok(url) => url,
            Err(e) => return fail(e.public_message().replace("source_url", "url")),
        };
        let loopback = url.host().is_some_and(|h| is_loopback(&h));
        if url.scheme() != "https" && !(self.allow_http_loopback && loopback) {
            return fail("url must be an https URL".into());
        }
        Ok(url)
    }

    /// Whether the service may connect to `ip`: a public address, or loopback with the
    /// local-development setting (never another private range).
    pub fn allows_address(&self, ip: IpAddr) -> bool {
        is_public_ip(ip) || (self.allow_http_loopback && ip.is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls_are_http_or_https_to_public_hosts() {
        let strict = UrlPolicy::default();
        let local = UrlPolicy {
            allow_http_loopback: true,
        };
        for good in [
            "https://example.com/a.pdf",
            "http://example.com/a",
            "https://8.8.8.8/x",
        ] {
            assert!(strict.check_source(good).is_ok(), "{good} refused");
        }
        for bad in [
            "file:///etc/passwd",
            "ftp://example.com/a",
            "gopher://example.com/",
            "https://user:pw@example.com/a",
            "https://user@example.com/a",
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://172.16.0.1/x",
            "http://192.168.0.1/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/x",
            "http://224.0.0.1/x",
            "http://0.0.0.0/x",
            "http://[::1]/x",
            "http://[fc00::1]/x",
            "http://[fe80::1]/x",
            "http://[ff02::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[::ffff:169.254.169.254]/x",
            "not a url",
        ] {
            let refused = strict.check_source(bad).unwrap_err();
            assert_eq!(refused.code(), ErrorCode::InvalidSourceUrl, "{bad}");
        }
        assert!(local.check_source("http://127.0.0.1:9/x").is_ok());
        assert!(local.check_source("http://localhost:9/x").is_ok());
        for bad in [
            "http://10.1.2.3/x",
            "http://169.254.169.254/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(local.check_source(bad).is_err(), "{bad} accepted locally");
        }
        assert!(local.allows_address("127.0.0.1".parse().unwrap()));
        assert!(!strict.allows_address("127.0.0.1".parse().unwrap()));
        assert!(!local.allows_address("192.168.1.1".parse().unwrap()));
    }

    #[test]
    fn only_https_urls_are_stored() {
        let strict = UrlPolicy::default();
        assert!(strict.check("https://external-url.io?fileID=42").is_ok());
        for bad in [
            "http://external-url.io/x",
            "ftp://x.io/a",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://user:pw@x.io/a",
            "https://user@x.io/a",
            "https://x.io/a?signature=1",
            "relative/path",
            "",
        ] {
            assert!(strict.check(bad).is_err(), "{bad}");
        }
        assert!(strict.check("http://127.0.0.1:8080/f").is_err());
        let local = UrlPolicy {
            allow_http_loopback: true,
        };
        assert!(local.check("http://127.0.0.1:8080/f").is_ok());
        assert!(local.check("http://localhost/f").is_ok());
        assert!(local.check("http://example.com/f").is_err());
    }

    #[test]
    fn addresses_inside_the_network_are_refused() {
        let strict = UrlPolicy::default();
        let local = UrlPolicy {
            allow_http_loopback: true,
        };
        for bad in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/x",
            "https://172.16.5.4/x",
            "https://192.168.1.1/x",
            "https://100.64.0.1/x",
            "https://127.0.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[::ffff:169.254.169.254]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://localhost/x",
            "https://metadata.localhost/x",
            "https://2130706433/x",
            "https://0x7f.1/x",
            "https://224.0.0.1/x",
        ] {
            assert!(strict.check(bad).is_err(), "{bad} accepted");
        }
        // The development setting opens loopback only.
        assert!(local.check("https://127.0.0.1/x").is_ok());
        for bad in [
            "https://10.0.0.1/x",
            "https://169.254.169.254/x",
            "http://192.168.1.1/x",
        ] {
            assert!(local.check(bad).is_err(), "{bad} accepted locally");
        }
        for good in [
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/x",
            "https://example.com/x",
        ] {
            assert!(strict.check(good).is_ok(), "{good} refused");
        }
    }

    #[test]
    fn control_characters_are_refused_not_stripped() {
        let strict = UrlPolicy::default();
        for bad in [
            "https://example.com/a\r\nb",
            "https://exam\tple.com/a",
            "https://example.com/\u{0}",
            "https://example.com/a\nSet-Cookie: x",
        ] {
            assert!(strict.check(bad).is_err(), "{bad:?} accepted");
        }
    }
}
