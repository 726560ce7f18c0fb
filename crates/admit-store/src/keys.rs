//! Signing keys: the `signing_keys` table. The store keeps what the caller
//! gives it; the private part arrives already encrypted and is never read here.
//! Each algorithm's keys move `next` -> `current` -> `retired`, one step for
//! all of them per [`Store::rotate_keys`], which runs under a lock so that
//! concurrent rotations happen one after the other.

use crate::locks::TAKE_LOCK;
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
    /// When it became `current`; `None` if it never did, or did before
    /// admit recorded it.
    pub activated_at: Option<i64>,
    /// When it was retired by [`Store::rotate_keys`]; `None` otherwise.
    pub retired_at: Option<i64>,
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
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

const COLUMNS: &str =
    "kid, alg, state, private_key_enc, public_jwk, created_at, activated_at, retired_at";

impl Store {
    /// Inserts a key; [`StoreError::Conflict`] if the kid is taken.
    pub async fn insert_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO signing_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        on_pool!(self, p => sqlx::query(&sql)
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.state)
            .bind(&key.private_key_enc)
            .bind(&key.public_jwk)
            .bind(key.created_at)
            .bind(key.activated_at)
            .bind(key.retired_at)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// All keys, oldest first (by created_at, then kid for a stable order).
    pub async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys ORDER BY created_at, kid");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
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

    /// Deletes a key that never signed anything (a `next` key replaced by an import).
    /// Returns whether it existed.
    pub async fn delete_unused_key(&self, kid: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => sqlx::query(
            "DELETE FROM signing_keys WHERE kid = $1 AND state = 'next'",
        )
        .bind(kid)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(deleted == 1)
    }

    /// Rotates the keys of `alg` at `now`, in one transaction: the oldest
    /// `next` key becomes `current` (`activated_at = now`), every other
    /// `current` key of `alg` becomes `retired` (`retired_at = now`), and
    /// `new_next` is inserted as `next`. Returns whether a key was promoted.
    ///
    /// With no `next` key, nothing is promoted or retired (there would be no
    /// key left to sign with), but `new_next` is still inserted: call again
    /// once it has been published long enough for verifiers to know it.
    ///
    /// `new_next` is stored in state `next` with no activation or retirement
    /// time, whatever those fields say; [`StoreError::Invalid`] if its `alg`
    /// is not `alg`, and [`StoreError::Conflict`] if its kid is taken; either
    /// way nothing changes.
    pub async fn rotate_keys(
        &self,
        alg: &str,
        new_next: &SigningKey,
        now: i64,
    ) -> Result<bool, StoreError> {
        if new_next.alg != alg {
            return Err(StoreError::Invalid(
                "the new next key is for another algorithm",
            ));
        }
        let insert = format!(
            "INSERT INTO signing_keys ({COLUMNS}) VALUES ($1, $2, 'next', $3, $4, $5, NULL, NULL)"
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Serializes rotations of `alg`. Without it, a PostgreSQL rotation
            // racing another would not see the key the other just promoted,
            // and promote a second one.
            sqlx::query(TAKE_LOCK)
                .bind(format!("signing_keys:{alg}"))
                .execute(&mut *tx)
                .await?;
            let promoted: Option<String> = sqlx::query_scalar(
                "UPDATE signing_keys SET state = 'current', activated_at = $2 \
                 WHERE kid = (SELECT kid FROM signing_keys WHERE alg = $1 AND state = 'next' \
                 ORDER BY created_at, kid LIMIT 1) \
                 RETURNING kid",
            )
            .bind(alg)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(kid) = &promoted {
                sqlx::query(
                    "UPDATE signing_keys SET state = 'retired', retired_at = $2 \
                     WHERE alg = $1 AND state = 'current' AND kid <> $3",
                )
                .bind(alg)
                .bind(now)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&insert)
                .bind(&new_next.kid)
                .bind(&new_next.alg)
                .bind(&new_next.private_key_enc)
                .bind(&new_next.public_jwk)
                .bind(new_next.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(promoted.is_some())
        })
    }

    /// Deletes keys, of any algorithm, retired before `cutoff`. Keys retired
    /// without a time (by [`Store::set_key_state`]) stay. Returns how many.
    pub async fn delete_keys_retired_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query(
            "DELETE FROM signing_keys WHERE state = 'retired' AND retired_at < $1",
        )
        .bind(cutoff)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
