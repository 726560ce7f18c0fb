//! `/admin/users/{username}/consents`: what a user allowed each client, as `admit
//! consent` manages it. Withdrawing one ends that client's tokens for the user
//! (`revocation::consent`), and the consent page shows again next time.

use admit_store::Consent;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Admin;
use super::extract::{Path, Query};
use super::page::{self, Page, PageQuery};
use super::problem::{AdminError, Problem};
use super::users;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub client_id: String,
    /// The scopes allowed, space-separated.
    pub scope: String,
    pub granted_at: i64,
    pub updated_at: i64,
}

impl From<Consent> for ConsentView {
    fn from(c: Consent) -> Self {
        ConsentView {
            client_id: c.client_id,
            scope: c.scope,
            granted_at: c.granted_at,
            updated_at: c.updated_at,
        }
    }
}

/// List the consents a user has given, ordered by client_id.
#[utoipa::path(get, path = "/users/{username}/consents", operation_id = "list_consents",
    tag = "consents",
    params(("username" = String, Path), PageQuery),
    responses(
        (status = 200, description = "A page of consents", body = Page<ConsentView>,
            headers(("Link" = String, description = "The next page, when there is one"))),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json")))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Path(username): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let after = page::decode(q.cursor.as_deref())?;
    let user = users::load(&state, &username).await?;
    // A user's consents are one per client they used: few enough to read whole.
    let mut all = state.store.list_consents(&user.id).await?;
    // The cursor compares as Rust does, whatever the database's collation.
    all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let rows: Vec<Consent> = all
        .into_iter()
        .filter(|c| after.as_ref().is_none_or(|a| &c.client_id > a))
        .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
        .collect();
    Ok(Page::from_rows(rows, limit, |c| c.client_id.clone(), ConsentView::from).respond(&uri))
}

/// Withdraw a user's consent to a client.
#[utoipa::path(delete, path = "/users/{username}/consents/{client_id}",
    operation_id = "revoke_consent", tag = "consents",
    params(("username" = String, Path), ("client_id" = String, Path)),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "No such user, or no consent to that client",
            body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    admin: Admin,
    State(state): State<AppState>,
    Path((username, client_id)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let user = users::load(&state, &username).await?;
    if !crate::revocation::consent(&state.store, &user.id, &client_id, crate::now()).await? {
        return Err(AdminError::not_found(format!(
            "{:?} has given no consent to {client_id:?}",
            user.username
        )));
    }
    state.audit.record(
        admin
            .event("consent.withdraw", &user.id)
            .detail(json!({ "client_id": client_id })),
    );
    Ok(StatusCode::NO_CONTENT)
}
