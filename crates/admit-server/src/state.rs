//! What every handler shares.

use std::sync::Arc;

use admit_store::Store;

use crate::Settings;
use crate::browser::CookieNames;
use crate::keyring::Keyring;
use crate::password;
use crate::seal::Sealer;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub store: Store,
    pub keys: Keyring,
    pub passwords: password::Verifier,
    /// Verifies the tokens admit itself issued (UserInfo, `id_token_hint`).
    pub own_keys: admit_jose::KeySet,
    pub sealer: Sealer,
    pub cookies: CookieNames,
    /// Discovery metadata, serialised once.
    pub metadata: String,
    pub jwks: String,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
