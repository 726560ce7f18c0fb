//! Refresh tokens: `refresh_families` (one per login: client, user, scope,
//! revocation) and `refresh_tokens` (the chain of rotated tokens of a family,
//! stored by hash only). Rotation is one conditional UPDATE so that, of two
//! requests presenting the same token, exactly one wins on either backend.

use rusqlite::OptionalExtension;

use crate::direct::numbered;
use crate::{Pool, Store, StoreError};

/// One login's chain of rotated refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshFamily {
    pub id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub auth_time: Option<i64>,
    /// The SSO session it was issued under; revoking that session revokes
    /// the family. `None` for grants made without a browser session.
    pub session_id: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The absolute end of the family, whatever its tokens' own expiry says;
    /// `None` for no such limit.
    pub expires_at: Option<i64>,
}

/// One refresh token of a family, by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshToken {
    pub token_hash: Vec<u8>,
    pub family_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was exchanged for its successor; presenting it again is reuse.
    pub rotated_at: Option<i64>,
}

/// A token together with its family, as one lookup returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLookup {
    pub token: RefreshToken,
    pub family: RefreshFamily,
}

/// The joined row of [`Store::refresh_token`]; both tables have `created_at`.
#[derive(sqlx::FromRow)]
struct LookupRow {
    token_hash: Vec<u8>,
    family_id: String,
    token_created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    client_id: String,
    user_id: Option<String>,
    scope: String,
    auth_time: Option<i64>,
    session_id: Option<String>,
    family_created_at: i64,
    revoked_at: Option<i64>,
    family_expires_at: Option<i64>,
}

impl LookupRow {
    /// Reads a row of [`LOOKUP`] from the direct SQLite connection.
    fn read(r: &rusqlite::Row) -> rusqlite::Result<LookupRow> {
        Ok(LookupRow {
            token_hash: r.get("token_hash")?,
            family_id: r.get("family_id")?,
            token_created_at: r.get("token_created_at")?,
            expires_at: r.get("expires_at")?,
            rotated_at: r.get("rotated_at")?,
            client_id: r.get("client_id")?,
            user_id: r.get("user_id")?,
            scope: r.get("scope")?,
            auth_time: r.get("auth_time")?,
            session_id: r.get("session_id")?,
            family_created_at: r.get("family_created_at")?,
            revoked_at: r.get("revoked_at")?,
            family_expires_at: r.get("family_expires_at")?,
        })
    }
}

impl From<LookupRow> for RefreshLookup {
    fn from(r: LookupRow) -> Self {
        RefreshLookup {
            family: RefreshFamily {
                id: r.family_id.clone(),
                client_id: r.client_id,
                user_id: r.user_id,
                scope: r.scope,
                auth_time: r.auth_time,
                session_id: r.session_id,
                created_at: r.family_created_at,
                revoked_at: r.revoked_at,
                expires_at: r.family_expires_at,
            },
            token: RefreshToken {
                token_hash: r.token_hash,
                family_id: r.family_id,
                created_at: r.token_created_at,
                expires_at: r.expires_at,
                rotated_at: r.rotated_at,
            },
        }
    }
}

/// A token and its family by the token's hash `$1`, as a [`LookupRow`].
const LOOKUP: &str = "SELECT t.token_hash, t.family_id, t.created_at AS token_created_at, \
     t.expires_at, t.rotated_at, f.client_id, f.user_id, f.scope, \
     f.auth_time, f.session_id, f.created_at AS family_created_at, \
     f.revoked_at, f.expires_at AS family_expires_at \
     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
     WHERE t.token_hash = $1";

/// Retires token `$1` at `$2`, keeping the answer `$3`, unless it is retired already.
const CLAIM: &str = "UPDATE refresh_tokens SET rotated_at = $2, successor_enc = $3 \
     WHERE token_hash = $1 AND rotated_at IS NULL";

/// Adds token `$1` (created `$2`, expiring `$3`, rotated `$4`) to the family of token `$5`.
const SUCCEED: &str = "INSERT INTO refresh_tokens \
     (token_hash, family_id, created_at, expires_at, rotated_at) \
     SELECT $1, family_id, $2, $3, $4 FROM refresh_tokens WHERE token_hash = $5";

const FAMILY_COLUMNS: &str =
    "id, client_id, user_id, scope, auth_time, session_id, created_at, revoked_at, expires_at";

/// Revokes (at `$2`) the live families of client `$1`; shared with
/// `delete_client`, which runs it inside its own transaction.
pub(crate) const REVOKE_FAMILIES_OF_CLIENT: &str =
    "UPDATE refresh_families SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL";

impl Store {
    /// Starts a family with its first token, in one transaction. The token
    /// joins `family` whatever its own `family_id` says.
    pub async fn insert_refresh_family(
        &self,
        family: &RefreshFamily,
        token: &RefreshToken,
    ) -> Result<(), StoreError> {
        let insert_family = format!(
            "INSERT INTO refresh_families ({FAMILY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&insert_family)
                .bind(&family.id)
                .bind(&family.client_id)
                .bind(&family.user_id)
                .bind(&family.scope)
                .bind(family.auth_time)
                .bind(&family.session_id)
                .bind(family.created_at)
                .bind(family.revoked_at)
                .bind(family.expires_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens \
                 (token_hash, family_id, created_at, expires_at, rotated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&token.token_hash)
            .bind(&family.id)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.rotated_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Looks a token up by hash, with its family. Expiry, rotation and
    /// revocation are the caller's to judge from the returned fields.
    pub async fn refresh_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<RefreshLookup>, StoreError> {
        let row = match &self.pool {
            Pool::Sqlite(s) => {
                s.run(|c| {
                    c.prepare_cached(&numbered(LOOKUP))?
                        .query_row([token_hash], LookupRow::read)
                        .optional()
                })
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(LOOKUP)
                    .bind(token_hash)
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(row.map(RefreshLookup::from))
    }

    /// Looks a family up by id.
    pub async fn family(&self, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        let sql = format!("SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
    }

    /// Marks `old_hash` rotated at `now` and adds `new` to the same family, in
    /// one transaction. Returns `false`, changing nothing, if `old_hash` is
    /// unknown or already rotated: a concurrent request won, or this is reuse.
    ///
    /// `new` always joins the old token's family; its `family_id` is not read.
    /// `successor` is what the caller answered with, already encrypted; a repeat of the
    /// same refresh within the grace window gets it back ([`Store::refresh_successor`]).
    pub async fn rotate_refresh(
        &self,
        old_hash: &[u8],
        new: &RefreshToken,
        successor: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        // The conditional UPDATE is the race arbiter: PostgreSQL makes a second
        // writer wait on the row lock and then re-check `rotated_at IS NULL`; SQLite
        // serializes writers outright. No read-then-write, so no window between
        // check and claim.
        match &self.pool {
            Pool::Sqlite(s) => {
                let (old_hash, new, successor) =
                    (old_hash.to_vec(), new.clone(), successor.to_vec());
                s.write(move |c| {
                    let claimed = c
                        .prepare_cached(&numbered(CLAIM))?
                        .execute(rusqlite::params![old_hash, now, successor])?;
                    if claimed != 1 {
                        return Ok(false);
                    }
                    c.prepare_cached(&numbered(SUCCEED))?
                        .execute(rusqlite::params![
                            new.token_hash,
                            new.created_at,
                            new.expires_at,
                            new.rotated_at,
                            old_hash
                        ])?;
                    Ok(true)
                })
                .await
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                let claimed = sqlx::query(CLAIM)
                    .bind(old_hash)
                    .bind(now)
                    .bind(successor)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if claimed != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(SUCCEED)
                    .bind(&new.token_hash)
                    .bind(new.created_at)
                    .bind(new.expires_at)
                    .bind(new.rotated_at)
                    .bind(old_hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    }

    /// The encrypted answer stored when this token was rotated, if any (empty = none).
    pub async fn refresh_successor(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let found: Option<Option<Vec<u8>>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT successor_enc FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?;
        Ok(found.flatten().filter(|s| !s.is_empty()))
    }

    /// Revokes a family at `now`. Returns `false` if it does not exist or was
    /// already revoked (the first revocation time is kept).
    pub async fn revoke_refresh_family(
        &self,
        family_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, p => sqlx::query(
            "UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Revokes at `now` every live family issued to a client (the client is
    /// kept). Returns how many this call revoked; earlier revocation times
    /// are kept.
    pub async fn revoke_families_of_client(
        &self,
        client_id: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query(REVOKE_FAMILIES_OF_CLIENT)
            .bind(client_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// The ids of a user's unrevoked families with one client: what withdrawing that
    /// user's consent to the client must end.
    pub async fn live_families(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar(
            "SELECT id FROM refresh_families \
             WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(user_id)
        .bind(client_id)
        .fetch_all(p)
        .await)?)
    }

    /// Forgets the answers kept for refreshes rotated before `rotated_before`: once the
    /// grace window is over they are useless, and at rest they would reveal live tokens.
    pub async fn forget_successors(&self, rotated_before: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query(
            "UPDATE refresh_tokens SET successor_enc = NULL \
             WHERE successor_enc IS NOT NULL AND rotated_at < $1",
        )
        .bind(rotated_before)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Deletes tokens that expired before `now`, then families left with no
    /// live token, each in batches. Returns the number of rows deleted
    /// (tokens plus families).
    ///
    /// Autocommit statements, no enclosing transaction, so neither backend
    /// holds a lock across batches. A family goes only once its last token has
    /// expired, and an expired token is never rotated, so no live token can be
    /// joining it meanwhile.
    pub(crate) async fn purge_refresh(&self, now: i64) -> Result<u64, StoreError> {
        let tokens = self
            .purge_in_batches(
                "DELETE FROM refresh_tokens WHERE token_hash IN (\
                 SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
                now,
            )
            .await?;
        // Tokens went first, so "no live token" is "no token" but for one
        // expiring meanwhile, which the cascade then takes along.
        let families = self
            .purge_in_batches(
                "DELETE FROM refresh_families WHERE id IN (\
                 SELECT f.id FROM refresh_families f WHERE NOT EXISTS (\
                 SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at >= $1) \
                 LIMIT $2)",
                now,
            )
            .await?;
        Ok(tokens + families)
    }
}
