//! The site's own sessions: what this site remembers about a browser.
//!
//! This is the seed's *session-based* authentication, on the client's side: the
//! browser holds only a random cookie, and the tokens stay on the server, in
//! memory, keyed by it. The store is bounded in size and age, so a flood of
//! `/login` requests cannot grow it without limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header::COOKIE;
use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{AccessToken, CsrfToken, Nonce, PkceCodeVerifier, RefreshToken};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::recorder::Exchange;
use crate::timeline::TimelineEntry;

/// The site's cookie. Cookies ignore ports, so the name must not collide with
/// admit's own cookie on the same host.
pub const COOKIE_NAME: &str = "admit_demo_site";
const MAX_SESSIONS: usize = 1000;
const MAX_AGE: Duration = Duration::from_secs(60 * 60);
const MAX_TIMELINE: usize = 40;
/// Entries at the head of the timeline (the login itself) that are never dropped.
const KEPT_TIMELINE_HEAD: usize = 8;

/// What the site remembers about one browser.
#[derive(Debug)]
pub struct Session {
    /// The token the site's own POST forms carry (refresh, logout).
    pub csrf_token: String,
    /// Set by `/login`, consumed by the callback.
    pub pending: Option<PendingLogin>,
    /// Set once the callback succeeds.
    pub login: Option<Login>,
    pub timeline: Vec<TimelineEntry>,
    /// The `state` sent with a logout, checked when admit sends the browser back.
    pub logout_state: Option<String>,
    /// One-time messages for the next page view.
    pub flash_error: Option<String>,
    pub flash_notice: Option<String>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    pub fn new() -> Session {
        Session {
            csrf_token: random_token(),
            pending: None,
            login: None,
            timeline: Vec::new(),
            logout_state: None,
            flash_error: None,
            flash_notice: None,
        }
    }

    /// Adds an entry; past the limit the oldest entry after the login is dropped.
    pub fn push(&mut self, entry: TimelineEntry) {
        if self.timeline.len() >= MAX_TIMELINE {
            self.timeline.remove(KEPT_TIMELINE_HEAD);
        }
        self.timeline.push(entry);
    }

    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(&self.csrf_token, presented)
    }
}

/// The secrets of a login in progress, kept here and never in the browser.
#[derive(Debug)]
pub struct PendingLogin {
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub pkce_verifier: PkceCodeVerifier,
}

/// A finished login: the tokens and what the site learnt with them.
#[derive(Debug)]
pub struct Login {
    pub id_token: String,
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    /// For checking a refreshed ID token against the original.
    pub nonce: Nonce,
    pub subject: String,
    pub jwks: CoreJsonWebKeySet,
    /// What the site checked about the ID token, one line each.
    pub checks: Vec<String>,
    /// The claims from the UserInfo endpoint, or why there are none.
    pub userinfo: Result<Value, String>,
    /// The last call to the demo API.
    pub api_call: Option<Exchange>,
    pub refreshes: u32,
    /// When the refresh under way started: a second one would present a spent
    /// refresh token. A time, not a flag, so a request abandoned half-way (the
    /// browser went away) cannot block refreshes for good.
    pub refreshing_since: Option<Instant>,
}

impl Login {
    pub fn refresh_in_progress(&self) -> bool {
        // Two back-channel requests of at most 10 s each.
        self.refreshing_since
            .is_some_and(|since| since.elapsed() < Duration::from_secs(30))
    }
}

/// The sessions of all browsers, bounded in number and age.
#[derive(Default)]
pub struct SessionStore {
    inner: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, Stored>,
    /// Increases with every insert: the smallest is the oldest.
    next_seq: u64,
}

struct Stored {
    created: Instant,
    seq: u64,
    session: Session,
}

impl SessionStore {
    /// Stores `session` under a new random id and returns the id.
    pub fn insert(&self, session: Session) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut inner = self.lock();
        let sessions = &mut inner.by_id;
        sessions.retain(|_, stored| now.duration_since(stored.created) < MAX_AGE);
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, stored)| stored.seq)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.by_id.insert(
            id.clone(),
            Stored {
                created: now,
                seq,
                session,
            },
        );
        id
    }

    /// Runs `f` on the session `id`, if it exists and is not too old.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let mut inner = self.lock();
        let stored = inner.by_id.get_mut(id)?;
        if stored.created.elapsed() >= MAX_AGE {
            inner.by_id.remove(id);
            return None;
        }
        Some(f(&mut stored.session))
    }

    pub fn remove(&self, id: &str) -> Option<Session> {
        self.lock().by_id.remove(id).map(|stored| stored.session)
    }

    /// Moves the session to a new id (after login, so an id seen before the login
    /// is worth nothing after it) and returns the new id.
    pub fn rotate(&self, id: &str) -> Option<String> {
        let session = self.remove(id)?;
        Some(self.insert(session))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// 256 random bits, base64url (from openidconnect's CSPRNG-backed generator).
pub fn random_token() -> String {
    CsrfToken::new_random_len(32).into_secret()
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The session id from the request's `Cookie` headers.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// `Set-Cookie` for session `id`. `SameSite=Lax` so that the top-level redirect
/// back from admit (a cross-site GET) still carries it, while cross-site POSTs don't.
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("admit_session=x; other=1"));
        headers.append(COOKIE, HeaderValue::from_static("admit_demo_site=abc"));
        assert_eq!(session_id(&headers).as_deref(), Some("abc"));
        assert_eq!(session_id(&HeaderMap::new()), None);
    }

    #[test]
    fn cookie_attributes() {
        let cookie = set_cookie("abc", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie("abc", true).ends_with("; Secure"));
    }

    #[test]
    fn store_inserts_finds_rotates_and_removes() {
        let store = SessionStore::default();
        let id = store.insert(Session::new());
        let csrf = store.with(&id, |s| s.csrf_token.clone()).unwrap();
        let new_id = store.rotate(&id).unwrap();
        assert_ne!(id, new_id);
        assert!(store.with(&id, |_| ()).is_none());
        assert_eq!(store.with(&new_id, |s| s.csrf_token.clone()), Some(csrf));
        assert!(store.remove(&new_id).is_some());
        assert!(store.with(&new_id, |_| ()).is_none());
    }

    #[test]
    fn store_is_bounded() {
        let store = SessionStore::default();
        let first = store.insert(Session::new());
        for _ in 0..MAX_SESSIONS {
            store.insert(Session::new());
        }
        assert_eq!(store.lock().by_id.len(), MAX_SESSIONS);
        assert!(
            store.with(&first, |_| ()).is_none(),
            "the oldest goes first"
        );
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let session = Session::new();
        let token = session.csrf_token.clone();
        assert!(session.csrf_matches(&token));
        assert!(!session.csrf_matches(&token[1..]));
        assert!(!session.csrf_matches(""));
        assert_ne!(random_token(), random_token());
    }
}
