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

/// A fresh random secret of `BYTES` bytes, base64url-encoded, from aws-lc's
/// generator: codes, refresh tokens, client secrets, session ids.
pub fn random_token<const BYTES: usize>() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut buf = [0u8; BYTES];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the system random source failed");
    encode_random(&buf)
}

/// A fresh random identifier of `BYTES` bytes, base64url-encoded, for values that
/// are public and only need to be unique: a token's `jti`, a request id. It comes from
/// `rand`'s thread-local ChaCha12 generator, seeded and reseeded from the system's;
/// aws-lc's costs about half a microsecond a call here (BENCHMARKS.md, "Identifier
/// pass"), and two calls per token were 3% of a client-credentials token's CPU.
pub fn random_id<const BYTES: usize>() -> String {
    use rand::RngCore;
    let mut buf = [0u8; BYTES];
    rand::rng().fill_bytes(&mut buf);
    encode_random(&buf)
}

fn encode_random(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    /// Both generators give base64url text of the length their byte count makes, and
    /// no value twice.
    #[test]
    fn random_values_are_base64url_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            for value in [super::random_token::<16>(), super::random_id::<16>()] {
                assert_eq!(value.len(), 22, "{value}");
                assert!(
                    value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "{value}"
                );
                assert!(seen.insert(value));
            }
        }
        assert_eq!(super::random_id::<12>().len(), 16);
    }
}
