//! `/admin/keys`: the signing keys and their lifecycle (next, current, retired), as
//! `admit keys` manages them, through `keyring::rotate` and `keyring::import`.
//! Every instance picks a change up at its next key reload.

use admit_jose::Algorithm;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Admin;
use super::extract::{Json, Query};
use super::page::{self, Page, PageQuery};
use super::problem::{AdminError, Problem};
use crate::keyring::{self, ASYMMETRIC, RotateError};
use crate::state::AppState;

/// A signing key: never its private part.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The RFC 7638 thumbprint.
    pub kid: String,
    #[schema(example = "ES256")]
    pub alg: String,
    /// `next`, `current` or `retired`.
    #[schema(example = "current")]
    pub state: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    /// The public JWK, when the key has one (not the HS256 secret).
    #[schema(value_type = Option<Object>)]
    pub public_jwk: Option<serde_json::Value>,
}

/// List signing keys, ordered by kid.
#[utoipa::path(get, path = "/keys", operation_id = "list_keys", tag = "keys", params(PageQuery),
    responses((status = 200, description = "A page of keys", body = Page<KeyView>,
        headers(("Link" = String, description = "The next page, when there is one")))))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let after = page::decode(q.cursor.as_deref())?;
    // A handful of keys: read whole, page in memory.
    let mut keys = state.store.list_keys().await?;
    keys.sort_by(|a, b| a.kid.cmp(&b.kid));
    let rows: Vec<_> = keys
        .into_iter()
        .filter(|k| after.as_ref().is_none_or(|a| &k.kid > a))
        .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
        .collect();
    let page = Page::from_rows(
        rows,
        limit,
        |k| k.kid.clone(),
        |k| KeyView {
            public_jwk: k.public_jwk.and_then(|j| serde_json::from_str(&j).ok()),
            kid: k.kid,
            alg: k.alg,
            state: k.state,
            created_at: k.created_at,
            activated_at: k.activated_at,
            retired_at: k.retired_at,
        },
    );
    Ok(page.respond(&uri))
}

/// Which keys to rotate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// EdDSA, ES256 or RS256; by default all three.
    #[serde(default)]
    #[schema(value_type = Vec<SigningAlg>)]
    pub algs: Vec<String>,
    /// Rotate even if the next key was published too recently for every cached
    /// JWKS to hold it.
    #[serde(default)]
    pub force: bool,
}

/// The algorithms whose keys rotate (documentation only: parsed as `Algorithm`).
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum SigningAlg {
    EdDSA,
    ES256,
    RS256,
}

#[derive(Serialize, ToSchema)]
pub struct Rotated {
    /// The kid now current, per algorithm.
    pub rotated: Vec<RotatedKey>,
    /// Seconds within which every running instance signs with the new keys.
    pub reload_within: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RotatedKey {
    pub alg: String,
    pub kid: String,
}

/// Promote each next key to current, retire the current one, publish a new next key.
#[utoipa::path(post, path = "/keys/rotate", operation_id = "rotate_keys",
    tag = "keys", request_body = Rotate,
    responses(
        (status = 200, description = "Rotated", body = Rotated),
        (status = 409, description = "A next key is too young (retry later, or force) or missing",
            body = Problem, content_type = "application/problem+json")))]
pub async fn rotate(
    admin: Admin,
    State(state): State<AppState>,
    Json(body): Json<Rotate>,
) -> Result<axum::Json<Rotated>, AdminError> {
    let algs: Vec<Algorithm> = if body.algs.is_empty() {
        ASYMMETRIC.to_vec()
    } else {
        body.algs
            .iter()
            .map(|a| {
                a.parse::<Algorithm>()
                    .ok()
                    .filter(|alg| ASYMMETRIC.contains(alg))
                    .ok_or_else(|| {
                        AdminError::bad_request(format!(
                            "cannot rotate {a:?}: EdDSA, ES256 or RS256 (HS256 is configured, not rotated)"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let mut rotated = Vec::new();
    for alg in algs {
        let kid = keyring::rotate(&state.store, &state.master, alg, body.force, crate::now())
            .await
            .map_err(|e| match e {
                RotateError::Other(e) => AdminError::from(e),
                refused => AdminError::Conflict(refused.to_string()),
            })?;
        state.audit.record(
            admin
                .event("key.rotate", &kid)
                .detail(json!({ "alg": alg.name() })),
        );
        rotated.push(RotatedKey {
            alg: alg.name().to_owned(),
            kid,
        });
    }
    Ok(axum::Json(Rotated {
        rotated,
        reload_within: keyring::RELOAD_INTERVAL,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub kid: String,
}

/// Import a private key (a private JWK: EdDSA, ES256 or RS256) as the next key of
/// its algorithm; the next rotation makes it current.
#[utoipa::path(post, path = "/keys/import", operation_id = "import_key", tag = "keys",
    request_body(content = Object, description = "A private JWK", content_type = "application/json"),
    responses(
        (status = 201, description = "Imported", body = Imported)))]
pub async fn import(
    admin: Admin,
    State(state): State<AppState>,
    Json(jwk): Json<serde_json::Value>,
) -> Result<(StatusCode, axum::Json<Imported>), AdminError> {
    if !jwk.is_object() {
        return Err(AdminError::bad_request(
            "the body must be a private JWK object",
        ));
    }
    let kid = keyring::import(&state.store, &state.master, &jwk, crate::now())
        .await
        .map_err(|e| match e.downcast::<admit_store::StoreError>() {
            Ok(store) => AdminError::from(store),
            // Anything else is the key itself: not a private JWK admit can sign with.
            Err(e) => AdminError::bad_request(format!("the key cannot be imported: {e}")),
        })?;
    state
        .audit
        .record(admin.event("key.import", &kid).detail(json!({})));
    Ok((StatusCode::CREATED, axum::Json(Imported { kid })))
}
