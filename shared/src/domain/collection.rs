//! File collections (epilot's): named folders of an entity schema, a user's own or the
//! organisation's. A file is in a collection of an entity when one of its `relations`
//! to that entity carries the collection's slug among its `_tags`; a collection holds
//! no files itself, so deleting one leaves every file as it is.
//!
//! Slugs follow the client's documented formats:
//! - a user's: `_system_files_collection_{scope}_{sub}:{key}`, where `scope` is a UUID
//!   that stands for the organisation and schema (UUID v5-like, from SHA-256);
//! - a global one: `_system_files_collection_schema_{schema}:{key}`;
//!
//! and the part before `:` is the scope's root, the parent of top-level collections.
//! `key` is the name at creation, lowercased, with every run of other characters than
//! letters and digits made one `_`; renaming keeps the slug, so tagged files stay in.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const PREFIX: &str = "_system_files_collection_";
const GLOBAL_PREFIX: &str = "_system_files_collection_schema_";
/// Longest schema slug, collection name and key.
pub const MAX_SCHEMA_CHARS: usize = 64;
pub const MAX_COLLECTION_NAME_CHARS: usize = 120;
/// Most collections one scope holds (they are stored together).
pub const MAX_COLLECTIONS_PER_SCOPE: usize = 500;

/// Whose collections: one user's of a schema, or the organisation's of a schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CollectionScope {
    User { scope: Uuid, sub: String },
    Global { schema: String },
}

impl CollectionScope {
    /// A user's collections of `schema` in `org`.
    pub fn user(org: &str, schema: &str, sub: &str) -> Self {
        let digest = Sha256::digest(format!("file-collections\n{org}\n{schema}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        // Version 5 and RFC 4122 variant bits, as a name-based UUID has them.
        bytes[6] = (bytes[6] & 0x0f) | 0x50;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        CollectionScope::User {
            scope: Uuid::from_bytes(bytes),
            sub: sub.to_owned(),
        }
    }

    pub fn global(schema: &str) -> Self {
        CollectionScope::Global {
            schema: schema.to_owned(),
        }
    }

    /// The slug every top-level collection of the scope has as its parent.
    pub fn root(&self) -> String {
        match self {
            CollectionScope::User { scope, sub } => format!("{PREFIX}{scope}_{sub}"),
            CollectionScope::Global { schema } => format!("{GLOBAL_PREFIX}{schema}"),
        }
    }

    /// The slug of the collection `key` of this scope.
    pub fn slug(&self, key: &str) -> String {
        format!("{}:{key}", self.root())
    }

    /// The scope and key a slug names; `None` for anything else.
    pub fn parse_slug(slug: &str) -> Option<(CollectionScope, String)> {
        let (root, key) = slug.rsplit_once(':')?;
        if !is_key(key) {
            return None;
        }
        if let Some(schema) = root.strip_prefix(GLOBAL_PREFIX) {
            return is_schema(schema).then(|| (CollectionScope::global(schema), key.to_owned()));
        }
        let rest = root.strip_prefix(PREFIX)?;
        let (scope, sub) = (rest.get(..36)?, rest.get(37..)?);
        if rest.as_bytes().get(36) != Some(&b'_') || sub.is_empty() {
            return None;
        }
        let scope = Uuid::parse_str(scope).ok()?;
        let parsed = CollectionScope::User {
            scope,
            sub: sub.to_owned(),
        };
        Some((parsed, key.to_owned()))
    }

    /// How the store names the scope within an organisation.
    pub fn storage_key(&self) -> String {
        match self {
            CollectionScope::User { scope, sub } => format!("user#{scope}#{sub}"),
            CollectionScope::Global { schema } => format!("global#{schema}"),
        }
    }
}

/// A schema slug as routes take it: letters, digits, `_` and `-`.
pub fn is_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= MAX_SCHEMA_CHARS
        && schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_COLLECTION_NAME_CHARS * 4
        && key
            .chars()
            .all(|c| c == '_' || (c.is_alphanumeric() && !c.is_uppercase()))
}

/// The key of a new collection named `name`: `None` when the name has no letter or digit.
pub fn key_of_name(name: &str) -> Option<String> {
    let mut key = String::new();
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_').to_owned();
    (!key.is_empty()).then_some(key)
}

/// One collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// The slugs of its parents: the scope's root for a top-level collection.
    pub parents: Vec<String>,
    pub starred: bool,
    /// Where it is shown among its scope's collections (its place at creation).
    pub order: u64,
    pub enabled_locations: Vec<String>,
    pub enabled_purposes: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A scope's collections as stored together: read, changed and written back whole, on
/// condition that `revision` is still the one read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSet {
    pub org: String,
    pub scope: CollectionScope,
    pub revision: u64,
    pub collections: Vec<Collection>,
}

impl CollectionSet {
    pub fn empty(org: &str, scope: CollectionScope) -> Self {
        CollectionSet {
            org: org.to_owned(),
            scope,
            revision: 0,
            collections: Vec::new(),
        }
    }

    pub fn find(&self, slug: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.slug == slug)
    }

    /// Whether `slug`'s ancestors, by `parents` (with `replaced` standing for
    /// `slug`'s own new ones), include `slug` itself.
    pub fn would_cycle(&self, slug: &str, replaced: &[String]) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut pending: Vec<String> = replaced.to_vec();
        while let Some(next) = pending.pop() {
            if next == slug {
                return true;
            }
            if !seen.insert(next.clone()) {
                continue;
            }
            if let Some(c) = self.find(&next) {
                pending.extend(c.parents.iter().cloned());
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_clients_formats_and_parse_back() {
        let user = CollectionScope::user("org-1", "opportunity", "10234");
        let slug = user.slug("documents");
        assert!(slug.starts_with("_system_files_collection_"));
        assert!(slug.ends_with("_10234:documents"), "{slug}");
        assert_eq!(
            CollectionScope::parse_slug(&slug),
            Some((user.clone(), "documents".into()))
        );
        assert_eq!(
            user,
            CollectionScope::user("org-1", "opportunity", "10234"),
            "stable"
        );
        assert_ne!(user, CollectionScope::user("org-2", "opportunity", "10234"));
        let global = CollectionScope::global("opportunity");
        assert_eq!(
            global.slug("templates"),
            "_system_files_collection_schema_opportunity:templates"
        );
        assert_eq!(
            CollectionScope::parse_slug("_system_files_collection_schema_opportunity:templates"),
            Some((global, "templates".into()))
        );
        for bad in [
            "documents",
            "_system_files_collection_schema_:x",
            "_system_files_collection_notauuid_1:x",
            "_system_files_collection_schema_order:",
            "_system_files_collection_schema_order:Upper",
        ] {
            assert_eq!(CollectionScope::parse_slug(bad), None, "{bad}");
        }
        // A sub with underscores and colons of its own.
        let odd = CollectionScope::user("o", "order", "auth0|a_b:c");
        assert_eq!(
            CollectionScope::parse_slug(&odd.slug("x")),
            Some((odd, "x".into()))
        );
    }

    #[test]
    fn keys_come_from_names() {
        assert_eq!(key_of_name("Documents").as_deref(), Some("documents"));
        assert_eq!(
            key_of_name("  2024 Contracts & Offers! ").as_deref(),
            Some("2024_contracts_offers")
        );
        assert_eq!(key_of_name("Übersicht").as_deref(), Some("übersicht"));
        assert_eq!(key_of_name("!!!"), None);
    }

    #[test]
    fn cycles_are_found() {
        let scope = CollectionScope::global("order");
        let mut set = CollectionSet::empty("o", scope.clone());
        let c = |key: &str, parent: String| Collection {
            id: Uuid::nil(),
            slug: scope.slug(key),
            name: key.into(),
            parents: vec![parent],
            starred: false,
            order: 0,
            enabled_locations: vec![],
            enabled_purposes: vec![],
            created_at: String::new(),
            updated_at: String::new(),
        };
        set.collections.push(c("a", scope.root()));
        set.collections.push(c("b", scope.slug("a")));
        assert!(set.would_cycle(&scope.slug("a"), &[scope.slug("b")]));
        assert!(set.would_cycle(&scope.slug("a"), &[scope.slug("a")]));
        assert!(!set.would_cycle(&scope.slug("b"), &[scope.root()]));
    }
}
