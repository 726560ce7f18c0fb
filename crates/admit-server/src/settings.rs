//! The server's resolved settings. Where they come from (flags, `ADMIT_*` variables,
//! a TOML file) is the binary's business; this is what is left after resolution.

use std::net::SocketAddr;
use std::path::PathBuf;

use admit_jose::Algorithm;

#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The public URL, exactly as it appears in `iss` (no trailing slash).
    pub issuer: String,
    pub database_url: String,
    /// Holds the SQLite database and the generated master key by default.
    pub data_dir: PathBuf,
    /// Base64url of 32 bytes. When absent, `data_dir/master.key` is used or created.
    pub master_key: Option<String>,
    pub access_token_alg: Algorithm,
    /// The shared secret for HS256 mode, at least 32 bytes. Only with `access_token_alg = HS256`.
    pub hs256_secret: Option<Vec<u8>>,
    /// The `aud` of access tokens; resource servers check it.
    pub audience: String,
    pub access_token_ttl: i64,
    /// Absolute lifetime of a refresh-token family, from the login that started it.
    pub refresh_token_ttl: i64,
    /// A refresh token unused this long expires.
    pub refresh_idle_ttl: i64,
    /// A repeat of the same refresh by the same client within this many seconds gets
    /// the same answer instead of counting as reuse (two tabs, a retry after a
    /// timeout). 0 turns it off.
    pub refresh_grace: i64,
    /// Lifetime of an authorization code (RFC 6749 §4.1.2: ten minutes at most).
    pub code_ttl: i64,
    /// Rotate signing keys on their own this often; `None` rotates only on command.
    pub key_rotation_interval: Option<i64>,
    /// How often the key set is re-read from the database, in seconds.
    pub key_reload_interval: u64,
    /// How long an SSO session lasts after login.
    pub session_ttl: i64,
    /// Concurrent Argon2id computations; each holds the memory of one hash (19 MiB
    /// at the default parameters).
    pub password_hash_concurrency: usize,
    /// Argon2id cost of new password hashes (and of the dummy check for unknown
    /// users); never below OWASP's minimum. Stored hashes verify at their own.
    pub password_hash: crate::password::HashParams,
    /// admit sits behind a TLS-terminating reverse proxy: it may serve plain http
    /// on a non-loopback address under an https issuer, and takes the client
    /// address from the last `X-Forwarded-For` entry. Off by default.
    pub trust_proxy: bool,
    /// How often the audit chain's head is signed, in seconds.
    pub audit_anchor_interval: u64,
    /// Back-off and lock thresholds for failed logins (see login.rs).
    pub login_limits: crate::login::LoginLimits,
    /// Serve `/metrics` on this address instead of the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// On shutdown, how long in-flight requests may take to finish, in seconds.
    pub shutdown_timeout: u64,
    /// Make each request's span at INFO, for trace export (observe.rs); else at DEBUG.
    pub request_spans: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("data_dir", &self.data_dir)
            .field("access_token_alg", &self.access_token_alg)
            .field("audience", &self.audience)
            .field("trust_proxy", &self.trust_proxy)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Settings for a server on `listen` whose data lives in `data_dir`: the defaults
    /// the binary starts from, and what tests use.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Settings {
        let issuer = format!("http://{listen}");
        Settings {
            listen,
            database_url: format!("sqlite://{}", data_dir.join("admit.db").display()),
            data_dir,
            master_key: None,
            access_token_alg: Algorithm::EdDSA,
            hs256_secret: None,
            audience: issuer.clone(),
            issuer,
            access_token_ttl: 600,
            refresh_token_ttl: 30 * 24 * 3600,
            refresh_idle_ttl: 7 * 24 * 3600,
            code_ttl: 60,
            refresh_grace: 5,
            key_rotation_interval: Some(30 * 24 * 3600),
            key_reload_interval: crate::keyring::RELOAD_INTERVAL as u64,
            session_ttl: 12 * 3600,
            password_hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            password_hash: crate::password::HashParams::OWASP,
            trust_proxy: false,
            audit_anchor_interval: 60,
            login_limits: crate::login::LoginLimits::DEFAULT,
            metrics_listen: None,
            shutdown_timeout: 30,
            request_spans: false,
        }
    }

    /// These settings with what a reload may change taken from `new`: lifetimes, the
    /// refresh grace, rotation, and the shutdown bound. Also returns the names of the
    /// settings `new` changes that only a restart applies.
    pub fn reloaded(&self, new: &Settings) -> (Settings, Vec<&'static str>) {
        let mut next = self.clone();
        next.access_token_ttl = new.access_token_ttl;
        next.refresh_token_ttl = new.refresh_token_ttl;
        next.refresh_idle_ttl = new.refresh_idle_ttl;
        next.refresh_grace = new.refresh_grace;
        next.code_ttl = new.code_ttl;
        next.session_ttl = new.session_ttl;
        next.key_rotation_interval = new.key_rotation_interval;
        next.shutdown_timeout = new.shutdown_timeout;
        let mut ignored = Vec::new();
        let mut differs = |name, changed: bool| {
            if changed {
                ignored.push(name);
            }
        };
        differs("listen", self.listen != new.listen);
        differs("issuer", self.issuer != new.issuer);
        differs("database_url", self.database_url != new.database_url);
        differs("data_dir", self.data_dir != new.data_dir);
        differs("master_key", self.master_key != new.master_key);
        differs(
            "access_token_alg",
            self.access_token_alg != new.access_token_alg,
        );
        differs("hs256_secret", self.hs256_secret != new.hs256_secret);
        differs("audience", self.audience != new.audience);
        differs("password_hash", self.password_hash != new.password_hash);
        differs("trust_proxy", self.trust_proxy != new.trust_proxy);
        differs(
            "audit_anchor_interval",
            self.audit_anchor_interval != new.audit_anchor_interval,
        );
        differs("metrics_listen", self.metrics_listen != new.metrics_listen);
        (next, ignored)
    }
}
