//! Discovery metadata (RFC 8414, OpenID Connect Discovery) and the JWKS (RFC 7517).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metadata(State(state): State<AppState>) -> impl IntoResponse {
    json(state.metadata.clone(), JWKS_CACHE)
}

/// A next key is published [`MIN_NEXT_AGE`](crate::keyring::MIN_NEXT_AGE) before it
/// signs, which is longer than this, so a cached JWKS never lacks a signing key.
const JWKS_CACHE: &str = "public, max-age=300";

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.jwks_fetches.inc();
    // Never without a key that signs: a client would cache that for five minutes.
    json(state.complete_keys().await.jwks_json.clone(), JWKS_CACHE)
}

fn json(body: String, cache: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
}
