//! Several changes to clients and users written in one transaction, with the
//! revocation events and audit records they imply: either all of it commits or
//! none of it does. `admit config apply` writes a whole plan through here, so a
//! failure in its tenth change leaves the first nine unwritten.
//!
//! Each write does what the single-row method of the same name does (the same
//! revocations of refresh families, sessions and consents), inside the one
//! transaction instead of its own.

use crate::audit::{AuditEvent, append_chain};
use crate::clients::to_json;
use crate::locks::TAKE_LOCK;
use crate::refresh::REVOKE_FAMILIES_OF_CLIENT;
use crate::users::{INSERT_USER, bind_user};
use crate::{Client, Store, StoreError, User};

/// One change in a batch.
#[derive(Debug, Clone)]
pub enum Write {
    InsertClient(Client),
    /// Replaces every field of the client with this `client_id` but `created_at`.
    UpdateClient(Client),
    /// Deletes the client, revokes its refresh families, deletes its consents.
    DeleteClient(String),
    InsertUser(User),
    /// Replaces the email, `email_verified`, name, password hash and `updated_at` of
    /// the user with this id; with `revoke` (a new password), also ends the user's
    /// refresh families and SSO sessions at `updated_at`.
    UpdateUser {
        user: User,
        revoke: bool,
    },
    /// Deletes the user with this id, its consents, and ends its refresh families
    /// and sessions.
    DeleteUser(String),
}

/// A revocation event to append (see revocations.rs for the kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRevocation {
    pub kind: String,
    pub value: String,
    pub revoked_at: i64,
    pub expires_at: i64,
}

/// Everything one batch writes.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub writes: Vec<Write>,
    pub revocations: Vec<NewRevocation>,
    pub audit: Vec<AuditEvent>,
    /// When revocations by the writes (refresh families, sessions) take effect.
    pub now: i64,
}

/// Binds a client's fields but `created_at` as `$1` to `$17`, the order of
/// [`INSERT_CLIENT`] and [`UPDATE_CLIENT`].
macro_rules! bind_client {
    ($query:expr, $c:expr) => {
        $query
            .bind(&$c.client_id)
            .bind(&$c.secret_hash)
            .bind($c.public)
            .bind(&$c.name)
            .bind($c.grant_types.join(" "))
            .bind(to_json(&$c.redirect_uris))
            .bind(to_json(&$c.post_logout_redirect_uris))
            .bind($c.scopes.join(" "))
            .bind($c.skip_consent)
            .bind($c.require_pkce)
            .bind(&$c.id_token_alg)
            .bind($c.access_token_ttl)
            .bind($c.refresh_token_ttl)
            .bind($c.refresh_idle_ttl)
            .bind($c.may_introspect)
            .bind($c.code_ttl)
            .bind($c.session_ttl)
    };
}

impl Store {
    /// Writes `batch` in one transaction. A write that finds its row gone (an update
    /// or delete of a client or user someone removed meanwhile) is
    /// [`StoreError::Invalid`]; a unique key taken is [`StoreError::Conflict`]; in
    /// either case, and on any other error, nothing is written.
    pub async fn write_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.writes.is_empty() && batch.revocations.is_empty() && batch.audit.is_empty() {
            return Ok(());
        }
        let now = batch.now;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Both locks first, always in this order: on PostgreSQL every later
            // statement then sees what the previous holders committed (locks.rs), and
            // nothing else holds both, so the order cannot deadlock.
            for lock in ["revocation_events", "audit_log"] {
                sqlx::query(TAKE_LOCK).bind(lock).execute(&mut *tx).await?;
            }
            for write in &batch.writes {
                let affected = match write {
                    Write::InsertClient(c) => bind_client!(sqlx::query(INSERT_CLIENT), c)
                        .bind(c.created_at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                    Write::UpdateClient(c) => bind_client!(sqlx::query(UPDATE_CLIENT), c)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                    Write::DeleteClient(client_id) => {
                        sqlx::query(REVOKE_FAMILIES_OF_CLIENT)
                            .bind(client_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM consents WHERE client_id = $1")
                            .bind(client_id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM clients WHERE client_id = $1")
                            .bind(client_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                    Write::InsertUser(u) => bind_user(sqlx::query(INSERT_USER), u)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    Write::UpdateUser { user: u, revoke } => {
                        if *revoke {
                            for sql in [REVOKE_FAMILIES_OF_USER, REVOKE_SESSIONS_OF_USER] {
                                sqlx::query(sql)
                                    .bind(&u.id)
                                    .bind(u.updated_at)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        sqlx::query(
                            "UPDATE users SET password_hash = $2, email = $3, \
                             email_verified = $4, name = $5, updated_at = $6 WHERE id = $1",
                        )
                        .bind(&u.id)
                        .bind(&u.password_hash)
                        .bind(&u.email)
                        .bind(u.email_verified)
                        .bind(&u.name)
                        .bind(u.updated_at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    }
                    Write::DeleteUser(id) => {
                        for sql in [REVOKE_FAMILIES_OF_USER, REVOKE_SESSIONS_OF_USER] {
                            sqlx::query(sql).bind(id).bind(now).execute(&mut *tx).await?;
                        }
                        sqlx::query("DELETE FROM consents WHERE user_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM users WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                };
                if affected != 1 {
                    // The transaction rolls back on drop.
                    return Err(StoreError::Invalid("a client or user to change no longer exists"));
                }
            }
            for r in &batch.revocations {
                sqlx::query(
                    "INSERT INTO revocation_events (kind, value, revoked_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&r.kind)
                .bind(&r.value)
                .bind(r.revoked_at)
                .bind(r.expires_at)
                .execute(&mut *tx)
                .await?;
            }
            append_chain!(tx, &batch.audit);
            tx.commit().await?;
            Ok(())
        })
    }
}

const INSERT_CLIENT: &str = "INSERT INTO clients (client_id, secret_hash, public, name, \
     grant_types, redirect_uris, post_logout_redirect_uris, scopes, skip_consent, require_pkce, \
     id_token_alg, access_token_ttl, refresh_token_ttl, refresh_idle_ttl, may_introspect, \
     code_ttl, session_ttl, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// Every column but `created_at`, which stays as first stored.
const UPDATE_CLIENT: &str = "UPDATE clients SET secret_hash = $2, public = $3, name = $4, \
     grant_types = $5, redirect_uris = $6, post_logout_redirect_uris = $7, scopes = $8, \
     skip_consent = $9, require_pkce = $10, id_token_alg = $11, access_token_ttl = $12, \
     refresh_token_ttl = $13, refresh_idle_ttl = $14, may_introspect = $15, \
     code_ttl = $16, session_ttl = $17 WHERE client_id = $1";

const REVOKE_FAMILIES_OF_USER: &str =
    "UPDATE refresh_families SET revoked_at = $2 WHERE revoked_at IS NULL AND user_id = $1";

const REVOKE_SESSIONS_OF_USER: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL AND user_id = $1";
