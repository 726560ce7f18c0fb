//! Discovery metadata (RFC 8414, OpenID Connect Discovery) and the JWKS (RFC 7517).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metadata(State(state): State<AppState>) -> impl IntoResponse {
    json(state.metadata.clone(), "public, max-age=300")
}

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    json(state.jwks.clone(), "public, max-age=300")
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
