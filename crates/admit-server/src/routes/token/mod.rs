//! `POST /oauth2/token` (RFC 6749 §3.2): authenticate the client, run the grant,
//! answer with tokens and `Cache-Control: no-store` (§5.1).

mod grants;
mod issue;

use std::net::IpAddr;
use std::sync::Arc;

use admit_jose::Algorithm;
use admit_oauth::client::Client;
use admit_oauth::client_auth;
use admit_oauth::code::Redemption;
use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use admit_oauth::token::{Grant, TokenRequest, check_grant_allowed};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::form::{read_form, single_header};
use crate::address::ClientAddress;
use crate::audit::Event;
use crate::client_limits::Refusal;
use crate::error::ApiError;
use crate::now;
use crate::observe::LoggedClient;
use crate::state::AppState;

/// The client as the token endpoint needs it: the protocol's view, the ID-token
/// algorithm it registered, and its token lifetimes.
pub struct TokenClient {
    pub client: Client,
    pub id_token_alg: Algorithm,
    pub lifetimes: Lifetimes,
    pub may_introspect: bool,
}

/// Seconds. The client's own settings where it has them, else the server's.
pub struct Lifetimes {
    pub access: i64,
    /// From the login that started a refresh family to its hard end.
    pub refresh_absolute: i64,
    /// A refresh token unused this long expires.
    pub refresh_idle: i64,
}

impl TokenClient {
    fn new(state: &AppState, stored: admit_store::Client) -> TokenClient {
        let settings = state.settings();
        TokenClient {
            id_token_alg: stored
                .id_token_alg
                .as_deref()
                .and_then(|a| a.parse().ok())
                .unwrap_or(Algorithm::RS256),
            lifetimes: Lifetimes {
                access: stored.access_token_ttl.unwrap_or(settings.access_token_ttl),
                refresh_absolute: stored
                    .refresh_token_ttl
                    .unwrap_or(settings.refresh_token_ttl),
                refresh_idle: stored.refresh_idle_ttl.unwrap_or(settings.refresh_idle_ttl),
            },
            may_introspect: stored.may_introspect,
            client: to_protocol_client(stored),
        }
    }
}

/// Client authentication, shared by the token, introspection and revocation endpoints
/// (RFC 6749 §2.3.1, RFC 7662 §2.1, RFC 7009 §2.1).
/// Past the failure limits (client_limits.rs), a failure is answered 429.
pub async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    address: Option<IpAddr>,
) -> Result<Arc<TokenClient>, ApiError> {
    let authorization = single_header(headers, header::AUTHORIZATION)?;
    let presented = client_auth::presented(authorization, params)?;
    let client = client(state, &presented.client_id).await?;
    if let Err(e) = client_auth::authenticate(&presented, client.as_deref().map(|c| &c.client)) {
        let limits = &state.client_limits;
        return Err(match limits.failed(&presented.client_id, address, now()) {
            None => e.into(),
            Some(Refusal { wait, first }) => {
                if first {
                    // One audit record per window, not one per try.
                    let event = Event::new("client.auth", "throttled")
                        .client(presented.client_id.clone())
                        .address(address);
                    state.audit.record(event);
                }
                ApiError::Throttled(e, wait)
            }
        });
    }
    Ok(client.expect("authenticated clients exist"))
}

/// The client from the cache, else from the store (and then cached, known or not).
async fn client(state: &AppState, client_id: &str) -> Result<Option<Arc<TokenClient>>, ApiError> {
    if let Some(client) = state.clients.get(client_id) {
        return Ok(Some(client));
    }
    if state.unknown_clients.get(client_id).is_some() {
        return Ok(None);
    }
    let Some(stored) = state.store.client(client_id).await? else {
        state.unknown_clients.put(client_id, ());
        return Ok(None);
    };
    let client = Arc::new(TokenClient::new(state, stored));
    state.clients.put(client_id, client.clone());
    Ok(Some(client))
}

/// A form posted by an authenticated client: the token, introspection and revocation
/// endpoints all start here.
pub async fn client_form(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<IpAddr>,
    body: Body,
) -> Result<(Params, Arc<TokenClient>), ApiError> {
    let params = read_form(headers, body).await?;
    let client = authenticate_client(state, headers, &params, address).await?;
    Ok((params, client))
}

pub async fn token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (params, client) = client_form(&state, &headers, address, body).await?;
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
            grants::authorization_code(&state, &client, &code, &redemption).await?
        }
        Grant::Password { username, password } => {
            grants::password(&state, &client, &username, password, scope, address).await?
        }
        Grant::RefreshToken { refresh_token } => {
            grants::refresh(&state, &client, &refresh_token, scope).await?
        }
        Grant::ClientCredentials => grants::client_credentials(&state, &client, scope)?,
    };
    let mut response = Json(response).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    let client_id = client.client.client_id.clone();
    response.extensions_mut().insert(LoggedClient(client_id));
    Ok(response)
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
