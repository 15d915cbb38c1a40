//! Public links: permanent, unguessable addresses of a file that need no token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One public link of a file, as the file keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicLink {
    /// [`new_link_id`]: the file's id and 128 random bits.
    pub id: String,
    pub created_at: String,
    /// The latest access, to the minute (accesses closer together than that are not
    /// each written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_accessed_at: Option<String>,
}

/// Most public links one file may have.
pub const MAX_PUBLIC_LINKS: usize = 25;

/// A new link id of `file`: its 16 bytes and 16 random ones, base64url (43 characters).
/// The file's id in it makes an access one read of the file; the random part (from the
/// OS's generator, as UUIDv4 is) makes it unguessable.
pub fn new_link_id(file: Uuid) -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(file.as_bytes());
    bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The file a link id names; `None` for anything that is not a link id.
pub fn link_file(link_id: &str) -> Option<Uuid> {
    if link_id.len() != 43 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(link_id).ok()?;
    let file: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
    Some(Uuid::from_bytes(file))
}

/// Whether two link ids are the same, in time that does not depend on where they differ.
pub fn same_link(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_id_names_its_file_and_differs_every_time() {
        let file = Uuid::new_v4();
        let (a, b) = (new_link_id(file), new_link_id(file));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(link_file(&a), Some(file));
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(link_file("not-a-link"), None);
        assert_eq!(link_file(&a[..42]), None);
        assert!(same_link(&a, &a.clone()) && !same_link(&a, &b));
    }
}
