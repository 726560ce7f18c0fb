//! Introspection mode: after local verification, ask the issuer whether the token is
//! still active (RFC 7662 §2), and remember the answer for a while.
//!
//! An answer is cached under the token's SHA-256 for at most `cache_ttl` and never
//! past the token's `exp`. An endpoint that does not answer fails closed: the
//! request gets 503, never the benefit of the doubt.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::ACCEPT;
use reqwest::{Client, Url};
use serde::Deserialize;

use crate::answer_cache::{AnswerCache, CAPACITY, TokenDigest};
use crate::credentials::ClientCredentials;
use crate::fetch::send_for_json;
use crate::{BearerError, FetchError};

/// Sent once by [`Introspector::start`]: any string that is not a token will do, and
/// admit answers `{"active": false}` to it.
const PROBE_TOKEN: &str = "admit-resource-start-up-probe";

pub(crate) struct Introspector {
    client: Client,
    url: Url,
    credentials: ClientCredentials,
    cache_ttl: Duration,
    /// Never held across an await.
    cache: Mutex<AnswerCache>,
    /// The last attempt failed: the outage has been logged, once.
    failing: AtomicBool,
}

/// The one member of the answer we read (RFC 7662 §2.2). With `active: false` admit
/// sends nothing else; with `active: true` the rest repeats what the JWT says.
#[derive(Deserialize)]
struct IntrospectionResponse {
    active: bool,
}

impl Introspector {
    /// Asks the endpoint about a made-up token, so that a wrong endpoint or wrong
    /// credentials fail at start-up rather than on every request.
    pub async fn start(
        client: Client,
        url: Url,
        credentials: ClientCredentials,
        cache_ttl: Duration,
    ) -> Result<Introspector, FetchError> {
        let introspector = Introspector {
            client,
            url,
            credentials,
            cache_ttl,
            cache: Mutex::new(AnswerCache::new(CAPACITY)),
            failing: AtomicBool::new(false),
        };
        introspector.ask(PROBE_TOKEN).await?;
        Ok(introspector)
    }

    /// After `token` (whose SHA-256 is `key`) verified locally (it expires at `exp`):
    /// is it still active?
    pub async fn check(&self, token: &str, key: TokenDigest, exp: i64) -> Result<(), BearerError> {
        let cached = self.cache().get(&key, Instant::now());
        let active = match cached {
            Some(active) => active,
            None => {
                let active = self.ask_or_log(token).await?;
                let lifetime = self.cache_ttl.min(until_exp(exp));
                let until = Instant::now().checked_add(lifetime);
                if let Some(until) = until.filter(|_| !lifetime.is_zero()) {
                    self.cache().insert(key, active, until);
                }
                active
            }
        };
        if active {
            Ok(())
        } else {
            Err(BearerError::Revoked)
        }
    }

    async fn ask_or_log(&self, token: &str) -> Result<bool, BearerError> {
        match self.ask(token).await {
            Ok(active) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(url = %self.url, "the introspection endpoint answers again");
                }
                Ok(active)
            }
            Err(error) => {
                if self.failing.swap(true, Ordering::Relaxed) {
                    tracing::debug!(%error, "introspection failed again");
                } else {
                    tracing::warn!(
                        %error,
                        "introspection failed: refusing tokens (503) until the endpoint answers"
                    );
                }
                Err(BearerError::RevocationUnknown)
            }
        }
    }

    /// RFC 7662 §2.1: a form POST with the token and a hint, the client
    /// authenticated with HTTP Basic.
    async fn ask(&self, token: &str) -> Result<bool, FetchError> {
        let request = self
            .client
            .post(self.url.clone())
            .header(ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        let request = self.credentials.authorize(request);
        let answer: IntrospectionResponse = send_for_json(request, &self.url).await?;
        Ok(answer.active)
    }

    fn cache(&self) -> MutexGuard<'_, AnswerCache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How long until `exp` (Unix seconds), to the sub-second: zero once past.
fn until_exp(exp: i64) -> Duration {
    let Ok(exp) = u64::try_from(exp) else {
        return Duration::ZERO;
    };
    // A signed `exp` beyond what `SystemTime` holds is simply far away.
    let Some(exp) = UNIX_EPOCH.checked_add(Duration::from_secs(exp)) else {
        return Duration::MAX;
    };
    exp.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_until_exp() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let in_a_minute = until_exp(now.as_secs() as i64 + 60);
        assert!(in_a_minute > Duration::from_secs(59) && in_a_minute <= Duration::from_secs(60));
        assert_eq!(until_exp(now.as_secs() as i64 - 1), Duration::ZERO);
        assert_eq!(until_exp(-5), Duration::ZERO);
        // Whether `SystemTime` holds it or not, no panic, and far away.
        assert!(until_exp(i64::MAX) > Duration::from_secs(1 << 40));
    }
}
