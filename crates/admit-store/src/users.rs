//! Users: the `users` table. Deleting a user or changing a password also
//! revokes the user's refresh families and SSO sessions in the same
//! transaction, so no login outlives the credentials it was granted on.
//! Deleting a user also forgets the consents it gave.

use rusqlite::OptionalExtension;

use crate::direct::numbered;
use crate::{Pool, Store, StoreError};

/// A local account. `password_hash` is a PHC string made by the caller.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    /// Whether `email` is known to belong to the user (the OIDC
    /// `email_verified` claim). Rows from before the column read `false`.
    pub email_verified: bool,
    pub name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

const COLUMNS: &str =
    "id, username, password_hash, email, email_verified, name, created_at, updated_at";

impl User {
    /// A row of [`COLUMNS`], read on the direct SQLite connection.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
        Ok(User {
            id: row.get(0)?,
            username: row.get(1)?,
            password_hash: row.get(2)?,
            email: row.get(3)?,
            email_verified: row.get(4)?,
            name: row.get(5)?,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
        })
    }
}

impl Store {
    /// Inserts a user; [`StoreError::Conflict`] if the id or username is taken.
    pub async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        on_pool!(self, p => bind_user(sqlx::query(INSERT_USER), user)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(username).fetch_optional(p).await)?)
    }

    /// Introspection and UserInfo ask this on every request: on SQLite, on the direct
    /// connection (no thread switch, see direct.rs).
    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        match &self.pool {
            Pool::Sqlite(s) => {
                s.run(|c| {
                    c.prepare_cached(&numbered(&sql))?
                        .query_row([id], User::read)
                        .optional()
                })
                .await
            }
            Pool::Postgres(p) => Ok(sqlx::query_as(&sql).bind(id).fetch_optional(p).await?),
        }
    }

    /// All users, ordered by username.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// Deletes a user, revokes (at `now`) its refresh families and SSO
    /// sessions, and deletes its consents. Returns whether the user existed.
    pub async fn delete_user(&self, username: &str, now: i64) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            // Revoke first, while the username still resolves to an id; every
            // statement writes, so SQLite takes its write lock at once.
            let mut tx = p.begin().await?;
            for sql in [REVOKE_FAMILIES_OF_USERNAME, REVOKE_SESSIONS_OF_USERNAME] {
                sqlx::query(sql)
                    .bind(username)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "DELETE FROM consents WHERE user_id = (SELECT id FROM users WHERE username = $1)",
            )
            .bind(username)
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM users WHERE username = $1")
                .bind(username)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted == 1)
        })
    }

    /// Replaces a user's password hash and revokes (at `now`) every refresh
    /// family and SSO session of the user. Returns whether the user exists.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE username = $1",
            )
            .bind(username)
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                // Nothing to revoke for a user that does not exist; the
                // transaction rolls back on drop.
                return Ok(false);
            }
            for sql in [REVOKE_FAMILIES_OF_USERNAME, REVOKE_SESSIONS_OF_USERNAME] {
                sqlx::query(sql)
                    .bind(username)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}

const REVOKE_FAMILIES_OF_USERNAME: &str = "UPDATE refresh_families SET revoked_at = $2 \
     WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = $1)";

const REVOKE_SESSIONS_OF_USERNAME: &str = "UPDATE sessions SET revoked_at = $2 \
     WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = $1)";

/// Paging and conditional writes for the admin API. A conditional write first
/// touches the row only while it still holds exactly what the caller read (the
/// admin API's ETag is a digest of it), in the same transaction as the change: the
/// row lock (PostgreSQL) or write lock (SQLite) makes check-and-write one step, so
/// two concurrent edits cannot both pass.
impl Store {
    /// Up to `limit` users whose username sorts after `after`, ordered by username.
    pub async fn users_after(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE ($1 IS NULL OR username > $1) \
             ORDER BY username LIMIT $2"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(after)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }

    /// [`Store::set_password`], only while the user's row equals `seen`.
    /// Returns whether it changed anything.
    pub async fn set_password_if(
        &self,
        seen: &User,
        password_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if !bind_user(sqlx::query(USER_UNCHANGED), seen)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1
            {
                return Ok(false);
            }
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(&seen.id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for sql in [REVOKE_FAMILIES_OF_USERNAME, REVOKE_SESSIONS_OF_USERNAME] {
                sqlx::query(sql)
                    .bind(&seen.username)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// [`Store::delete_user`], only while the user's row equals `seen`.
    /// Returns whether it deleted the user.
    pub async fn delete_user_if(&self, seen: &User, now: i64) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if !bind_user(sqlx::query(USER_UNCHANGED), seen)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1
            {
                return Ok(false);
            }
            for sql in [REVOKE_FAMILIES_OF_USERNAME, REVOKE_SESSIONS_OF_USERNAME] {
                sqlx::query(sql)
                    .bind(&seen.username)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            for sql in [
                "DELETE FROM consents WHERE user_id = $1",
                "DELETE FROM users WHERE id = $1",
            ] {
                sqlx::query(sql).bind(&seen.id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}

/// Touches the user row only while every column still holds what was read; the
/// caller reads `rows_affected` as "unchanged". `IS NOT DISTINCT FROM` compares
/// NULLs as equal on both backends.
/// Every column, bound by [`bind_user`] in this order.
pub(crate) const INSERT_USER: &str = "INSERT INTO users \
     (id, username, password_hash, email, email_verified, name, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const USER_UNCHANGED: &str = "UPDATE users SET updated_at = updated_at \
     WHERE id = $1 AND username = $2 AND password_hash = $3 \
     AND email IS NOT DISTINCT FROM $4 AND email_verified = $5 \
     AND name IS NOT DISTINCT FROM $6 AND created_at = $7 AND updated_at = $8";

pub(crate) fn bind_user<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    u: &'q User,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&u.id)
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.name)
        .bind(u.created_at)
        .bind(u.updated_at)
}
