//! Start-up: open the store, load keys, build the router with its limits, and serve.
//! `main` and the tests share this one function ([`spawn`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use admit_jose::Algorithm;
use admit_oauth::metadata::Metadata;
use admit_store::Store;
use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::audit::{self, Audit};
use crate::keyring::{ASYMMETRIC, Keyring};
use crate::master_key::MasterKey;
use crate::state::{AppState, Inner, Parts};
use crate::{Settings, housekeeping, metrics, observe, routes};

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when not on the main listener.
    pub metrics_addr: Option<SocketAddr>,
    pub issuer: String,
    /// Whether start-up created a new master key file (the operator should back it up).
    pub created_master_key: bool,
    pub task: JoinHandle<std::io::Result<()>>,
    stopping: tokio::sync::watch::Sender<bool>,
    state: AppState,
    background: Vec<JoinHandle<()>>,
    audit_writer: (tokio::sync::oneshot::Sender<()>, JoinHandle<()>),
}

impl Server {
    /// Stops accepting and gives in-flight requests `shutdown_timeout` seconds to
    /// finish (then cuts them off), writes the queued audit records, and closes the
    /// database pool. Returns whether every request finished in time.
    pub async fn shutdown(mut self) -> bool {
        let _ = self.stopping.send(true);
        let bound = Duration::from_secs(self.state.settings().shutdown_timeout);
        let drained = tokio::time::timeout(bound, &mut self.task).await.is_ok();
        if !drained {
            tracing::warn!(
                seconds = bound.as_secs(),
                "in-flight requests did not finish in time: cutting them off"
            );
            self.task.abort();
        }
        for task in &self.background {
            task.abort();
        }
        let (stop, writer) = self.audit_writer;
        let _ = stop.send(());
        let _ = writer.await;
        self.state.store.close().await;
        drained
    }

    /// The server's database handle.
    pub fn store(&self) -> &admit_store::Store {
        &self.state.store
    }

    /// Applies what can change while serving (see `Settings::reloaded`); returns the
    /// names of changed settings that need a restart.
    pub fn reload(&self, settings: &Settings) -> Vec<&'static str> {
        self.state.reload(settings)
    }
}

/// Opens the store (creating the SQLite file and running migrations), loads or
/// generates keys, binds `settings.listen` and serves in a background task. On a
/// fresh database it answers before it returns: the RS256 key and the next keys are
/// generated once it serves, and it returns once they are published.
pub async fn spawn(mut settings: Settings) -> anyhow::Result<Server> {
    warm_up_random();
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    refuse_plain_http(&settings)?;
    let lock = lock_sqlite(&settings.database_url)?;
    let store = Store::connect(&settings.database_url)
        .await
        .context("opening the database")?;
    let (master, created_master_key) =
        MasterKey::load_or_create(settings.master_key.as_deref(), &settings.data_dir)?;
    // The current keys, before serving. On a fresh database RS256's key search is
    // most of the start (60–300 ms), so unless access tokens use it, that key is made
    // just after admit starts to answer; the JWKS and RS256 signatures wait for it
    // (`Inner::complete_keys`).
    let first: Vec<_> = ASYMMETRIC
        .into_iter()
        .filter(|&alg| alg != Algorithm::RS256 || settings.access_token_alg == alg)
        .map(|alg| (alg, "current"))
        .collect();
    Keyring::ensure(&store, &master, &first, crate::now()).await?;
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
    let id_token_algs = ASYMMETRIC.iter().map(|alg| alg.name()).collect();
    let metadata = Metadata::new(&settings.issuer, id_token_algs, scopes_supported());
    let (stopping, shutdown) = tokio::sync::watch::channel(false);
    let (audit, audit_queue) = Audit::channel();
    let parts = Parts {
        store,
        keyring: keys,
        master,
        audit,
        shutdown,
        metadata: serde_json::to_string(&metadata)?,
    };
    let state = AppState(Arc::new(Inner::new(settings.clone(), parts)));
    let (stop_audit, audit_stop) = tokio::sync::oneshot::channel();
    let audit_writer = tokio::spawn(audit::write(
        state.clone(),
        audit_queue,
        Duration::from_secs(settings.audit_anchor_interval),
        audit_stop,
    ));

    let app = router(state.clone(), settings.metrics_listen.is_none());
    let mut metrics_addr = None;
    match settings.metrics_listen {
        None => {}
        Some(at) => {
            let listener = TcpListener::bind(at)
                .await
                .with_context(|| format!("listening on {at} for metrics"))?;
            metrics_addr = Some(listener.local_addr()?);
            let metrics = Router::new()
                .route("/metrics", get(metrics::serve))
                .with_state(state.clone());
            let mut stopped = stopping.subscribe();
            tokio::spawn(async move {
                axum::serve(listener, metrics)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    })
                    .await
            });
        }
    }
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut stopped = stopping.subscribe();
    let task = tokio::spawn(async move {
        // Held while serving: a second server on the same SQLite file is refused.
        let _lock = lock;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await
    });
    tracing::info!(%addr, issuer = %settings.issuer, "admit is serving");
    // Answering already: the rest of the current keys are published a moment after
    // start, first, for what waits on them; then the next keys, which sign nothing
    // for `MIN_NEXT_AGE`.
    let published = async {
        for keys_state in ["current", "next"] {
            let wanted = ASYMMETRIC.map(|alg| (alg, keys_state));
            Keyring::ensure(&state.store, &state.master, &wanted, crate::now()).await?;
            housekeeping::reload_keys(&state).await?;
        }
        anyhow::Ok(())
    };
    if let Err(e) = published.await {
        let _ = stopping.send(true);
        return Err(e.context("publishing the next signing keys"));
    }
    let background = vec![
        tokio::spawn(housekeeping::purge_expired(
            state.store.clone(),
            settings.login_limits,
        )),
        tokio::spawn(housekeeping::keep_keys(state.clone())),
    ];
    Ok(Server {
        addr,
        metrics_addr,
        issuer: settings.issuer,
        created_master_key,
        task,
        stopping,
        state,
        background,
        audit_writer: (stop_audit, audit_writer),
    })
}

/// aws-lc seeds its random generator from CPU jitter as well as the OS (two
/// independent sources) the first time a process asks for randomness, which takes
/// about 50 ms of one core. Started here, that runs beside opening the database, and
/// neither key generation on a fresh database nor the first token after a restart
/// waits for all of it.
fn warm_up_random() {
    std::thread::spawn(|| {
        use aws_lc_rs::rand::{SecureRandom, SystemRandom};
        // A failure here is met again, and reported, where randomness is needed.
        let _ = SystemRandom::new().fill(&mut [0u8; 1]);
    });
}

/// RFC 9700 §4.1 and §2.6 presume TLS: under an https issuer, plain http is served
/// only on loopback, or behind a TLS-terminating proxy the operator declares.
fn refuse_plain_http(settings: &Settings) -> anyhow::Result<()> {
    if settings.issuer.starts_with("https://")
        && !settings.listen.ip().is_loopback()
        && !settings.trust_proxy
    {
        anyhow::bail!(
            "the issuer is https but admit serves plain http on {}: listen on loopback, \
             or set trust_proxy (--trust-proxy) when a TLS-terminating proxy is in front",
            settings.listen
        );
    }
    Ok(())
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

/// The routes, `/metrics` unless it has a listener of its own, and the layers every
/// request passes: observation (request id, log line, metrics) outermost.
fn router(state: AppState, with_metrics: bool) -> Router {
    let mut routes = routes::router(state.clone());
    if with_metrics {
        routes = routes.route("/metrics", get(metrics::serve).with_state(state.clone()));
    }
    routes
        .route_layer(observe::RouteLayer)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(observe::ObserveLayer(state))
}
