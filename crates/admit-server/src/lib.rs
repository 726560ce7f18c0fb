//! admit's HTTP server: configuration, keys, password hashing, the axum routes, and
//! the one place where errors become HTTP responses ([`error`]).
//!
//! Invariant: this is the only crate that knows HTTP. It loads records from the store,
//! asks the protocol core (`admit-oauth`) for a decision, and writes the result back.

mod address;
mod app;
pub mod audit;
mod browser;
mod client_cache;
mod client_limits;
pub mod error;
mod housekeeping;
pub mod keyring;
pub mod login;
pub mod master_key;
mod metrics;
mod observe;
mod own_tokens;
mod pages;
pub mod password;
pub mod revocation;
mod routes;
pub mod rules;
mod seal;
mod settings;
mod state;

pub use app::{Server, spawn};
pub use settings::Settings;

/// Seconds since the Unix epoch: the one clock every layer below is handed.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh random value of `BYTES` bytes, base64url-encoded.
pub fn random_token<const BYTES: usize>() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    use base64::Engine;
    let mut buf = [0u8; BYTES];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the system random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
