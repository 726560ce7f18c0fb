//! admit's storage: the only crate that knows SQL. [`Store`] is one interface
//! over two backends, SQLite (the embedded default) and PostgreSQL, chosen
//! once by the URL given to [`Store::connect`]. Every query is written once
//! with `$N` placeholders and run on either pool through `on_pool!`.
//!
//! On SQLite, the hot queries run on a second connection on the caller's thread
//! (`direct.rs`); `on_pool!` makes the two take turns.
//!
//! Times are unix seconds passed in by the caller: the store never reads the
//! clock, so tests and callers control expiry exactly.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::direct::Sqlite;

/// Expands `$body` once per backend with `$p` bound to that backend's pool, so
/// each query is written once and type-checked against both drivers. On SQLite the
/// body runs in the task's turn at the database (see `direct.rs`).
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite(sqlite) => {
                let _turn = sqlite.turn().await;
                let $p = &sqlite.pool;
                $body
            }
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

mod audit;
mod batch;
mod clients;
mod codes;
mod consents;
mod direct;
mod error;
mod keys;
mod locks;
mod login_failures;
mod refresh;
mod revocations;
mod sessions;
mod users;

pub use audit::{AuditAnchor, AuditEvent, AuditFilter, AuditRecord, GENESIS, chain_hash};
pub use batch::{Batch, NewRevocation, Write};
pub use clients::Client;
pub use codes::{AuthorizationCode, CodeRedemption};
pub use consents::Consent;
pub use error::StoreError;
pub use keys::SigningKey;
pub use login_failures::LoginFailures;
pub use refresh::{RefreshFamily, RefreshLookup, RefreshToken};
pub use revocations::RevocationEvent;
pub use sessions::Session;
pub use users::User;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a writer waits for SQLite's lock, or a caller for a pooled
/// PostgreSQL connection, before giving up with an error.
const WAIT: Duration = Duration::from_secs(5);

/// The most rows one purge statement deletes: small batches keep each
/// statement's locks (SQLite's writer lock, PostgreSQL's row locks) short, so
/// a large backlog never stalls logins and refreshes behind one long DELETE.
const PURGE_BATCH: i64 = 500;

#[derive(Clone)]
enum Pool {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

/// The store: a handle on a connection pool. Cloning is cheap (the pool is
/// reference-counted) and every clone shares the same connections.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `url` and runs the backend's embedded migrations.
    ///
    /// * `sqlite://PATH` or `sqlite:PATH`: the file and its parent directory
    ///   are created if missing. WAL journal, `synchronous = NORMAL`;
    ///   append `?synchronous=full` to fsync every commit.
    /// * `postgres://...` or `postgresql://...`.
    ///
    /// Any other scheme is [`StoreError::UnsupportedUrl`].
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        // PostgreSQL: sqlx's migrator holds an advisory lock while it runs, so
        // several instances starting at once apply each migration once.
        // SQLite has no such lock in sqlx: one admit process owns a file.
        let pool = if url.starts_with("sqlite:") {
            let (pool, options, synchronous) = connect_sqlite(url).await?;
            SQLITE_MIGRATOR.run(&pool).await?;
            Pool::Sqlite(Sqlite::open(pool, &options, synchronous)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(WAIT)
                .connect(url)
                .await?;
            POSTGRES_MIGRATOR.run(&pool).await?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(unsupported(url)));
        };
        let store = Store { pool };
        tracing::debug!(backend = store.backend(), "store connected and migrated");
        Ok(store)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// The pool's connections: (open, idle), for metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(s) => (s.pool.size(), s.pool.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Checks the database answers (`SELECT 1`), for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(drop))?;
        Ok(())
    }

    /// Deletes what has expired before `now` (strictly before: a row expiring
    /// at `now` stays): refresh tokens and the families they leave empty,
    /// authorization codes, SSO sessions, revoked or not, and revocation
    /// events (but the newest, see revocations.rs). Returns the number of
    /// rows deleted.
    ///
    /// Each statement deletes at most [`PURGE_BATCH`] rows in its own
    /// autocommit transaction, so no lock is held across batches or tables;
    /// a purge that fails part-way is simply rerun.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self.purge_refresh(now).await?
            + self.purge_codes(now).await?
            + self.purge_sessions(now).await?
            + self.purge_revocations(now).await?)
    }

    /// Runs `sql`, a DELETE of at most `$2` rows picked by a subquery using
    /// `now` as `$1`, until a batch deletes fewer than [`PURGE_BATCH`].
    /// Returns the rows deleted in all.
    pub(crate) async fn purge_in_batches(&self, sql: &str, now: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = on_pool!(self, p => sqlx::query(sql)
                .bind(now)
                .bind(PURGE_BATCH)
                .execute(p)
                .await
                .map(|r| r.rows_affected()))?;
            total += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Closes every connection of the pool, waiting for checked-out ones to
    /// come back. Later calls on any clone fail.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(s) => s.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

async fn connect_sqlite(
    url: &str,
) -> Result<(SqlitePool, SqliteConnectOptions, SqliteSynchronous), StoreError> {
    let (url, synchronous) = take_synchronous(url)?;
    let options = direct::options(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode survives a crash of the process; a power loss or
        // OS crash may lose the last commits (never corrupt the file). FULL,
        // an fsync per commit, is the opt-in: `?synchronous=full` in the URL.
        .synchronous(synchronous)
        .busy_timeout(WAIT)
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent()
        && !parent.as_os_str().is_empty()
    {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    }
    // One connection (and the direct one, with which it takes turns): SQLite has
    // one writer at a time anyway, and several
    // connections fight for its lock (sleeping in the busy handler) and throw away
    // each other's page cache on every commit. Queue in the pool instead.
    // No ping before each use: the database is a local file, and the ping is a
    // round trip to the connection's worker thread.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(WAIT)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    Ok((pool, options, synchronous))
}

/// Removes admit's own `synchronous=normal|full` parameter from a SQLite URL
/// (sqlx rejects unknown parameters) and returns what it asked for.
fn take_synchronous(url: &str) -> Result<(String, SqliteSynchronous), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SqliteSynchronous::Normal));
    };
    let mut synchronous = SqliteSynchronous::Normal;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", v)) if v.eq_ignore_ascii_case("normal") => {
                synchronous = SqliteSynchronous::Normal
            }
            Some(("synchronous", v)) if v.eq_ignore_ascii_case("full") => {
                synchronous = SqliteSynchronous::Full
            }
            Some(("synchronous", _)) => {
                return Err(StoreError::Database(sqlx::Error::Configuration(
                    "`synchronous` must be `normal` or `full`".into(),
                )));
            }
            _ => rest.push(pair),
        }
    }
    let url = match rest.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", rest.join("&")),
    };
    Ok((url, synchronous))
}

/// Describes an unsupported URL by its scheme alone: the rest may hold a password.
fn unsupported(url: &str) -> String {
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let expected = "expected sqlite://PATH or postgres://USER@HOST/DB";
    match scheme {
        Some(s) => format!("scheme `{s}` is not supported ({expected})"),
        None => format!("no URL scheme ({expected})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronous_parameter_is_taken_out_of_the_url() {
        let (url, s) = take_synchronous("sqlite://a/b.db").unwrap();
        assert_eq!(url, "sqlite://a/b.db");
        assert!(matches!(s, SqliteSynchronous::Normal));

        let (url, s) = take_synchronous("sqlite://a/b.db?synchronous=FULL").unwrap();
        assert_eq!(url, "sqlite://a/b.db");
        assert!(matches!(s, SqliteSynchronous::Full));

        let (url, s) = take_synchronous("sqlite:b.db?mode=rwc&synchronous=full&vfs=unix").unwrap();
        assert_eq!(url, "sqlite:b.db?mode=rwc&vfs=unix");
        assert!(matches!(s, SqliteSynchronous::Full));

        assert!(take_synchronous("sqlite:b.db?synchronous=off").is_err());
    }

    #[test]
    fn unsupported_url_names_only_the_scheme() {
        let msg = unsupported("mysql://admin:hunter2@db/admit");
        assert!(msg.contains("`mysql`"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(unsupported("/var/lib/admit.db").starts_with("no URL scheme"));
    }
}
