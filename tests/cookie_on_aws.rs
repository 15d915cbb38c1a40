//! How the content route checks its token on AWS, where it has no authorizer at API
//! Gateway (the HTTP API's JWT authorizer reads only a header, and a browser's `<img>`
//! sends the session cookie): the download function verifies the token itself, with the
//! issuer's keys found by OpenID Connect discovery, as the authorizer would. Here an
//! issuer is served locally (discovery document and key set, RS256 and ES256 keys) and
//! API Gateway's event (`events/content.json`: no authorizer, a `Cookie` header) goes
//! straight into the handler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use integration_tests::{config, new_org, stack};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};
use shared::api::{handle, Function};
use shared::auth::{KeySetUrl, TokenVerifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SAMPLE_ID: &str = "4ffdc191-f32c-404a-8520-c403b7408afa";
const AUDIENCE: &str = "file-service-client";

/// An issuer on 127.0.0.1: `/.well-known/openid-configuration` and `/keys`; counts how
/// often the key set is read.
async fn issuer(keys: Value) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let reads = Arc::new(AtomicUsize::new(0));
    let (served, counter) = (base.clone(), reads.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = vec![0u8; 4096];
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buffer[..n]).to_string();
            let body = if head.starts_with("GET /.well-known/openid-configuration ") {
                json!({"issuer": served, "jwks_uri": format!("{served}/keys")}).to_string()
            } else if head.starts_with("GET /keys ") {
                counter.fetch_add(1, Ordering::SeqCst);
                keys.to_string()
            } else {
                String::new()
            };
            let status = if body.is_empty() {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (base, reads)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn claims(issuer: &str, org: &str, exp_in: i64) -> Value {
    let now = shared::time::Clock::system().now_millis() / 1000;
    json!({"iss": issuer, "aud": AUDIENCE, "sub": "user-1", "org_id": org, "iat": now, "exp": now + exp_in})
}

fn signing_input(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

fn rs256(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    let input = signing_input(json!({"alg": "RS256", "kid": kid, "typ": "JWT"}), claims);
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

fn es256(key: &EcdsaKeyPair, kid: &str, claims: &Value) -> String {
    let input = signing_input(json!({"alg": "ES256", "kid": kid, "typ": "JWT"}), claims);
    let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig.as_ref()))
}

fn ec_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let der = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(alg, der.as_ref(), &rng).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_function_checks_the_session_cookie_with_the_issuers_keys() {
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/jwks-test-rsa.pk8"
    ))
    .expect("the test RSA key");
    let rsa = RsaKeyPair::from_pkcs8(&fixture).unwrap();
    let (ec, stranger_ec) = (ec_key(), ec_key());
    let point = ec.public_key().as_ref().to_vec();
    let rsa_public: signature::RsaPublicKeyComponents<Vec<u8>> = rsa.public().into();
    let keys = json!({"keys": [
        {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig",
         "n": b64(&rsa_public.n), "e": b64(&rsa_public.e)},
        {"kty": "EC", "kid": "ec-1", "crv": "P-256", "use": "sig",
         "x": b64(&point[1..33]), "y": b64(&point[33..])},
    ]});
    let (issuer_url, reads) = issuer(keys).await;

    // A file to ask for, saved through the local stack.
    let s = stack().await;
    let org = new_org();
    let file = s.new_file(&org, "photo.png", "image/png", b"bytes").await;
    let id = file["_id"].as_str().unwrap().to_owned();

    // The download function as deployed: JWT_ISSUER, JWT_AUDIENCE, discovery.
    let mut config = config();
    config.public_base_url = Some("https://files.example.com".into());
    config.tokens = Some(
        TokenVerifier::remote(&issuer_url, &[AUDIENCE.to_owned()], KeySetUrl::Discovered).unwrap(),
    );
    let service = Arc::new(shared::aws_service(config, integration_tests::clients()));
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/content.json"
    ))
    .unwrap();
    let invoke = |cookie: String| {
        let text = event
            .replace(SAMPLE_ID, &id)
            .replace("token=REPLACE_WITH_A_SESSION_TOKEN", &cookie);
        let request = lambda_http::request::from_str(&text).expect("an API Gateway event");
        let service = &service;
        async move {
            let response = handle(service, Function::Download, request).await;
            let status = response.status().as_u16();
            let body: Value =
                serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
            (status, response.headers().get("location").is_some(), body)
        }
    };
    let good = claims(&issuer_url, &org, 600);
    // RS256 and ES256 from the issuer's set: a redirect to the bytes.
    for token in [rs256(&rsa, "rsa-1", &good), es256(&ec, "ec-1", &good)] {
        let (status, redirected, body) = invoke(format!("token={token}")).await;
        assert_eq!((status, redirected), (302, true), "{body}");
    }
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "the key set is read once and kept"
    );
    // Refused: a key the issuer does not publish, a signature by another key under a
    // published kid, another issuer, another audience, expired, the algorithm switched
    // (HS256 keyed with public material, or none), no cookie at all.
    let mut foreign_issuer = good.clone();
    foreign_issuer["iss"] = json!("https://evil.example.com");
    let mut foreign_audience = good.clone();
    foreign_audience["aud"] = json!("another-client");
    let unsigned = format!(
        "{}.",
        signing_input(json!({"alg": "none", "kid": "rsa-1"}), &good)
    );
    let hs256 = {
        let input = signing_input(json!({"alg": "HS256", "kid": "rsa-1"}), &good);
        format!("{input}.{}", b64(b"not a signature of the issuer's"))
    };
    for (what, cookie) in [
        (
            "unpublished kid",
            format!("token={}", es256(&ec, "ec-2", &good)),
        ),
        (
            "forged",
            format!("token={}", es256(&stranger_ec, "ec-1", &good)),
        ),
        (
            "another issuer",
            format!("token={}", rs256(&rsa, "rsa-1", &foreign_issuer)),
        ),
        (
            "another audience",
            format!("token={}", rs256(&rsa, "rsa-1", &foreign_audience)),
        ),
        (
            "expired",
            format!(
                "token={}",
                rs256(&rsa, "rsa-1", &claims(&issuer_url, &org, -10))
            ),
        ),
        ("alg none", format!("token={unsigned}")),
        ("alg HS256", format!("token={hs256}")),
        ("no cookie", "theme=dark".to_owned()),
    ] {
        let (status, _, body) = invoke(cookie).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"], "unauthorized", "{what}");
    }
    // A good token of another organisation: the file is not found.
    let theirs = rs256(&rsa, "rsa-1", &claims(&issuer_url, &new_org(), 600));
    assert_eq!(invoke(format!("token={theirs}")).await.0, 404);
    // An unknown kid may mean the keys rotated, but the set is read again at most once
    // a minute: tokens with made-up kids cannot make the function hammer the issuer.
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}
