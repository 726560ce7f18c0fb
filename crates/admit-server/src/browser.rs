//! The browser's side of admit: cookies for the SSO session and for CSRF binding.
//!
//! Cookies are `HttpOnly` and `SameSite=Lax`; with an https issuer they are also
//! `Secure` and carry the `__Host-` prefix (bound to this host, path `/`).

use admit_oauth::secret;
use admit_store::Session;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::state::AppState;

pub struct CookieNames {
    pub session: &'static str,
    pub browser: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn for_issuer(issuer: &str) -> CookieNames {
        if issuer.starts_with("https://") {
            CookieNames {
                session: "__Host-admit_session",
                browser: "__Host-admit_browser",
                secure: true,
            }
        } else {
            CookieNames {
                session: "admit_session",
                browser: "admit_browser",
                secure: false,
            }
        }
    }

    /// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
    pub fn set(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
        ))
        .expect("cookie values are base64url")
    }
}

/// The value of cookie `name`, if the request has exactly one such cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    match (found.next(), found.next()) {
        (Some(v), None) => Some(v),
        _ => None,
    }
}

/// The live SSO session this browser holds, if any.
pub async fn session(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<Session>, admit_store::StoreError> {
    let Some(value) = cookie(headers, state.cookies.session) else {
        return Ok(None);
    };
    let session = state.store.session_by_secret(&secret::hash(value)).await?;
    Ok(session.filter(|s| s.revoked_at.is_none() && now < s.expires_at))
}

/// The browser's CSRF identity: its cookie, or a new one to set.
pub fn browser_id(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, state.cookies.browser) {
        Some(id) if id.len() >= 22 => (id.to_owned(), None),
        _ => {
            let id = crate::random_token::<16>();
            let set = state.cookies.set(state.cookies.browser, &id, 24 * 3600);
            (id, Some(set))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_issuers_get_host_prefixed_secure_cookies() {
        let https = CookieNames::for_issuer("https://id.example.com");
        assert_eq!(https.session, "__Host-admit_session");
        let set = https.set(https.session, "v", 60);
        let set = set.to_str().unwrap();
        assert!(
            set.contains("; Secure")
                && set.contains("HttpOnly")
                && set.contains("SameSite=Lax")
                && set.contains("Path=/")
        );
        let http = CookieNames::for_issuer("http://127.0.0.1:8080");
        assert!(
            !http
                .set(http.session, "v", 60)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }

    #[test]
    fn a_repeated_cookie_is_not_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; admit_session=x"),
        );
        assert_eq!(cookie(&headers, "admit_session"), Some("x"));
        headers.append(header::COOKIE, HeaderValue::from_static("admit_session=y"));
        assert_eq!(cookie(&headers, "admit_session"), None);
    }
}
