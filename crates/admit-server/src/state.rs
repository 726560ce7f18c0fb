//! What every handler shares.

use std::sync::{Arc, RwLock};

use admit_store::Store;

use crate::Settings;
use crate::audit::Audit;
use crate::browser::CookieNames;
use crate::client_cache::{self, ClientCache};
use crate::client_limits::ClientLimits;
use crate::keyring::Keyring;
use crate::master_key::MasterKey;
use crate::metrics::Metrics;
use crate::password;
use crate::routes::token::TokenClient;
use crate::seal::Sealer;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    /// Replaced whole by a reload (SIGHUP); see [`Inner::settings`].
    settings: RwLock<Arc<Settings>>,
    pub store: Store,
    /// Re-read from the database every few seconds, so a rotation made by another
    /// instance or the CLI takes effect everywhere; see [`Inner::set_keys`].
    keyring: RwLock<Arc<Keyring>>,
    /// Told each time the keyring is replaced, for [`Inner::complete_keys`].
    keys_replaced: tokio::sync::watch::Sender<()>,
    pub master: MasterKey,
    pub passwords: password::Verifier,
    pub sealer: Sealer,
    /// Authenticated clients, and client ids the database did not hold, for a
    /// second each (see client_cache.rs).
    pub clients: ClientCache<Arc<TokenClient>>,
    pub unknown_clients: ClientCache<()>,
    /// Failed client authentications, for 429s (see client_limits.rs).
    pub client_limits: ClientLimits,
    pub audit: Audit,
    pub metrics: Metrics,
    pub cookies: CookieNames,
    /// Discovery metadata, serialised once.
    pub metadata: String,
    /// Turns true when the server begins to shut down: long-lived responses (the
    /// revocation stream) end so the graceful shutdown is not held open.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Inner {
    pub fn new(settings: Settings, parts: Parts) -> Inner {
        let Parts {
            store,
            keyring,
            master,
            audit,
            shutdown,
            metadata,
        } = parts;
        Inner {
            passwords: password::Verifier::new(
                settings.password_hash_concurrency,
                settings.password_hash,
            ),
            sealer: Sealer::new(&master),
            clients: ClientCache::new(client_cache::KNOWN),
            unknown_clients: ClientCache::new(client_cache::UNKNOWN),
            client_limits: Default::default(),
            cookies: CookieNames::for_issuer(&settings.issuer),
            metrics: Default::default(),
            settings: RwLock::new(Arc::new(settings)),
            keyring: RwLock::new(Arc::new(keyring)),
            keys_replaced: tokio::sync::watch::Sender::new(()),
            store,
            master,
            audit,
            shutdown,
            metadata,
        }
    }

    /// The settings as of now; cheap (an `Arc` clone).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .expect("the settings lock is never poisoned")
            .clone()
    }

    /// Takes what may change while serving from `new` (lifetimes, the refresh grace,
    /// the audit anchor interval is read once) and keeps the rest; returns the names
    /// of settings that differ but need a restart.
    pub fn reload(&self, new: &Settings) -> Vec<&'static str> {
        let mut lock = self
            .settings
            .write()
            .expect("the settings lock is never poisoned");
        let (next, ignored) = lock.reloaded(new);
        *lock = Arc::new(next);
        ignored
    }

    /// The key set as of now; cheap (an `Arc` clone).
    pub fn keys(&self) -> Arc<Keyring> {
        self.keyring
            .read()
            .expect("the keyring lock is never poisoned")
            .clone()
    }

    /// The key set once it holds a current key for every algorithm, which it does
    /// from the start except on a fresh database: admit answers before its RS256 key
    /// exists (see `app::spawn`), and the JWKS and RS256 signatures wait for it here.
    /// Gives up waiting when the server shuts down.
    pub async fn complete_keys(&self) -> Arc<Keyring> {
        let mut replaced = self.keys_replaced.subscribe();
        let mut shutdown = self.shutdown.clone();
        loop {
            let keys = self.keys();
            if keys.is_complete() || *shutdown.borrow() {
                return keys;
            }
            tokio::select! {
                _ = replaced.changed() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    pub fn set_keys(&self, keys: Keyring) {
        *self
            .keyring
            .write()
            .expect("the keyring lock is never poisoned") = Arc::new(keys);
        self.keys_replaced.send_replace(());
    }
}

/// What start-up made before the state: the store, keys and channels.
pub struct Parts {
    pub store: Store,
    pub keyring: Keyring,
    pub master: MasterKey,
    pub audit: Audit,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub metadata: String,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
