//! JSON Web Tokens: their parts, the claims every accepted token must have, and HS256
//! for local development, where the local API plays API Gateway's JWT authorizer with a
//! shared secret (the development tokens). On AWS tokens are the issuer's, checked with
//! its keys ([`super::jwks`]).

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::domain::OrgId;
use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Who the local authorizer accepts tokens from.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub secret: Vec<u8>,
    pub issuer: String,
    /// The accepted audiences, comma separated (as the template's `JwtAudience`); the
    /// first is the one development tokens carry.
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

    /// What a function checks these tokens with.
    pub fn verifier(&self) -> super::TokenVerifier {
        super::TokenVerifier::shared_secret(&self.secret, &self.issuer, &self.audiences())
    }

    /// The accepted audiences.
    pub fn audiences(&self) -> Vec<String> {
        self.audience
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A token for `org` valid for `ttl_secs` from `now_secs`, with this issuer and audience.
    pub fn token_for(&self, org: &str, org_claim: &str, now_secs: i64, ttl_secs: i64) -> String {
        let mut claims = Map::new();
        claims.insert("sub".into(), format!("dev-user@{org}").into());
        claims.insert(org_claim.into(), org.into());
        claims.insert("iss".into(), self.issuer.clone().into());
        let audience = self.audiences().into_iter().next().unwrap_or_default();
        claims.insert("aud".into(), audience.into());
        claims.insert("iat".into(), now_secs.into());
        claims.insert("exp".into(), (now_secs + ttl_secs).into());
        sign_hs256(&claims, &self.secret)
    }

    /// Checks signature, expiry, issuer and audience as API Gateway's JWT authorizer
    /// does, and that `org_claim` names an organisation: a string of the characters an
    /// organisation id has (a number, `null` or `true` is refused, not taken as text).
    pub fn verify(
        &self,
        token: &str,
        now_secs: f64,
        org_claim: &str,
    ) -> Result<Map<String, Value>> {
        let claims = verify_hs256(token, &self.secret)?;
        check_claims(claims, now_secs, &self.issuer, &self.audiences(), org_claim)
    }
}

/// What every accepted token's claims are, however it was signed: not expired
/// (`exp`, required) and valid already (`nbf`), RFC 7519 NumericDates (seconds since the
/// epoch, whole or fractional); this issuer; one of these audiences among its `aud`, or
/// without an `aud` as its `client_id` (Cognito's access tokens); and
/// `org_claim` a string naming an organisation (a number, `null` or `true` is refused,
/// not taken as text). As API Gateway's JWT authorizer checks them.
pub fn check_claims(
    claims: Map<String, Value>,
    now_secs: f64,
    issuer: &str,
    audiences: &[String],
    org_claim: &str,
) -> Result<Map<String, Value>> {
    let date = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| unauthorized("a date claim of the token is not a NumericDate")),
        Some(_) => Err(Error::unauthorized(format!(
            "the token's {name} claim is not a NumericDate"
        ))),
    };
    match date("exp")? {
        Some(exp) if exp > now_secs => {}
        Some(_) => return Err(unauthorized("the token has expired")),
        None => return Err(unauthorized("the token has no exp claim")),
    }
    if date("nbf")?.is_some_and(|nbf| nbf > now_secs) {
        return Err(unauthorized("the token is not valid yet"));
    }
    date("iat")?;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(unauthorized("the token's issuer is not accepted"));
    }
    let accepted = |a: Option<&str>| a.is_some_and(|a| audiences.iter().any(|x| x == a));
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => accepted(Some(aud)),
        Some(Value::Array(auds)) => auds.iter().any(|a| accepted(a.as_str())),
        None => accepted(claims.get("client_id").and_then(Value::as_str)),
        _ => false,
    };
    if !audience_ok {
        return Err(unauthorized("the token's audience is not accepted"));
    }
    match claims.get(org_claim) {
        Some(Value::String(org)) if OrgId::parse(org).is_ok() => Ok(claims),
        _ => Err(Error::unauthorized(format!(
            "the token's {org_claim} claim must be a string naming an organisation"
        ))),
    }
}

/// A token taken apart: its header, what was signed, the signature, the claims. Nothing
/// is checked yet.
pub struct TokenParts<'t> {
    pub header: Map<String, Value>,
    pub signing_input: &'t str,
    pub signature: Vec<u8>,
    pub claims: Map<String, Value>,
}

impl<'t> TokenParts<'t> {
    pub fn parse(token: &'t str) -> Result<Self> {
        let malformed = || unauthorized("the token is not a well-formed JWT");
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let object = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                .and_then(|v| match v {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .ok_or_else(malformed)
        };
        Ok(TokenParts {
            header: object(header)?,
            signing_input: header_and_payload(token),
            signature: URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?,
            claims: object(payload)?,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
}

pub(super) fn unauthorized(message: &str) -> Error {
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
    let parts = TokenParts::parse(token)?;
    if parts.alg() != Some("HS256") {
        return Err(unauthorized("only HS256 tokens are accepted locally"));
    }
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(parts.signing_input.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&parts.signature)
        .map_err(|_| unauthorized("the token's signature is not valid"))?;
    Ok(parts.claims)
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
        let claims = s.verify(&token, 1_010.0, "org_id").unwrap();
        assert_eq!(claims["org_id"], "123");
        assert_eq!(claims_as_strings(&claims)["exp"], "1060");
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let s = settings();
        let token = s.token_for("123", "org_id", 1_000, 60);
        assert!(s.verify(&token, 1_060.0, "org_id").is_err(), "expired");
        let mut other = settings();
        other.secret = b"other".to_vec();
        assert!(
            other.verify(&token, 1_010.0, "org_id").is_err(),
            "wrong key"
        );
        let (signed, sig) = token.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        assert!(s
            .verify(
                &format!("{signed}.{flipped}{}", &sig[1..]),
                1_010.0,
                "org_id"
            )
            .is_err());
        let mut wrong_aud = settings();
        wrong_aud.audience = "else".into();
        assert!(
            wrong_aud.verify(&token, 1_010.0, "org_id").is_err(),
            "audience"
        );
        assert!(s.verify("not.a.jwt", 1_010.0, "org_id").is_err());
        assert!(s.verify("", 1_010.0, "org_id").is_err());
    }

    fn token_with(s: &JwtSettings, changes: &[(&str, Value)]) -> String {
        let mut claims = Map::new();
        claims.insert("org_id".into(), "123".into());
        claims.insert("iss".into(), s.issuer.clone().into());
        claims.insert("aud".into(), s.audience.clone().into());
        claims.insert("exp".into(), 2_000.into());
        for (name, value) in changes {
            claims.insert((*name).into(), value.clone());
        }
        sign_hs256(&claims, &s.secret)
    }

    #[test]
    fn the_organisation_claim_must_be_a_string_organisation_id() {
        let s = settings();
        for org in [
            Value::Null,
            Value::Bool(true),
            serde_json::json!(1.5),
            serde_json::json!(123),
            serde_json::json!(""),
            serde_json::json!("a b"),
            serde_json::json!(["123"]),
        ] {
            let token = token_with(&s, &[("org_id", org.clone())]);
            let err = s.verify(&token, 1_000.0, "org_id").unwrap_err();
            assert_eq!(err.status(), 401, "{org} accepted");
        }
        let token = token_with(&s, &[("org_id", "123".into())]);
        assert!(s.verify(&token, 1_000.0, "org_id").is_ok());
    }

    #[test]
    fn dates_are_numeric_dates_whole_or_fractional() {
        let s = settings();
        let fractional = token_with(&s, &[("exp", serde_json::json!(1_000.5))]);
        assert!(
            s.verify(&fractional, 1_000.0, "org_id").is_ok(),
            "fractional exp"
        );
        assert!(
            s.verify(&fractional, 1_000.6, "org_id").is_err(),
            "and it expires"
        );
        for (claim, value) in [
            ("exp", serde_json::json!("2000")),
            ("nbf", serde_json::json!("soon")),
            ("nbf", Value::Null),
            ("iat", serde_json::json!(true)),
        ] {
            let token = token_with(&s, &[(claim, value.clone())]);
            let err = s.verify(&token, 1_000.0, "org_id").unwrap_err();
            assert_eq!(err.status(), 401, "{claim}: {value} accepted");
        }
        let later = token_with(&s, &[("nbf", serde_json::json!(1_500.25))]);
        assert!(
            s.verify(&later, 1_000.0, "org_id").is_err(),
            "not valid yet"
        );
        assert!(s.verify(&later, 1_600.0, "org_id").is_ok());
    }
}
