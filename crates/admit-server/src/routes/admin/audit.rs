//! `/admin/audit`: searching the audit log and checking its hash chain and signed
//! anchors, as `admit audit search` and `admit audit verify` do.

use admit_store::{AuditFilter, AuditRecord};
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Admin;
use super::extract::Query;
use super::page::{self, Page};
use super::problem::AdminError;
use crate::state::AppState;

/// One audit record and its place in the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    #[schema(example = "client.add")]
    pub event: String,
    /// `user:ID`, `client:ID`, `cli:NAME` or `admit`.
    pub actor: String,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub address: Option<String>,
    #[schema(example = "success")]
    pub outcome: String,
    /// Further facts (never a secret).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRecord> for AuditRecordView {
    fn from(r: AuditRecord) -> Self {
        AuditRecordView {
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::String(r.detail)),
            seq: r.seq,
            at: r.at,
            event: r.event,
            actor: r.actor,
            subject: r.subject,
            client_id: r.client_id,
            address: r.address,
            outcome: r.outcome,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A username or user id: records about the user or made by them.
    user: Option<String>,
    /// Records of this client.
    client: Option<String>,
    /// An event name, e.g. `login`, `token`, `client.add`.
    event: Option<String>,
    /// From this time on (unix seconds).
    since: Option<i64>,
    /// Up to this time (unix seconds).
    until: Option<i64>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Records matching every filter given, newest first.
#[utoipa::path(get, path = "/audit", operation_id = "search_audit",
    tag = "audit", params(SearchQuery),
    responses((status = 200, description = "A page of records", body = Page<AuditRecordView>,
        headers(("Link" = String, description = "The next page, when there is one")))))]
pub async fn search(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let before = match page::decode(q.cursor.as_deref())? {
        None => None,
        Some(seq) => Some(
            seq.parse::<i64>()
                .map_err(|_| AdminError::bad_request("the cursor is not one this API gave out"))?,
        ),
    };
    // A username names its user's id; anything else is taken as an id.
    let user = match q.user {
        Some(u) => Some(
            match state
                .store
                .user_by_username(&admit_oauth::username::canonical(&u))
                .await?
            {
                Some(found) => found.id,
                None => u,
            },
        ),
        None => None,
    };
    let filter = AuditFilter {
        user,
        client_id: q.client,
        event: q.event,
        since: q.since,
        until: q.until,
    };
    let rows = state
        .store
        .audit_search_before(&filter, before, limit + 1)
        .await?;
    let page = Page::from_rows(rows, limit, |r| r.seq.to_string(), AuditRecordView::from);
    Ok(page.respond(&uri))
}

/// Whether the audit log holds.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    /// `false` when a record was altered, deleted or inserted.
    pub ok: bool,
    /// Records checked, from seq 1 to the first break or the end.
    pub records: i64,
    /// Where the chain or an anchor first fails.
    pub broken: Option<Break>,
    /// Anchors whose signature and hash hold.
    pub anchors_verified: usize,
    /// Anchors signed by a key since deleted: they prove nothing.
    pub anchors_unverifiable: Vec<i64>,
    /// Records after the newest verified anchor.
    pub unanchored: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Check the hash chain and the signed anchors (200 either way: `ok` says).
#[utoipa::path(get, path = "/audit/verify", operation_id = "verify_audit", tag = "audit",
    responses((status = 200, description = "The verification report", body = Verification)))]
pub async fn verify(
    _: Admin,
    State(state): State<AppState>,
) -> Result<axum::Json<Verification>, AdminError> {
    let report = crate::audit::verify(&state.store, &state.master).await?;
    Ok(axum::Json(Verification {
        ok: report.ok(),
        records: report.records,
        broken: report.broken.map(|b| Break {
            seq: b.seq,
            reason: b.reason,
        }),
        anchors_verified: report.anchors_verified,
        anchors_unverifiable: report.anchors_unverifiable,
        unanchored: report.unanchored,
    }))
}
