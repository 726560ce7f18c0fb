//! The grants of the token endpoint: authorization code (RFC 6749 §4.1.3), password
//! (§4.3), client credentials (§4.4) and refresh (§6, with RFC 9700 §4.14.2 rotation).

use std::net::IpAddr;

use admit_oauth::client::GrantType;
use admit_oauth::code::{self, IssuedCode, Redemption};
use admit_oauth::refresh::{self, Decision, StoredRefresh};
use admit_oauth::scope::Scope;
use admit_oauth::token::TokenResponse;
use admit_oauth::{ErrorCode, OAuthError, secret};
use admit_store::{CodeRedemption, RefreshLookup};

use super::TokenClient;
use super::issue::{Login, access_token, id_token, refresh_row, user_tokens};
use crate::audit::Event;
use crate::error::ApiError;
use crate::login::{self, Checked};
use crate::state::AppState;
use crate::{now, random_token, revocation};

/// A code works once; a second presentation revokes what the first one issued
/// (RFC 6749 §4.1.2, RFC 9700 §4.5).
pub async fn authorization_code(
    state: &AppState,
    client: &TokenClient,
    presented: &str,
    redemption: &Redemption<'_>,
) -> Result<TokenResponse, ApiError> {
    let invalid =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
    let now = now();
    let code = match state
        .store
        .consume_code(&secret::hash(presented), now)
        .await?
    {
        CodeRedemption::Redeemed(code) => code,
        CodeRedemption::Replayed(code) => {
            if let Some(family) = &code.family_id {
                tracing::warn!(request_id = crate::observe::request_id().as_deref(), client_id = %code.client_id, "authorization code replayed: revoking the tokens issued from it");
                revocation::family(&state.store, family, now).await?;
            }
            return Err(invalid().into());
        }
        CodeRedemption::Unknown => return Err(invalid().into()),
    };
    let issued = IssuedCode {
        client_id: &code.client_id,
        redirect_uri: &code.redirect_uri,
        code_challenge: code.code_challenge.as_deref(),
        expires_at: code.expires_at,
    };
    code::check(&issued, redemption, now)?;
    // The user may have logged out in the seconds since the code was issued.
    let session = state.store.session(&code.session_id).await?;
    if !session.is_some_and(|s| s.revoked_at.is_none() && now < s.expires_at) {
        return Err(invalid().into());
    }
    let scope = Scope::parse(&code.scope).unwrap_or_default();
    let login = Login {
        user_id: &code.user_id,
        auth_time: code.auth_time,
        session_id: Some(&code.session_id),
        nonce: code.nonce.as_deref(),
    };
    let (response, family) = user_tokens(
        state,
        GrantType::AuthorizationCode,
        client,
        &scope,
        &login,
        now,
    )
    .await?;
    if let Some(family) = family
        && state
            .store
            .set_code_family(&code.code_hash, &family)
            .await?
    {
        // The code was replayed while these tokens were being issued: the replay found
        // nothing to revoke, so revoke here and refuse (RFC 6749 §4.1.2).
        revocation::family(&state.store, &family, now).await?;
        return Err(invalid().into());
    }
    Ok(response)
}

/// The resource owner's username and password.
pub async fn password(
    state: &AppState,
    client: &TokenClient,
    username: &str,
    password: String,
    scope: Option<&str>,
    address: Option<IpAddr>,
) -> Result<TokenResponse, ApiError> {
    let scope = Scope::grant(scope, &client.client.scopes)?;
    let wrong = || OAuthError::invalid_grant("wrong username or password");
    let client_id = Some(client.client.client_id.as_str());
    let user = match login::check_password(state, username, password, address, client_id).await? {
        Checked::User(user) => user,
        Checked::Wrong => return Err(wrong().into()),
        Checked::Throttled(seconds) => return Err(ApiError::Throttled(wrong(), seconds)),
    };
    let now = now();
    let login = Login {
        user_id: &user.id,
        auth_time: now,
        session_id: None,
        nonce: None,
    };
    Ok(
        user_tokens(state, GrantType::Password, client, &scope, &login, now)
            .await?
            .0,
    )
}

/// Rotation: every refresh retires the presented token; a retired one presented again
/// revokes its whole family. Exactly once: a repeat by the same client within the
/// grace window (two tabs, a retry after a timeout, a race between instances) gets the
/// answer the first presentation got, which was sealed into the retired token's row.
pub async fn refresh(
    state: &AppState,
    client: &TokenClient,
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
    let scope = match refresh::judge(stored.as_ref(), &client.client.client_id, scope, now)? {
        Decision::Rotate { scope } => scope,
        Decision::Reuse => return repeat_or_reuse(state, found.as_ref(), &old_hash, now).await,
    };
    let found = found.expect("judged tokens exist");
    let family = &found.family;
    let new_token = random_token::<32>();
    let row = refresh_row(client, &new_token, family, now);
    let subject = family
        .user_id
        .as_deref()
        .unwrap_or(&client.client.client_id);
    let login = family.auth_time.map(|auth_time| Login {
        user_id: subject,
        auth_time,
        session_id: family.session_id.as_deref(),
        nonce: None,
    });
    let mut response = access_token(
        state,
        GrantType::RefreshToken,
        client,
        subject,
        &scope,
        login.as_ref(),
        Some(&family.id),
        now,
    )?;
    response.refresh_token = Some(new_token);
    // OpenID Connect Core §12.2: a refreshed ID token for the same session, without nonce.
    if let Some(login) = &login {
        response.id_token =
            id_token(state, client, &scope, login, &response.access_token, now).await?;
    }
    // The answer is built before the rotation so it can be stored with it, atomically.
    // No grace for public clients: with no client authentication, "the same client"
    // would mean anyone holding the token (RFC 9700 §4.14.2).
    let sealed = match state.settings().refresh_grace {
        grace if grace > 0 && !client.client.is_public() => {
            state.sealer.seal(&response, now + grace).into_bytes()
        }
        _ => Vec::new(),
    };
    if !state
        .store
        .rotate_refresh(&old_hash, &row, &sealed, now)
        .await?
    {
        // Another request rotated it a moment ago.
        return repeat_or_reuse(state, Some(&found), &old_hash, now).await;
    }
    Ok(response)
}

/// A retired token presented again: the first answer while the grace window lasts
/// (the client is the family's, `judge` checked), otherwise reuse.
async fn repeat_or_reuse(
    state: &AppState,
    found: Option<&RefreshLookup>,
    old_hash: &[u8],
    now: i64,
) -> Result<TokenResponse, ApiError> {
    if found.is_some_and(|f| f.family.revoked_at.is_none())
        && let Some(sealed) = state.store.refresh_successor(old_hash).await?
        && let Some(first) = std::str::from_utf8(&sealed)
            .ok()
            .and_then(|s| state.sealer.open(s, now))
    {
        return Ok(first);
    }
    Err(reuse(state, found, now).await)
}

/// A refresh token presented again: revoke its family, answer `invalid_grant`.
async fn reuse(state: &AppState, found: Option<&RefreshLookup>, now: i64) -> ApiError {
    let answer = OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let Some(found) = found else {
        return answer.into();
    };
    tracing::warn!(
        request_id = crate::observe::request_id().as_deref(),
        family = %found.family.id,
        client_id = %found.family.client_id,
        "refresh token reuse detected: revoking the token family"
    );
    let mut event = Event::new("refresh.reuse", "revoked")
        .client(found.family.client_id.clone())
        .detail(serde_json::json!({ "family": found.family.id }));
    if let Some(user) = &found.family.user_id {
        event = event.subject(user.clone());
    }
    state.audit.record(event);
    match revocation::family(&state.store, &found.family.id, now).await {
        Ok(_) => answer.into(),
        Err(e) => e.into(),
    }
}

/// Only confidential clients, no refresh token (§4.4.3), `sub` is the client.
pub fn client_credentials(
    state: &AppState,
    client: &TokenClient,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    if client.client.is_public() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "public clients cannot use client credentials",
        )
        .into());
    }
    let scope = Scope::grant(scope, &client.client.scopes)?;
    access_token(
        state,
        GrantType::ClientCredentials,
        client,
        &client.client.client_id,
        &scope,
        None,
        None,
        now(),
    )
}
