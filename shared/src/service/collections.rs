//! File collections (epilot's six operations): a user's of a schema, the
//! organisation's of a schema, and the files of an entity in one of them.

use uuid::Uuid;

use super::{Caller, FileService, ListedPage};
use crate::domain::{
    key_of_name, Collection, CollectionScope, CollectionSet, FileQuery, RelationTag,
    MAX_COLLECTIONS_PER_SCOPE,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, CollectionStore};

/// What a create or update sets; `None` leaves a field as it is (a create's defaults:
/// top level, not starred, enabled everywhere). Checked at the edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionFields {
    pub name: Option<String>,
    pub parents: Option<Vec<String>>,
    pub starred: Option<bool>,
    pub enabled_locations: Option<Vec<String>>,
    pub enabled_purposes: Option<Vec<String>>,
}

/// Whose collections a route names: the caller's own of a schema, or the organisation's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Caller,
    Organisation,
}

fn not_found(slug: &str) -> Error {
    Error::not_found(format!("collection {slug} not found"))
}

impl<B: Backend> FileService<B> {
    /// The scope of `owner`'s collections of `schema`; a user's need the token's `sub`.
    pub fn collection_scope(
        &self,
        caller: &Caller,
        owner: Owner,
        schema: &str,
    ) -> Result<CollectionScope> {
        match owner {
            Owner::Organisation => Ok(CollectionScope::global(schema)),
            Owner::Caller => match &caller.sub {
                Some(sub) => Ok(CollectionScope::user(caller.org.as_str(), schema, sub)),
                None => Err(Error::new(
                    ErrorCode::Forbidden,
                    "a user's collections need a token that names its user (sub)",
                )),
            },
        }
    }

    /// The slug a route's `collectionSlug` names in `scope`: the whole slug, or its key.
    fn slug_in(scope: &CollectionScope, given: &str) -> Result<String> {
        match CollectionScope::parse_slug(given) {
            Some((named, _)) if &named == scope => Ok(given.to_owned()),
            Some(_) => Err(not_found(given)),
            None => Ok(scope.slug(given)),
        }
    }

    async fn collection_set(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
    ) -> Result<CollectionSet> {
        let org = caller.org.as_str();
        Ok(self
            .files()
            .collections(org, scope)
            .await?
            .unwrap_or_else(|| CollectionSet::empty(org, scope.clone())))
    }

    /// The collections of `scope`, in their order.
    pub async fn collections(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
    ) -> Result<Vec<Collection>> {
        let mut collections = self.collection_set(caller, scope).await?.collections;
        collections.sort_by_key(|c| c.order);
        Ok(collections)
    }

    /// Reads the scope's collections, lets `change` change them, and writes them back
    /// if nobody wrote meanwhile (else again, as they now are).
    async fn change_collections<T>(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
        change: impl Fn(&mut CollectionSet) -> Result<T>,
    ) -> Result<T> {
        super::document::revise(
            "collections",
            || self.collection_set(caller, scope),
            |set, read| async move { self.files().put_collections(&set, read).await },
            change,
        )
        .await
    }

    /// A new collection: 409 when the scope has one of that name, 400 for parents
    /// that are not the scope's.
    pub async fn create_collection(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
        fields: CollectionFields,
    ) -> Result<Collection> {
        let name = fields
            .name
            .clone()
            .ok_or_else(|| Error::new(ErrorCode::InvalidBody, "name is required"))?;
        let key = key_of_name(&name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidBody,
                "name must hold at least one letter or digit",
            )
        })?;
        let now = self.clock.now_rfc3339();
        self.change_collections(caller, scope, |set| {
            if set.collections.len() >= MAX_COLLECTIONS_PER_SCOPE {
                return Err(Error::new(
                    ErrorCode::TooManyItems,
                    format!("a scope holds at most {MAX_COLLECTIONS_PER_SCOPE} collections"),
                ));
            }
            let slug = scope.slug(&key);
            unique_name(set, &name, &slug, None)?;
            let parents = fields.parents.clone().unwrap_or_else(|| vec![scope.root()]);
            check_parents(set, scope, &slug, &parents, &[])?;
            let collection = Collection {
                id: Uuid::new_v4(),
                slug,
                name: name.clone(),
                parents,
                starred: fields.starred.unwrap_or(false),
                order: set
                    .collections
                    .iter()
                    .map(|c| c.order + 1)
                    .max()
                    .unwrap_or(0),
                enabled_locations: fields.enabled_locations.clone().unwrap_or_default(),
                enabled_purposes: fields.enabled_purposes.clone().unwrap_or_default(),
                created_at: now.clone(),
                updated_at: now.clone(),
            };
            set.collections.push(collection.clone());
            Ok(collection)
        })
        .await
    }

    /// Changes the fields given; the slug stays, so the files tagged with it stay in.
    pub async fn update_collection(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
        given_slug: &str,
        fields: CollectionFields,
    ) -> Result<Collection> {
        let slug = Self::slug_in(scope, given_slug)?;
        let now = self.clock.now_rfc3339();
        self.change_collections(caller, scope, |set| {
            let existing = set
                .find(&slug)
                .cloned()
                .ok_or_else(|| not_found(given_slug))?;
            if let Some(name) = &fields.name {
                unique_name(set, name, &slug, Some(&slug))?;
            }
            if let Some(parents) = &fields.parents {
                check_parents(set, scope, &slug, parents, &existing.parents)?;
            }
            let collection = set
                .collections
                .iter_mut()
                .find(|c| c.slug == slug)
                .ok_or_else(|| not_found(given_slug))?;
            if let Some(name) = &fields.name {
                collection.name.clone_from(name);
            }
            if let Some(parents) = &fields.parents {
                collection.parents.clone_from(parents);
            }
            if let Some(starred) = fields.starred {
                collection.starred = starred;
            }
            if let Some(l) = &fields.enabled_locations {
                collection.enabled_locations.clone_from(l);
            }
            if let Some(p) = &fields.enabled_purposes {
                collection.enabled_purposes.clone_from(p);
            }
            collection.updated_at.clone_from(&now);
            Ok(collection.clone())
        })
        .await
    }

    /// Removes the collection; its files, and collections nested in it, stay as they are.
    pub async fn delete_collection(
        &self,
        caller: &Caller,
        scope: &CollectionScope,
        given_slug: &str,
    ) -> Result<Collection> {
        let slug = Self::slug_in(scope, given_slug)?;
        self.change_collections(caller, scope, |set| {
            let at = set
                .collections
                .iter()
                .position(|c| c.slug == slug)
                .ok_or_else(|| not_found(given_slug))?;
            Ok(set.collections.remove(at))
        })
        .await
    }

    /// getFilesInCollection: the caller's organisation's files whose relation to
    /// `entity_id` carries the collection's slug among its `_tags`, paged and sorted as
    /// `GET /v2/files`. 404 for a collection the caller cannot see (another user's, or
    /// none of that slug).
    pub async fn files_in_collection(
        &self,
        caller: &Caller,
        entity_id: &str,
        slug: &str,
        mut query: FileQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<ListedPage> {
        let (scope, _) = CollectionScope::parse_slug(slug).ok_or_else(|| {
            Error::not_found(format!(
                "collection {slug} not found: name it by its whole slug, as the collection lists give it"
            ))
        })?;
        if let CollectionScope::User { sub, .. } = &scope {
            if caller.sub.as_deref() != Some(sub.as_str()) {
                return Err(not_found(slug));
            }
        }
        let set = self.collection_set(caller, &scope).await?;
        if set.find(slug).is_none() {
            return Err(not_found(slug));
        }
        query.filters.relation_tag = Some(RelationTag {
            entity_id: entity_id.to_owned(),
            tag: slug.to_owned(),
        });
        self.list(caller, &query, limit, cursor).await
    }
}

/// 409 when another collection of the set (than `except`) has the name (whatever its
/// case) or the slug.
fn unique_name(set: &CollectionSet, name: &str, slug: &str, except: Option<&str>) -> Result<()> {
    let lower = name.trim().to_lowercase();
    let clash = set.collections.iter().any(|c| {
        Some(c.slug.as_str()) != except
            && (c.name.trim().to_lowercase() == lower || (except.is_none() && c.slug == slug))
    });
    match clash {
        true => Err(Error::conflict(format!(
            "a collection named {name:?} exists already here"
        ))),
        false => Ok(()),
    }
}

/// Parents must be the scope's root or its collections (those it had may stay, even if
/// deleted since), and must not make `slug` its own ancestor.
fn check_parents(
    set: &CollectionSet,
    scope: &CollectionScope,
    slug: &str,
    parents: &[String],
    had: &[String],
) -> Result<()> {
    let root = scope.root();
    for parent in parents {
        if parent != &root && set.find(parent).is_none() && !had.contains(parent) {
            return Err(Error::new(
                ErrorCode::InvalidBody,
                format!("parent {parent} is not a collection of this scope, nor its root {root}"),
            ));
        }
    }
    if set.would_cycle(slug, parents) {
        return Err(Error::new(
            ErrorCode::InvalidBody,
            "parents would make the collection its own ancestor",
        ));
    }
    Ok(())
}
