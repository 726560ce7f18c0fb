//! `POST /oauth2/token` (RFC 6749 §3.2): authenticate the client, run the grant,
//! answer with tokens and `Cache-Control: no-store` (§5.1).

use admit_jose::Algorithm;
use admit_oauth::client::{Client, GrantType};
use admit_oauth::code::{self, IssuedCode, Redemption};
use admit_oauth::id_token::{IdTokenClaims, at_hash};
use admit_oauth::refresh::{self, Decision, StoredRefresh};
use admit_oauth::scope::Scope;
use admit_oauth::token::{
    AccessTokenGrant, Grant, TokenRequest, TokenResponse, check_grant_allowed,
};
use admit_oauth::{OAuthError, client_auth, secret};
use admit_store::{CodeRedemption, RefreshFamily, RefreshToken};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::form::{read_form, single_header};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{now, random_token};

/// The client as the token endpoint needs it: the protocol's view, and the ID-token
/// algorithm it registered.
struct TokenClient {
    client: Client,
    id_token_alg: Algorithm,
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = read_form(&headers, body).await?;
    let authorization = single_header(&headers, header::AUTHORIZATION)?;
    let presented = client_auth::presented(authorization, &params)?;
    let stored = state.store.client(&presented.client_id).await?;
    let id_token_alg = stored
        .as_ref()
        .and_then(|c| c.id_token_alg.as_deref())
        .and_then(|a| a.parse().ok())
        .unwrap_or(Algorithm::RS256);
    let client = stored.map(to_protocol_client);
    client_auth::authenticate(&presented, client.as_ref())?;
    let client = TokenClient {
        client: client.expect("authenticated clients exist"),
        id_token_alg,
    };

    let request = TokenRequest::parse(&params)?;
    check_grant_allowed(&client.client, request.grant.grant_type())?;
    let scope = request.scope.as_deref();
    let response = match request.grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            let redemption = Redemption {
                client_id: &client.client.client_id,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            code_grant(&state, &client, &code, &redemption).await?
        }
        Grant::Password { username, password } => {
            password_grant(&state, &client, &username, password, scope).await?
        }
        Grant::RefreshToken { refresh_token } => {
            refresh_grant(&state, &client, &refresh_token, scope).await?
        }
        Grant::ClientCredentials => client_credentials_grant(&state, &client.client, scope)?,
    };
    let mut response = Json(response).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// RFC 6749 §4.1.3. A code works once; a second presentation revokes what the first
/// one issued (§4.1.2, RFC 9700 §4.5).
async fn code_grant(
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
                tracing::warn!(client_id = %code.client_id, "authorization code replayed: revoking the tokens issued from it");
                state.store.revoke_refresh_family(family, now).await?;
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
        session_id: Some(code.session_id.clone()),
        nonce: code.nonce.as_deref(),
    };
    let (response, family) = user_tokens(state, client, &scope, &login, now).await?;
    if let Some(family) = family {
        state
            .store
            .set_code_family(&code.code_hash, &family)
            .await?;
    }
    Ok(response)
}

/// Who logged in, and how: what user tokens are issued from.
struct Login<'a> {
    user_id: &'a str,
    auth_time: i64,
    session_id: Option<String>,
    nonce: Option<&'a str>,
}

/// The access token, a refresh token when the client may refresh (a new family),
/// and an ID token when `openid` was granted. Returns the family id.
async fn user_tokens(
    state: &AppState,
    client: &TokenClient,
    scope: &Scope,
    login: &Login<'_>,
    now: i64,
) -> Result<(TokenResponse, Option<String>), ApiError> {
    let mut response = access_token(
        state,
        &client.client,
        login.user_id,
        scope,
        Some(login.auth_time),
        now,
    )?;
    let mut family_id = None;
    if client.client.may_use(GrantType::RefreshToken) {
        let refresh_token = random_token(32);
        let family = RefreshFamily {
            id: random_token(16),
            client_id: client.client.client_id.clone(),
            user_id: Some(login.user_id.to_owned()),
            scope: scope.to_string(),
            auth_time: Some(login.auth_time),
            created_at: now,
            revoked_at: None,
            session_id: login.session_id.clone(),
        };
        let token = new_refresh_row(state, &refresh_token, &family.id, now);
        state.store.insert_refresh_family(&family, &token).await?;
        response.refresh_token = Some(refresh_token);
        family_id = Some(family.id);
    }
    if scope.contains("openid")
        && let Some(sid) = &login.session_id
    {
        response.id_token = Some(id_token(
            state,
            client,
            login,
            sid,
            &response.access_token,
            now,
        )?);
    }
    Ok((response, family_id))
}

/// OpenID Connect Core §2 and §3.1.3.6.
fn id_token(
    state: &AppState,
    client: &TokenClient,
    login: &Login<'_>,
    sid: &str,
    access_token: &str,
    now: i64,
) -> Result<String, ApiError> {
    let key = state
        .keys
        .signing_key(client.id_token_alg)
        .ok_or_else(|| anyhow::anyhow!("no {} key", client.id_token_alg))?;
    let claims = IdTokenClaims {
        iss: state.settings.issuer.clone(),
        sub: login.user_id.to_owned(),
        aud: client.client.client_id.clone(),
        exp: now + state.settings.access_token_ttl,
        iat: now,
        auth_time: login.auth_time,
        nonce: login.nonce.map(str::to_owned),
        at_hash: at_hash(access_token, key.alg()),
        azp: client.client.client_id.clone(),
        sid: sid.to_owned(),
    };
    Ok(admit_jose::sign(key, "JWT", &claims).map_err(anyhow::Error::from)?)
}

/// RFC 6749 §4.3: the resource owner's username and password.
async fn password_grant(
    state: &AppState,
    client: &TokenClient,
    username: &str,
    password: String,
    scope: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let scope = Scope::grant(scope, &client.client.scopes)?;
    let user = state.store.user_by_username(username).await?;
    // Unknown users are checked against a dummy hash: same work, same answer.
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    if !state.passwords.verify(password, phc).await {
        return Err(OAuthError::invalid_grant("wrong username or password").into());
    }
    let user = user.expect("verified users exist");
    let now = now();
    let login = Login {
        user_id: &user.id,
        auth_time: now,
        session_id: None,
        nonce: None,
    };
    Ok(user_tokens(state, client, &scope, &login, now).await?.0)
}

/// RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2).
async fn refresh_grant(
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
    let reused = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let scope = match refresh::judge(stored.as_ref(), &client.client.client_id, scope, now)? {
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
    let family = &found.family;
    let subject = family
        .user_id
        .as_deref()
        .unwrap_or(&client.client.client_id);
    let mut response = access_token(
        state,
        &client.client,
        subject,
        &scope,
        family.auth_time,
        now,
    )?;
    response.refresh_token = Some(new_token);
    // OpenID Connect Core §12.2: a refreshed ID token for the same session, without nonce.
    if scope.contains("openid")
        && let (Some(sid), Some(auth_time)) = (&family.session_id, family.auth_time)
    {
        let login = Login {
            user_id: subject,
            auth_time,
            session_id: Some(sid.clone()),
            nonce: None,
        };
        response.id_token = Some(id_token(
            state,
            client,
            &login,
            sid,
            &response.access_token,
            now,
        )?);
    }
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
