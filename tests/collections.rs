//! File collections over HTTP against the local stack: a user's and the organisation's,
//! their slugs, names and nesting, the files of an entity in one (by the collection's
//! slug in a relation's `_tags`), paged like `GET /v2/files`, and who sees what.

use integration_tests::{new_org, stack, Stack};
use reqwest::Method;
use serde_json::{json, Value};

fn id_of(file: &Value) -> String {
    file["_id"].as_str().unwrap().to_owned()
}

async fn create(s: &Stack, token: &str, path: &str, body: Value) -> Value {
    s.call_with(token, Method::POST, path, Some(body))
        .await
        .expect(201)
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

/// A file related to `entity`, its relation tagged with `tags`.
async fn file_in(s: &Stack, org: &str, name: &str, entity: &str, tags: &[&str]) -> String {
    let s3ref = s.upload(org, name, "text/plain", name.as_bytes()).await;
    id_of(
        &s.save(
            org,
            json!({"s3ref": s3ref, "filename": name,
                   "relations": [{"entity_id": entity, "_schema": "opportunity", "_tags": tags}]}),
        )
        .await
        .expect(201),
    )
}

/// Every page of an entity's files in a collection, `limit` at a time.
async fn files_in(s: &Stack, token: &str, entity: &str, slug: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..50 {
        let answer = s
            .call_with(
                token,
                Method::GET,
                &format!("/v1/entity/{entity}/collections/{slug}/files?{query}{cursor}"),
                None,
            )
            .await;
        let next = answer
            .headers
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let page = answer.expect(200);
        ids.extend(
            page.as_array()
                .expect("an array of files")
                .iter()
                .map(id_of),
        );
        match next {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
    panic!("the listing ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_users_collections_nest_keep_unique_names_and_hold_tagged_files() {
    let s = stack().await;
    let org = new_org();
    let me = s.token_as(&org, "user-1");
    let contracts = create(
        &s,
        &me,
        "/v1/opportunity/collections",
        json!({"name": "Contracts", "starred": true, "enabled_purposes": ["p1"]}),
    )
    .await;
    let slug = contracts["slug"].as_str().unwrap().to_owned();
    assert!(
        slug.starts_with("_system_files_collection_") && slug.ends_with("_user-1:contracts"),
        "the client's user slug format: {slug}"
    );
    let root = slug.rsplit_once(':').unwrap().0.to_owned();
    assert_eq!(contracts["starred"], true);
    assert_eq!(
        contracts["parents"],
        json!([root]),
        "top level: the scope's root"
    );
    assert_eq!(contracts["enabled_purposes"], json!(["p1"]));
    uuid::Uuid::parse_str(contracts["id"].as_str().unwrap()).expect("a uuid id");

    // Names are unique in the scope, whatever their case: 409.
    let twice = s
        .call_with(
            &me,
            Method::POST,
            "/v1/opportunity/collections",
            Some(json!({"name": "contracts"})),
        )
        .await;
    assert_eq!(twice.expect_error(409), "conflict");
    // Nested under it, and under the scope's root.
    let signed = create(
        &s,
        &me,
        "/v1/opportunity/collections",
        json!({"name": "Signed 2026", "parents": [slug]}),
    )
    .await;
    let signed_slug = signed["slug"].as_str().unwrap().to_owned();
    assert!(signed_slug.ends_with(":signed_2026"), "{signed_slug}");
    create(
        &s,
        &me,
        "/v1/opportunity/collections",
        json!({"name": "Drafts", "parents": [root]}),
    )
    .await;
    // A cycle, an unknown parent, another scope's parent: 400.
    for (path, body) in [
        (
            format!("/v1/opportunity/collections/{slug}"),
            json!({"parents": [signed_slug]}),
        ),
        (
            "/v1/opportunity/collections/contracts".to_owned(),
            json!({"parents": ["contracts"]}),
        ),
        (
            "/v1/opportunity/collections".to_owned(),
            json!({"name": "Lost", "parents": [format!("{root}:nothing")]}),
        ),
        (
            "/v1/opportunity/collections".to_owned(),
            json!({"name": "Elsewhere", "parents": ["_system_files_collection_schema_order:x"]}),
        ),
    ] {
        let method = if path.ends_with("collections") {
            Method::POST
        } else {
            Method::PUT
        };
        let answer = s.call_with(&me, method, &path, Some(body.clone())).await;
        assert_eq!(answer.status, 400, "{path} {body}: {}", answer.json);
        answer.expect_error(400);
    }
    // Renamed by key or by whole slug; the slug stays.
    let renamed = s
        .call_with(
            &me,
            Method::PUT,
            "/v1/opportunity/collections/contracts",
            Some(json!({"name": "Agreements", "starred": false})),
        )
        .await
        .expect(200);
    assert_eq!(renamed["slug"], slug.as_str());
    assert_eq!(renamed["name"], "Agreements");
    assert_eq!(renamed["starred"], false);
    assert_eq!(renamed["enabled_purposes"], json!(["p1"]), "kept");
    let clash = s
        .call_with(
            &me,
            Method::PUT,
            &format!("/v1/opportunity/collections/{signed_slug}"),
            Some(json!({"name": "AGREEMENTS"})),
        )
        .await;
    assert_eq!(clash.expect_error(409), "conflict");
    let mine = s
        .call_with(&me, Method::GET, "/v1/opportunity/collections", None)
        .await
        .expect(200);
    assert_eq!(names(&mine), ["Agreements", "Signed 2026", "Drafts"]);
    // Another schema is another scope.
    let orders = s
        .call_with(&me, Method::GET, "/v1/order/collections", None)
        .await
        .expect(200);
    assert_eq!(orders, json!([]));

    // Files of an entity in it: tagged on the relation to that entity, paged.
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(file_in(&s, &org, &format!("c{i}.txt"), "deal-1", &[&slug]).await);
    }
    file_in(&s, &org, "other-entity.txt", "deal-2", &[&slug]).await;
    file_in(&s, &org, "untagged.txt", "deal-1", &["something-else"]).await;
    file_in(&s, &org, "nested.txt", "deal-1", &[&signed_slug]).await;
    let mut listed = files_in(&s, &me, "deal-1", &slug, "limit=2&sort=filename&order=asc").await;
    assert_eq!(listed, expected, "by filename, two at a time");
    listed = files_in(&s, &me, "deal-1", &slug, "limit=50").await;
    listed.reverse();
    assert_eq!(listed, expected, "newest first by default");
    assert_eq!(
        files_in(&s, &me, "deal-1", &slug, "q=c3").await,
        [expected[3].clone()],
        "and filtered like GET /v2/files"
    );
    // Only by the whole slug.
    let by_key = s
        .call_with(
            &me,
            Method::GET,
            "/v1/entity/deal-1/collections/contracts/files",
            None,
        )
        .await;
    assert_eq!(by_key.expect_error(404), "not_found");
    // A file in the trash is in no collection.
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{}", expected[0]),
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        files_in(&s, &me, "deal-1", &slug, "sort=filename&order=asc").await,
        expected[1..]
    );

    // Deleting the collection keeps its files; they no longer match.
    let deleted = s
        .call_with(
            &me,
            Method::DELETE,
            "/v1/opportunity/collections/contracts",
            None,
        )
        .await
        .expect(200);
    assert_eq!(deleted["slug"], slug.as_str());
    let gone = s
        .call_with(
            &me,
            Method::GET,
            &format!("/v1/entity/deal-1/collections/{slug}/files"),
            None,
        )
        .await;
    assert_eq!(gone.expect_error(404), "not_found");
    for id in &expected[1..] {
        let file = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .expect(200);
        assert_eq!(file["relations"][0]["_tags"], json!([slug]));
    }
    let again = s
        .call_with(
            &me,
            Method::DELETE,
            "/v1/opportunity/collections/contracts",
            None,
        )
        .await;
    assert_eq!(again.expect_error(404), "not_found");
    // The name is free again.
    create(
        &s,
        &me,
        "/v1/opportunity/collections",
        json!({"name": "Agreements"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_see_their_own_collections_and_the_organisations_and_others_see_nothing() {
    let s = stack().await;
    let (org, other_org) = (new_org(), new_org());
    let (alice, bob) = (s.token_as(&org, "alice"), s.token_as(&org, "bob"));
    let stranger = s.token_as(&other_org, "alice");
    let private = create(
        &s,
        &alice,
        "/v1/opportunity/collections",
        json!({"name": "Mine"}),
    )
    .await;
    let private_slug = private["slug"].as_str().unwrap().to_owned();
    let global = create(
        &s,
        &alice,
        "/v1/collections/opportunity",
        json!({"name": "Templates"}),
    )
    .await;
    let global_slug = global["slug"].as_str().unwrap().to_owned();
    assert_eq!(
        global_slug, "_system_files_collection_schema_opportunity:templates",
        "the client's global slug format"
    );
    file_in(&s, &org, "t.txt", "deal-1", &[&global_slug, &private_slug]).await;

    // Bob: none of Alice's own, but the organisation's.
    let bobs = s
        .call_with(&bob, Method::GET, "/v1/opportunity/collections", None)
        .await
        .expect(200);
    assert_eq!(bobs, json!([]));
    let globals = s
        .call_with(&bob, Method::GET, "/v1/collections/opportunity", None)
        .await
        .expect(200);
    assert_eq!(names(&globals), ["Templates"]);
    assert_eq!(
        files_in(&s, &bob, "deal-1", &global_slug, "").await.len(),
        1
    );
    for (method, path) in [
        (
            Method::GET,
            format!("/v1/entity/deal-1/collections/{private_slug}/files"),
        ),
        (
            Method::PUT,
            format!("/v1/opportunity/collections/{private_slug}"),
        ),
        (
            Method::DELETE,
            format!("/v1/opportunity/collections/{private_slug}"),
        ),
    ] {
        let answer = s
            .call_with(&bob, method.clone(), &path, Some(json!({"name": "x"})))
            .await;
        assert_eq!(answer.expect_error(404), "not_found", "{method} {path}");
    }
    // Bob's own collection of that name is his, beside Alice's.
    create(
        &s,
        &bob,
        "/v1/opportunity/collections",
        json!({"name": "Mine"}),
    )
    .await;
    // Another organisation: nothing, on every route.
    for path in ["/v1/opportunity/collections", "/v1/collections/opportunity"] {
        let answer = s
            .call_with(&stranger, Method::GET, path, None)
            .await
            .expect(200);
        assert_eq!(answer, json!([]), "{path}");
    }
    for (method, path) in [
        (
            Method::GET,
            format!("/v1/entity/deal-1/collections/{global_slug}/files"),
        ),
        (
            Method::GET,
            format!("/v1/entity/deal-1/collections/{private_slug}/files"),
        ),
        (
            Method::PUT,
            "/v1/collections/opportunity/templates".to_owned(),
        ),
        (
            Method::DELETE,
            "/v1/collections/opportunity/templates".to_owned(),
        ),
        (
            Method::PUT,
            format!("/v1/opportunity/collections/{private_slug}"),
        ),
    ] {
        let answer = s
            .call_with(&stranger, method.clone(), &path, Some(json!({"name": "x"})))
            .await;
        assert_eq!(answer.expect_error(404), "not_found", "{method} {path}");
    }
    // Global collections are changed and deleted by the organisation's tokens.
    let renamed = s
        .call_with(
            &bob,
            Method::PUT,
            "/v1/collections/opportunity/templates",
            Some(json!({"name": "Forms"})),
        )
        .await
        .expect(200);
    assert_eq!(renamed["slug"], global_slug.as_str());
    s.call_with(
        &bob,
        Method::DELETE,
        &format!("/v1/collections/opportunity/{global_slug}"),
        None,
    )
    .await
    .expect(200);
    let globals = s
        .call_with(&alice, Method::GET, "/v1/collections/opportunity", None)
        .await
        .expect(200);
    assert_eq!(globals, json!([]));
    // Alice's own is still hers.
    let alices = s
        .call_with(&alice, Method::GET, "/v1/opportunity/collections", None)
        .await
        .expect(200);
    assert_eq!(names(&alices), ["Mine"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_collection_input_answers_4xx_json() {
    let s = stack().await;
    let org = new_org();
    let me = s.token_as(&org, "user-1");
    let raw = |method: Method, path: &str, body: &'static str| {
        s.http
            .request(method, s.url(path))
            .bearer_auth(&me)
            .header("content-type", "application/json")
            .body(body)
    };
    for (method, path, body, status) in [
        (Method::POST, "/v1/opportunity/collections", "not json", 400),
        (Method::POST, "/v1/opportunity/collections", "{}", 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":""}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":"   "}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":7}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":"a","starred":"yes"}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":"a","parents":"p"}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":"a","colour":"red"}"#, 400),
        (Method::POST, "/v1/opportunity/collections", r#"{"name":"!!!"}"#, 400),
        (Method::POST, "/v1/bad%20schema/collections", r#"{"name":"a"}"#, 400),
        (Method::GET, "/v1/bad%20schema/collections", "", 400),
        (Method::GET, "/v1/collections/bad%20schema", "", 400),
        (Method::PUT, "/v1/opportunity/collections/none", r#"{"name":"a"}"#, 404),
        (Method::PUT, "/v1/opportunity/collections/none", "[]", 400),
        (Method::DELETE, "/v1/opportunity/collections/none", "", 404),
        (Method::GET, "/v1/entity/deal-1/collections/nonsense/files", "", 404),
        (
            Method::GET,
            "/v1/entity/deal-1/collections/_system_files_collection_schema_opportunity:x/files?limit=0",
            "",
            400,
        ),
    ] {
        let answer = s.send(raw(method.clone(), path, body)).await;
        assert_eq!(answer.status, status, "{method} {path} {body}: {}", answer.json);
        answer.expect_error(status);
    }
    // A token without a user has no user collections (403), but the organisation's.
    let now = shared::time::Clock::system().now_millis() / 1000;
    let claims = json!({"org_id": org, "iss": s.jwt.issuer, "aud": s.jwt.audiences()[0],
                        "iat": now, "exp": now + 600});
    let userless = local_api::jwt::sign_hs256(claims.as_object().unwrap(), &s.jwt.secret);
    let answer = s
        .call_with(&userless, Method::GET, "/v1/opportunity/collections", None)
        .await;
    assert_eq!(answer.expect_error(403), "forbidden");
    s.call_with(&userless, Method::GET, "/v1/collections/opportunity", None)
        .await
        .expect(200);
    // Without a token: 401 on every route.
    for (method, path) in [
        (Method::GET, "/v1/opportunity/collections"),
        (Method::POST, "/v1/opportunity/collections"),
        (Method::PUT, "/v1/opportunity/collections/a"),
        (Method::DELETE, "/v1/opportunity/collections/a"),
        (Method::GET, "/v1/collections/opportunity"),
        (Method::POST, "/v1/collections/opportunity"),
        (Method::PUT, "/v1/collections/opportunity/a"),
        (Method::DELETE, "/v1/collections/opportunity/a"),
        (Method::GET, "/v1/entity/e/collections/a/files"),
    ] {
        let answer = s.send(s.http.request(method.clone(), s.url(path))).await;
        assert_eq!(answer.expect_error(401), "unauthorized", "{method} {path}");
    }
}
