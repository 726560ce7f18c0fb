//! The ceilings a token endpoint and a resource server can reach on this machine: a
//! minimal axum server whose `POST /token` signs a fixed JWT with a kept key of the
//! same algorithm admit uses and answers it as JSON, and, given admit's JWKS in a
//! file, whose `GET /verify` checks a Bearer JWT's signature against it and answers
//! its `sub`. `bench/load.sh` drives both in the same run as admit's client-credentials
//! grant and a guarded route, and compares requests per server CPU-second.
//!
//! `cargo run --release -p admit-server --example sign_baseline -- 127.0.0.1:18090 EdDSA [JWKS_FILE]`

use std::sync::Arc;

use admit_jose::{Algorithm, SigningKey};
use admit_jose::{JwkSet, KeySet, UnverifiedJwt};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:18090".to_owned());
    let alg: Algorithm = args
        .next()
        .unwrap_or_else(|| "EdDSA".to_owned())
        .parse()
        .expect("an algorithm name: EdDSA, ES256 or RS256");
    let (key, _) = SigningKey::generate(alg).expect("generating a key");
    let key = Arc::new(key);
    let claims = json!({"iss": "http://127.0.0.1", "sub": "svc", "aud": "http://127.0.0.1",
        "exp": 4_000_000_000i64, "iat": 1_700_000_000, "jti": "XUJbXW6eQTCSn-Qc7k_EnA",
        "client_id": "svc", "scope": "read"});
    let mut app = Router::new().route(
        "/token",
        post(move |_body: String| async move {
            let jwt = admit_jose::sign(&key, admit_jose::ACCESS_TOKEN_TYP, &claims).unwrap();
            Json::<Value>(json!({"access_token": jwt, "token_type": "Bearer", "expires_in": 600}))
        }),
    );
    if let Some(path) = args.next() {
        let jwks: JwkSet = serde_json::from_slice(&std::fs::read(path).expect("reading the JWKS"))
            .expect("a JWKS");
        let keys = Arc::new(KeySet::from_jwks(&jwks).0);
        app = app.route(
            "/verify",
            get(move |headers: HeaderMap| async move {
                verify(&keys, alg, &headers).ok_or(StatusCode::UNAUTHORIZED)
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("binding");
    // Stops on SIGTERM by returning from main, so that a build with
    // `-Cprofile-generate` writes its profile (bench/pgo.sh).
    let mut term = signal(SignalKind::terminate()).expect("catching SIGTERM");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            term.recv().await;
        })
        .await
        .expect("serving");
}

/// The signature check and the payload parse, nothing else.
fn verify(keys: &KeySet, alg: Algorithm, headers: &HeaderMap) -> Option<Json<Value>> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let jwt = UnverifiedJwt::parse(token).ok()?;
    let claims = jwt.verify(keys.find(&jwt).ok()?, &[alg]).ok()?;
    Some(Json(json!({"sub": claims.get("sub")})))
}
