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
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("data_dir", &self.data_dir)
            .field("access_token_alg", &self.access_token_alg)
            .field("audience", &self.audience)
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
        }
    }
}
