//! `GET /health/live` (the process answers) and `GET /health/ready` (it can serve:
//! the database answers and signing keys are loaded), for load balancers and
//! orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn live() -> impl IntoResponse {
    Json(serde_json::json!({"status": "live"}))
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.store.ping().await.is_ok();
    let keys = !state.keys().jwks().keys.is_empty();
    let status = if database && keys {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({"status": if status == StatusCode::OK { "ready" } else { "not ready" }, "database": database, "keys": keys});
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
}
