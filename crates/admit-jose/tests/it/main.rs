//! admit-jose against published vectors and known JWT attacks.

mod attacks;
mod vectors;

use admit_jose::{Algorithm, JwkSet, KeySet, SigningKey, Validation};
use serde_json::{Value, json};

pub const NOW: i64 = 1_700_000_000;
pub const ISS: &str = "https://issuer.example";
pub const AUD: &str = "https://api.example";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Valid access-token claims at `NOW`.
pub fn claims() -> Value {
    json!({"iss": ISS, "sub": "alice", "aud": AUD, "exp": NOW + 300, "iat": NOW,
           "jti": "j1", "client_id": "app", "scope": "read"})
}

/// An issuer key of `alg` and the key set a resource server would build from its JWKS.
pub fn issuer(alg: Algorithm) -> (SigningKey, KeySet) {
    let (key, _) = SigningKey::generate(alg).unwrap();
    let keys = if alg.is_symmetric() {
        KeySet::new(vec![key.verifying_key().unwrap()])
    } else {
        let jwks = JwkSet {
            keys: vec![key.public_jwk().unwrap()],
        };
        let (set, skipped) = KeySet::from_jwks(&jwks);
        assert!(skipped.is_empty());
        set
    };
    (key, keys)
}

pub fn validation() -> Validation {
    Validation::access_token(ISS, AUD)
}

pub fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
