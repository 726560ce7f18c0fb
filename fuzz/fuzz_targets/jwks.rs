//! JWK and JWK Set parsing, as a resource server reads an issuer's JWKS.
#![no_main]

use admit_jose::{JwkSet, KeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(jwks) = serde_json::from_slice::<JwkSet>(data) {
        let (keys, _skipped) = KeySet::from_jwks(&jwks);
        let _ = keys.keys().len();
    }
});
