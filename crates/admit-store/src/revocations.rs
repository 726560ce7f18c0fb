//! Revocation events: the `revocation_events` table, the source of truth for
//! JWT access tokens revoked before they expire, and the feed resource servers
//! follow by `seq`. An event lives until the last token it can match has
//! expired (its `expires_at`), then is purged; the newest event alone is kept
//! even then, so [`Store::latest_revocation_seq`] never goes back.

use crate::direct::numbered;
use crate::locks::TAKE_LOCK;
use crate::{Pool, Store, StoreError};

/// One revocation: every token `kind` and `value` match is revoked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RevocationEvent {
    /// Position in the feed: increasing in commit order, never reused.
    pub seq: i64,
    /// What `value` names: `"jti"` (one token), `"sid"` (an SSO session),
    /// `"grant"` (a refresh family), or `"client"` or `"sub"` (every token
    /// issued to that client, or for that subject, at or before `revoked_at`).
    pub kind: String,
    pub value: String,
    pub revoked_at: i64,
    /// When the last token the event can match expires.
    pub expires_at: i64,
}

const COLUMNS: &str = "seq, kind, value, revoked_at, expires_at";

/// `value = NULL` is never true, so an absent sid or grant matches nothing.
const IS_REVOKED: &str = "SELECT 1 FROM revocation_events WHERE expires_at >= $7 AND (\
        (kind = 'jti' AND value = $1) \
     OR (kind = 'sid' AND value = $2) \
     OR (kind = 'grant' AND value = $3) \
     OR (kind = 'client' AND value = $4 AND $6 <= revoked_at) \
     OR (kind = 'sub' AND value = $5 AND $6 <= revoked_at)) \
     LIMIT 1";

impl Store {
    /// Appends an event and returns it with its `seq`. A `kind` other than
    /// the five above is refused by the schema ([`StoreError::Database`]).
    pub async fn add_revocation(
        &self,
        kind: &str,
        value: &str,
        revoked_at: i64,
        expires_at: i64,
    ) -> Result<RevocationEvent, StoreError> {
        let sql = format!(
            "INSERT INTO revocation_events (kind, value, revoked_at, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // PostgreSQL draws a BIGSERIAL value at insert, not at commit: two
            // concurrent appends could commit out of seq order, and a follower
            // that had already read the higher seq would never see the lower.
            // Holding the lock until commit makes seq order commit order.
            sqlx::query(TAKE_LOCK)
                .bind("revocation_events")
                .execute(&mut *tx)
                .await?;
            let event: RevocationEvent = sqlx::query_as(&sql)
                .bind(kind)
                .bind(value)
                .bind(revoked_at)
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(event)
        })
    }

    /// Up to `limit` events after `seq` that are still live at `now`
    /// (`expires_at >= now`), by seq. Follow the feed by passing the last
    /// seq seen; start it from 0.
    pub async fn revocations_after(
        &self,
        seq: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<RevocationEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM revocation_events \
             WHERE seq > $1 AND expires_at >= $2 ORDER BY seq LIMIT $3"
        );
        // PostgreSQL refuses a negative LIMIT; SQLite reads it as no limit.
        let limit = limit.max(0);
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(seq)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// The highest seq handed out, 0 before the first event.
    pub async fn latest_revocation_seq(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM revocation_events",
        )
        .fetch_one(p)
        .await)?)
    }

    /// Whether a live event (`expires_at >= now`) revokes the token with these
    /// claims: its `jti`, its `sid`, its grant (refresh family), or its
    /// `client_id` or `sub` when the token was issued (`iat`) at or before the
    /// revocation. A token issued after a client or subject was revoked is
    /// not. One query.
    // The arguments are the claims one query compares; a struct would only
    // rename them at every call.
    #[allow(clippy::too_many_arguments)]
    pub async fn is_revoked(
        &self,
        jti: &str,
        sid: Option<&str>,
        grant: Option<&str>,
        client_id: &str,
        sub: &str,
        iat: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        match &self.pool {
            // Every introspection and UserInfo request asks: on SQLite, on the direct
            // connection (no thread switch, see direct.rs).
            Pool::Sqlite(s) => {
                s.run(|c| {
                    c.prepare_cached(&numbered(IS_REVOKED))?
                        .exists(rusqlite::params![jti, sid, grant, client_id, sub, iat, now])
                })
                .await
            }
            Pool::Postgres(p) => Ok(sqlx::query(IS_REVOKED)
                .bind(jti)
                .bind(sid)
                .bind(grant)
                .bind(client_id)
                .bind(sub)
                .bind(iat)
                .bind(now)
                .fetch_optional(p)
                .await?
                .is_some()),
        }
    }

    /// Deletes events that expired before `now`, in batches, except the
    /// newest event: it keeps `MAX(seq)`, and so the latest seq, in place.
    /// It matches no token once expired, since every read checks expiry.
    pub(crate) async fn purge_revocations(&self, now: i64) -> Result<u64, StoreError> {
        self.purge_in_batches(
            "DELETE FROM revocation_events WHERE seq IN (\
             SELECT seq FROM revocation_events WHERE expires_at < $1 \
             AND seq < (SELECT MAX(seq) FROM revocation_events) LIMIT $2)",
            now,
        )
        .await
    }
}
