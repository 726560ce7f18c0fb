//! The login flow itself, as any site does it with openidconnect: build the
//! authorization request, check the callback, redeem the code, verify the ID token,
//! call UserInfo and the API, refresh, and build the logout URL.
//!
//! Nothing here knows axum: each function takes what it needs and returns the
//! result plus the timeline entries for the exchanges it made.

use std::str::FromStr;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreIdToken, CoreJsonWebKeySet, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, TokenResponse,
};
use serde::Deserialize;
use url::Url;

use crate::Site;
use crate::recorder::{Exchange, Recording};
use crate::session::{Login, PendingLogin, constant_time_eq};
use crate::timeline::{self, TimelineEntry};

/// The query of the redirect back from admit: a code, or an error (RFC 6749 §4.1.2).
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
}

/// The error text with every cause, for showing on the page.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The authorization URL and the secrets to keep until the callback (PKCE S256,
/// `state`, `nonce`).
pub fn start_login(site: &Site) -> (Url, PendingLogin) {
    let client = site
        .provider
        .client(&site.settings, site.provider.metadata.jwks().clone());
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scopes(site.settings.scopes.iter().cloned())
        .set_pkce_challenge(challenge)
        .url();
    let pending = PendingLogin {
        state,
        nonce,
        pkce_verifier,
    };
    (url, pending)
}

/// Checks the callback's `state` and `iss` and reads its code; an `error` from admit
/// becomes the error text shown.
pub fn check_callback(
    site: &Site,
    pending: &PendingLogin,
    params: &CallbackParams,
) -> Result<String, String> {
    let state_ok = params
        .state
        .as_deref()
        .is_some_and(|state| constant_time_eq(state, pending.state.secret()));
    if !state_ok {
        return Err(
            "The state in the callback does not match the one this browser's login \
                    sent: this answer belongs to another login (or a forged request), so it \
                    was refused."
                .to_owned(),
        );
    }
    match params.iss.as_deref() {
        Some(iss) if iss != site.settings.issuer.as_str() => {
            return Err(format!(
                "The callback's iss is {iss:?}, not the issuer this site uses ({:?}): refused \
                 (RFC 9207, mix-up protection).",
                site.settings.issuer.as_str()
            ));
        }
        None if site.provider.requires_iss() => {
            return Err(
                "admit promised an iss parameter in every authorization response, and \
                        this callback has none: refused (RFC 9207)."
                    .to_owned(),
            );
        }
        _ => {}
    }
    if let Some(error) = &params.error {
        let mut text = format!("admit answered with error={error}");
        if let Some(description) = &params.error_description {
            text.push_str(&format!(": {description}"));
        }
        if let Some(uri) = &params.error_uri {
            text.push_str(&format!(" (see {uri})"));
        }
        return Err(text);
    }
    params
        .code
        .clone()
        .filter(|code| !code.is_empty())
        .ok_or_else(|| "The callback has neither a code nor an error.".to_owned())
}

/// Moves the exchanges recorded so far into `entries`, each made an entry by `make`.
fn note(
    entries: &mut Vec<TimelineEntry>,
    recording: &Recording<'_>,
    make: fn(Exchange, i64) -> TimelineEntry,
    now: i64,
) {
    entries.extend(
        recording
            .take()
            .into_iter()
            .map(|exchange| make(exchange, now)),
    );
}

/// Redeems the code (PKCE), verifies the ID token, calls UserInfo and the demo API.
pub async fn finish_login(
    site: &Site,
    pending: PendingLogin,
    code: String,
    now: i64,
    entries: &mut Vec<TimelineEntry>,
) -> Result<Login, String> {
    let recording = Recording::new(&site.http);

    let jwks = CoreJsonWebKeySet::fetch_async(site.provider.metadata.jwks_uri(), &recording).await;
    note(entries, &recording, timeline::jwks, now);
    let jwks = jwks.map_err(|e| format!("Could not fetch admit's keys: {}", describe(&e)))?;
    let client = site.provider.client(&site.settings, jwks.clone());

    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(pending.pkce_verifier)
        .request_async(&recording)
        .await;
    note(entries, &recording, timeline::token_exchange, now);
    let response =
        response.map_err(|e| format!("The token endpoint refused the code: {}", describe(&e)))?;

    let id_token = response
        .id_token()
        .ok_or("admit's token response has no id_token (was the openid scope granted?)")?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &pending.nonce)
        .map_err(|e| format!("The ID token failed verification: {}", describe(&e)))?;
    let mut checks = vec![
        "signature verified with admit's public key (from its JWKS)".to_owned(),
        format!("iss is {}", claims.issuer().as_str()),
        format!(
            "aud includes this site's client_id ({})",
            site.settings.client_id.as_str()
        ),
        "exp is in the future, iat is not".to_owned(),
        "nonce is the one this site sent in step 1".to_owned(),
    ];
    if let Some(expected) = claims.access_token_hash() {
        let hash_error =
            |e: &dyn std::error::Error| format!("Could not compute at_hash: {}", describe(e));
        let alg = id_token.signing_alg().map_err(|e| hash_error(&e))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| hash_error(&e))?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
            .map_err(|e| hash_error(&e))?;
        if actual != *expected {
            return Err("The ID token's at_hash does not match the access token: refused.".into());
        }
        checks.push("at_hash matches the access token".to_owned());
    }
    let subject = claims.subject().as_str().to_owned();
    let access_token = response.access_token().clone();

    let userinfo = client
        .user_info(access_token.clone(), Some(claims.subject().clone()))
        .request_async(&recording)
        .await;
    note(entries, &recording, timeline::userinfo, now);
    let userinfo = userinfo
        .map_err(|e| format!("UserInfo failed: {}", describe(&e)))
        .and_then(|claims: CoreUserInfoClaims| {
            serde_json::to_value(&claims).map_err(|e| e.to_string())
        });

    let api_call = call_api(&recording, &site.settings.api_url, &access_token).await;
    entries.push(timeline::api_call(api_call.clone(), false, now));

    Ok(Login {
        id_token: id_token.to_string(),
        access_token,
        refresh_token: response.refresh_token().cloned(),
        expires_in: response.expires_in().map(|d| d.as_secs()),
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        nonce: pending.nonce,
        subject,
        jwks,
        checks,
        userinfo,
        api_call: Some(api_call),
        refreshes: 0,
        refreshing_since: None,
    })
}

/// `GET api_url` with `Authorization: Bearer`, recorded.
pub async fn call_api(recording: &Recording<'_>, api_url: &Url, token: &AccessToken) -> Exchange {
    let request = http::Request::builder()
        .method(http::Method::GET)
        .uri(api_url.as_str())
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", token.secret()),
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new());
    match request {
        Ok(request) => {
            // Failures are recorded in the exchange, which is what the page shows.
            let _ = recording.send(request).await;
            recording
                .take()
                .pop()
                .unwrap_or_else(|| unsent_exchange(api_url))
        }
        Err(error) => Exchange {
            response: Err(error.to_string()),
            ..unsent_exchange(api_url)
        },
    }
}

fn unsent_exchange(api_url: &Url) -> Exchange {
    Exchange {
        request: crate::recorder::RecordedRequest {
            method: "GET".into(),
            url: api_url.to_string(),
            headers: Vec::new(),
            body: String::new(),
        },
        response: Err("no request was made".into()),
    }
}

/// What a refresh needs from the login, copied out of the session.
pub struct RefreshInput {
    pub refresh_token: openidconnect::RefreshToken,
    pub nonce: Nonce,
    pub subject: String,
    pub jwks: CoreJsonWebKeySet,
}

/// What a refresh changes in the login.
pub struct Refreshed {
    pub access_token: AccessToken,
    /// The successor (admit rotates refresh tokens); `None` keeps the old one.
    pub refresh_token: Option<openidconnect::RefreshToken>,
    pub id_token: Option<String>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    pub api_call: Exchange,
}

/// The refresh grant, then the demo API again with the new access token.
pub async fn refresh(
    site: &Site,
    input: RefreshInput,
    now: i64,
    entries: &mut Vec<TimelineEntry>,
) -> Result<Refreshed, String> {
    let recording = Recording::new(&site.http);
    let client = site.provider.client(&site.settings, input.jwks);
    let response = client
        .exchange_refresh_token(&input.refresh_token)
        .request_async(&recording)
        .await;
    note(entries, &recording, timeline::refresh, now);
    let response = response.map_err(|e| format!("The refresh was refused: {}", describe(&e)))?;

    let id_token = match response.id_token() {
        Some(id_token) => {
            // OpenID Connect Core §12.2: same iss, sub and aud; a nonce, if any, is
            // the original one.
            let original = input.nonce.secret().clone();
            let claims = id_token
                .claims(
                    &client.id_token_verifier(),
                    |nonce: Option<&Nonce>| match nonce {
                        Some(nonce) if !constant_time_eq(nonce.secret(), &original) => {
                            Err("nonce differs from the original login's".to_owned())
                        }
                        _ => Ok(()),
                    },
                )
                .map_err(|e| format!("The new ID token failed verification: {}", describe(&e)))?;
            if claims.subject().as_str() != input.subject {
                return Err("The new ID token names another user (sub changed): refused.".into());
            }
            Some(id_token.to_string())
        }
        None => None,
    };
    let access_token = response.access_token().clone();
    let api_call = call_api(&recording, &site.settings.api_url, &access_token).await;
    entries.push(timeline::api_call(api_call.clone(), true, now));
    Ok(Refreshed {
        access_token,
        refresh_token: response.refresh_token().cloned(),
        id_token,
        expires_in: response.expires_in().map(|d| d.as_secs()),
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        api_call,
    })
}

/// The RP-initiated logout URL (`id_token_hint`, `client_id`,
/// `post_logout_redirect_uri`, `state`), or `None` when admit has no
/// `end_session_endpoint`.
pub fn logout_url(site: &Site, id_token: &str, state: &str) -> Option<Url> {
    let endpoint = site
        .provider
        .metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()?;
    let mut request = LogoutRequest::from(endpoint)
        .set_client_id(ClientId::new(site.settings.client_id.as_str().to_owned()))
        .set_post_logout_redirect_uri(site.settings.post_logout_redirect_uri.clone())
        .set_state(CsrfToken::new(state.to_owned()));
    if let Ok(id_token) = CoreIdToken::from_str(id_token) {
        request = request.set_id_token_hint(&id_token);
    }
    Some(request.http_get_url())
}
