//! A tiny authorization server for the tests: discovery metadata and a JWKS it can
//! change, take down, and count fetches of.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use admit_jose::{Algorithm, Jwk, JwkSet, SigningKey};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub struct MockIssuer {
    /// `http://127.0.0.1:port`, the issuer identifier.
    pub url: String,
    /// Published at start.
    pub key: SigningKey,
    state: Arc<IssuerState>,
}

#[derive(Default)]
struct IssuerState {
    url: String,
    metadata_issuer: Mutex<String>,
    keys: Mutex<Vec<Jwk>>,
    jwks_fetches: AtomicUsize,
    jwks_down: AtomicBool,
    no_openid_configuration: AtomicBool,
}

impl MockIssuer {
    pub async fn start() -> MockIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (key, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
        let state = Arc::new(IssuerState {
            url: url.clone(),
            metadata_issuer: Mutex::new(url.clone()),
            keys: Mutex::new(vec![key.public_jwk().unwrap()]),
            ..IssuerState::default()
        });
        let router = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(openid_configuration),
            )
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/jwks", get(jwks))
            .route("/jwks-html", get(|| async { "<html>not keys</html>" }))
            .route("/jwks-big", get(big_jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        MockIssuer { url, key, state }
    }

    /// Adds `key` to the JWKS (a rotation starts this way).
    pub fn publish(&self, key: &SigningKey) {
        self.state
            .keys
            .lock()
            .unwrap()
            .push(key.public_jwk().unwrap());
    }

    pub fn unpublish_all(&self) {
        self.state.keys.lock().unwrap().clear();
    }

    /// How many times `/jwks` was asked for, answered or not.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// `/jwks` answers 503 while down.
    pub fn set_jwks_down(&self, down: bool) {
        self.state.jwks_down.store(down, Ordering::SeqCst);
    }

    pub fn set_metadata_issuer(&self, issuer: &str) {
        *self.state.metadata_issuer.lock().unwrap() = issuer.to_owned();
    }

    /// Serve only the RFC 8414 metadata, as a plain OAuth server would.
    pub fn without_openid_configuration(&self) {
        self.state
            .no_openid_configuration
            .store(true, Ordering::SeqCst);
    }
}

async fn openid_configuration(state: State<Arc<IssuerState>>) -> Response {
    if state.no_openid_configuration.load(Ordering::SeqCst) {
        return StatusCode::NOT_FOUND.into_response();
    }
    metadata(state).await
}

async fn metadata(State(state): State<Arc<IssuerState>>) -> Response {
    let issuer = state.metadata_issuer.lock().unwrap().clone();
    Json(json!({"issuer": issuer, "jwks_uri": format!("{}/jwks", state.url)})).into_response()
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if state.jwks_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = state.keys.lock().unwrap().clone();
    let mut response = Json(JwkSet { keys }).into_response();
    let jwk_set = header::HeaderValue::from_static("application/jwk-set+json");
    response.headers_mut().insert(header::CONTENT_TYPE, jwk_set);
    response
}

/// Valid JSON, too large to be a key set anyone should accept.
async fn big_jwks() -> Json<serde_json::Value> {
    Json(json!({"keys": [], "padding": "x".repeat(300 * 1024)}))
}
