//! Start-up: open the store, load keys, build the router with its limits, and serve.
//! `main` and the tests share this one function ([`spawn`]).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use admit_oauth::metadata::Metadata;
use admit_store::Store;
use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use crate::browser::CookieNames;
use crate::error::ApiError;
use crate::keyring::Keyring;
use crate::master_key::MasterKey;
use crate::seal::Sealer;
use crate::state::{AppState, Inner};
use crate::{Settings, housekeeping, password, routes};

/// All request headers together may not exceed this (bytes).
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub issuer: String,
    /// Whether start-up created a new master key file (the operator should back it up).
    pub created_master_key: bool,
    pub task: JoinHandle<std::io::Result<()>>,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Server {
    /// Stops accepting, lets in-flight requests finish, and waits for the task.
    pub async fn shutdown(self) {
        let _ = self.stopping.send(true);
        let _ = self.task.await;
    }
}

/// Opens the store (creating the SQLite file and running migrations), loads or
/// generates keys, binds `settings.listen` and serves in a background task.
pub async fn spawn(mut settings: Settings) -> anyhow::Result<Server> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let lock = lock_sqlite(&settings.database_url)?;
    let store = Store::connect(&settings.database_url)
        .await
        .context("opening the database")?;
    let (master, created_master_key) =
        MasterKey::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?;
    Keyring::ensure(&store, &master, crate::now()).await?;
    let keys = Keyring::load(
        &store,
        &master,
        settings.access_token_alg,
        settings.hs256_secret.as_deref(),
    )
    .await?;

    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    // A port of 0 is resolved now, so an issuer derived from it is correct.
    if settings.listen.port() == 0 && settings.issuer.ends_with(":0") {
        settings.issuer = format!("http://{addr}");
        settings.audience = settings.issuer.clone();
    }
    let metadata = Metadata::new(&settings.issuer, keys.algorithms(), scopes_supported());
    let (stopping, shutdown) = tokio::sync::watch::channel(false);
    let state = AppState(Arc::new(Inner {
        shutdown,
        metadata: serde_json::to_string(&metadata)?,
        passwords: password::Verifier::new(
            settings.password_hash_concurrency,
            settings.password_hash,
        ),
        sealer: Sealer::new(&master),
        clients: Default::default(),
        cookies: CookieNames::for_issuer(&settings.issuer),
        settings: settings.clone(),
        store,
        keyring: RwLock::new(Arc::new(keys)),
        master,
    }));
    let purge = tokio::spawn(housekeeping::purge_expired(state.store.clone()));
    let key_upkeep = tokio::spawn(housekeeping::keep_keys(state.clone()));
    let app = router(state);
    let mut stopped = stopping.subscribe();
    let task = tokio::spawn(async move {
        // Held while serving: a second server on the same SQLite file is refused.
        let _lock = lock;
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await;
        purge.abort();
        key_upkeep.abort();
        served
    });
    tracing::info!(%addr, issuer = %settings.issuer, "admit is serving");
    Ok(Server {
        addr,
        issuer: settings.issuer,
        created_master_key,
        task,
        stopping,
    })
}

/// SQLite serves one instance: a second `admit serve` on the same file is refused
/// with a clear message (several instances need PostgreSQL). The CLI takes no lock,
/// so it works while the server runs. The lock is released when the process ends.
fn lock_sqlite(database_url: &str) -> anyhow::Result<Option<std::fs::File>> {
    let Some(rest) = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
    else {
        return Ok(None);
    };
    let path = format!("{}.lock", rest.split('?').next().unwrap_or(rest));
    if let Some(dir) = std::path::Path::new(&path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {path}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another admit is already serving this SQLite database ({path} is locked); \
             run several instances over PostgreSQL instead"
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {path}")),
    }
}

/// The scopes admit gives meaning to (OpenID Connect Core §5.4).
fn scopes_supported() -> Vec<String> {
    ["openid", "profile", "email"].map(str::to_owned).to_vec()
}

fn router(state: AppState) -> Router {
    routes::router(state)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn(limit_headers))
        // Spans name the method and path only: queries carry codes, state and
        // `id_token_hint`, which must not reach a log. Debug level: building a span
        // per request costs a few per cent of a token's CPU.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        // Authorization and cookies never reach a log line.
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
}

async fn limit_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return ApiError::TooLarge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).into_response();
    }
    next.run(request).await
}
