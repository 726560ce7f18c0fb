//! The keys a verifier trusts: a fixed set, or the issuer's JWKS fetched and cached.
//!
//! A remote set is refreshed lazily, by the request that finds it too old or that
//! meets an unknown `kid`; there is no background task. Every fetch goes through one
//! lock (single flight), a `kid`-triggered refetch happens at most once per floor,
//! and a failed fetch keeps the keys we had.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use admit_jose::{JwkSet, KeySet};
use reqwest::{Client, Url};

use crate::FetchError;
use crate::fetch::get_json;

/// The keys at one moment. `generation` changes with every successful fetch, so a
/// caller can tell whether someone else refreshed while it waited.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub keys: Arc<KeySet>,
    pub generation: u64,
    /// Changes only when a fetch brings a different JWKS: the token cache is tied to
    /// it, so a key that leaves the JWKS no longer vouches for cached tokens.
    pub revision: u64,
    /// The last fetch failed (so `keys` may be out of date, or empty).
    pub failing: bool,
}

impl Snapshot {
    /// RFC 6750 gives no code for this: the API cannot check any token now.
    pub fn unavailable(&self) -> bool {
        self.failing && self.keys.keys().is_empty()
    }
}

pub(crate) enum Keys {
    Static(Snapshot),
    Remote(Box<RemoteKeys>),
}

impl Keys {
    pub fn fixed(keys: KeySet) -> Keys {
        Keys::Static(Snapshot {
            keys: Arc::new(keys),
            generation: 0,
            revision: 0,
            failing: false,
        })
    }

    /// The current keys, refreshed first when older than the maximum age.
    pub async fn current(&self) -> Snapshot {
        match self {
            Keys::Static(snapshot) => snapshot.clone(),
            Keys::Remote(remote) => remote.current().await,
        }
    }

    /// After a token named a `kid` that `seen` lacks: the keys after a refetch, or
    /// the same keys when the floor or another caller's fetch makes one pointless.
    pub async fn refetch(&self, seen: &Snapshot) -> Snapshot {
        match self {
            Keys::Static(snapshot) => snapshot.clone(),
            Keys::Remote(remote) => remote.refetch(seen.generation).await,
        }
    }
}

pub(crate) struct RemoteKeys {
    jwks_uri: Url,
    client: Client,
    refetch_floor: Duration,
    max_age: Duration,
    /// Read on every request; written only after a fetch, never across an await.
    state: RwLock<Cached>,
    /// Held for the duration of a fetch: the single flight.
    fetching: tokio::sync::Mutex<Attempts>,
}

struct Cached {
    snapshot: Snapshot,
    /// What `snapshot.keys` was parsed from, to tell whether a fetch changed anything.
    jwks: JwkSet,
    fetched_at: Instant,
}

#[derive(Default)]
struct Attempts {
    last_kid_refetch: Option<Instant>,
    last_failure: Option<Instant>,
}

impl RemoteKeys {
    /// Fetches the JWKS once; fails when it cannot be had at all.
    pub async fn start(
        jwks_uri: Url,
        client: Client,
        refetch_floor: Duration,
        max_age: Duration,
    ) -> Result<RemoteKeys, FetchError> {
        let (jwks, keys) = fetch(&client, &jwks_uri).await?;
        if keys.keys().is_empty() {
            // Not fatal: an issuer may publish its first key after we start.
            tracing::warn!(%jwks_uri, "the JWKS has no usable key yet");
        }
        Ok(RemoteKeys {
            jwks_uri,
            client,
            refetch_floor,
            max_age,
            state: RwLock::new(Cached {
                snapshot: Snapshot {
                    keys: Arc::new(keys),
                    generation: 0,
                    revision: 0,
                    failing: false,
                },
                jwks,
                fetched_at: Instant::now(),
            }),
            fetching: tokio::sync::Mutex::default(),
        })
    }

    fn read(&self) -> (Snapshot, Instant) {
        let cached = self.state.read().unwrap_or_else(PoisonError::into_inner);
        (cached.snapshot.clone(), cached.fetched_at)
    }

    async fn current(&self) -> Snapshot {
        let (snapshot, fetched_at) = self.read();
        if fetched_at.elapsed() < self.max_age {
            return snapshot;
        }
        // Someone is fetching already: the old keys serve until they are done.
        let Ok(mut attempts) = self.fetching.try_lock() else {
            return snapshot;
        };
        let (latest, _) = self.read();
        let failed_recently = attempts
            .last_failure
            .is_some_and(|t| t.elapsed() < self.refetch_floor);
        if latest.generation != snapshot.generation || failed_recently {
            return latest;
        }
        self.fetch_into(&mut attempts, "max age").await
    }

    async fn refetch(&self, seen_generation: u64) -> Snapshot {
        let mut attempts = self.fetching.lock().await;
        let (latest, _) = self.read();
        if latest.generation != seen_generation {
            // Fetched while we waited for the lock: a burst causes one fetch.
            return latest;
        }
        // An unknown `kid` costs nothing to send, so it may trigger a fetch at most
        // once per floor, or anyone could make us hammer the issuer.
        if attempts
            .last_kid_refetch
            .is_some_and(|t| t.elapsed() < self.refetch_floor)
        {
            return latest;
        }
        attempts.last_kid_refetch = Some(Instant::now());
        self.fetch_into(&mut attempts, "unknown kid").await
    }

    async fn fetch_into(&self, attempts: &mut Attempts, reason: &'static str) -> Snapshot {
        let result = fetch(&self.client, &self.jwks_uri).await;
        let mut cached = self.state.write().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok((jwks, keys)) => {
                tracing::debug!(jwks_uri = %self.jwks_uri, reason, keys = keys.keys().len(), "JWKS refreshed");
                attempts.last_failure = None;
                let changed = jwks != cached.jwks;
                cached.snapshot = Snapshot {
                    keys: Arc::new(keys),
                    generation: cached.snapshot.generation + 1,
                    revision: cached.snapshot.revision + u64::from(changed),
                    failing: false,
                };
                cached.jwks = jwks;
                cached.fetched_at = Instant::now();
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    reason,
                    kept = cached.snapshot.keys.keys().len(),
                    "could not refresh the JWKS; keeping the keys we have"
                );
                attempts.last_failure = Some(Instant::now());
                cached.snapshot.failing = true;
            }
        }
        cached.snapshot.clone()
    }
}

/// Fetches and parses a JWKS. Keys admit cannot use are skipped and logged.
async fn fetch(client: &Client, jwks_uri: &Url) -> Result<(JwkSet, KeySet), FetchError> {
    let jwks: JwkSet = get_json(client, jwks_uri).await?;
    let (keys, skipped) = KeySet::from_jwks(&jwks);
    for error in skipped {
        tracing::warn!(%jwks_uri, %error, "skipping a JWKS key");
    }
    Ok((jwks, keys))
}
