//! HS256 JSON Web Tokens for local development only, where the local API plays
//! API Gateway's JWT authorizer. On AWS the authorizer checks tokens and the
//! functions read the claims it passes on; none of this is in a Lambda binary.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use shared::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Who the local authorizer accepts tokens from.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
}

/// `DEV_JWT_SECRET`'s documented default: for a laptop, never for a deployment.
pub const DEFAULT_DEV_SECRET: &str = "local-development-secret-change-me";
pub const DEFAULT_DEV_ISSUER: &str = "file-service-local";
pub const DEFAULT_DEV_AUDIENCE: &str = "file-service";

impl JwtSettings {
    /// `DEV_JWT_SECRET`, `DEV_JWT_ISSUER`, `DEV_JWT_AUDIENCE`, with the documented defaults.
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.into())
        };
        JwtSettings {
            secret: var("DEV_JWT_SECRET", DEFAULT_DEV_SECRET).into_bytes(),
            issuer: var("DEV_JWT_ISSUER", DEFAULT_DEV_ISSUER),
            audience: var("DEV_JWT_AUDIENCE", DEFAULT_DEV_AUDIENCE),
        }
    }

    /// A token for `org` valid for `ttl_secs` from `now_secs`, with this issuer and audience.
    pub fn token_for(&self, org: &str, org_claim: &str, now_secs: i64, ttl_secs: i64) -> String {
        let mut claims = Map::new();
        claims.insert("sub".into(), format!("dev-user@{org}").into());
        claims.insert(org_claim.into(), org.into());
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("aud".into(), self.audience.clone().into());
        claims.insert("iat".into(), now_secs.into());
        claims.insert("exp".into(), (now_secs + ttl_secs).into());
        sign_hs256(&claims, &self.secret)
    }

    /// Checks signature, expiry, issuer and audience as API Gateway's JWT authorizer does.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Map<String, Value>> {
        let claims = verify_hs256(token, &self.secret)?;
        let number = |name: &str| claims.get(name).and_then(Value::as_i64);
        match number("exp") {
            Some(exp) if exp > now_secs => {}
            Some(_) => return Err(unauthorized("the token has expired")),
            None => return Err(unauthorized("the token has no exp claim")),
        }
        if number("nbf").is_some_and(|nbf| nbf > now_secs) {
            return Err(unauthorized("the token is not valid yet"));
        }
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(unauthorized("the token's issuer is not accepted"));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        if !audience_ok {
            return Err(unauthorized("the token's audience is not accepted"));
        }
        Ok(claims)
    }
}

fn unauthorized(message: &str) -> Error {
    Error::unauthorized(message.to_owned())
}

pub fn sign_hs256(claims: &Map<String, Value>, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of a token whose HS256 signature is right; nothing else is checked.
pub fn verify_hs256(token: &str, secret: &[u8]) -> Result<Map<String, Value>> {
    let malformed = || unauthorized("the token is not a well-formed JWT");
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(unauthorized("only HS256 tokens are accepted locally"));
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?;
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(header_and_payload(token).as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| unauthorized("the token's signature is not valid"))?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .ok_or_else(malformed)
}

fn header_and_payload(token: &str) -> &str {
    token
        .rsplit_once('.')
        .map(|(signed, _)| signed)
        .unwrap_or_default()
}

/// Claims as API Gateway passes them to a function: every value a string.
pub fn claims_as_strings(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> JwtSettings {
        JwtSettings {
            secret: b"secret".to_vec(),
            issuer: "iss".into(),
            audience: "aud".into(),
        }
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_the_org() {
        let s = settings();
        let token = s.token_for("123", "org_id", 1_000, 60);
        let claims = s.verify(&token, 1_010).unwrap();
        assert_eq!(claims["org_id"], "123");
        assert_eq!(claims_as_strings(&claims)["exp"], "1060");
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let s = settings();
        let token = s.token_for("123", "org_id", 1_000, 60);
        assert!(s.verify(&token, 1_060).is_err(), "expired");
        let mut other = settings();
        other.secret = b"other".to_vec();
        assert!(other.verify(&token, 1_010).is_err(), "wrong key");
        let (signed, sig) = token.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        assert!(s
            .verify(&format!("{signed}.{flipped}{}", &sig[1..]), 1_010)
            .is_err());
        let mut wrong_aud = settings();
        wrong_aud.audience = "else".into();
        assert!(wrong_aud.verify(&token, 1_010).is_err(), "audience");
        assert!(s.verify("not.a.jwt", 1_010).is_err());
        assert!(s.verify("", 1_010).is_err());
    }
}
