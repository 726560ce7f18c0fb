//! Authorization codes: the `authorization_codes` table, by hash only. A code
//! is redeemed by one conditional UPDATE, so of any number of concurrent
//! redemptions exactly one wins on either backend. Used codes are kept until
//! they expire, so a replay is told apart from an unknown code and the
//! refresh family issued from the code can be found and revoked
//! (RFC 6749 §4.1.2).

use crate::{Store, StoreError};

/// An issued authorization code and the request it answers.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    /// The SSO session it was issued under (the ID token's `sid`).
    pub session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was redeemed; any later presentation is a replay.
    pub used_at: Option<i64>,
    /// The refresh family issued from it, once there is one.
    pub family_id: Option<String>,
}

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("code_hash", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("nonce", &self.nonce)
            .field("code_challenge", &self.code_challenge)
            .field("code_challenge_method", &self.code_challenge_method)
            .field("auth_time", &self.auth_time)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .field("family_id", &self.family_id)
            .finish()
    }
}

/// What presenting a code found. Expiry is not judged here: the row is
/// returned either way, for the caller to compare `expires_at` with its clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// This call redeemed the code; `used_at` is now set.
    Redeemed(AuthorizationCode),
    /// The code was already redeemed: a replay, or a concurrent request won.
    /// Carries the row as it stands, with the first `used_at` and any
    /// `family_id`.
    Replayed(AuthorizationCode),
    /// No such code (never issued, or purged).
    Unknown,
}

const COLUMNS: &str = "code_hash, client_id, user_id, session_id, redirect_uri, scope, nonce, \
     code_challenge, code_challenge_method, auth_time, created_at, expires_at, used_at, family_id";

impl Store {
    /// Inserts a code; [`StoreError::Conflict`] if its hash is taken.
    pub async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO authorization_codes ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        on_pool!(self, p => sqlx::query(&sql)
            .bind(&code.code_hash)
            .bind(&code.client_id)
            .bind(&code.user_id)
            .bind(&code.session_id)
            .bind(&code.redirect_uri)
            .bind(&code.scope)
            .bind(&code.nonce)
            .bind(&code.code_challenge)
            .bind(&code.code_challenge_method)
            .bind(code.auth_time)
            .bind(code.created_at)
            .bind(code.expires_at)
            .bind(code.used_at)
            .bind(&code.family_id)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Marks a code used at `now` if it was not yet, and says what was found.
    pub async fn consume_code(
        &self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<CodeRedemption, StoreError> {
        let select = format!("SELECT {COLUMNS} FROM authorization_codes WHERE code_hash = $1");
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The conditional UPDATE is the race arbiter, as in
            // `rotate_refresh`: PostgreSQL makes a second writer wait on the
            // row lock and re-check `used_at IS NULL`; SQLite serializes
            // writers. The read shares the transaction so a purge cannot
            // delete the row between the claim and the read.
            let claimed = sqlx::query(
                "UPDATE authorization_codes SET used_at = $2 \
                 WHERE code_hash = $1 AND used_at IS NULL",
            )
            .bind(code_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                // Mark a replay, so a redemption still issuing tokens sees it (see
                // `set_code_family`).
                sqlx::query(
                    "UPDATE authorization_codes SET replayed_at = $2 \
                     WHERE code_hash = $1 AND replayed_at IS NULL",
                )
                .bind(code_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let row: Option<AuthorizationCode> = sqlx::query_as(&select)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(match row {
                Some(code) if claimed == 1 => CodeRedemption::Redeemed(code),
                Some(code) => CodeRedemption::Replayed(code),
                None => CodeRedemption::Unknown,
            })
        })
    }

    /// Records the refresh family issued from a code, so a later replay of the code can
    /// revoke it. Returns whether the code was replayed *meanwhile* (between its
    /// redemption and now): the caller must then revoke that family itself, since the
    /// replay found none to revoke. `false` too when the code does not exist.
    pub async fn set_code_family(
        &self,
        code_hash: &[u8],
        family_id: &str,
    ) -> Result<bool, StoreError> {
        let replayed: Option<Option<i64>> = on_pool!(self, p => sqlx::query_scalar(
            "UPDATE authorization_codes SET family_id = $2 WHERE code_hash = $1 RETURNING replayed_at",
        )
        .bind(code_hash)
        .bind(family_id)
        .fetch_optional(p)
        .await)?;
        Ok(replayed.flatten().is_some())
    }

    /// Deletes codes that expired before `now`, used or not, in batches.
    /// Returns how many.
    pub(crate) async fn purge_codes(&self, now: i64) -> Result<u64, StoreError> {
        self.purge_in_batches(
            "DELETE FROM authorization_codes WHERE code_hash IN (\
             SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)",
            now,
        )
        .await
    }
}
