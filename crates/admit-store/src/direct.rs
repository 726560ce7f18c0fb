//! The SQLite backend: sqlx's pool for most queries, and a second connection driven
//! by rusqlite on the calling thread for the hot ones (refresh lookup and rotation,
//! audit appends).
//!
//! sqlx runs every SQLite statement on a worker thread, and each statement's round
//! trip is two thread switches. On a busy two-core machine those cost more than
//! SQLite's own work: a profile of refresh rotation (five round trips) found 58% of the
//! server's CPU in the kernel's scheduler and 1% in SQLite's VM. The direct connection
//! runs a whole unit (a lookup, or a rotation's transaction) with no switch at all.
//!
//! The two connections take turns through one async lock, the *turn*: `on_pool!` takes
//! it around every sqlx query, [`Sqlite::run`] around every direct unit. So they never
//! contend for SQLite's single writer lock (the loser would sleep a millisecond or more
//! in the busy handler), and a waiting request waits as a task, not as a blocked thread.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqliteSynchronous};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{Mutex, MutexGuard};

use crate::{StoreError, WAIT};

/// Direct units between two WAL checkpoints. The direct connection does not
/// checkpoint when it commits (that would fsync on a request's thread): a checkpoint
/// runs on sqlx's worker thread every this many units.
const CHECKPOINT_EVERY: u32 = 256;

#[derive(Clone)]
pub(crate) struct Sqlite {
    pub(crate) pool: SqlitePool,
    direct: Arc<Direct>,
}

struct Direct {
    /// `None` once the store is closed.
    conn: Mutex<Option<Connection>>,
    units: AtomicU32,
    /// Commits fsync (`synchronous=full`): run units where blocking is allowed.
    fsync: bool,
}

impl Sqlite {
    /// Opens the direct connection to the database `pool` is connected to, which
    /// must exist and be migrated.
    pub(crate) fn open(
        pool: SqlitePool,
        options: &SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Sqlite, StoreError> {
        let conn = Connection::open(options.get_filename())?;
        let fsync = matches!(synchronous, SqliteSynchronous::Full);
        // As sqlx's connection (lib.rs: connect_sqlite); the journal mode is the file's.
        conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "NORMAL" })?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Another process (the CLI) may hold the writer lock for a moment.
        conn.busy_timeout(WAIT)?;
        Ok(Sqlite {
            pool,
            direct: Arc::new(Direct {
                conn: Mutex::new(Some(conn)),
                units: AtomicU32::new(0),
                fsync,
            }),
        })
    }

    /// Waits for this task's turn at the database; `on_pool!` holds it around sqlx queries.
    pub(crate) async fn turn(&self) -> MutexGuard<'_, Option<Connection>> {
        self.direct.conn.lock().await
    }

    /// Runs `unit` on the direct connection, on this thread, in this task's turn.
    pub(crate) async fn run<T>(
        &self,
        unit: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut turn = self.turn().await;
        let conn = turn
            .as_mut()
            .ok_or(StoreError::Database(sqlx::Error::PoolClosed))?;
        // With fsync on, a commit blocks for a disk flush: tell the runtime, so that
        // other tasks move to another thread meanwhile (only a multi-thread runtime can).
        let blocking =
            self.direct.fsync && Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread;
        let out = match blocking {
            true => tokio::task::block_in_place(|| unit(conn)),
            false => unit(conn),
        }?;
        drop(turn);
        if self
            .direct
            .units
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(CHECKPOINT_EVERY)
        {
            self.checkpoint_soon();
        }
        Ok(out)
    }

    /// A passive checkpoint on sqlx's worker thread, outside the turn: it copies
    /// committed pages into the database file alongside writers, never blocking them.
    fn checkpoint_soon(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "WAL checkpoint failed; the next one retries");
            }
        });
    }

    /// Closes both connections; later calls fail.
    pub(crate) async fn close(&self) {
        let mut turn = self.turn().await;
        if let Some(Err((_, e))) = turn.take().map(Connection::close) {
            tracing::warn!(error = %e, "closing the direct SQLite connection");
        }
        self.pool.close().await;
    }
}

/// `sql` with its `$N` placeholders written `?N`. Queries are written once with `$N` for
/// both backends; sqlx binds them by number, but SQLite itself numbers `$N` by first
/// appearance, so `SET a = $2 WHERE b = $1` would take its arguments swapped.
pub(crate) fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Parses a SQLite URL (without admit's own parameters). In-memory databases are
/// refused: the direct connection would open a second, empty one.
pub(crate) fn options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::UnsupportedUrl(
            "in-memory SQLite: admit's data must outlive the process (use sqlite://PATH)".into(),
        ));
    }
    Ok(SqliteConnectOptions::from_str(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_their_numbers() {
        assert_eq!(
            numbered("UPDATE t SET a = $2 WHERE b = $1"),
            "UPDATE t SET a = ?2 WHERE b = ?1"
        );
    }

    #[test]
    fn in_memory_databases_are_refused() {
        for url in ["sqlite::memory:", "sqlite://x.db?mode=memory"] {
            assert!(
                matches!(options(url), Err(StoreError::UnsupportedUrl(_))),
                "{url}"
            );
        }
        assert!(options("sqlite://x.db").is_ok());
    }
}
