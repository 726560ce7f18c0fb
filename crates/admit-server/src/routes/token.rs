//! `POST /oauth2/token` (RFC 6749 §3.2): authenticate the client, run the grant,
//! answer with tokens and `Cache-Control: no-store` (§5.1).

use admit_oauth::client::{Client, GrantType};
use admit_oauth::form::Params;
use admit_oauth::refresh::{self, Decision, StoredRefresh};
use admit_oauth::scope::Scope;
use admit_oauth::token::{
    AccessTokenGrant, Grant, TokenRequest, TokenResponse, check_grant_allowed,
};
use admit_oauth::{OAuthError, client_auth, secret};
use admit_store::{RefreshFamily, RefreshToken};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{now, random_token};

/// Token requests are small; anything bigger is refused before parsing.
const MAX_BODY: usize = 16 * 1024;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = read_form(&headers, body).await?;
    let authorization = single_header(&headers, header::AUTHORIZATION)?;
    let presented = client_auth::presented(authorization, &params)?;
    let client = state
        .store
        .client(&presented.client_id)
        .await?
        .map(to_protocol_client);
    client_auth::authenticate(&presented, client.as_ref())?;
    let client = client.expect("authenticated clients exist");

    let request = TokenRequest::parse(&params)?;
    check_grant_allowed(&client, request.grant.grant_type())?;
    let response = match request.grant {
        Grant::Password { username, password } => {
            password_grant(
                &state,
                &client,
                &username,
                password,
                request.scope.as_deref(),
            )
            .await?
        }
        Grant::RefreshToken { refresh_token } => {
            refresh_grant(&state, &client, &refresh_token, request.scope.as_deref()).await?
        }
        Grant::ClientCredentials => {
            client_credentials_grant(&state, &client, request.scope.as_deref())?
        }
    };
    let mut response = Json(response).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// RFC 6749 §4.3: the resource owner's username and password.
async fn password_grant(
    state: &AppState,
    client: &Client,
    username: &str,
    password: String,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let scope = Scope::grant(scope, &client.scopes)?;
    let user = state.store.user_by_username(username).await?;
    // Unknown users are checked against a dummy hash: same work, same answer.
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    if !state.passwords.verify(password, phc).await {
        return Err(OAuthError::invalid_grant("wrong username or password").into());
    }
    let user = user.expect("verified users exist");
    let now = now();
    let mut response = access_token(state, client, &user.id, &scope, Some(now), now)?;
    if client.may_use(GrantType::RefreshToken) {
        let refresh_token = random_token(32);
        let family = RefreshFamily {
            id: random_token(16),
            client_id: client.client_id.clone(),
            user_id: Some(user.id.clone()),
            scope: scope.to_string(),
            auth_time: Some(now),
            created_at: now,
            revoked_at: None,
        };
        let token = new_refresh_row(state, &refresh_token, &family.id, now);
        state.store.insert_refresh_family(&family, &token).await?;
        response.refresh_token = Some(refresh_token);
    }
    Ok(response)
}

/// RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2).
async fn refresh_grant(
    state: &AppState,
    client: &Client,
    presented: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let old_hash = secret::hash(presented);
    let found = state.store.refresh_token(&old_hash).await?;
    let now = now();
    let stored = found.as_ref().map(|f| StoredRefresh {
        client_id: &f.family.client_id,
        scope: Scope::parse(&f.family.scope).unwrap_or_default(),
        expires_at: f.token.expires_at,
        rotated: f.token.rotated_at.is_some(),
        family_revoked: f.family.revoked_at.is_some(),
    });
    let reused = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let scope = match refresh::judge(stored.as_ref(), &client.client_id, scope, now)? {
        Decision::Rotate { scope } => scope,
        Decision::Reuse => return Err(revoke_family(state, found.as_ref(), now, reused()).await),
    };
    let found = found.expect("judged tokens exist");
    let new_token = random_token(32);
    let row = new_refresh_row(state, &new_token, &found.family.id, now);
    if !state.store.rotate_refresh(&old_hash, &row, now).await? {
        // Another request rotated it first: this presentation is a reuse.
        return Err(revoke_family(state, Some(&found), now, reused()).await);
    }
    let subject = found.family.user_id.as_deref().unwrap_or(&client.client_id);
    let mut response = access_token(state, client, subject, &scope, found.family.auth_time, now)?;
    response.refresh_token = Some(new_token);
    Ok(response)
}

async fn revoke_family(
    state: &AppState,
    found: Option<&admit_store::RefreshLookup>,
    now: i64,
    answer: OAuthError,
) -> ApiError {
    let Some(found) = found else {
        return answer.into();
    };
    tracing::warn!(
        family = %found.family.id,
        client_id = %found.family.client_id,
        "refresh token reuse detected: revoking the token family"
    );
    match state
        .store
        .revoke_refresh_family(&found.family.id, now)
        .await
    {
        Ok(_) => answer.into(),
        Err(e) => e.into(),
    }
}

/// RFC 6749 §4.4: only confidential clients, no refresh token (§4.4.3), `sub` is the client.
fn client_credentials_grant(
    state: &AppState,
    client: &Client,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    if client.is_public() {
        return Err(OAuthError::new(
            admit_oauth::ErrorCode::UnauthorizedClient,
            "public clients cannot use client credentials",
        )
        .into());
    }
    let scope = Scope::grant(scope, &client.scopes)?;
    access_token(state, client, &client.client_id, &scope, None, now())
}

fn access_token(
    state: &AppState,
    client: &Client,
    subject: &str,
    scope: &Scope,
    auth_time: Option<i64>,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let grant = AccessTokenGrant {
        issuer: &state.settings.issuer,
        audience: &state.settings.audience,
        client_id: &client.client_id,
        subject,
        scope,
        auth_time,
        lifetime: state.settings.access_token_ttl,
        jti: random_token(16),
    };
    let key = state.keys.access_token_key();
    let jwt = admit_jose::sign(key, admit_jose::ACCESS_TOKEN_TYP, &grant.claims(now))
        .map_err(anyhow::Error::from)?;
    Ok(TokenResponse::bearer(
        jwt,
        state.settings.access_token_ttl,
        scope,
    ))
}

fn new_refresh_row(state: &AppState, token: &str, family_id: &str, now: i64) -> RefreshToken {
    RefreshToken {
        token_hash: secret::hash(token),
        family_id: family_id.to_owned(),
        created_at: now,
        expires_at: now + state.settings.refresh_token_ttl,
        rotated_at: None,
    }
}

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) within the size cap.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<Params, ApiError> {
    let content_type = single_header(headers, header::CONTENT_TYPE)?.unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(StatusCode::PAYLOAD_TOO_LARGE))?;
    Ok(Params::parse(&bytes)?)
}

/// A header that may appear at most once, as text.
fn single_header(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(&name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v.to_str().map(Some).map_err(|_| {
            OAuthError::invalid_request(format!("the {name} header is not valid text")).into()
        }),
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_request(format!("the {name} header is repeated")).into())
        }
    }
}

/// Stored clients become the protocol's view of them. Grant types the store holds
/// but this build does not know are dropped (never widened).
pub fn to_protocol_client(c: admit_store::Client) -> Client {
    Client {
        client_id: c.client_id,
        secret_hash: c.secret_hash,
        grant_types: c
            .grant_types
            .iter()
            .filter_map(|g| g.parse().ok())
            .collect(),
        scopes: Scope::from_tokens(c.scopes),
        redirect_uris: c.redirect_uris,
    }
}
