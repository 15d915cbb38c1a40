//! epilot's file collections: a user's (`/v1/{slug}/collections...`), the
//! organisation's (`/v1/collections/{schemaSlug}...`; epilot's client only reads them,
//! here any token of the organisation may also create, change and delete them), and
//! the files of an entity in one (`/v1/entity/{id}/collections/{collectionSlug}/files`).

use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value};

use super::browse::file_list_request;
use super::request::{json, BaseUrl, QueryMap, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::FileEntity;
use crate::domain::{is_schema, Collection, MAX_COLLECTION_NAME_CHARS};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, ObjectStore};
use crate::service::{Caller, CollectionFields, Owner};

/// Most parents, locations or purposes one collection names, and their longest.
const MAX_LIST_ITEMS: usize = 100;
const MAX_ITEM_CHARS: usize = 512;
/// Fields of a collection's answer that a client may send back unchanged.
const READ_ONLY: &[&str] = &["id", "slug", "order", "created_at", "updated_at"];

/// A collection as the client's `FileCollectionItem`.
#[derive(Serialize)]
struct CollectionJson<'a> {
    slug: &'a str,
    name: &'a str,
    id: uuid::Uuid,
    parents: &'a [String],
    starred: bool,
    order: u64,
    enabled_locations: &'a [String],
    enabled_purposes: &'a [String],
    created_at: &'a str,
    updated_at: &'a str,
}

impl<'a> From<&'a Collection> for CollectionJson<'a> {
    fn from(c: &'a Collection) -> Self {
        CollectionJson {
            slug: &c.slug,
            name: &c.name,
            id: c.id,
            parents: &c.parents,
            starred: c.starred,
            order: c.order,
            enabled_locations: &c.enabled_locations,
            enabled_purposes: &c.enabled_purposes,
            created_at: &c.created_at,
            updated_at: &c.updated_at,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidBody, message.into())
}

/// A schema slug from the path: 400 unless letters, digits, `_` and `-`.
fn schema(path: &Segments, name: &str) -> Result<String> {
    let schema = path.text(name);
    if !is_schema(schema) {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "the schema slug must be 1 to 64 letters, digits, _ or -",
        ));
    }
    Ok(schema.to_owned())
}

fn strings(body: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    let Some(value) = body.get(name) else {
        return Ok(None);
    };
    let bad = || {
        invalid(format!("{name} must be a list of at most {MAX_LIST_ITEMS} strings, each 1 to {MAX_ITEM_CHARS} characters"))
    };
    let items = value.as_array().ok_or_else(bad)?;
    if items.len() > MAX_LIST_ITEMS {
        return Err(bad());
    }
    items
        .iter()
        .map(|v| match v.as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= MAX_ITEM_CHARS => Ok(s.to_owned()),
            _ => Err(bad()),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The client's `FileCollectionAttributes`, checked.
pub(super) fn collection_fields(body: &[u8]) -> Result<CollectionFields> {
    let body: Map<String, Value> = json(body)?;
    let known = [
        "name",
        "parents",
        "starred",
        "enabled_locations",
        "enabled_purposes",
    ];
    if let Some(unknown) = body
        .keys()
        .find(|k| !known.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "unknown field {unknown:?}; a collection has {}",
            known.join(", ")
        )));
    }
    let name = match body.get("name") {
        None => None,
        Some(Value::String(name))
            if !name.trim().is_empty() && name.chars().count() <= MAX_COLLECTION_NAME_CHARS =>
        {
            Some(name.trim().to_owned())
        }
        Some(_) => {
            return Err(invalid(format!(
                "name must be a string of 1 to {MAX_COLLECTION_NAME_CHARS} characters"
            )))
        }
    };
    let starred = match body.get("starred") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid("starred must be true or false")),
    };
    Ok(CollectionFields {
        name,
        parents: strings(&body, "parents")?,
        starred,
        enabled_locations: strings(&body, "enabled_locations")?,
        enabled_purposes: strings(&body, "enabled_purposes")?,
    })
}

async fn list<B: Backend>(s: &Api<B>, caller: &Caller, owner: Owner, schema: &str) -> Answer {
    let scope = s.collection_scope(caller, owner, schema)?;
    let collections = s.collections(caller, &scope).await?;
    Reply::ok(
        &collections
            .iter()
            .map(CollectionJson::from)
            .collect::<Vec<_>>(),
    )
}

async fn create<B: Backend>(
    s: &Api<B>,
    caller: &Caller,
    owner: Owner,
    schema: &str,
    body: &[u8],
) -> Answer {
    let fields = collection_fields(body)?;
    let scope = s.collection_scope(caller, owner, schema)?;
    let created = s.create_collection(caller, &scope, fields).await?;
    Reply::created(&CollectionJson::from(&created))
}

async fn update<B: Backend>(
    s: &Api<B>,
    caller: &Caller,
    owner: Owner,
    schema: &str,
    slug: &str,
    body: &[u8],
) -> Answer {
    let fields = collection_fields(body)?;
    let scope = s.collection_scope(caller, owner, schema)?;
    let updated = s.update_collection(caller, &scope, slug, fields).await?;
    Reply::ok(&CollectionJson::from(&updated))
}

async fn delete<B: Backend>(
    s: &Api<B>,
    caller: &Caller,
    owner: Owner,
    schema: &str,
    slug: &str,
) -> Answer {
    let scope = s.collection_scope(caller, owner, schema)?;
    let deleted = s.delete_collection(caller, &scope, slug).await?;
    Reply::ok(&CollectionJson::from(&deleted))
}

pub(super) async fn user_collections<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    list(&s, &caller, Owner::Caller, &schema(&path, "slug")?).await
}

pub(super) async fn create_user_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    body: Bytes,
) -> Answer {
    create(&s, &caller, Owner::Caller, &schema(&path, "slug")?, &body).await
}

pub(super) async fn update_user_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    body: Bytes,
) -> Answer {
    let schema = schema(&path, "slug")?;
    let slug = path.text("collectionSlug");
    update(&s, &caller, Owner::Caller, &schema, slug, &body).await
}

pub(super) async fn delete_user_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let schema = schema(&path, "slug")?;
    delete(
        &s,
        &caller,
        Owner::Caller,
        &schema,
        path.text("collectionSlug"),
    )
    .await
}

pub(super) async fn global_collections<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    list(
        &s,
        &caller,
        Owner::Organisation,
        &schema(&path, "schemaSlug")?,
    )
    .await
}

pub(super) async fn create_global_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    body: Bytes,
) -> Answer {
    let schema = schema(&path, "schemaSlug")?;
    create(&s, &caller, Owner::Organisation, &schema, &body).await
}

pub(super) async fn update_global_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
    body: Bytes,
) -> Answer {
    let schema = schema(&path, "schemaSlug")?;
    let slug = path.text("collectionSlug");
    update(&s, &caller, Owner::Organisation, &schema, slug, &body).await
}

pub(super) async fn delete_global_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    path: Segments,
) -> Answer {
    let schema = schema(&path, "schemaSlug")?;
    let slug = path.text("collectionSlug");
    delete(&s, &caller, Owner::Organisation, &schema, slug).await
}

/// getFilesInCollection: an array of file entities (the client's shape), paged and
/// sorted as `GET /v2/files` (`limit`, `cursor`, `sort`, `order`, and its filters); the
/// next page's cursor in `X-Next-Cursor`.
pub(super) async fn files_in_collection<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    QueryMap(query): QueryMap,
    path: Segments,
) -> Answer {
    let (query, limit, cursor) = file_list_request(&query)?;
    let entity = path.id();
    if entity.is_empty() || entity.len() > 256 {
        return Err(Error::new(
            ErrorCode::InvalidId,
            "the entity id must be 1 to 256 characters",
        ));
    }
    let page = s
        .files_in_collection(
            &caller,
            entity,
            path.text("collectionSlug"),
            query,
            limit,
            cursor.as_deref(),
        )
        .await?;
    let bucket = s.store().bucket();
    let files: Vec<FileEntity> = page
        .items
        .iter()
        .map(|r| FileEntity::new(r, bucket, &base))
        .collect();
    let reply = Reply::ok(&files)?;
    Ok(match page.next_cursor {
        Some(next) => Reply::WithNextCursor(next, Box::new(reply)),
        None => reply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_bodies_are_checked() {
        let fields = collection_fields(
            br#"{"name":" Contracts ","starred":true,"parents":["p"],"slug":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(fields.name.as_deref(), Some("Contracts"));
        assert_eq!(fields.starred, Some(true));
        assert_eq!(fields.parents, Some(vec!["p".to_owned()]));
        for bad in [
            &br#"{"name":""}"#[..],
            br#"{"name":3}"#,
            br#"{"starred":"yes"}"#,
            br#"{"parents":"p"}"#,
            br#"{"parents":[""]}"#,
            br#"{"colour":"blue"}"#,
            br#"[]"#,
            b"not json",
        ] {
            let err = collection_fields(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
        let long = format!(
            r#"{{"name":"{}"}}"#,
            "x".repeat(MAX_COLLECTION_NAME_CHARS + 1)
        );
        assert!(collection_fields(long.as_bytes()).is_err());
    }
}
