//! `/account`: the user's own page at admit, where they see which applications they
//! allowed and withdraw that consent. It has its own login form (`/account/login`).

use admit_oauth::form::Params;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::form::read_form;
use super::interaction::{LoginAttempt, throttled, try_login, with_cookie};
use crate::address::ClientAddress;
use crate::audit::Event;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{browser, now, pages};

/// What the account forms carry, sealed: only that they are account forms.
const ACCOUNT_FORM: &str = "account";
const FORM_LIFETIME: i64 = 3600;

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(session) = browser::session(&state, &headers, now()).await? else {
        return Ok(login_page(&state, &headers, None));
    };
    let user = state
        .store
        .user_by_id(&session.user_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let sealed = state.sealer.seal(ACCOUNT_FORM, now() + FORM_LIFETIME);
    let (browser_id, set_cookie) = browser::browser_id(&state, &headers);
    let mut consents = Vec::new();
    for c in state.store.list_consents(&session.user_id).await? {
        let name = state
            .store
            .client(&c.client_id)
            .await?
            .and_then(|c| c.name)
            .unwrap_or_else(|| c.client_id.clone());
        let csrf = state.sealer.csrf_token(&browser_id, &sealed);
        consents.push((c.client_id, name, c.scope, csrf));
    }
    let page = pages::Account {
        username: &user,
        consents,
        form: &sealed,
    };
    Ok(with_cookie(
        pages::render(StatusCode::OK, &page),
        set_cookie,
    ))
}

fn login_page(state: &AppState, headers: &HeaderMap, error: Option<&str>) -> Response {
    let sealed = state.sealer.seal(ACCOUNT_FORM, now() + FORM_LIFETIME);
    let (browser_id, set_cookie) = browser::browser_id(state, headers);
    let page = pages::Login {
        client_name: None,
        action: "/account/login",
        interaction: &sealed,
        csrf: &state.sealer.csrf_token(&browser_id, &sealed),
        username: "",
        error,
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(pages::render(status, &page), set_cookie)
}

/// Reads an account form after its CSRF check.
async fn read(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Params, Response> {
    let refused = || {
        pages::error(
            StatusCode::FORBIDDEN,
            "This form expired or did not come from admit's page in this browser.",
        )
    };
    let form = read_form(headers, body).await.map_err(|_| refused())?;
    let sealed = form.get("interaction").unwrap_or_default();
    let browser_id = browser::cookie(headers, state.cookies.browser).unwrap_or_default();
    let fresh = state
        .sealer
        .open::<String>(sealed, now())
        .is_some_and(|v| v == ACCOUNT_FORM);
    if fresh
        && state
            .sealer
            .check_csrf(browser_id, sealed, form.get("csrf").unwrap_or_default())
    {
        Ok(form)
    } else {
        Err(refused())
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = match read(&state, &headers, body).await {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    Ok(match try_login(&state, &form, address, None).await? {
        LoginAttempt::Started(_, cookie) => {
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, "/account")]).into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        LoginAttempt::Wrong => login_page(&state, &headers, Some("Wrong username or password.")),
        LoginAttempt::Throttled(seconds) => throttled(seconds),
    })
}

pub async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let form = match read(&state, &headers, body).await {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    let Some(session) = browser::session(&state, &headers, now()).await? else {
        return Ok(login_page(&state, &headers, None));
    };
    if let Some(client_id) = form.get("client_id")
        && crate::revocation::consent(&state.store, &session.user_id, client_id, now()).await?
    {
        let event = Event::new("consent.withdraw", "success")
            .actor(format!("user:{}", session.user_id))
            .subject(session.user_id.clone())
            .client(client_id);
        state.audit.record(event);
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/account")]).into_response())
}
