//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).

use admit_oauth::OAuthError;
use admit_oauth::introspect::{Hint, Introspection, may_introspect, may_revoke};
use admit_oauth::secret;
use admit_store::RefreshLookup;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::token::client_form;
use crate::address::ClientAddress;
use crate::error::ApiError;
use crate::own_tokens::live_access_token;
use crate::state::AppState;
use crate::{now, revocation};

/// RFC 7662 §2: the client authenticates, then learns whether the token is active and,
/// if it may see it, what it carries. Anything else is `{"active": false}`.
pub async fn introspect(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (params, client) = client_form(&state, &headers, address, body).await?;
    let token = params.require("token")?;
    let now = now();
    let hint = Hint::parse(params.get("token_type_hint"));
    let mut answer = Introspection::inactive();
    for refresh_first in [hint.refresh_first(token), !hint.refresh_first(token)] {
        let found = if refresh_first {
            refresh(&state, token, now).await?
        } else {
            access(&state, token, now).await?
        };
        if let Some(found) = found {
            answer = found;
            break;
        }
    }
    // RFC 7662 §2.1: the caller must be authorized; a public client proves nothing.
    let visible = !client.client.is_public()
        && answer.client_id.as_deref().is_some_and(|owner| {
            may_introspect(&client.client.client_id, client.may_introspect, owner)
        });
    if !visible {
        answer = Introspection::inactive();
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response())
}

async fn access(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<Introspection>, ApiError> {
    let Some(claims) = live_access_token(state, token, now).await? else {
        return Ok(None);
    };
    let username = state
        .store
        .user_by_id(&claims.sub)
        .await?
        .map(|u| u.username);
    Ok(Some(Introspection {
        active: true,
        scope: Some(claims.scope.clone()).filter(|s| !s.is_empty()),
        client_id: Some(claims.client_id.clone()),
        username,
        token_type: Some("Bearer"),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        nbf: claims.nbf,
        aud: serde_json::to_value(&claims.aud).ok(),
        iss: Some(claims.iss.clone()),
        jti: Some(claims.jti.clone()),
        sub: Some(claims.sub),
    }))
}

async fn refresh(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<Introspection>, ApiError> {
    let Some(found) = live_refresh(state, token, now).await? else {
        return Ok(None);
    };
    let family = found.family;
    let username = match &family.user_id {
        Some(id) => state.store.user_by_id(id).await?.map(|u| u.username),
        None => None,
    };
    Ok(Some(Introspection {
        active: true,
        scope: Some(family.scope).filter(|s| !s.is_empty()),
        client_id: Some(family.client_id),
        username,
        token_type: Some("refresh_token"),
        exp: Some(found.token.expires_at),
        iat: Some(found.token.created_at),
        iss: Some(state.settings().issuer.clone()),
        sub: family.user_id,
        ..Introspection::default()
    }))
}

async fn live_refresh(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<RefreshLookup>, ApiError> {
    let found = state.store.refresh_token(&secret::hash(token)).await?;
    Ok(found.filter(|f| {
        f.token.rotated_at.is_none() && f.family.revoked_at.is_none() && now < f.token.expires_at
    }))
}

/// RFC 7009 §2: revoking a refresh token ends its family and the access tokens issued
/// from it; revoking an access token marks its `jti` until it expires. Unknown tokens
/// are answered 200 (§2.2), so a client cannot probe which tokens exist.
pub async fn revoke(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (params, client) = client_form(&state, &headers, address, body).await?;
    let token = params.require("token")?;
    let now = now();
    let not_yours = || {
        OAuthError::new(
            admit_oauth::ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        )
    };
    if let Some(found) = live_refresh(&state, token, now).await? {
        if !may_revoke(&client.client.client_id, &found.family.client_id) {
            return Err(not_yours().into());
        }
        revocation::family(&state.store, &found.family.id, now).await?;
    } else if let Some(claims) = live_access_token(&state, token, now).await? {
        if !may_revoke(&client.client.client_id, &claims.client_id) {
            return Err(not_yours().into());
        }
        // §2.1 lets the server revoke the refresh token too; admit revokes only what it
        // was given, so a client can end one access token without logging the user out.
        revocation::access_token(&state.store, &claims.jti, claims.exp, now).await?;
    }
    Ok((StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response())
}
