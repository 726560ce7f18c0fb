//! Signing keys: the `signing_keys` table. The store keeps what the caller
//! gives it; the private part arrives already encrypted and is never read here.

use crate::{Store, StoreError};

/// A stored signing key.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKey {
    pub kid: String,
    /// `"EdDSA"`, `"ES256"`, `"RS256"` or `"HS256"`.
    pub alg: String,
    /// `"current"`, `"next"` or `"retired"`.
    pub state: String,
    /// Opaque ciphertext of the private key, made by the caller.
    pub private_key_enc: Vec<u8>,
    /// JSON text of the public JWK; `None` for HS256.
    pub public_jwk: Option<String>,
    pub created_at: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("private_key_enc", &"<redacted>")
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Store {
    /// Inserts a key; [`StoreError::Conflict`] if the kid is taken.
    pub async fn insert_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO signing_keys (kid, alg, state, private_key_enc, public_jwk, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.state)
        .bind(&key.private_key_enc)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// All keys, oldest first (by created_at, then kid for a stable order).
    pub async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT kid, alg, state, private_key_enc, public_jwk, created_at \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(p)
        .await)?)
    }

    /// Sets a key's state. Returns whether the key exists.
    pub async fn set_key_state(&self, kid: &str, state: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, p => sqlx::query(
            "UPDATE signing_keys SET state = $2 WHERE kid = $1",
        )
        .bind(kid)
        .bind(state)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
