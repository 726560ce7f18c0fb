//! Minting what the grants decided: access tokens (RFC 9068), refresh tokens with
//! their families, and ID tokens (OpenID Connect Core §2).

use admit_oauth::client::GrantType;
use admit_oauth::id_token::{IdTokenClaims, at_hash};
use admit_oauth::scope::Scope;
use admit_oauth::secret;
use admit_oauth::token::{AccessTokenGrant, TokenResponse};
use admit_store::{RefreshFamily, RefreshToken};
use serde::Serialize;

use super::TokenClient;
use crate::audit::Event;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{random_id, random_token};

/// Who logged in, and how: what user tokens are issued from.
pub struct Login<'a> {
    pub user_id: &'a str,
    pub auth_time: i64,
    pub session_id: Option<&'a str>,
    pub nonce: Option<&'a str>,
}

/// The access token, a refresh token when the client may refresh (a new family),
/// and an ID token when `openid` was granted and there is a session. Returns the
/// family id.
pub async fn user_tokens(
    state: &AppState,
    grant_type: GrantType,
    client: &TokenClient,
    scope: &Scope,
    login: &Login<'_>,
    now: i64,
) -> Result<(TokenResponse, Option<String>), ApiError> {
    let may_refresh = client.client.may_use(GrantType::RefreshToken);
    let family_id = may_refresh.then(random_token::<16>);
    let mut response = access_token(
        state,
        grant_type,
        client,
        login.user_id,
        scope,
        Some(login),
        family_id.as_deref(),
        now,
    )?;
    if let Some(family_id) = &family_id {
        let refresh_token = random_token::<32>();
        let family = RefreshFamily {
            id: family_id.clone(),
            client_id: client.client.client_id.clone(),
            user_id: Some(login.user_id.to_owned()),
            scope: scope.to_string(),
            auth_time: Some(login.auth_time),
            created_at: now,
            revoked_at: None,
            session_id: login.session_id.map(str::to_owned),
            expires_at: Some(now + client.lifetimes.refresh_absolute),
        };
        let row = refresh_row(client, &refresh_token, &family, now);
        state.store.insert_refresh_family(&family, &row).await?;
        response.refresh_token = Some(refresh_token);
    }
    response.id_token = id_token(state, client, scope, login, &response.access_token, now).await?;
    Ok((response, family_id))
}

/// An RFC 9068 access token, recorded in the audit log. `login` is absent for client
/// credentials.
#[allow(clippy::too_many_arguments)]
pub fn access_token(
    state: &AppState,
    grant_type: GrantType,
    client: &TokenClient,
    subject: &str,
    scope: &Scope,
    login: Option<&Login<'_>>,
    grant_id: Option<&str>,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let lifetime = client.lifetimes.access;
    let settings = state.settings();
    let grant = AccessTokenGrant {
        issuer: &settings.issuer,
        audience: &settings.audience,
        client_id: &client.client.client_id,
        subject,
        scope,
        auth_time: login.map(|l| l.auth_time),
        lifetime,
        jti: random_id::<16>(),
        session_id: login.and_then(|l| l.session_id),
        grant_id,
    };
    let keys = state.keys();
    let claims = grant.claims(now);
    let jwt = admit_jose::sign(
        keys.access_token_key(),
        admit_jose::ACCESS_TOKEN_TYP,
        &claims,
    )
    .map_err(anyhow::Error::from)?;
    let event = Event::new("token", "success")
        .actor(format!("client:{}", client.client.client_id))
        .client(client.client.client_id.clone())
        .subject(subject)
        .detail(Issued {
            grant_type: grant_type.as_str(),
            jti: &claims.jti,
            scope: &claims.scope,
        });
    state.audit.record(event);
    let alg = keys.access_token_key().alg().name();
    state.metrics.token(grant_type.as_str(), alg);
    Ok(TokenResponse::bearer(jwt, lifetime, scope))
}

/// A token's audit detail: one is recorded per token, so it is written straight from
/// this struct.
#[derive(Serialize)]
struct Issued<'a> {
    grant_type: &'a str,
    jti: &'a str,
    scope: &'a str,
}

/// OpenID Connect Core §2 and §3.1.3.6: an ID token when `openid` was granted and the
/// user logged in through an SSO session (not the password grant).
pub async fn id_token(
    state: &AppState,
    client: &TokenClient,
    scope: &Scope,
    login: &Login<'_>,
    access_token: &str,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let Some(sid) = login.session_id.filter(|_| scope.contains("openid")) else {
        return Ok(None);
    };
    let keys = state.complete_keys().await;
    let key = keys
        .signing_key(client.id_token_alg)
        .ok_or_else(|| anyhow::anyhow!("no {} key", client.id_token_alg))?;
    let claims = IdTokenClaims {
        iss: state.settings().issuer.clone(),
        sub: login.user_id.to_owned(),
        aud: client.client.client_id.clone(),
        exp: now + client.lifetimes.access,
        iat: now,
        auth_time: login.auth_time,
        nonce: login.nonce.map(str::to_owned),
        at_hash: at_hash(access_token, key.alg()),
        azp: client.client.client_id.clone(),
        sid: sid.to_owned(),
    };
    Ok(Some(
        admit_jose::sign(key, "JWT", &claims).map_err(anyhow::Error::from)?,
    ))
}

/// A refresh token row: it expires when unused for the idle lifetime, and never after
/// its family's absolute end.
pub fn refresh_row(
    client: &TokenClient,
    token: &str,
    family: &RefreshFamily,
    now: i64,
) -> RefreshToken {
    let idle_end = now + client.lifetimes.refresh_idle;
    RefreshToken {
        token_hash: secret::hash(token),
        family_id: family.id.clone(),
        created_at: now,
        expires_at: family.expires_at.map_or(idle_end, |end| end.min(idle_end)),
        rotated_at: None,
    }
}
