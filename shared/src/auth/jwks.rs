//! The issuer's keys (a JSON Web Key Set): RS256 and ES256 signatures checked with ring,
//! the crypto library rustls already brings, so no second one enters a binary.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;

use super::jwt::{unauthorized, TokenParts};
use crate::error::{Error, Result};

/// One key of a set, as RFC 7517 writes it (only what verification needs).
#[derive(Clone, Debug, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn parse(json: &[u8]) -> Result<JwkSet> {
        serde_json::from_slice(json)
            .map_err(|e| Error::internal("JWKS", format!("the issuer's key set is not JSON: {e}")))
    }

    /// The key a token names (`kid`), or the only signing key of a set without ids.
    pub fn key_for(&self, kid: Option<&str>) -> Option<&Jwk> {
        let signing = self
            .keys
            .iter()
            .filter(|k| k.use_.as_deref() != Some("enc"));
        match kid {
            Some(kid) => signing.clone().find(|k| k.kid.as_deref() == Some(kid)),
            None => {
                let mut keys = signing;
                let only = keys.next();
                keys.next().is_none().then_some(only).flatten()
            }
        }
    }
}

/// Whether `parts` was signed by `key`: RS256 (RSA, 2048 bits or more) or ES256 (P-256).
/// The algorithm is the key's, never the token's alone: a token that names another is
/// refused, so no key is used with an algorithm it was not made for.
pub fn verify_signature(parts: &TokenParts<'_>, key: &Jwk) -> Result<()> {
    let bad = || unauthorized("the token's signature is not valid");
    let field = |value: &Option<String>| {
        value
            .as_deref()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| Error::internal("JWKS", "a key of the issuer's set is malformed"))
    };
    let message = parts.signing_input.as_bytes();
    match (parts.alg(), key.kty.as_str()) {
        (Some("RS256"), "RSA") if key.alg.as_deref().is_none_or(|a| a == "RS256") => {
            let (n, e) = (field(&key.n)?, field(&key.e)?);
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    message,
                    &parts.signature,
                )
                .map_err(|_| bad())
        }
        (Some("ES256"), "EC")
            if key.crv.as_deref() == Some("P-256")
                && key.alg.as_deref().is_none_or(|a| a == "ES256") =>
        {
            let (x, y) = (field(&key.x)?, field(&key.y)?);
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &parts.signature)
                .map_err(|_| bad())
        }
        _ => Err(unauthorized(
            "the token's algorithm is not one its key is for (RS256, ES256)",
        )),
    }
}
