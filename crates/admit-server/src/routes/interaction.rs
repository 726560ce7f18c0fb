//! The login and consent pages, and their form posts (`POST /login`, `POST /consent`).
//!
//! The pending authorization request travels sealed in the form (see `seal.rs`), and
//! every form carries a CSRF token bound to this browser's cookie.

use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use admit_oauth::{ErrorCode, OAuthError, secret};
use admit_store::{Client, Consent, Session};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::authorize::{INTERACTION_LIFETIME, Pending, issue_code, proceed, redirect_error};
use super::form::read_form;
use crate::address::ClientAddress;
use crate::audit::Event;
use crate::error::ApiError;
use crate::login::{self, Checked};
use crate::state::AppState;
use crate::{browser, now, pages, random_token};

/// Generic on purpose: the page must not say whether the username exists.
const WRONG_CREDENTIALS: &str = "Wrong username or password.";

pub fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    client: &Client,
    pending: Pending,
    error: Option<&str>,
) -> Response {
    let username = pending.request.login_hint.clone().unwrap_or_default();
    let sealed = state.sealer.seal(&pending, now() + INTERACTION_LIFETIME);
    let (browser, set_cookie) = browser::browser_id(state, headers);
    let page = pages::Login {
        client_name: Some(client.name.as_deref().unwrap_or(&client.client_id)),
        action: "/login",
        interaction: &sealed,
        csrf: &state.sealer.csrf_token(&browser, &sealed),
        username: &username,
        error,
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(pages::render(status, &page), set_cookie)
}

pub async fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    client: &Client,
    pending: Pending,
) -> Result<Response, ApiError> {
    let user_id = pending.user_id.as_deref().unwrap_or_default();
    let username = state
        .store
        .user_by_id(user_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let scopes = Scope::parse(&pending.request.scope).unwrap_or_default();
    let sealed = state.sealer.seal(&pending, now() + INTERACTION_LIFETIME);
    let (browser, set_cookie) = browser::browser_id(state, headers);
    let page = pages::Consent {
        client_name: client.name.as_deref().unwrap_or(&client.client_id),
        username: &username,
        scopes: scopes
            .iter()
            .map(|s| (s.to_owned(), pages::describe_scope(s)))
            .collect(),
        interaction: &sealed,
        csrf: &state.sealer.csrf_token(&browser, &sealed),
    };
    Ok(with_cookie(
        pages::render(StatusCode::OK, &page),
        set_cookie,
    ))
}

/// Why a login or consent form was refused, shown on admit's error page.
type Refusal = (StatusCode, &'static str);

const EXPIRED: Refusal = (
    StatusCode::BAD_REQUEST,
    "This page has expired or was not sent by admit. Go back to the application and start again.",
);

/// Reads a login or consent form: its fields, and the pending request it carries,
/// after the CSRF check.
async fn read_interaction(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Params, Pending), Refusal> {
    let form = read_form(headers, body)
        .await
        .map_err(|_| (StatusCode::BAD_REQUEST, "The form could not be read."))?;
    let pending = open_form(state, headers, &form)?;
    Ok((form, pending))
}

fn open_form(state: &AppState, headers: &HeaderMap, form: &Params) -> Result<Pending, Refusal> {
    let sealed = form.get("interaction").ok_or(EXPIRED)?;
    let browser = browser::cookie(headers, state.cookies.browser).ok_or(EXPIRED)?;
    let csrf = form.get("csrf").ok_or(EXPIRED)?;
    if !state.sealer.check_csrf(browser, sealed, csrf) {
        return Err((
            StatusCode::FORBIDDEN,
            "This form did not come from admit's page in this browser.",
        ));
    }
    state.sealer.open(sealed, now()).ok_or(EXPIRED)
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, pending) = match read_interaction(&state, &headers, body).await {
        Ok(read) => read,
        Err((status, message)) => return pages::error(status, message),
    };
    let client_id = pending.request.client_id.clone();
    match try_login(&state, &form, address, Some(&client_id)).await {
        Ok(LoginAttempt::Started(session, cookie)) => {
            let pending = Pending {
                user_id: Some(session.user_id.clone()),
                ..pending
            };
            proceed(&state, &headers, pending, Some((session, cookie))).await
        }
        Ok(LoginAttempt::Throttled(seconds)) => throttled(seconds),
        Ok(LoginAttempt::Wrong) => match state.store.client(&client_id).await {
            Ok(Some(client)) => {
                login_page(&state, &headers, &client, pending, Some(WRONG_CREDENTIALS))
            }
            Ok(None) => pages::error(
                StatusCode::BAD_REQUEST,
                "This application is no longer registered.",
            ),
            Err(e) => ApiError::from(e).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

pub enum LoginAttempt {
    Started(Session, axum::http::HeaderValue),
    Wrong,
    /// Too many failures for this account or address: wait this many seconds.
    Throttled(i64),
}

/// The answer to a throttled login form: the same for known and unknown usernames.
pub fn throttled(seconds: i64) -> Response {
    let mut page = pages::error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Too many failed logins. Wait {seconds} seconds, then try again."),
    );
    page.headers_mut()
        .insert(header::RETRY_AFTER, seconds.max(1).into());
    page
}

/// Checks the credentials within the login limits (see login.rs) and starts a new
/// SSO session: always a new id, so a session fixed before login is never reused.
pub async fn try_login(
    state: &AppState,
    form: &Params,
    address: Option<std::net::IpAddr>,
    client_id: Option<&str>,
) -> Result<LoginAttempt, ApiError> {
    let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
        return Ok(LoginAttempt::Wrong);
    };
    let checked =
        login::check_password(state, username, password.to_owned(), address, client_id).await?;
    let user = match checked {
        Checked::User(user) => user,
        Checked::Wrong => return Ok(LoginAttempt::Wrong),
        Checked::Throttled(seconds) => return Ok(LoginAttempt::Throttled(seconds)),
    };
    let now = now();
    let secret_value = random_token::<32>();
    let session = Session {
        id: random_token::<16>(),
        secret_hash: secret::hash(&secret_value),
        user_id: user.id,
        auth_time: now,
        created_at: now,
        expires_at: now + state.settings().session_ttl,
        revoked_at: None,
    };
    state.store.insert_session(&session).await?;
    let cookie = state.cookies.set(
        state.cookies.session,
        &secret_value,
        state.settings().session_ttl,
    );
    Ok(LoginAttempt::Started(session, cookie))
}

pub async fn consent(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (form, pending) = match read_interaction(&state, &headers, body).await {
        Ok(read) => read,
        Err((status, message)) => return pages::error(status, message),
    };
    match decide(&state, &headers, &form, pending).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    form: &Params,
    pending: Pending,
) -> Result<Response, ApiError> {
    let now = now();
    let target = admit_oauth::authorize::Target {
        redirect_uri: pending.request.redirect_uri.clone(),
        state: pending.request.state.clone(),
    };
    // The consent must come from the same user, still logged in.
    let session = browser::session(state, headers, now).await?;
    let Some(session) = session.filter(|s| Some(&s.user_id) == pending.user_id.as_ref()) else {
        return Ok(pages::error(
            StatusCode::BAD_REQUEST,
            "Your login has ended. Go back to the application and start again.",
        ));
    };
    match form.get("decision") {
        Some("approve") => {
            let client_id = &pending.request.client_id;
            let previous = state.store.consent(&session.user_id, client_id).await?;
            let mut scope: Vec<String> = pending
                .request
                .scope
                .split(' ')
                .map(str::to_owned)
                .collect();
            if let Some(p) = &previous {
                scope.extend(p.scope.split(' ').map(str::to_owned));
            }
            let scope = Scope::from_tokens(scope.into_iter().filter(|s| !s.is_empty())).to_string();
            state
                .store
                .upsert_consent(&Consent {
                    user_id: session.user_id.clone(),
                    client_id: client_id.clone(),
                    scope: scope.clone(),
                    granted_at: previous.as_ref().map_or(now, |p| p.granted_at),
                    updated_at: now,
                })
                .await?;
            let event = Event::new("consent.grant", "success")
                .actor(format!("user:{}", session.user_id))
                .subject(session.user_id.clone())
                .client(client_id.clone())
                .detail(serde_json::json!({ "scope": scope }));
            state.audit.record(event);
            let client = state.store.client(client_id).await?;
            let code_ttl = client
                .and_then(|c| c.code_ttl)
                .unwrap_or(state.settings().code_ttl);
            issue_code(state, &pending.request, &session, code_ttl, now).await
        }
        Some("deny") => Ok(redirect_error(
            state,
            &target,
            OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
        )),
        _ => Ok(pages::error(
            StatusCode::BAD_REQUEST,
            "Choose Allow or Deny.",
        )),
    }
}

pub fn with_cookie(mut response: Response, cookie: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}
