//! What every handler shares.

use std::sync::{Arc, RwLock};

use admit_store::Store;

use crate::Settings;
use crate::browser::CookieNames;
use crate::client_cache::ClientCache;
use crate::keyring::Keyring;
use crate::master_key::MasterKey;
use crate::password;
use crate::routes::token::TokenClient;
use crate::seal::Sealer;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub store: Store,
    /// Re-read from the database every few seconds, so a rotation made by another
    /// instance or the CLI takes effect everywhere.
    pub keyring: RwLock<Arc<Keyring>>,
    pub master: MasterKey,
    pub passwords: password::Verifier,
    pub sealer: Sealer,
    /// Authenticated clients, for a second (see client_cache.rs).
    pub clients: ClientCache<TokenClient>,
    pub cookies: CookieNames,
    /// Discovery metadata, serialised once.
    pub metadata: String,
    /// Turns true when the server begins to shut down: long-lived responses (the
    /// revocation stream) end so the graceful shutdown is not held open.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Inner {
    /// The key set as of now; cheap (an `Arc` clone).
    pub fn keys(&self) -> Arc<Keyring> {
        self.keyring
            .read()
            .expect("the keyring lock is never poisoned")
            .clone()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
