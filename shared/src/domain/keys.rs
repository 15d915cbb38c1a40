//! Where bytes live in the bucket.

use uuid::Uuid;

use super::OrgId;

/// Prefix of unsaved uploads; the bucket's lifecycle rule expires it.
pub const TEMP_PREFIX: &str = "temp/";
/// Prefix of saved versions; objects here are never overwritten.
pub const FILES_PREFIX: &str = "files/";

/// Key of an unsaved upload: `temp/<org>/<upload id>/<filename>`.
pub fn temp_key(org: &OrgId, upload_id: Uuid, filename: &str) -> String {
    format!("{TEMP_PREFIX}{}/{upload_id}/{filename}", org.as_str())
}

/// Key of a saved version: `files/<org>/<file id>/<version id>/<filename>`.
/// The version id is fresh for every save, so concurrent saves never share a key.
pub fn version_key(org: &OrgId, file_id: Uuid, version_id: Uuid, filename: &str) -> String {
    format!(
        "{FILES_PREFIX}{}/{file_id}/{version_id}/{filename}",
        org.as_str()
    )
}

/// Where the cached previews of the object at `key` live: beside it, in its own
/// folder (`files/<org>/<file>/<version>/preview/`), so they go wherever the version
/// goes (a file's deletion and expiry remove its whole prefix) and never serve another
/// organisation. Not a version key itself: nothing can save, download or preview it.
pub fn preview_prefix(key: &str) -> Option<String> {
    let (folder, _) = key.rsplit_once('/')?;
    Some(format!("{folder}/preview/"))
}

/// The parts of a key under `temp/`, if it has the shape uploads are given.
#[derive(Debug, PartialEq, Eq)]
pub struct TempKey<'a> {
    pub org: &'a str,
    pub upload_id: Uuid,
    pub filename: &'a str,
}

impl<'a> TempKey<'a> {
    pub fn parse(key: &'a str) -> Option<Self> {
        let rest = key.strip_prefix(TEMP_PREFIX)?;
        let mut parts = rest.splitn(3, '/');
        let org = parts.next()?;
        let upload_id = Uuid::parse_str(parts.next()?).ok()?;
        let filename = parts.next()?;
        if org.is_empty() || filename.is_empty() || filename.contains('/') {
            return None;
        }
        Some(TempKey {
            org,
            upload_id,
            filename,
        })
    }
}

/// The organisation and file of a saved version's key, if it has that shape.
pub fn version_key_owner(key: &str) -> Option<(&str, Uuid)> {
    let rest = key.strip_prefix(FILES_PREFIX)?;
    let mut parts = rest.splitn(4, '/');
    let org = parts.next().filter(|o| !o.is_empty())?;
    let file = Uuid::parse_str(parts.next()?).ok()?;
    Uuid::parse_str(parts.next()?).ok()?;
    parts.next().filter(|f| !f.is_empty() && !f.contains('/'))?;
    Some((org, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_name_their_organisation_and_file() {
        let (file, version) = (Uuid::new_v4(), Uuid::new_v4());
        let org = OrgId::parse("org-1").unwrap();
        let key = version_key(&org, file, version, "a.pdf");
        assert_eq!(version_key_owner(&key), Some(("org-1", file)));
        assert_eq!(
            version_key_owner(&format!("files/org-1/{file}/x/a.pdf")),
            None
        );
        assert_eq!(version_key_owner(&format!("temp/org-1/{file}/a.pdf")), None);
        assert_eq!(
            version_key_owner(&format!("files/org-1/{file}/{version}/")),
            None
        );
    }

    #[test]
    fn previews_live_beside_their_version_and_are_no_version() {
        let (file, version) = (Uuid::new_v4(), Uuid::new_v4());
        let org = OrgId::parse("org-1").unwrap();
        let key = version_key(&org, file, version, "a.pdf");
        let prefix = preview_prefix(&key).unwrap();
        assert_eq!(prefix, format!("files/org-1/{file}/{version}/preview/"));
        assert!(version_key_owner(&format!("{prefix}300x0")).is_none());
        assert!(TempKey::parse(&format!("temp/org-1/{file}/preview/300x0")).is_none());
    }

    #[test]
    fn temp_keys_parse_only_in_their_own_shape() {
        let id = Uuid::new_v4();
        let key = format!("temp/org-1/{id}/a b.pdf");
        let parsed = TempKey::parse(&key).unwrap();
        assert_eq!(
            (parsed.org, parsed.upload_id, parsed.filename),
            ("org-1", id, "a b.pdf")
        );
        assert!(TempKey::parse("files/org-1/x/y").is_none());
        assert!(TempKey::parse(&format!("temp/org-1/{id}/")).is_none());
        assert!(TempKey::parse("temp/org-1/not-a-uuid/a.pdf").is_none());
    }
}
