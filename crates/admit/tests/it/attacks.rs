//! The attack suite: one test (or one table) per attack of RFC 9700 §4 (OAuth 2.0
//! Security BCP) and RFC 8725 §2 (JWT BCP) that applies to admit, run against the real
//! server on a loopback port, and against `admit-resource` guarding an axum route on
//! another. Each test's doc comment names the attack, the RFC section it comes from and
//! the behaviour that defeats it; each asserts the precise status, error code and
//! headers, so that a regression makes it fail. An attack found to succeed is kept as
//! a test marked `#[ignore = "VULN: ..."]` until the server is fixed.
//!
//! Forged JWTs are signed either with an attacker's key or, to isolate a single claim
//! or header check, with admit's own current key read from the test server's database
//! (what an attacker cannot do, and exactly what shows that check alone refuses it).

mod code;
mod forms;
mod input;
mod jwt;
mod redirect;

use admit_jose::{Algorithm, SigningKey};
use admit_resource::{Authenticated, BearerLayer, VerifierBuilder};
use admit_server::keyring::Keyring;
use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::browser::param;
use crate::code_flow::{CB, Flow, authorize_url};
use crate::harness::{PASSWORD, TestServer};

/// admit's signing keys, loaded from the test server's database with its master key.
async fn admit_keys(t: &TestServer) -> Keyring {
    let store = admit_store::Store::connect(&t.database_url())
        .await
        .unwrap();
    let master = admit_server::master_key::MasterKey::load(None, t.dir.path()).unwrap();
    let keys = Keyring::load(&store, &master, Algorithm::EdDSA, None)
        .await
        .unwrap();
    store.close().await;
    keys
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// A compact JWS of exactly these header and payload bytes, signed by `key`.
fn jws(header: &str, payload: &[u8], key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature))
}

/// The header and claims of a compact JWS, unverified.
fn parts(token: &str) -> (Value, Value) {
    let mut it = token
        .split('.')
        .map(|p| serde_json::from_slice(&unb64(p)).unwrap_or_default());
    (it.next().unwrap(), it.next().unwrap())
}

/// `base` with the members of `changes` set, or removed where they are `null`.
fn merged(base: &Value, changes: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in changes.as_object().unwrap() {
        match v {
            Value::Null => out.as_object_mut().unwrap().remove(k),
            v => out.as_object_mut().unwrap().insert(k.clone(), v.clone()),
        };
    }
    out
}

/// Serves `router` on a loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// A route guarded by `admit-resource` with the verifier `builder` makes; its URL.
async fn guarded_api(builder: VerifierBuilder) -> String {
    let verifier = builder.build().await.unwrap();
    let api = Router::new()
        .route(
            "/data",
            get(|Authenticated(c): Authenticated| async move { c.sub.clone() }),
        )
        .route_layer(BearerLayer::new(verifier));
    format!("{}/data", serve(api).await)
}

/// Presents `token` as `Authorization: Bearer`; the status and the challenge.
async fn present(http: &reqwest::Client, url: &str, token: &str) -> (u16, String) {
    let response = http.get(url).bearer_auth(token).send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

/// RFC 6750 §3.1: a refused token is 401 with `error="invalid_token"` in the challenge.
fn assert_invalid_token((status, challenge): (u16, String), name: &str) {
    assert_eq!(status, 401, "{name}");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{name}: {challenge}"
    );
}

/// Logs alice in (and consents) for `client_id` in the flow's browser; returns the code.
async fn code_for(f: &mut Flow, client_id: &str) -> String {
    let mut page = f
        .browser
        .get(&authorize_url(&f.t.base, client_id, ""))
        .await;
    if page.body.contains("name=\"password\"") {
        page = f.login(&page, "alice", PASSWORD).await;
    }
    if page.body.contains("name=\"decision\"") {
        page = f.consent(&page, "approve").await;
    }
    assert_eq!(page.status, 303, "{}", page.body);
    param(&page.location(), "code").expect("a code")
}

/// A token request for `client` (id and secret, or a public client's id alone).
async fn grant(
    t: &TestServer,
    (id, secret): (&str, Option<&str>),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = form.to_vec();
    if secret.is_none() {
        form.push(("client_id", id));
    }
    let (status, _, body) = t.token(secret.map(|s| (id, s)), &form).await;
    (status, body)
}

/// Redeems `code` at the token endpoint with `CB`.
async fn redeem(
    t: &TestServer,
    client: (&str, Option<&str>),
    code: &str,
    verifier: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    grant(t, client, &form).await
}

fn assert_oauth_error((status, body): (u16, Value), expected: (u16, &str), name: &str) {
    assert_eq!(
        (status, body["error"].as_str()),
        (expected.0, Some(expected.1)),
        "{name}: {body}"
    );
}
