//! Signed links to external files (`custom_download_url`).
//!
//! A download of an external file answers the custom URL with `expires_at`
//! (epoch ms) and `signature` added. The signature is HMAC-SHA256 over the
//! organisation and the URL with its query parameters sorted (so their order
//! does not matter, but each one must be there unchanged), URL-safe base64.
//! The external server asks verify-custom-url whether a URL it received is ours.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::config::optional;
use crate::error::{Error, ErrorCode, Result};

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_PARAM: &str = "signature";
pub const EXPIRES_PARAM: &str = "expires_at";
/// Longest URL accepted.
pub const MAX_URL_BYTES: usize = 2048;
const MIN_KEY_BYTES: usize = 32;

/// The signing keys: the current one signs and verifies; the previous one, while
/// keys are rotated, only verifies, so links in flight keep working.
#[derive(Clone)]
pub struct SigningKeys {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys(<secret>)")
    }
}

impl SigningKeys {
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Result<Self> {
        for key in std::iter::once(current).chain(previous) {
            if key.len() < MIN_KEY_BYTES {
                return Err(Error::internal(
                    "configuration",
                    format!("custom URL signing keys must be at least {MIN_KEY_BYTES} bytes"),
                ));
            }
        }
        Ok(SigningKeys {
            current: current.to_vec(),
            previous: previous.map(<[u8]>::to_vec),
        })
    }

    /// Keys for another purpose, derived from these (current first): one secret to
    /// configure and rotate, never the same key used for two things.
    pub fn derived(&self, purpose: &str) -> Vec<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .map(|key| {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .expect("HMAC takes a key of any length");
                mac.update(purpose.as_bytes());
                mac.finalize().into_bytes().into()
            })
            .collect()
    }

    /// `CUSTOM_URL_SIGNING_KEY` and, during a rotation, `CUSTOM_URL_SIGNING_KEY_PREVIOUS`.
    pub fn from_env() -> Result<Option<Self>> {
        match optional("CUSTOM_URL_SIGNING_KEY") {
            None => Ok(None),
            Some(current) => {
                let previous = optional("CUSTOM_URL_SIGNING_KEY_PREVIOUS");
                Self::new(current.as_bytes(), previous.as_deref().map(str::as_bytes)).map(Some)
            }
        }
    }
}

/// What the signature covers: the org, then the URL without fragment and
/// signature, its query sorted by name then value and re-encoded one way.
fn canonical(org: &str, url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != SIGNATURE_PARAM)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    format!("{org}\n{base}?{query}")
}

fn mac(key: &[u8], org: &str, url: &Url) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(canonical(org, url).as_bytes());
    mac
}

/// The custom URL with `expires_at` and `signature` added, valid for `ttl` from `now_ms`.
pub fn sign(
    keys: &SigningKeys,
    org: &str,
    custom_url: &str,
    now_ms: i64,
    ttl: Duration,
) -> Result<String> {
    let mut url =
        Url::parse(custom_url).map_err(|e| Error::internal("stored custom_download_url", e))?;
    let expires_at = now_ms + ttl.as_millis() as i64;
    url.query_pairs_mut()
        .append_pair(EXPIRES_PARAM, &expires_at.to_string());
    let signature = URL_SAFE_NO_PAD.encode(mac(&keys.current, org, &url).finalize().into_bytes());
    url.query_pairs_mut()
        .append_pair(SIGNATURE_PARAM, &signature);
    Ok(url.to_string())
}

/// Whether `received` is a URL this service signed for `org` and that has not expired.
/// A URL that cannot be parsed at all is a client error; anything else is just not valid.
pub fn verify(keys: &SigningKeys, org: &str, received: &str, now_ms: i64) -> Result<bool> {
    if received.len() > MAX_URL_BYTES * 2 {
        return Err(Error::new(
            ErrorCode::InvalidCustomDownloadUrl,
            "the URL is too long",
        ));
    }
    let url = Url::parse(received).map_err(|_| {
        Error::new(
            ErrorCode::InvalidCustomDownloadUrl,
            "custom_download_url is not an absolute URL",
        )
    })?;
    let values = |name: &str| -> Vec<String> {
        url.query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    let (signatures, expiries) = (values(SIGNATURE_PARAM), values(EXPIRES_PARAM));
    let ([signature], [expires_at]) = (signatures.as_slice(), expiries.as_slice()) else {
        return Ok(false);
    };
    let Ok(expires_at) = expires_at.parse::<i64>() else {
        return Ok(false);
    };
    if expires_at <= now_ms {
        return Ok(false);
    }
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return Ok(false);
    };
    let valid = std::iter::once(&keys.current)
        .chain(keys.previous.as_ref())
        // verify_slice compares in constant time.
        .any(|key| mac(key, org, &url).verify_slice(&signature).is_ok());
    Ok(valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const TTL: Duration = Duration::from_secs(900);

    fn keys() -> SigningKeys {
        SigningKeys::new(&[7; 32], None).unwrap()
    }

    fn signed() -> String {
        sign(
            &keys(),
            "org1",
            "https://files.example.com/a/b.pdf?fileID=42&x=1",
            NOW,
            TTL,
        )
        .unwrap()
    }

    fn query_of(url: &str) -> Vec<(String, String)> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn with_query(url: &str, pairs: &[(String, String)]) -> String {
        let mut u = Url::parse(url).unwrap();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    }

    #[test]
    fn a_fresh_url_verifies_and_keeps_its_own_parameters() {
        let url = signed();
        assert!(url.starts_with("https://files.example.com/a/b.pdf?fileID=42&x=1&expires_at=1800000900000&signature="), "{url}");
        assert!(verify(&keys(), "org1", &url, NOW + 1).unwrap());
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let url = signed();
        let mut pairs = query_of(&url);
        pairs.reverse();
        assert!(verify(&keys(), "org1", &with_query(&url, &pairs), NOW).unwrap());
    }

    #[test]
    fn any_change_makes_it_invalid() {
        let url = signed();
        let pairs = query_of(&url);
        let mut changed = pairs.clone();
        changed[0].1 = "43".into();
        let mut added = pairs.clone();
        added.push(("extra".into(), "1".into()));
        let removed: Vec<_> = pairs.iter().filter(|(k, _)| k != "x").cloned().collect();
        let mut later = pairs.clone();
        later
            .iter_mut()
            .find(|(k, _)| k == EXPIRES_PARAM)
            .unwrap()
            .1 = (NOW + 10_000_000).to_string();
        let signature = pairs
            .iter()
            .find(|(k, _)| k == SIGNATURE_PARAM)
            .unwrap()
            .1
            .clone();
        let mut truncated = pairs.clone();
        truncated
            .iter_mut()
            .find(|(k, _)| k == SIGNATURE_PARAM)
            .unwrap()
            .1 = signature[..signature.len() - 2].into();
        let mut altered = pairs.clone();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        altered
            .iter_mut()
            .find(|(k, _)| k == SIGNATURE_PARAM)
            .unwrap()
            .1 = format!("{flipped}{}", &signature[1..]);
        let mut doubled = pairs.clone();
        doubled.push((SIGNATURE_PARAM.into(), signature.clone()));
        let cases = [
            ("changed", with_query(&url, &changed)),
            ("added", with_query(&url, &added)),
            ("removed", with_query(&url, &removed)),
            ("later expiry", with_query(&url, &later)),
            ("truncated", with_query(&url, &truncated)),
            ("altered", with_query(&url, &altered)),
            ("doubled signature", with_query(&url, &doubled)),
            ("path", url.replace("/a/b.pdf", "/a/c.pdf")),
            ("host", url.replace("files.example.com", "evil.example.com")),
            ("scheme", url.replace("https://", "http://")),
            (
                "no signature",
                "https://files.example.com/a/b.pdf?fileID=42&x=1".into(),
            ),
        ];
        for (what, candidate) in cases {
            assert!(
                !verify(&keys(), "org1", &candidate, NOW).unwrap(),
                "{what}: {candidate}"
            );
        }
    }

    #[test]
    fn expiry_other_orgs_and_keys_are_enforced() {
        let url = signed();
        assert!(
            !verify(&keys(), "org1", &url, NOW + 900_000).unwrap(),
            "expired"
        );
        assert!(!verify(&keys(), "org2", &url, NOW).unwrap(), "another org");
        let new_keys = SigningKeys::new(&[9; 32], None).unwrap();
        assert!(
            !verify(&new_keys, "org1", &url, NOW).unwrap(),
            "retired key"
        );
        let rotating = SigningKeys::new(&[9; 32], Some(&[7; 32])).unwrap();
        assert!(
            verify(&rotating, "org1", &url, NOW).unwrap(),
            "previous key during rotation"
        );
    }

    #[test]
    fn unparseable_urls_are_client_errors() {
        assert_eq!(
            verify(&keys(), "org1", "not a url", NOW)
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(verify(&keys(), "org1", "", NOW).unwrap_err().status(), 400);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SigningKeys::new(b"short", None).is_err());
        assert!(SigningKeys::new(&[1; 32], Some(b"short")).is_err());
    }
}
