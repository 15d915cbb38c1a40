//! Checks of `CollectionStore`.

use uuid::Uuid;

use crate::domain::{Collection, CollectionScope, CollectionSet};
use crate::error::ErrorCode;
use crate::ports::CollectionStore;

fn collection(scope: &CollectionScope, key: &str) -> Collection {
    Collection {
        id: Uuid::new_v4(),
        slug: scope.slug(key),
        name: key.to_uppercase(),
        parents: vec![scope.root()],
        starred: false,
        order: 0,
        enabled_locations: vec!["a".into()],
        enabled_purposes: vec![],
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

fn code<T: std::fmt::Debug>(result: crate::ports::StoreResult<T>) -> ErrorCode {
    crate::Error::from(result.expect_err("an error")).code()
}

pub async fn collections_round_trip_on_their_revision<R: CollectionStore>(repo: &R, org: &str) {
    let scope = CollectionScope::user(org, "order", "user-1");
    assert_eq!(repo.collections(org, &scope).await.unwrap(), None);
    let mut set = CollectionSet::empty(org, scope.clone());
    set.collections.push(collection(&scope, "documents"));
    set.revision = 1;
    repo.put_collections(&set, 0).await.unwrap();
    assert_eq!(
        repo.collections(org, &scope).await.unwrap(),
        Some(set.clone())
    );
    assert_eq!(
        code(repo.put_collections(&set, 0).await),
        ErrorCode::Conflict,
        "a second first write loses"
    );
    let mut next = set.clone();
    next.collections.push(collection(&scope, "contracts"));
    next.revision = 2;
    repo.put_collections(&next, 1).await.unwrap();
    let mut stale = set.clone();
    stale.revision = 2;
    stale.collections.clear();
    assert_eq!(
        code(repo.put_collections(&stale, 1).await),
        ErrorCode::Conflict,
        "a write on an old revision loses"
    );
    assert_eq!(repo.collections(org, &scope).await.unwrap(), Some(next));
}

pub async fn scopes_and_organisations_are_apart<R: CollectionStore>(repo: &R, org: &str) {
    let mine = CollectionScope::user(org, "order", "user-1");
    let global = CollectionScope::global("order");
    let mut set = CollectionSet::empty(org, global.clone());
    set.collections.push(collection(&global, "templates"));
    set.revision = 1;
    repo.put_collections(&set, 0).await.unwrap();
    assert_eq!(repo.collections(org, &mine).await.unwrap(), None);
    let other = format!("{org}-other");
    assert_eq!(repo.collections(&other, &global).await.unwrap(), None);
    assert_eq!(
        repo.collections(org, &CollectionScope::user(org, "order", "user-2"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(repo.collections(org, &global).await.unwrap(), Some(set));
}
