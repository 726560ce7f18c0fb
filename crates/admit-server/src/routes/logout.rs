//! `GET|POST /oauth2/logout`: OpenID Connect RP-Initiated Logout 1.0. Ends the SSO
//! session and revokes the refresh tokens issued in it, then returns to a registered
//! `post_logout_redirect_uri`. Without a valid `id_token_hint` the user confirms first,
//! so another site cannot log the user out behind their back (§2).

use admit_jose::UnverifiedJwt;
use admit_oauth::form::Params;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::form::read_form;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{browser, now, pages};

/// Where to go after logging out, sealed into the confirmation form.
#[derive(Serialize, Deserialize)]
struct After {
    redirect: Option<String>,
    state: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => start(&state, &headers, &params)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(_) => pages::error(StatusCode::BAD_REQUEST, "The logout request is malformed."),
    }
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let params = match read_form(&headers, body).await {
        Ok(p) => p,
        Err(_) => return pages::error(StatusCode::BAD_REQUEST, "The logout request is malformed."),
    };
    let result = if params.get("interaction").is_some() {
        confirmed(&state, &headers, &params).await
    } else {
        start(&state, &headers, &params).await
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, ApiError> {
    let hint = match params.get("id_token_hint") {
        Some(hint) => read_hint(state, headers, hint).await?,
        None => None,
    };
    let hinted_client = hint.as_ref().map(|h| h.client_id.clone());
    let client_id = match (params.get("client_id"), &hinted_client) {
        (Some(a), Some(b)) if a != b => {
            return Ok(pages::error(
                StatusCode::BAD_REQUEST,
                "client_id does not match the id_token_hint.",
            ));
        }
        (Some(a), _) => Some(a.to_owned()),
        (None, b) => b.clone(),
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => state.store.client(id).await?,
                None => None,
            };
            if !client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri)) {
                return Ok(pages::error(
                    StatusCode::BAD_REQUEST,
                    "The return address after logout is not registered for this application.",
                ));
            }
            Some(uri.to_owned())
        }
    };
    let after = After {
        redirect,
        state: params.get("state").map(str::to_owned),
    };
    // §2: without confirmation only when the hint is this session's own ID token.
    if hint.is_some_and(|h| h.this_session) {
        return end_session(state, headers, after).await;
    }
    let sealed = state
        .sealer
        .seal(&after, now() + super::authorize::INTERACTION_LIFETIME);
    let (browser, set_cookie) = browser::browser_id(state, headers);
    let csrf = state.sealer.csrf_token(&browser, &sealed);
    let page = pages::Message {
        title: "Log out",
        id: "logout-question",
        message: "Do you want to log out of admit?",
        logout_form: Some((sealed, csrf)),
        request_id: None,
    };
    let mut response = pages::render(StatusCode::OK, &page);
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn confirmed(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, ApiError> {
    let sealed = params.get("interaction").unwrap_or_default();
    let browser = browser::cookie(headers, state.cookies.browser).unwrap_or_default();
    let valid = state
        .sealer
        .check_csrf(browser, sealed, params.get("csrf").unwrap_or_default());
    match state.sealer.open::<After>(sealed, now()).filter(|_| valid) {
        Some(after) => end_session(state, headers, after).await,
        None => Ok(pages::error(
            StatusCode::FORBIDDEN,
            "This logout form expired or did not come from admit.",
        )),
    }
}

/// What an `id_token_hint` says: the client of an ID token admit issued, and whether
/// it was issued for *this browser's* session. Expired hints are accepted (§2: the hint
/// identifies, it does not authorise); the signature, issuer and type (an ID token, not
/// an access token, RFC 8725 §3.11) must hold, or the hint is ignored.
struct Hint {
    client_id: String,
    this_session: bool,
}

async fn read_hint(
    state: &AppState,
    headers: &HeaderMap,
    hint: &str,
) -> Result<Option<Hint>, ApiError> {
    let Ok(jwt) = UnverifiedJwt::parse(hint) else {
        return Ok(None);
    };
    if jwt
        .header()
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(admit_jose::ACCESS_TOKEN_TYP))
    {
        return Ok(None);
    }
    let keys = state.keys();
    let Some(claims) = keys
        .verifying_keys()
        .find(&jwt)
        .ok()
        .and_then(|key| jwt.verify(key, &[jwt.alg()]).ok())
    else {
        return Ok(None);
    };
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
    let (Some(issuer), Some(client_id)) = (text("iss"), text("aud")) else {
        return Ok(None);
    };
    if issuer != state.settings().issuer {
        return Ok(None);
    }
    let session = browser::session(state, headers, now()).await?;
    let this_session = session.is_some_and(|s| {
        text("sid") == Some(s.id.as_str()) && text("sub") == Some(s.user_id.as_str())
    });
    Ok(Some(Hint {
        client_id: client_id.to_owned(),
        this_session,
    }))
}

async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    after: After,
) -> Result<Response, ApiError> {
    let now = now();
    if let Some(session) = browser::session(state, headers, now).await? {
        crate::revocation::session(&state.store, &session.id, now).await?;
    }
    let clear = state.cookies.set(state.cookies.session, "", 0);
    let mut response = match after.redirect {
        Some(uri) => {
            let mut url = url::Url::parse(&uri).map_err(anyhow::Error::from)?;
            if let Some(s) = &after.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
        }
        None => pages::render(
            StatusCode::OK,
            &pages::Message {
                title: "Logged out",
                id: "logged-out",
                message: "You are logged out of admit.",
                logout_form: None,
                request_id: None,
            },
        ),
    };
    response.headers_mut().append(header::SET_COOKIE, clear);
    Ok(response)
}
