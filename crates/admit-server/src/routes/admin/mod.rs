//! The admin API under `/admin`: users, clients, signing keys, sessions, consents and
//! the audit log, with the operations of the CLI (`admit user`, `client`, `keys`,
//! `session`, `consent`, `audit`) and through the same functions (`revocation`,
//! `keyring`, `password`, the store). Every change is recorded in the audit log with
//! the actor `client:<client_id>` of the admin token.
//!
//! Shape: `auth` (who may call), `extract` (bodies, queries and paths read into
//! problems on failure), `problem` (the one error type, RFC 9457), `page` (cursors),
//! `etag` (versions and `If-Match`), one
//! module per resource, and `openapi` (the generated document).

mod audit;
mod auth;
mod clients;
mod consents;
mod etag;
mod extract;
mod keys;
mod openapi;
mod page;
mod problem;
mod sessions;
mod users;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router, middleware};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The admin routes, already under `/admin`, to merge into the main router.
pub fn router() -> Router<AppState> {
    let admin = OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::delete))
        .routes(routes!(users::set_password))
        .routes(routes!(users::unlock))
        .routes(routes!(users::unlock_address))
        .routes(routes!(sessions::revoke_all))
        .routes(routes!(consents::list))
        .routes(routes!(consents::revoke))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::import))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::revoke))
        .routes(routes!(audit::search))
        .routes(routes!(audit::verify))
        .routes(routes!(openapi::document))
        .fallback(problem::not_found);
    let (routes, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/admin", admin)
        .split_for_parts();
    routes
        .layer(Extension(Arc::new(openapi::finish(api))))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY))
        .layer(middleware::map_response(problem::problems_only))
}

/// Text as one path segment (RFC 3986 §3.3), for `Location`.
fn path_segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
