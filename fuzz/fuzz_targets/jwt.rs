//! Compact JWT parsing and verification. No input may panic, and none may verify: the
//! key set's private key was thrown away when it was made, so a success is a forgery.
#![no_main]

use std::sync::OnceLock;

use admit_jose::{Algorithm, KeySet, SigningKey, UnverifiedJwt, Validation};
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256].map(|alg| {
            SigningKey::generate(alg)
                .unwrap()
                .0
                .verifying_key()
                .unwrap()
        });
        KeySet::new(keys.to_vec())
    })
}

fuzz_target!(|token: &str| {
    if let Ok(jwt) = UnverifiedJwt::parse(token) {
        let _ = jwt.header();
        let _ = jwt.insecure_payload();
    }
    let validation = Validation::access_token("https://issuer.example", "https://issuer.example");
    assert!(keys().verify(token, &validation, 1_700_000_000).is_err());
});
