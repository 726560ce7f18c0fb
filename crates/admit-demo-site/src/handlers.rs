//! The routes: thin axum handlers that read the session, call [`crate::flow`] and
//! answer with a page or a redirect.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::Site;
use crate::flow::{self, CallbackParams, RefreshInput};
use crate::pages::{self, View};
use crate::recorder::mask_url;
use crate::session::{Session, random_token, session_id, set_cookie};
use crate::timeline;

const STYLESHEET: &str = include_str!("../assets/style.css");

pub fn routes(site: Arc<Site>) -> Router<Arc<Site>> {
    let mut router = Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route(&site.settings.callback_path, get(callback))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/style.css", get(stylesheet));
    if site.settings.post_logout_path != "/" {
        router = router.route(&site.settings.post_logout_path, get(index));
    }
    router
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A 303 to `location`, optionally setting the session cookie.
fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The page with only an error on it, for when there is no session to keep it in.
fn error_page(site: &Site, status: StatusCode, message: &str) -> Response {
    let view = View {
        settings: &site.settings,
        provider: &site.provider,
        session: None,
        error: Some(message),
        notice: None,
        now: unix_now(),
    };
    (status, pages::home(&view)).into_response()
}

#[derive(Deserialize)]
struct IndexParams {
    state: Option<String>,
}

/// `GET /` (and the post-logout path): the log-in link, or the logged-in view.
async fn index(State(site): State<Arc<Site>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = Query::<IndexParams>::try_from_uri(&uri).map(|q| q.0).ok();
    let returned_state = params.and_then(|p| p.state);
    let now = unix_now();
    let rendered = session_id(&headers).and_then(|id| {
        site.sessions.with(&id, |session| {
            if let (Some(returned), Some(sent)) = (&returned_state, &session.logout_state) {
                session.flash_notice = Some(if crate::session::constant_time_eq(returned, sent) {
                    "admit ended its session too and sent you back here (the state matched the one \
                     this site sent)."
                        .to_owned()
                } else {
                    "Back from admit, but with a state this site did not send.".to_owned()
                });
                session.logout_state = None;
            }
            let error = session.flash_error.take();
            let notice = session.flash_notice.take();
            let view = View {
                settings: &site.settings,
                provider: &site.provider,
                session: Some(session),
                error: error.as_deref(),
                notice: notice.as_deref(),
                now,
            };
            pages::home(&view)
        })
    });
    let markup = rendered.unwrap_or_else(|| {
        pages::home(&View {
            settings: &site.settings,
            provider: &site.provider,
            session: None,
            error: None,
            notice: None,
            now,
        })
    });
    markup.into_response()
}

/// `GET /login`: a new session holding PKCE verifier, state and nonce, and a 303
/// to admit's authorization endpoint.
async fn login(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    if let Some(old) = session_id(&headers) {
        site.sessions.remove(&old);
    }
    let (url, pending) = flow::start_login(&site);
    let scope = std::iter::once("openid")
        .chain(site.settings.scopes.iter().map(|s| s.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut session = Session::new();
    session.push(timeline::authorize_redirect(
        url.as_str(),
        &scope,
        unix_now(),
    ));
    session.pending = Some(pending);
    let id = site.sessions.insert(session);
    see_other(
        url.as_str(),
        Some(set_cookie(&id, site.settings.secure_cookie)),
    )
}

/// `GET /callback`: check, redeem, verify, fetch; then back to `/`.
async fn callback(State(site): State<Arc<Site>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = match Query::<CallbackParams>::try_from_uri(&uri) {
        Ok(Query(params)) => params,
        Err(error) => {
            let message = format!("The callback's query could not be read: {error}");
            return error_page(&site, StatusCode::BAD_REQUEST, &message);
        }
    };
    let Some(id) = session_id(&headers) else {
        return error_page(
            &site,
            StatusCode::BAD_REQUEST,
            "This browser has no session with this site, so this callback answers no login it \
             started. Start again with \"Log in with admit\".",
        );
    };
    let Some(pending) = site.sessions.with(&id, |s| s.pending.take()).flatten() else {
        return error_page(
            &site,
            StatusCode::BAD_REQUEST,
            "No login is in progress in this browser's session (it was used already, or it \
             expired). Start again with \"Log in with admit\".",
        );
    };
    let now = unix_now();
    let callback_url = match uri.query() {
        Some(query) => format!("{}?{query}", site.settings.redirect_uri.as_str()),
        None => site.settings.redirect_uri.as_str().to_owned(),
    };
    let mut entries = vec![
        timeline::login_at_admit(now),
        timeline::callback(
            &mask_url(&callback_url),
            params.error.as_deref(),
            params.iss.as_deref(),
            now,
        ),
    ];
    let result = match flow::check_callback(&site, &pending, &params) {
        Ok(code) => flow::finish_login(&site, pending, code, now, &mut entries).await,
        Err(error) => Err(error),
    };
    if let Err(error) = &result {
        tracing::warn!(%error, "demo site: login failed");
    }
    let success = result.is_ok();
    let stored = site.sessions.with(&id, |session| {
        entries.into_iter().for_each(|entry| session.push(entry));
        match result {
            Ok(login) => session.login = Some(login),
            Err(error) => session.flash_error = Some(error),
        }
    });
    if stored.is_none() {
        return error_page(
            &site,
            StatusCode::BAD_REQUEST,
            "The session expired during the login.",
        );
    }
    // A new session id once logged in: an id known before the login is worth nothing.
    let cookie = if success {
        site.sessions
            .rotate(&id)
            .map(|new_id| set_cookie(&new_id, site.settings.secure_cookie))
    } else {
        None
    };
    see_other("/", cookie)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

const FORGED: &str = "This form did not come from this site's page (its CSRF token does not \
                      match this browser's session), so it was ignored.";

/// `POST /refresh`: the refresh grant.
async fn refresh(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(id) = session_id(&headers) else {
        return error_page(&site, StatusCode::FORBIDDEN, FORGED);
    };
    let input = site.sessions.with(&id, |session| {
        if !session.csrf_matches(&form.csrf) {
            return Err(None);
        }
        let Some(login) = session.login.as_mut() else {
            return Err(Some("Not logged in.".to_owned()));
        };
        if login.refresh_in_progress() {
            return Err(Some("A refresh is already under way.".to_owned()));
        }
        let Some(refresh_token) = login.refresh_token.clone() else {
            return Err(Some(
                "admit sent no refresh token with this login.".to_owned(),
            ));
        };
        login.refreshing_since = Some(std::time::Instant::now());
        Ok(RefreshInput {
            refresh_token,
            nonce: login.nonce.clone(),
            subject: login.subject.clone(),
            jwks: login.jwks.clone(),
        })
    });
    let input = match input {
        None | Some(Err(None)) => return error_page(&site, StatusCode::FORBIDDEN, FORGED),
        Some(Err(Some(message))) => {
            site.sessions
                .with(&id, |session| session.flash_error = Some(message));
            return see_other("/", None);
        }
        Some(Ok(input)) => input,
    };
    let mut entries = Vec::new();
    let result = flow::refresh(&site, input, unix_now(), &mut entries).await;
    if let Err(error) = &result {
        tracing::warn!(%error, "demo site: refresh failed");
    }
    site.sessions.with(&id, |session| {
        entries.into_iter().for_each(|entry| session.push(entry));
        let Some(login) = session.login.as_mut() else {
            return;
        };
        login.refreshing_since = None;
        match result {
            Ok(refreshed) => {
                login.access_token = refreshed.access_token;
                if let Some(token) = refreshed.refresh_token {
                    login.refresh_token = Some(token);
                }
                if let Some(id_token) = refreshed.id_token {
                    login.id_token = id_token;
                }
                login.expires_in = refreshed.expires_in;
                if refreshed.scope.is_some() {
                    login.scope = refreshed.scope;
                }
                login.api_call = Some(refreshed.api_call);
                login.refreshes += 1;
                session.flash_notice = Some(
                    "New tokens: the tokens below are fresh, and the old refresh token is spent."
                        .to_owned(),
                );
            }
            Err(error) => session.flash_error = Some(error),
        }
    });
    see_other("/", None)
}

/// `POST /logout`: forget the tokens, then RP-initiated logout at admit.
async fn logout(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(id) = session_id(&headers) else {
        return error_page(&site, StatusCode::FORBIDDEN, FORGED);
    };
    if site.sessions.with(&id, |s| s.csrf_matches(&form.csrf)) != Some(true) {
        return error_page(&site, StatusCode::FORBIDDEN, FORGED);
    }
    let id_token = site
        .sessions
        .remove(&id)
        .and_then(|session| session.login)
        .map(|login| login.id_token);
    let state = random_token();
    let url = id_token.and_then(|id_token| flow::logout_url(&site, &id_token, &state));
    let mut session = Session::new();
    let location = match &url {
        Some(url) => {
            session.push(timeline::logout(&mask_url(url.as_str()), unix_now()));
            session.logout_state = Some(state);
            url.as_str()
        }
        None => {
            session.flash_notice = Some(
                "Logged out of this site. admit has no end_session_endpoint (or there was no \
                 login), so admit's own session goes on."
                    .to_owned(),
            );
            "/"
        }
    };
    let new_id = site.sessions.insert(session);
    see_other(
        location,
        Some(set_cookie(&new_id, site.settings.secure_cookie)),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        STYLESHEET,
    )
}
