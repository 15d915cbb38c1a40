//! Who a token says the caller is, checked in the function: for the routes a browser
//! reaches with the session cookie (`<img src>`, links), which API Gateway's JWT
//! authorizer cannot check because it reads only a header. Every other route's token is
//! checked by that authorizer, and the function reads the claims it passes on.

pub mod jwks;
pub mod jwt;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::error::{Error, Result};
use jwks::{verify_signature, JwkSet};
use jwt::{check_claims, unauthorized, verify_hs256, TokenParts};

/// How a verifier knows good signatures.
#[derive(Clone)]
enum Keys {
    /// HS256 with a shared secret: the local API's development tokens.
    Shared(Vec<u8>),
    /// The issuer's key set, fetched when first needed and again when a token names a
    /// key it lacks (keys rotate), at most once a minute.
    Remote {
        url: KeySetUrl,
        cache: Arc<RwLock<Option<(JwkSet, Instant)>>>,
        http: reqwest::Client,
    },
}

/// Where the key set is: given, or found by OpenID Connect discovery from the issuer
/// (what API Gateway's JWT authorizer does).
#[derive(Clone, Debug)]
pub enum KeySetUrl {
    Given(String),
    Discovered,
}

/// Checks tokens as API Gateway's JWT authorizer does: the signature, then the claims.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Keys,
    issuer: String,
    audiences: Vec<String>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Shared(_) => "shared secret".to_owned(),
            Keys::Remote { url, .. } => format!("{url:?}"),
        };
        f.debug_struct("TokenVerifier")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .finish()
    }
}

/// Refetches of the key set are at least this far apart.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// A fetch of the key set gives up after this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

impl TokenVerifier {
    /// Tokens of `issuer` for one of `audiences`, signed with the issuer's published keys.
    pub fn remote(issuer: &str, audiences: &[String], url: KeySetUrl) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| Error::internal("JWKS client", e))?;
        Ok(TokenVerifier {
            keys: Keys::Remote {
                url,
                cache: Arc::default(),
                http,
            },
            issuer: issuer.to_owned(),
            audiences: audiences.to_vec(),
        })
    }

    /// Development tokens signed HS256 with `secret`.
    pub fn shared_secret(secret: &[u8], issuer: &str, audiences: &[String]) -> Self {
        TokenVerifier {
            keys: Keys::Shared(secret.to_vec()),
            issuer: issuer.to_owned(),
            audiences: audiences.to_vec(),
        }
    }

    /// The claims of a good token; 401 otherwise.
    pub async fn verify(
        &self,
        token: &str,
        now_secs: f64,
        org_claim: &str,
    ) -> Result<Map<String, Value>> {
        let claims = match &self.keys {
            Keys::Shared(secret) => verify_hs256(token, secret)?,
            Keys::Remote { .. } => {
                let parts = TokenParts::parse(token)?;
                let kid = parts.header.get("kid").and_then(Value::as_str);
                let key = self.key(kid).await?;
                verify_signature(&parts, &key)?;
                parts.claims
            }
        };
        check_claims(claims, now_secs, &self.issuer, &self.audiences, org_claim)
    }

    /// The issuer's key `kid`, from the cached set or a fresh one.
    async fn key(&self, kid: Option<&str>) -> Result<jwks::Jwk> {
        let Keys::Remote { url, cache, http } = &self.keys else {
            return Err(Error::internal("JWKS", "no key set configured"));
        };
        if let Some((set, _)) = cache.read().await.as_ref() {
            if let Some(key) = set.key_for(kid) {
                return Ok(key.clone());
            }
        }
        let mut cached = cache.write().await;
        let stale = cached
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() >= REFETCH_AFTER);
        if stale {
            let set = self.fetch(http, url).await?;
            *cached = Some((set, Instant::now()));
        }
        cached
            .as_ref()
            .and_then(|(set, _)| set.key_for(kid))
            .cloned()
            .ok_or_else(|| unauthorized("the token names a key its issuer does not publish"))
    }

    async fn fetch(&self, http: &reqwest::Client, url: &KeySetUrl) -> Result<JwkSet> {
        let url = match url {
            KeySetUrl::Given(url) => url.clone(),
            KeySetUrl::Discovered => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let document: Value = serde_json::from_slice(&get(http, &discovery).await?)
                    .map_err(|e| Error::internal("OIDC discovery", e))?;
                document
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| Error::internal("OIDC discovery", "no jwks_uri"))?
            }
        };
        JwkSet::parse(&get(http, &url).await?)
    }
}

/// A GET of the issuer's: its body, or a retryable error (the issuer is away).
async fn get(http: &reqwest::Client, url: &str) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::storage(
            "JWKS",
            format!("the token issuer's keys could not be read ({url}): {e}"),
        )
    };
    let response = http.get(url).send().await.map_err(|e| failed(&e))?;
    if !response.status().is_success() {
        return Err(failed(&response.status()));
    }
    Ok(response.bytes().await.map_err(|e| failed(&e))?.to_vec())
}
