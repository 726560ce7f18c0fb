//! The SQLite backend: sqlx's pool for most queries, and a second connection driven
//! by rusqlite on the calling thread for the hot ones (refresh lookup and rotation,
//! audit appends, and the revocation check and user lookup that introspection and
//! UserInfo make).
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
//!
//! Rotations wait for the turn together: [`Sqlite::write`] commits all the writes
//! queued behind one turn in one transaction (a group commit). Each rotation still
//! returns only once it is committed, and a group writes the pages its writes share
//! to the WAL once and takes SQLite's locks once.
//!
//! A third connection only checkpoints the WAL, on a blocking thread (see
//! [`CHECKPOINT_EVERY`] and [`Sqlite::checkpoint_soon`]).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqliteSynchronous};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{Mutex, MutexGuard};

use crate::{StoreError, WAIT};

/// Rows changed on the direct connection between two WAL checkpoints. The direct
/// connection does not checkpoint when it commits (that would fsync on a request's
/// thread): a checkpoint runs on a connection of its own, on a blocking thread,
/// every this many rows. A checkpoint copies each page once however often it
/// changed, so fewer, larger ones copy less in all; the WAL stays within tens of MB.
/// Rows, not units: one unit may append an audit batch of hundreds of rows.
const CHECKPOINT_EVERY: u64 = 2048;

/// WAL frames (pages) past which a checkpoint makes its second pass, in the turn, so
/// that the WAL starts over (see [`Sqlite::checkpoint_soon`]): about 32 MB. Below
/// it, requests are not held up for that pass's fsyncs.
const START_OVER_PAST: i64 = 8192;

#[derive(Clone)]
pub(crate) struct Sqlite {
    pub(crate) pool: SqlitePool,
    direct: Arc<Direct>,
}

struct Direct {
    /// `None` once the store is closed.
    conn: Mutex<Option<Connection>>,
    /// `total_changes` of the direct connection when the last checkpoint began.
    checkpointed_at: AtomicU64,
    /// Commits fsync (`synchronous=full`): run units where blocking is allowed.
    fsync: bool,
    /// Writes waiting for the next group commit ([`Sqlite::write`]).
    queued: std::sync::Mutex<Vec<Job>>,
    /// A third connection, only for checkpoints, used on a blocking thread. A
    /// checkpoint can take tens of milliseconds: run on sqlx's one connection, it
    /// held up every query behind it, and the turn with them.
    checkpointer: std::sync::Mutex<Option<Connection>>,
}

/// A write queued for a group commit: it runs inside the group's transaction (given
/// one) and returns what reports its result once the commit's outcome is known, and
/// whether the transaction is still fit to commit.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (Report, bool) + Send>;
/// Reports a write's result, given the commit's error if the commit failed.
type Report = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

impl Sqlite {
    /// Opens the direct connection to the database `pool` is connected to, which
    /// must exist and be migrated.
    pub(crate) fn open(
        pool: SqlitePool,
        options: &SqliteConnectOptions,
        synchronous: SqliteSynchronous,
    ) -> Result<Sqlite, StoreError> {
        let fsync = matches!(synchronous, SqliteSynchronous::Full);
        let connect = || -> rusqlite::Result<Connection> {
            let conn = Connection::open(options.get_filename())?;
            // As sqlx's connection (lib.rs: connect_sqlite); the journal mode is the file's.
            conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "NORMAL" })?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            // Another process (the CLI) may hold the writer lock for a moment.
            conn.busy_timeout(WAIT)?;
            Ok(conn)
        };
        Ok(Sqlite {
            pool,
            direct: Arc::new(Direct {
                conn: Mutex::new(Some(connect()?)),
                checkpointed_at: AtomicU64::new(0),
                fsync,
                queued: Default::default(),
                checkpointer: std::sync::Mutex::new(Some(connect()?)),
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
        let out = self.committing(|| unit(conn))?;
        self.count_changes(conn);
        Ok(out)
    }

    /// Runs the write `unit` in one transaction with the writes queued beside it, and
    /// returns once that transaction is committed: a group commit. Under load, several
    /// rotations then share one commit, and each page they all touch (the table's
    /// last leaf, the index of expiry times) is written to the WAL once, not once each.
    ///
    /// `unit` runs inside its own savepoint: its error undoes only its own changes,
    /// and the others commit. It must not begin or end a transaction itself.
    ///
    /// Whoever takes the turn first runs everything queued; the others find their
    /// result waiting. A write whose caller stopped waiting may still be committed,
    /// as one whose answer was lost on the way back.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        unit: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, mut result) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| {
            // `None`: not run, and the commit's error (or its absence: closed) says why.
            let (out, intact) = match conn.map(|conn| in_savepoint(conn, unit)) {
                Some(Ok(out)) => (Some(out.map_err(StoreError::from)), true),
                Some(Err(broken)) => (Some(Err(broken.into())), false),
                None => (None, true),
            };
            let report: Report = Box::new(move |commit| {
                let out = match (out, commit) {
                    (Some(Ok(_)) | None, Some(e)) => Err(copy(e).into()),
                    (Some(out), _) => out,
                    (None, None) => Err(StoreError::Database(sqlx::Error::PoolClosed)),
                };
                let _ = done.send(out); // the caller may have stopped waiting
            });
            (report, intact)
        });
        self.direct.queued.lock().expect("never poisoned").push(job);
        tokio::select! {
            // A leader sends every result before it gives the turn back.
            biased;
            out = &mut result => return finished(out),
            mut turn = self.turn() => {
                let jobs = std::mem::take(&mut *self.direct.queued.lock().expect("never poisoned"));
                self.committing(|| commit_group(turn.as_mut(), jobs));
                if let Some(conn) = turn.as_ref() {
                    self.count_changes(conn);
                }
            }
        }
        finished(result.await)
    }

    /// Runs `commit` on this thread. With fsync on, a commit blocks for a disk flush:
    /// the runtime is told, so that other tasks move to another thread meanwhile (only
    /// a multi-thread runtime can).
    fn committing<R>(&self, commit: impl FnOnce() -> R) -> R {
        match self.direct.fsync && Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread
        {
            true => tokio::task::block_in_place(commit),
            false => commit(),
        }
    }

    /// Every [`CHECKPOINT_EVERY`] rows changed on the direct connection, a
    /// checkpoint. Called in the turn, so no other unit counts at the same time.
    fn count_changes(&self, conn: &Connection) {
        let total = conn.total_changes();
        if total - self.direct.checkpointed_at.load(Ordering::Relaxed) >= CHECKPOINT_EVERY {
            self.direct.checkpointed_at.store(total, Ordering::Relaxed);
            self.checkpoint_soon();
        }
    }

    /// A checkpoint on the checkpoint connection, on a blocking thread, in two
    /// passes. The first copies committed pages into the database file outside the
    /// turn, alongside readers and writers. Under a steady stream of writes it never
    /// catches up with the WAL's end, and SQLite starts the WAL over only when a
    /// checkpoint has copied all of it: the WAL grew to hundreds of MB under load. So
    /// once the WAL is past [`START_OVER_PAST`], a second pass, in the turn (no write
    /// of ours under way), copies the few frames the first one missed, and the next
    /// write starts the WAL from its beginning. That pass's fsyncs hold up the
    /// requests waiting for the turn. Skipped while one is running.
    fn checkpoint_soon(&self) {
        let direct = self.direct.clone();
        tokio::spawn(async move {
            let frames = checkpoint(direct.clone()).await;
            if frames.is_none_or(|frames| frames < START_OVER_PAST) {
                return;
            }
            let _turn = direct.conn.lock().await;
            checkpoint(direct.clone()).await;
        });
    }

    /// Closes the connections; later calls fail.
    pub(crate) async fn close(&self) {
        let mut turn = self.turn().await;
        if let Some(Err((_, e))) = turn.take().map(Connection::close) {
            tracing::warn!(error = %e, "closing the direct SQLite connection");
        }
        // Waits for a checkpoint under way, on a thread where waiting is allowed.
        let direct = self.direct.clone();
        let _ = tokio::task::spawn_blocking(move || {
            drop(direct.checkpointer.lock().expect("never poisoned").take());
        })
        .await;
        self.pool.close().await;
    }
}

/// A passive checkpoint on the checkpoint connection, on a blocking thread. Returns
/// the frames in the WAL; `None` when it failed, another is running or the store is
/// closed.
async fn checkpoint(direct: Arc<Direct>) -> Option<i64> {
    let pass = tokio::task::spawn_blocking(move || {
        let mut checkpointer = direct.checkpointer.try_lock().ok()?;
        let conn = checkpointer.as_mut()?; // `None`: closed
        // Its row: busy, frames in the WAL, frames copied.
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1)) {
            Ok(frames) => Some(frames),
            Err(e) => {
                tracing::debug!(error = %e, "WAL checkpoint failed; the next one retries");
                None
            }
        }
    });
    pass.await.ok().flatten()
}

/// Runs `jobs` in one transaction and reports to each: its own result if the commit
/// succeeded, else the commit's error.
fn commit_group(conn: Option<&mut Connection>, jobs: Vec<Job>) {
    let Some(conn) = conn else {
        jobs.into_iter().for_each(|job| job(None).0(None));
        return;
    };
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            jobs.into_iter().for_each(|job| job(None).0(Some(&e)));
            return;
        }
    };
    let mut intact = true;
    let reports: Vec<Report> = jobs
        .into_iter()
        .map(|job| {
            let (report, fit) = job(Some(&tx));
            intact &= fit;
            report
        })
        .collect();
    let committed = match intact {
        true => tx.commit(),
        // A write may be half done: none of the group is kept.
        false => Err(tx.rollback().err().unwrap_or_else(|| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("a write of the same group could not be undone".into()),
            )
        })),
    };
    for report in reports {
        report(committed.as_ref().err());
    }
}

/// `unit`'s result, its changes undone if it failed. `Err` when the savepoint itself
/// failed: the transaction may then hold part of the unit and must not commit.
fn in_savepoint<T>(
    conn: &Connection,
    unit: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<rusqlite::Result<T>> {
    conn.prepare_cached("SAVEPOINT unit")?.execute([])?;
    let out = unit(conn);
    if out.is_err() {
        conn.prepare_cached("ROLLBACK TO unit")?.execute([])?;
    }
    conn.prepare_cached("RELEASE unit")?.execute([])?;
    Ok(out)
}

/// A write's result; if its group's leader failed before reporting, the write is
/// reported lost (a unit panicked, say).
fn finished<T>(
    out: Result<Result<T, StoreError>, tokio::sync::oneshot::error::RecvError>,
) -> Result<T, StoreError> {
    out.unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
}

/// The same error for each write of a group whose commit failed (`rusqlite::Error`
/// is not `Clone`): its SQLite code, so `is_unavailable` judges it alike, and its text.
fn copy(e: &rusqlite::Error) -> rusqlite::Error {
    let code = e
        .sqlite_error()
        .copied()
        .unwrap_or(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR));
    rusqlite::Error::SqliteFailure(code, Some(e.to_string()))
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
