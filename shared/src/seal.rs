//! Sealed values (ChaCha20-Poly1305 under a key derived from the service's signing key,
//! one key per purpose): what travels through hands that must not read or change it.
//! The headers of a fetch go to the ingest function sealed, since Lambda keeps an async
//! invocation's payload in its queue (and one that fails in the dead-letter queue); a
//! multipart upload's id is sealed, so a client can neither read nor forge one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::custom_url::SigningKeys;
use crate::error::{Error, Result};

const NONCE_BYTES: usize = 12;

/// Seals with the current key, opens with the current or the previous one.
#[derive(Clone)]
pub struct Seal {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(<secret>)")
    }
}

impl Seal {
    /// Keys of their own for `purpose`: what one purpose sealed never opens as another.
    pub fn new(keys: &SigningKeys, purpose: &str) -> Self {
        Seal {
            keys: keys.derived(purpose),
        }
    }

    /// `value` as JSON, sealed, in URL-safe base64.
    pub fn seal<T: Serialize>(&self, value: &T) -> Result<String> {
        let plain = serde_json::to_vec(value).map_err(|e| Error::internal("seal", e))?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.keys[0]));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(&nonce, plain.as_slice())
                .map_err(|_| Error::internal("seal", "encryption failed"))?,
        );
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// What [`seal`](Self::seal) sealed; `None` for anything else (forged, changed,
    /// sealed under another key or for another purpose).
    pub fn open<T: DeserializeOwned>(&self, sealed: &str) -> Option<T> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_BYTES);
        let plain = self.keys.iter().find_map(|key| {
            ChaCha20Poly1305::new(Key::from_slice(key))
                .decrypt(Nonce::from_slice(nonce), body)
                .ok()
        })?;
        serde_json::from_slice(&plain).ok()
    }
}

/// The headers of a fetch from a URL, sealed for the trip to the ingest function.
#[derive(Clone, Debug)]
pub struct HeaderSeal(Seal);

impl HeaderSeal {
    pub fn new(keys: &SigningKeys) -> Self {
        HeaderSeal(Seal::new(keys, "file-service/source-headers/v1"))
    }

    pub fn seal(&self, headers: &[(String, String)]) -> Result<String> {
        self.0.seal(&headers)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<(String, String)>> {
        self.0.open(sealed).ok_or_else(|| {
            Error::internal("open headers", "sealed headers do not open with any key")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(current: &[u8], previous: Option<&[u8]>) -> SigningKeys {
        SigningKeys::new(current, previous).unwrap()
    }

    #[test]
    fn sealed_headers_open_only_with_the_key_and_hide_the_secret() {
        let old = keys(b"old-key-0123456789abcdef0123456789", None);
        let headers = vec![("Authorization".to_owned(), "Bearer s3cr3t-token".to_owned())];
        let sealed = HeaderSeal::new(&old).seal(&headers).unwrap();
        assert!(!sealed.contains("s3cr3t"));
        let decoded = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!decoded.windows(6).any(|w| w == b"s3cr3t"));
        assert_eq!(HeaderSeal::new(&old).open(&sealed).unwrap(), headers);
        // After a rotation the previous key still opens what it sealed.
        let rotated = keys(
            b"new-key-0123456789abcdef0123456789",
            Some(b"old-key-0123456789abcdef0123456789"),
        );
        assert_eq!(HeaderSeal::new(&rotated).open(&sealed).unwrap(), headers);
        let other = keys(b"other-key-0123456789abcdef01234567", None);
        assert!(HeaderSeal::new(&other).open(&sealed).is_err());
        let mut tampered = decoded.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(HeaderSeal::new(&old)
            .open(&URL_SAFE_NO_PAD.encode(tampered))
            .is_err());
    }

    #[test]
    fn what_one_purpose_sealed_does_not_open_as_another() {
        let keys = keys(b"key-0123456789abcdef0123456789abcd", None);
        let sealed = Seal::new(&keys, "a").seal(&("x", 1)).unwrap();
        assert_eq!(
            Seal::new(&keys, "a").open(&sealed),
            Some(("x".to_owned(), 1))
        );
        assert_eq!(Seal::new(&keys, "b").open::<(String, i32)>(&sealed), None);
        assert_eq!(
            Seal::new(&keys, "a").open::<(String, i32)>("not sealed"),
            None
        );
    }
}
