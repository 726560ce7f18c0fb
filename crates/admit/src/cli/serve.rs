//! `admit serve`: resolve the settings, start the server (and the demo API), and run
//! until SIGINT or SIGTERM (see lifecycle.rs for SIGHUP).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use admit_jose::Algorithm;
use admit_server::Settings;
use anyhow::bail;

use super::lifecycle;
use crate::config::{self, FileConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "ADMIT_LISTEN")]
    listen: Option<SocketAddr>,
    /// Public URL of this server, as it appears in tokens' `iss` [default: http://LISTEN]
    #[arg(long, env = "ADMIT_ISSUER")]
    issuer: Option<String>,
    /// Master key that encrypts signing keys at rest: base64url of 32 bytes
    /// [default: DATA_DIR/master.key, generated with mode 0600 on first start]
    #[arg(long, env = "ADMIT_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// File holding the master key (instead of --master-key)
    #[arg(long, env = "ADMIT_MASTER_KEY_FILE", conflicts_with = "master_key")]
    master_key_file: Option<PathBuf>,
    /// Algorithm of access tokens: EdDSA, ES256, RS256, or HS256 (needs --hs256-secret-file) [default: EdDSA]
    #[arg(long, env = "ADMIT_ACCESS_TOKEN_ALG")]
    access_token_alg: Option<String>,
    /// File with the shared secret (32 bytes or more) for HS256 access tokens: only for a
    /// single service that both issues and checks tokens, since whoever can check can forge
    #[arg(long, env = "ADMIT_HS256_SECRET_FILE")]
    hs256_secret_file: Option<PathBuf>,
    /// `aud` of access tokens, which resource servers must check [default: the issuer]
    #[arg(long, env = "ADMIT_AUDIENCE")]
    audience: Option<String>,
    /// Access-token lifetime in seconds, at most 86400 [default: 600]
    #[arg(long, env = "ADMIT_ACCESS_TOKEN_TTL")]
    access_token_ttl: Option<i64>,
    /// Absolute refresh-token lifetime in seconds, from the login [default: 2592000, 30 days]
    #[arg(long, env = "ADMIT_REFRESH_TOKEN_TTL")]
    refresh_token_ttl: Option<i64>,
    /// A refresh token unused this many seconds expires [default: 604800, 7 days]
    #[arg(long, env = "ADMIT_REFRESH_IDLE_TTL")]
    refresh_idle_ttl: Option<i64>,
    /// A repeat of the same refresh by the same client within this many seconds gets the
    /// same answer instead of counting as reuse; 0 turns it off [default: 5]
    #[arg(long, env = "ADMIT_REFRESH_GRACE")]
    refresh_grace: Option<i64>,
    /// Authorization-code lifetime in seconds, at most 600 [default: 60]
    #[arg(long, env = "ADMIT_CODE_TTL")]
    code_ttl: Option<i64>,
    /// SSO session lifetime in seconds [default: 43200, 12 hours]
    #[arg(long, env = "ADMIT_SESSION_TTL")]
    session_ttl: Option<i64>,
    /// Rotate signing keys on their own every this many seconds; 0 turns it off
    /// [default: 2592000, 30 days]
    #[arg(long, env = "ADMIT_KEY_ROTATION_INTERVAL")]
    key_rotation_interval: Option<i64>,
    /// admit sits behind a TLS-terminating reverse proxy: serve plain http on a
    /// non-loopback address under an https issuer, and take the client address from the
    /// last X-Forwarded-For entry (which the proxy must set) [default: off]
    #[arg(long, env = "ADMIT_TRUST_PROXY")]
    trust_proxy: bool,
    /// Sign the audit log's chain head every this many seconds [default: 60]
    #[arg(long, env = "ADMIT_AUDIT_ANCHOR_INTERVAL")]
    audit_anchor_interval: Option<u64>,
    /// Serve /metrics on this address instead of on --listen [default: on --listen]
    #[arg(long, env = "ADMIT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// On SIGTERM, how many seconds in-flight requests get to finish [default: 30]
    #[arg(long, env = "ADMIT_SHUTDOWN_TIMEOUT")]
    shutdown_timeout: Option<u64>,
    /// Export each request's trace over OTLP/HTTP to this collector, e.g.
    /// http://127.0.0.1:4318 (builds with `--features otel` only)
    #[arg(long, env = "ADMIT_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Log format: text or json [default: text]
    #[arg(long, env = "ADMIT_LOG_FORMAT")]
    log_format: Option<String>,
    /// Also run the demos: the protected API (the seed's resource server) on --demo-listen
    /// and the client site ("log in with admit") on --demo-site-listen
    #[arg(long, env = "ADMIT_DEMO")]
    demo: bool,
    /// Address of the demo API [default: 127.0.0.1:8081]
    #[arg(long, env = "ADMIT_DEMO_LISTEN")]
    demo_listen: Option<SocketAddr>,
    /// Address of the demo client site, "our website" [default: 127.0.0.1:8082]
    #[arg(long, env = "ADMIT_DEMO_SITE_LISTEN")]
    demo_site_listen: Option<SocketAddr>,
    #[command(flatten)]
    password_hash: super::PasswordHashArgs,
}

pub async fn run(
    args: Args,
    file: &FileConfig,
    config: Option<&Path>,
    data_dir: PathBuf,
    database_url: String,
) -> anyhow::Result<ExitCode> {
    let log = lifecycle::init_logging(
        args.log_format
            .as_deref()
            .or(file.log_format.as_deref())
            .unwrap_or("text"),
        file,
        args.otlp_endpoint
            .as_deref()
            .or(file.otlp_endpoint.as_deref()),
    )?;
    let signals = lifecycle::Signals::catch()?;
    let settings = settings(&args, file, data_dir.clone(), database_url.clone())?;
    let started = std::time::Instant::now();
    let hashing = settings.password_hash;
    let server = admit_server::spawn(settings).await?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "started");
    // The clients and users the file declares, as `admit config apply` would (and
    // SIGHUP does again). Not fatal: another instance may be applying the same file.
    match crate::declared::apply(server.store(), file, hashing, "admit").await {
        Ok(plan) if !plan.is_empty() => {
            tracing::info!(
                changes = plan.changes.len(),
                "applied the clients and users the file declares"
            )
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "applying the declared clients and users failed")
        }
    }
    if server.created_master_key {
        tracing::warn!(
            "generated a new master key in the data directory (mode 0600): back it up; without it the signing keys cannot be read"
        );
    }
    // The start-up lines follow the log lines written so far.
    log.write_buffered();
    println!(
        "admit is serving {} (issuer {})",
        server.addr, server.issuer
    );
    println!(
        "  discovery: {}/.well-known/openid-configuration",
        server.issuer
    );
    println!("  next: admit user add alice --password-stdin");
    println!("        admit client add my-app --grant password --grant refresh_token --scope read");

    let demo = if args.demo {
        let api = args
            .demo_listen
            .or(file.demo_listen)
            .unwrap_or(([127, 0, 0, 1], 8081).into());
        let site = args
            .demo_site_listen
            .unwrap_or(([127, 0, 0, 1], 8082).into());
        Some(super::demo::start(&server.issuer, api, site, &database_url).await?)
    } else {
        None
    };

    let reload = lifecycle::Reload {
        args: &args,
        config,
        data_dir,
        database_url,
        log,
    };
    lifecycle::run_until_stopped(&server, &reload, signals).await;
    tracing::info!("shutting down: finishing in-flight requests");
    if let Some(demo) = demo {
        demo.stop();
    }
    if server.shutdown().await {
        tracing::info!("stopped");
    }
    reload.log.finish();
    Ok(ExitCode::SUCCESS)
}

/// The settings `serve` runs with: flag or `ADMIT_*` variable, then the file, then the
/// default, each checked. `admit doctor` checks the same.
pub fn settings(
    args: &Args,
    file: &FileConfig,
    data_dir: PathBuf,
    database_url: String,
) -> anyhow::Result<Settings> {
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or(([127, 0, 0, 1], 8080).into());
    let mut settings = Settings::new(listen, data_dir);
    settings.database_url = database_url;
    if let Some(issuer) = args.issuer.clone().or(file.issuer.clone()) {
        settings.issuer = config::issuer(&issuer)?;
    }
    settings.audience = args
        .audience
        .clone()
        .or(file.audience.clone())
        .unwrap_or_else(|| settings.issuer.clone());
    if let Some(alg) = args
        .access_token_alg
        .clone()
        .or(file.access_token_alg.clone())
    {
        settings.access_token_alg = config::algorithm(&alg)?;
    }
    let lifetime = |what, flag: Option<i64>, in_file: Option<i64>, default: i64, max: i64| {
        let value = positive(what, flag.or(in_file), default)?;
        anyhow::ensure!(value <= max, "the {what} may be at most {max} seconds");
        Ok::<i64, anyhow::Error>(value)
    };
    settings.access_token_ttl = lifetime(
        "access token lifetime",
        args.access_token_ttl,
        file.access_token_ttl,
        settings.access_token_ttl,
        admit_server::revocation::MAX_ACCESS_TOKEN_TTL,
    )?;
    settings.refresh_token_ttl = lifetime(
        "refresh token lifetime",
        args.refresh_token_ttl,
        file.refresh_token_ttl,
        settings.refresh_token_ttl,
        i64::MAX / 4,
    )?;
    settings.refresh_idle_ttl = lifetime(
        "refresh idle lifetime",
        args.refresh_idle_ttl,
        file.refresh_idle_ttl,
        settings.refresh_idle_ttl,
        i64::MAX / 4,
    )?;
    settings.refresh_grace = match args.refresh_grace.or(file.refresh_grace) {
        Some(g) if !(0..=60).contains(&g) => bail!("the refresh grace window is 0 to 60 seconds"),
        Some(g) => g,
        None => settings.refresh_grace,
    };
    // RFC 6749 §4.1.2: a maximum code lifetime of 10 minutes is RECOMMENDED.
    settings.code_ttl = lifetime(
        "code lifetime",
        args.code_ttl,
        file.code_ttl,
        settings.code_ttl,
        600,
    )?;
    settings.session_ttl = lifetime(
        "session lifetime",
        args.session_ttl,
        file.session_ttl,
        settings.session_ttl,
        i64::MAX / 4,
    )?;
    match args.key_rotation_interval.or(file.key_rotation_interval) {
        Some(0) => settings.key_rotation_interval = None,
        Some(seconds) => {
            let min = admit_server::keyring::MIN_NEXT_AGE;
            anyhow::ensure!(
                seconds >= min,
                "the key rotation interval must be 0 (off) or at least {min} seconds"
            );
            settings.key_rotation_interval = Some(seconds);
        }
        None => {}
    }
    settings.password_hash = args.password_hash.resolve(file)?;
    settings.trust_proxy = args.trust_proxy || file.trust_proxy.unwrap_or(false);
    settings.metrics_listen = args.metrics_listen.or(file.metrics_listen);
    settings.request_spans = args.otlp_endpoint.is_some() || file.otlp_endpoint.is_some();
    if let Some(seconds) = args.shutdown_timeout.or(file.shutdown_timeout) {
        settings.shutdown_timeout = seconds;
    }
    match args.audit_anchor_interval.or(file.audit_anchor_interval) {
        Some(0) => bail!("the audit anchor interval must be at least 1 second"),
        Some(seconds) => settings.audit_anchor_interval = seconds,
        None => {}
    }
    settings.master_key =
        config::master_key(args.master_key.clone(), args.master_key_file.clone(), file)?;
    if let Some(path) = args
        .hs256_secret_file
        .clone()
        .or(file.hs256_secret_file.clone())
    {
        settings.hs256_secret = Some(config::read_secret_file(&path)?.into_bytes());
    }
    if settings.access_token_alg == Algorithm::HS256 && settings.hs256_secret.is_none() {
        bail!("--access-token-alg HS256 needs --hs256-secret-file");
    }

    Ok(settings)
}

fn positive(what: &str, value: Option<i64>, default: i64) -> anyhow::Result<i64> {
    match value {
        None => Ok(default),
        Some(v) if v > 0 => Ok(v),
        Some(v) => bail!("the {what} must be a positive number of seconds, not {v}"),
    }
}
