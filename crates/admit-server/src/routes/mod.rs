//! The HTTP routes, one module per endpoint family.

mod account;
mod admin;
mod authorize;
mod discovery;
mod form;
mod health;
mod interaction;
mod introspect;
mod logout;
mod revocations;
pub(crate) mod token;
mod userinfo;

use axum::Router;
use axum::routing::{get, post};

use crate::pages;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route(
            "/oauth2/authorize",
            get(authorize::get).post(authorize::post),
        )
        .route("/login", post(interaction::login))
        .route("/consent", post(interaction::consent))
        .route("/oauth2/token", post(token::token))
        .route("/oauth2/introspect", post(introspect::introspect))
        .route("/oauth2/revoke", post(introspect::revoke))
        .route("/oauth2/revocations", get(revocations::stream))
        .route(
            "/oauth2/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oauth2/logout", get(logout::get).post(logout::post))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/account", get(account::page))
        .route("/account/login", post(account::login))
        .route("/account/consents", post(account::withdraw))
        .route("/assets/admit.css", get(pages::stylesheet))
        .merge(admin::router())
        .with_state(state)
}
