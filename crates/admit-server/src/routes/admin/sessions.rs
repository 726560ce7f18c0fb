//! `/admin/sessions`: SSO sessions, as `admit session` manages them. Ending one
//! ends its refresh tokens and, where resource servers follow the revocation
//! stream, its access tokens (`revocation::session`).

use admit_store::Session;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::auth::Admin;
use super::extract::{Path, Query};
use super::page::{self, Page};
use super::problem::{AdminError, Problem};
use super::users;
use crate::state::AppState;
use crate::{now, revocation};

/// A session, without its cookie's hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The public id (the `sid` claim).
    pub id: String,
    /// The user's id (`sub`).
    pub user_id: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// `live`, `ended` or `expired`.
    #[schema(example = "live")]
    pub state: &'static str,
}

impl SessionView {
    fn new(s: Session, now: i64) -> SessionView {
        let state = match s.revoked_at {
            Some(_) => "ended",
            None if s.expires_at <= now => "expired",
            None => "live",
        };
        SessionView {
            id: s.id,
            user_id: s.user_id,
            auth_time: s.auth_time,
            created_at: s.created_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            state,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this user's sessions (a username).
    user: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List sessions, live and ended, oldest first.
#[utoipa::path(get, path = "/sessions", operation_id = "list_sessions",
    tag = "sessions", params(ListQuery),
    responses(
        (status = 200, description = "A page of sessions", body = Page<SessionView>,
            headers(("Link" = String, description = "The next page, when there is one"))),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json")))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let after = match page::decode(q.cursor.as_deref())? {
        None => None,
        Some(key) => Some(
            serde_json::from_str::<(i64, String)>(&key)
                .map_err(|_| AdminError::bad_request("the cursor is not one this API gave out"))?,
        ),
    };
    let user_id = match &q.user {
        Some(name) => Some(users::load(&state, name).await?.id),
        None => None,
    };
    let rows = state
        .store
        .sessions_after(
            user_id.as_deref(),
            after.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit + 1,
        )
        .await?;
    let now = now();
    let key = |s: &Session| json!([s.created_at, s.id]).to_string();
    Ok(Page::from_rows(rows, limit, key, |s| SessionView::new(s, now)).respond(&uri))
}

/// End one session.
#[utoipa::path(delete, path = "/sessions/{id}", operation_id = "revoke_session", tag = "sessions",
    params(("id" = String, Path, description = "The session id (`sid`)")),
    responses(
        (status = 204, description = "Ended (or already ended)"),
        (status = 404, description = "No such session", body = Problem,
            content_type = "application/problem+json")))]
pub async fn revoke(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AdminError> {
    if state.store.session(&id).await?.is_none() {
        return Err(AdminError::not_found(format!("no session {id:?}")));
    }
    revocation::session(&state.store, &id, now()).await?;
    state
        .audit
        .record(admin.event("session.end", &id).detail(json!({})));
    Ok(StatusCode::NO_CONTENT)
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct Ended {
    pub ended: usize,
}

/// End every live session of a user ("log out everywhere").
#[utoipa::path(delete, path = "/users/{username}/sessions", operation_id = "revoke_user_sessions",
    tag = "sessions",
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "Ended", body = Ended),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json")))]
pub async fn revoke_all(
    admin: Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<axum::Json<Ended>, AdminError> {
    let user = users::load(&state, &username).await?;
    let now = now();
    let sessions = state.store.list_sessions(Some(&user.id)).await?;
    let live: Vec<_> = sessions.iter().filter(|s| s.revoked_at.is_none()).collect();
    for s in &live {
        revocation::session(&state.store, &s.id, now).await?;
        state
            .audit
            .record(admin.event("session.end", &s.id).detail(json!({})));
    }
    Ok(axum::Json(Ended { ended: live.len() }))
}
