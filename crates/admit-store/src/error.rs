//! `StoreError`: the one error type of the store, and the mapping from sqlx
//! and rusqlite errors (unique-constraint violations become `Conflict`).

/// An error from the store. Messages never carry secrets: no URLs with
/// credentials, no hashes, no key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A row with the same unique key (id, username, client_id, kid, token hash) exists.
    #[error("already exists")]
    Conflict,
    /// The arguments contradict each other (say, a key for another algorithm
    /// than the one named); nothing was written.
    #[error("invalid arguments: {0}")]
    Invalid(&'static str),
    /// The URL's scheme names no supported backend. Holds only the scheme and
    /// a hint, never the URL itself, which may carry a password.
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// From the direct SQLite connection (direct.rs).
    #[error("database: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The database could not be reached (down, pool exhausted, connection lost): a
    /// client may retry later, unlike with a query that failed on its own.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // SQLSTATE class 08 (connection exception) and 57P (operator intervention:
            // the server is shutting down or restarting).
            StoreError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            // Another process held the writer lock past the busy timeout.
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error() {
            Some(f)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                StoreError::Conflict
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}
