//! Failed logins: the `login_failures` table, one counter per key (an account
//! or a client address). The policy (how many failures, how long a wait) is
//! the caller's; the store only counts, atomically, so the counts hold across
//! every instance sharing the database.

use crate::{Store, StoreError};

/// Failures counted under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginFailures {
    pub failures: i64,
    /// When the latest failure was counted.
    pub last_at: i64,
}

impl Store {
    /// The counts under `keys` that exist, in no particular order, with their key.
    pub async fn login_failures(
        &self,
        keys: &[&str],
    ) -> Result<Vec<(String, LoginFailures)>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for &key in keys {
            let row: Option<LoginFailures> = on_pool!(self, p => sqlx::query_as(
                "SELECT failures, last_at FROM login_failures WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(p)
            .await)?;
            found.extend(row.map(|r| (key.to_owned(), r)));
        }
        Ok(found)
    }

    /// Counts one failure under `key` at `now` and returns the new count. A
    /// count whose latest failure is older than `now - window` starts again at one.
    pub async fn count_login_failure(
        &self,
        key: &str,
        now: i64,
        window: i64,
    ) -> Result<LoginFailures, StoreError> {
        // One statement: concurrent failures on several instances each add one.
        let sql = "INSERT INTO login_failures (key, failures, last_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.last_at < $3 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
             last_at = $2 \
             RETURNING failures, last_at";
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(key)
            .bind(now)
            .bind(now - window)
            .fetch_one(p)
            .await)?)
    }

    /// Forgets the failures under `key`; whether there were any.
    pub async fn clear_login_failures(&self, key: &str) -> Result<bool, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(p)
            .await
            .map(|r| r.rows_affected() > 0))?,
        )
    }

    /// Deletes counts whose latest failure is older than `before`: they would
    /// start again at one anyway.
    pub async fn purge_login_failures(&self, before: i64) -> Result<u64, StoreError> {
        self.purge_in_batches(
            "DELETE FROM login_failures WHERE key IN \
             (SELECT key FROM login_failures WHERE last_at < $1 LIMIT $2)",
            before,
        )
        .await
    }
}
