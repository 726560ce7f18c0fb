//! A set of verifying keys, and choosing the one a token names.

use serde_json::{Map, Value};

use crate::{JoseError, JwkSet, UnverifiedJwt, Validation, VerifyingKey};

/// The keys a verifier trusts: typically the issuer's JWKS.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    pub fn new(keys: Vec<VerifyingKey>) -> KeySet {
        KeySet { keys }
    }

    /// Parses every usable key of a JWKS; keys admit cannot use (other types, weak RSA,
    /// `use: enc`) are skipped and returned as errors for the caller to log.
    pub fn from_jwks(jwks: &JwkSet) -> (KeySet, Vec<JoseError>) {
        let (mut keys, mut skipped) = (Vec::new(), Vec::new());
        for jwk in &jwks.keys {
            match VerifyingKey::from_jwk(jwk) {
                Ok(key) => keys.push(key),
                Err(e) => skipped.push(e),
            }
        }
        (KeySet { keys }, skipped)
    }

    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// The key for a token: exact `kid` match, or without a `kid` the only key of the
    /// token's algorithm. A `kid` is only ever compared, never used as a path or query.
    pub fn find(&self, jwt: &UnverifiedJwt<'_>) -> Result<&VerifyingKey, JoseError> {
        match &jwt.header().kid {
            Some(kid) => self.keys.iter().find(|k| k.kid() == kid),
            None => {
                let mut same_alg = self.keys.iter().filter(|k| k.alg() == jwt.alg());
                match (same_alg.next(), same_alg.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            }
        }
        .ok_or_else(|| {
            JoseError::UnknownKey(
                jwt.header()
                    .kid
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(64)
                    .collect(),
            )
        })
    }

    /// Parses, finds the key, verifies the signature and checks the claims.
    pub fn verify(
        &self,
        token: &str,
        validation: &Validation,
        now: i64,
    ) -> Result<Map<String, Value>, JoseError> {
        let jwt = UnverifiedJwt::parse(token)?;
        validation.verify(&jwt, self.find(&jwt)?, now)
    }
}
