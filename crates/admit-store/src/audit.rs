//! The audit log: the `audit_log` table, a hash chain of security events, and
//! `audit_anchors`, signed chain heads. Each record's hash covers its own fields
//! and the previous record's hash ([`chain_hash`]); `seq` runs 1, 2, 3, ... with
//! no gap. Appends take a lock, so the chain stays one line across instances.
//! Signing anchors and checking the chain are the caller's (they need keys).

use aws_lc_rs::digest;
use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::direct::numbered;
use crate::locks::TAKE_LOCK;
use crate::{Pool, Store, StoreError};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A security event to append. No field may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    /// What happened, e.g. `login`, `token`, `client.add`.
    pub event: String,
    /// Who did it: `user:ID`, `client:ID`, `cli:NAME`, `admit` (the server itself).
    pub actor: String,
    /// Whom or what it concerns: a user id, a client id, a kid.
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// The client address, where the event came over the network.
    pub address: Option<String>,
    /// `success` or `failure`, or a word saying how it ended (`locked`).
    pub outcome: String,
    /// A JSON object of further facts (the grant type, the scope).
    pub detail: String,
}

/// A stored record: the event, its place in the chain and its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub event: String,
    pub actor: String,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub address: Option<String>,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The event this record holds.
    pub fn event(&self) -> AuditEvent {
        AuditEvent {
            at: self.at,
            event: self.event.clone(),
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            client_id: self.client_id.clone(),
            address: self.address.clone(),
            outcome: self.outcome.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// A signed chain head: `jws` signs `{"seq", "hash", ...}` for the record `seq`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditAnchor {
    pub seq: i64,
    pub hash: String,
    pub signed_at: i64,
    pub jws: String,
}

/// Which records to read; `None` fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Subject or actor (a user id, or `user:ID`).
    pub user: Option<String>,
    pub client_id: Option<String>,
    pub event: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Lowercase hex SHA-256 of the JSON array `[prev_hash, seq, at, event, actor,
/// subject, client_id, address, outcome, detail]`: JSON gives every field an
/// unambiguous boundary, so no two records hash the same text.
pub fn chain_hash(prev_hash: &str, seq: i64, e: &AuditEvent) -> String {
    // A tuple serialises as that JSON array, without building a JSON value first.
    let fields = (
        prev_hash,
        seq,
        e.at,
        &e.event,
        &e.actor,
        &e.subject,
        &e.client_id,
        &e.address,
        &e.outcome,
        &e.detail,
    );
    let text = serde_json::to_vec(&fields).expect("strings and integers always serialise");
    let digest = digest::digest(&digest::SHA256, &text);
    let mut hex = String::with_capacity(64);
    for b in digest.as_ref() {
        hex.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble"));
        hex.push(char::from_digit(u32::from(b & 15), 16).expect("a nibble"));
    }
    hex
}

/// The newest record's seq and hash.
pub(crate) const HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

const COLUMNS: &str =
    "seq, at, event, actor, subject, client_id, address, outcome, detail, prev_hash, hash";

/// Rows per INSERT statement: each statement is a round trip to the connection (on
/// SQLite, to its worker thread), so a batch goes in a few statements, not one per
/// row. Not many more: sqlx's SQLite driver looks each parameter up among all of the
/// statement's, a cost that grows with the square of their number (a profile showed
/// 64 rows taking an eighth of a token's CPU).
pub(crate) const ROWS_PER_INSERT: usize = 8;

/// `INSERT INTO audit_log (...) VALUES ($1, ..., $11), ($12, ...), ...` for `rows` rows.
pub(crate) fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=11).map(|c| format!("${}", r * 11 + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO audit_log (seq, at, event, actor, subject, client_id, address, outcome, \
         detail, prev_hash, hash) VALUES {}",
        tuples.join(", ")
    )
}

/// One event as the chain will hold it: its seq, the hash before it and its own.
pub(crate) struct Linked<'a> {
    pub seq: i64,
    pub event: &'a AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// `events` chained after `head` (the newest record's seq and hash, `None` for an
/// empty log): the one place records get their seq and hashes, on every path.
pub(crate) fn link(
    head: Option<(i64, String)>,
    events: &[AuditEvent],
) -> impl Iterator<Item = Linked<'_>> {
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_owned()));
    events.iter().map(move |event| {
        seq += 1;
        let hash = chain_hash(&prev, seq, event);
        Linked {
            seq,
            event,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        }
    })
}

/// Appends the `AuditEvent`s `$events` (a slice) after the newest record, inside the
/// open sqlx transaction `$tx`, which must hold the `audit_log` lock; evaluates to
/// the last seq written. A macro, like `on_pool!`, so one text serves both backends.
macro_rules! append_chain {
    ($tx:expr, $events:expr) => {{
        let head: Option<(i64, String)> = sqlx::query_as($crate::audit::HEAD)
            .fetch_optional(&mut *$tx)
            .await?;
        let mut last = head.as_ref().map_or(0, |h| h.0);
        let records: Vec<_> = $crate::audit::link(head, $events).collect();
        for chunk in records.chunks($crate::audit::ROWS_PER_INSERT) {
            let sql = $crate::audit::insert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for r in chunk {
                let e = r.event;
                query = query
                    .bind(r.seq)
                    .bind(e.at)
                    .bind(&e.event)
                    .bind(&e.actor)
                    .bind(&e.subject)
                    .bind(&e.client_id)
                    .bind(&e.address)
                    .bind(&e.outcome)
                    .bind(&e.detail)
                    .bind(&r.prev_hash)
                    .bind(&r.hash);
                last = r.seq;
            }
            query.execute(&mut *$tx).await?;
        }
        last
    }};
}
pub(crate) use append_chain;

impl Store {
    /// Appends `events` in order, chained after the newest record, in one
    /// transaction. Returns the last seq written (0 if there was nothing).
    pub async fn append_audit(&self, events: &[AuditEvent]) -> Result<i64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        match &self.pool {
            // The immediate transaction takes SQLite's writer lock, which is the
            // lock across processes; one statement prepared once, run per row.
            Pool::Sqlite(s) => {
                s.run(|c| {
                    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let head = tx
                        .prepare_cached(HEAD)?
                        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    let mut last = head.as_ref().map_or(0, |h: &(i64, String)| h.0);
                    let mut insert = tx.prepare_cached(&numbered(&insert_sql(1)))?;
                    for r in link(head, events) {
                        let e = r.event;
                        insert.execute(rusqlite::params![
                            r.seq,
                            e.at,
                            e.event,
                            e.actor,
                            e.subject,
                            e.client_id,
                            e.address,
                            e.outcome,
                            e.detail,
                            r.prev_hash,
                            r.hash
                        ])?;
                        last = r.seq;
                    }
                    drop(insert);
                    tx.commit()?;
                    Ok(last)
                })
                .await
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                // The lock makes read-head-then-append one step across instances.
                sqlx::query(TAKE_LOCK)
                    .bind("audit_log")
                    .execute(&mut *tx)
                    .await?;
                let seq = append_chain!(tx, events);
                tx.commit().await?;
                Ok(seq)
            }
        }
    }

    /// The newest record's seq and hash, if any.
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(HEAD)
        .fetch_optional(p)
        .await)?)
    }

    /// Up to `limit` records with seq above `after`, oldest first: for walking the
    /// whole chain in pages.
    pub async fn audit_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(after)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }

    /// The newest `limit` records matching `filter`, newest first.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_search_before(filter, None, limit).await
    }

    /// Records a signed head; a second anchor for the same seq (another instance
    /// signed it first) is ignored.
    pub async fn insert_audit_anchor(&self, anchor: &AuditAnchor) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO audit_anchors (seq, hash, signed_at, jws) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(anchor.seq)
        .bind(&anchor.hash)
        .bind(anchor.signed_at)
        .bind(&anchor.jws)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Every anchor, oldest first.
    pub async fn audit_anchors(&self) -> Result<Vec<AuditAnchor>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT seq, hash, signed_at, jws FROM audit_anchors ORDER BY seq",
        )
        .fetch_all(p)
        .await)?)
    }

    /// The newest anchor's seq, or 0.
    pub async fn latest_audit_anchor(&self) -> Result<i64, StoreError> {
        let seq: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT MAX(seq) FROM audit_anchors",
        )
        .fetch_one(p)
        .await)?;
        Ok(seq.unwrap_or(0))
    }
}

impl Store {
    /// [`Store::audit_search`] from below `before` (a seq) when given: the admin
    /// API's pages, newest first.
    pub async fn audit_search_before(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // A NULL parameter matches every row, so one statement serves every filter.
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE \
             ($1 IS NULL OR subject = $1 OR actor = 'user:' || $1) \
             AND ($2 IS NULL OR client_id = $2) \
             AND ($3 IS NULL OR event = $3) \
             AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at <= $5) \
             AND ($6 IS NULL OR seq < $6) \
             ORDER BY seq DESC LIMIT $7"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(&filter.user)
            .bind(&filter.client_id)
            .bind(&filter.event)
            .bind(filter.since)
            .bind(filter.until)
            .bind(before)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> AuditEvent {
        AuditEvent {
            at: 1,
            event: name.into(),
            actor: "admit".into(),
            subject: None,
            client_id: None,
            address: None,
            outcome: "success".into(),
            detail: "{}".into(),
        }
    }

    #[test]
    fn one_statement_inserts_many_rows() {
        let sql = insert_sql(2);
        assert!(sql.ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11), ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"), "{sql}");
    }

    #[test]
    fn the_hash_covers_every_field_and_the_chain() {
        let base = chain_hash(GENESIS, 1, &event("login"));
        // SHA-256 of the JSON array of the fields, in lowercase hex: the documented
        // rule, recomputed here with nothing but the JSON text.
        let text = format!(r#"["{GENESIS}",1,1,"login","admit",null,null,null,"success","{{}}"]"#);
        let expected: String = digest::digest(&digest::SHA256, text.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(base, expected);
        assert_ne!(base, chain_hash(GENESIS, 2, &event("login")));
        assert_ne!(base, chain_hash(&base, 1, &event("login")));
        assert_ne!(base, chain_hash(GENESIS, 1, &event("logout")));
        let mut moved = event("login");
        moved.subject = Some("a".into());
        let mut other = event("login");
        other.client_id = Some("a".into());
        assert_ne!(
            chain_hash(GENESIS, 1, &moved),
            chain_hash(GENESIS, 1, &other)
        );
    }
}
