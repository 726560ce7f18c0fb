//! `GET|POST /oauth2/authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2): check
//! the client and redirect URI, then log in, ask consent, and send a code back.

use admit_oauth::OAuthError;
use admit_oauth::authorize::{self, AuthorizeRequest, Next, SessionView, Target};
use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use admit_oauth::secret;
use admit_store::{AuthorizationCode, Session};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::form::read_form;
use super::interaction;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{browser, now, pages, random_token};

/// How long a user may take on the login and consent pages.
pub const INTERACTION_LIFETIME: i64 = 600;

/// An authorization request waiting for the user, sealed into the login and consent forms.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    pub request: AuthorizeRequest,
    /// Set once the user has logged in during this interaction.
    pub user_id: Option<String>,
}

/// Longer authorization requests are refused: real ones are well under 2 KiB.
const MAX_QUERY: usize = 8 * 1024;

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY {
        return pages::error(StatusCode::URI_TOO_LONG, "The request is too long.");
    }
    start(&state, &headers, Params::parse(query.as_bytes())).await
}

/// OpenID Connect Core §3.1.2.1: the same request may be a form post.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let params = match read_form(&headers, body).await {
        Ok(p) => Ok(p),
        Err(ApiError::OAuth(e)) => Err(e),
        Err(other) => return other.into_response(),
    };
    start(&state, &headers, params).await
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    params: Result<Params, OAuthError>,
) -> Response {
    // Until the client and redirect URI are trusted, errors stay on admit's page.
    let Ok(params) = params else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The request is malformed (a parameter is repeated or unreadable).",
        );
    };
    let client = match params.get("client_id") {
        Some(id) => match state.store.client(id).await {
            Ok(c) => c,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let protocol_client = client.clone().map(super::token::to_protocol_client);
    let target = match authorize::target(&params, protocol_client.as_ref()) {
        Ok(t) => t,
        Err(e) => return pages::error(StatusCode::BAD_REQUEST, e.0),
    };
    let (client, protocol_client) = (
        client.expect("target checked it"),
        protocol_client.expect("target checked it"),
    );
    let request = match authorize::validate(&params, &protocol_client, client.require_pkce) {
        Ok(r) => r,
        Err(e) => return redirect_error(state, &target, e),
    };
    let pending = Pending {
        request,
        user_id: None,
    };
    proceed(state, headers, pending, None).await
}

/// Decides the next step for a pending request and takes it. `just_logged_in` is the
/// session created a moment ago by the login form, if any.
pub async fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    pending: Pending,
    just_logged_in: Option<(Session, HeaderValue)>,
) -> Response {
    match proceed_inner(state, headers, pending, just_logged_in).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn proceed_inner(
    state: &AppState,
    headers: &HeaderMap,
    pending: Pending,
    just_logged_in: Option<(Session, HeaderValue)>,
) -> Result<Response, ApiError> {
    let now = now();
    let target = Target {
        redirect_uri: pending.request.redirect_uri.clone(),
        state: pending.request.state.clone(),
    };
    let (session, set_cookie) = match just_logged_in {
        Some((s, cookie)) => (Some(s), Some(cookie)),
        None => (browser::session(state, headers, now).await?, None),
    };
    let client = state.store.client(&pending.request.client_id).await?;
    let Some(client) = client else {
        return Ok(pages::error(
            StatusCode::BAD_REQUEST,
            "This application is no longer registered.",
        ));
    };
    let consented = match &session {
        Some(s) => state
            .store
            .consent(&s.user_id, &client.client_id)
            .await?
            .map(|c| Scope::from_tokens(c.scope.split(' '))),
        None => None,
    };
    let view = session.as_ref().map(|s| SessionView {
        user_id: &s.user_id,
        auth_time: s.auth_time,
    });
    // A client's session lifetime acts as a standing max_age (OpenID Connect Core §3.1.2.1).
    let mut decided = pending.request.clone();
    if let Some(limit) = client.session_ttl {
        decided.max_age = Some(decided.max_age.map_or(limit, |m| m.min(limit)));
    }
    let next = authorize::next(
        &decided,
        view.as_ref(),
        set_cookie.is_some(),
        consented.as_ref(),
        client.skip_consent,
        now,
    );
    let mut response = match next {
        Err(e) => redirect_error(state, &target, e),
        Ok(Next::Login) => interaction::login_page(
            state,
            headers,
            &client,
            Pending {
                user_id: None,
                ..pending
            },
            None,
        ),
        Ok(Next::Consent) => {
            let session = session.expect("consent follows a login");
            interaction::consent_page(
                state,
                headers,
                &client,
                Pending {
                    user_id: Some(session.user_id.clone()),
                    ..pending
                },
            )
            .await?
        }
        Ok(Next::Issue) => {
            let code_ttl = client.code_ttl.unwrap_or(state.settings().code_ttl);
            issue_code(
                state,
                &pending.request,
                &session.expect("issuing follows a login"),
                code_ttl,
                now,
            )
            .await?
        }
    };
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// RFC 6749 §4.1.2: a single-use code bound to everything the token request must match.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizeRequest,
    session: &Session,
    code_ttl: i64,
    now: i64,
) -> Result<Response, ApiError> {
    let code = random_token::<32>();
    state
        .store
        .insert_code(&AuthorizationCode {
            code_hash: secret::hash(&code),
            client_id: request.client_id.clone(),
            user_id: session.user_id.clone(),
            session_id: session.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            code_challenge_method: request.code_challenge.as_ref().map(|_| "S256".to_owned()),
            auth_time: session.auth_time,
            created_at: now,
            expires_at: now + code_ttl,
            used_at: None,
            family_id: None,
        })
        .await?;
    Ok(redirect(
        state,
        &request.redirect_uri,
        &[("code", code.as_str())],
        request.state.as_deref(),
    ))
}

/// RFC 6749 §4.1.2.1: errors go back to a trusted redirect URI.
pub fn redirect_error(state: &AppState, target: &Target, e: OAuthError) -> Response {
    redirect(
        state,
        &target.redirect_uri,
        &[
            ("error", e.error.as_str()),
            ("error_description", &e.error_description),
        ],
        target.state.as_deref(),
    )
}

/// A 303 to the client with `state` and, per RFC 9207, `iss`.
fn redirect(
    state: &AppState,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The registered return address is not a valid URL.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(s) = client_state {
            query.append_pair("state", s);
        }
        query.append_pair("iss", &state.settings().issuer);
    }
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, url.as_str())]).into_response();
    pages::secure_page_headers(response.headers_mut());
    response
}
