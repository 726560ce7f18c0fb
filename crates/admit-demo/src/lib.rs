//! The demo protected API: the *resource server* of the seed story.
//!
//! A client logs in with admit and calls this API with the access token. The API
//! never asks admit about the token: it checks the JWT's signature with the keys
//! the issuer publishes (its JWKS, fetched once and cached by
//! [`Verifier`]) and then reads the claims in the payload. That is
//! what makes RFC 9068 access tokens cheap to accept.

use admit_resource::{AccessTokenClaims, Authenticated, BearerLayer, Verifier};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// `GET /` (open): the endpoints. `GET /api/me` (any valid token): who you are.
/// `GET /api/admin` (scope `admin`): a resource only some tokens may reach.
pub fn router(verifier: Verifier) -> Router {
    // `route_layer` so that an unknown path is a 404, not a 401.
    let me = Router::new()
        .route("/api/me", get(me))
        .route_layer(BearerLayer::new(verifier.clone()));
    let admin = Router::new()
        .route("/api/admin", get(admin))
        .route_layer(BearerLayer::new(verifier).require_scopes(["admin"]));
    Router::new().route("/", get(index)).merge(me).merge(admin)
}

async fn index() -> Json<Value> {
    Json(json!({
        "name": "admit demo API",
        "endpoints": {
            "/api/me": "any valid access token (Authorization: Bearer <token>)",
            "/api/admin": "an access token with the admin scope",
        },
    }))
}

async fn me(Authenticated(claims): Authenticated) -> Json<Value> {
    Json(who_you_are(&claims))
}

/// The answer of `GET /api/me`: what the verified token says about its bearer.
pub fn who_you_are(claims: &AccessTokenClaims) -> Value {
    let mut answer = json!({
        "sub": claims.sub,
        "client_id": claims.client_id,
        "scope": claims.scopes().collect::<Vec<_>>(),
        "iss": claims.iss,
        "exp": claims.exp,
        "message": format!(
            "Hello, {}: admit verified your token locally, without asking the authorization server.",
            claims.sub
        ),
    });
    if let Some(auth_time) = claims.auth_time {
        answer["auth_time"] = auth_time.into();
    }
    answer
}

async fn admin(Authenticated(claims): Authenticated) -> Json<Value> {
    Json(json!({"sub": claims.sub, "admin": true}))
}
