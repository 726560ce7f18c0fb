//! SSO sessions: the `sessions` table, one row per browser login. The cookie
//! value is stored only as its SHA-256, so a read of the database yields no
//! usable cookie. Revoking a session also revokes the refresh families issued
//! under it, in the same transaction, so logging out ends those logins too.
//! Revoked rows stay until they expire: a revoked cookie is then recognised
//! as revoked, not merely unknown.

use crate::{Store, StoreError};

/// A browser login at admit itself (not at a client).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// The public id, sent to clients as the OIDC `sid` claim.
    pub id: String,
    /// SHA-256 of the session cookie's value.
    pub secret_hash: Vec<u8>,
    pub user_id: String,
    /// When the user last authenticated (the OIDC `auth_time` claim).
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("secret_hash", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("auth_time", &self.auth_time)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

const COLUMNS: &str = "id, secret_hash, user_id, auth_time, created_at, expires_at, revoked_at";

impl Store {
    /// Inserts a session; [`StoreError::Conflict`] if the id or the secret
    /// hash is taken.
    pub async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        on_pool!(self, p => sqlx::query(&sql)
            .bind(&session.id)
            .bind(&session.secret_hash)
            .bind(&session.user_id)
            .bind(session.auth_time)
            .bind(session.created_at)
            .bind(session.expires_at)
            .bind(session.revoked_at)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Looks a session up by the hash of its cookie. Expiry and revocation
    /// are the caller's to judge from the returned fields.
    pub async fn session_by_secret(
        &self,
        secret_hash: &[u8],
    ) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE secret_hash = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(secret_hash).fetch_optional(p).await)?)
    }

    /// Looks a session up by its public id (a `sid`).
    pub async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
    }

    /// Revokes a session at `now` and, in the same transaction, every refresh
    /// family issued under it. Returns `false` if the session does not exist
    /// or was already revoked (the first revocation time is kept).
    ///
    /// The families are revoked either way: one issued under the session
    /// after its first revocation (a code redeemed during logout) dies too.
    pub async fn revoke_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let revoked = sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE refresh_families SET revoked_at = $2 \
                 WHERE session_id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(revoked == 1)
        })
    }

    /// Revokes every live session of a user at `now` ("log out everywhere"),
    /// with the refresh families issued under them, in one transaction.
    /// Returns how many sessions this call revoked.
    pub async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError> {
        on_pool!(self, p => {
            // Both statements write, so SQLite takes its write lock at once.
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE refresh_families SET revoked_at = $2 WHERE revoked_at IS NULL \
                 AND session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let revoked = sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(revoked)
        })
    }

    /// Sessions of one user, or of everyone with `None`, live and revoked
    /// alike (until purged), oldest first (by created_at, then id).
    pub async fn list_sessions(&self, user_id: Option<&str>) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE ($1 IS NULL OR user_id = $1) \
             ORDER BY created_at, id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(user_id).fetch_all(p).await)?)
    }

    /// Deletes sessions that expired before `now`, revoked or not, in
    /// batches. Returns how many.
    pub(crate) async fn purge_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.purge_in_batches(
            "DELETE FROM sessions WHERE id IN (\
             SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)",
            now,
        )
        .await
    }
}

impl Store {
    /// Up to `limit` sessions of one user, or of everyone with `None`, that sort after
    /// `after` (a `(created_at, id)` pair), in [`Store::list_sessions`] order: for
    /// paging through the admin API.
    pub async fn sessions_after(
        &self,
        user_id: Option<&str>,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE ($1 IS NULL OR user_id = $1) \
             AND ($2 IS NULL OR created_at > $2 OR (created_at = $2 AND id > $3)) \
             ORDER BY created_at, id LIMIT $4"
        );
        let (at, id) = after.unzip();
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(user_id)
            .bind(at)
            .bind(id)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }
}
