//! The headers of a fetch travel to the ingest function sealed (ChaCha20-Poly1305 under
//! a key derived from the service's signing key): Lambda keeps an async invocation's
//! payload in its queue, and one that fails in the dead-letter queue, and neither may
//! hold a client's secrets in the clear.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::custom_url::SigningKeys;
use crate::error::{Error, Result};

const PURPOSE: &str = "file-service/source-headers/v1";
const NONCE_BYTES: usize = 12;

/// Seals with the current key, opens with the current or the previous one.
#[derive(Clone)]
pub struct HeaderSeal {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for HeaderSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeaderSeal(<secret>)")
    }
}

impl HeaderSeal {
    pub fn new(keys: &SigningKeys) -> Self {
        HeaderSeal {
            keys: keys.derived(PURPOSE),
        }
    }

    pub fn seal(&self, headers: &[(String, String)]) -> Result<String> {
        let plain = serde_json::to_vec(headers).map_err(|e| Error::internal("seal headers", e))?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.keys[0]));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(&nonce, plain.as_slice())
                .map_err(|_| Error::internal("seal headers", "encryption failed"))?,
        );
        Ok(STANDARD.encode(sealed))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<(String, String)>> {
        let broken = || Error::internal("open headers", "sealed headers do not open with any key");
        let raw = STANDARD.decode(sealed).map_err(|_| broken())?;
        if raw.len() < NONCE_BYTES {
            return Err(broken());
        }
        let (nonce, body) = raw.split_at(NONCE_BYTES);
        let plain = self
            .keys
            .iter()
            .find_map(|key| {
                ChaCha20Poly1305::new(Key::from_slice(key))
                    .decrypt(Nonce::from_slice(nonce), body)
                    .ok()
            })
            .ok_or_else(broken)?;
        serde_json::from_slice(&plain).map_err(|_| broken())
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
        let decoded = STANDARD.decode(&sealed).unwrap();
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
            .open(&STANDARD.encode(tampered))
            .is_err());
    }
}
