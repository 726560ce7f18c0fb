//! Settings resolution: a flag beats its `ADMIT_*` variable (clap does both), which
//! beats the TOML file (`--config`), which beats the default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use admit_jose::Algorithm;
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::declared;

/// The optional TOML file. Every key is optional; unknown keys are an error, so a
/// typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub issuer: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub access_token_alg: Option<String>,
    pub audience: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub code_ttl: Option<i64>,
    pub refresh_grace: Option<i64>,
    pub session_ttl: Option<i64>,
    pub key_rotation_interval: Option<i64>,
    pub hs256_secret_file: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
    pub log_format: Option<String>,
    pub demo_listen: Option<SocketAddr>,
    pub password_hash_memory_kib: Option<u32>,
    pub password_hash_iterations: Option<u32>,
    pub trust_proxy: Option<bool>,
    pub audit_anchor_interval: Option<u64>,
    /// Configuration as code (declared.rs): the scopes clients may list, which kinds
    /// the file owns entirely, and the declared clients and users.
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub manage: declared::Manage,
    #[serde(default)]
    pub clients: BTreeMap<String, declared::ClientDecl>,
    #[serde(default)]
    pub users: BTreeMap<String, declared::UserDecl>,
    /// A log filter such as `info` or `admit=debug`; SIGHUP applies a change.
    pub log: Option<String>,
    pub metrics_listen: Option<SocketAddr>,
    pub shutdown_timeout: Option<u64>,
    pub otlp_endpoint: Option<String>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: FileConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        declared::refuse_literals(&file).with_context(|| format!("in {}", path.display()))?;
        Ok(file)
    }
}

pub const DEFAULT_DATA_DIR: &str = "admit-data";

/// The data directory and database URL shared by `serve` and the CLI.
pub fn database(
    flag_url: Option<String>,
    flag_dir: Option<PathBuf>,
    file: &FileConfig,
) -> (PathBuf, String) {
    let data_dir = flag_dir
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let url = flag_url
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("admit.db").display()));
    (data_dir, url)
}

/// The issuer is compared byte for byte with `iss`, so normalise it once: an
/// absolute http(s) URL with no query, fragment or trailing slash (RFC 8414 §2).
pub fn issuer(text: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(text).with_context(|| format!("issuer {text:?} is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        bail!("issuer must be an http(s) URL without query or fragment");
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// The Argon2id cost of new password hashes; below OWASP's minimum is refused.
pub fn password_hash(
    memory_kib: Option<u32>,
    iterations: Option<u32>,
) -> anyhow::Result<admit_server::password::HashParams> {
    use admit_server::password::HashParams;
    let default = HashParams::OWASP;
    Ok(HashParams::new(
        memory_kib.unwrap_or(default.memory_kib()),
        iterations.unwrap_or(default.iterations()),
    )?)
}

pub fn algorithm(text: &str) -> anyhow::Result<Algorithm> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("unknown algorithm {text:?} (EdDSA, ES256, RS256 or HS256)"))
}

/// The master key as configured: the key itself, or a file holding it; `None` means
/// the default file in the data directory.
pub fn master_key(
    key: Option<String>,
    key_file: Option<PathBuf>,
    file: &FileConfig,
) -> anyhow::Result<Option<String>> {
    match (key, key_file.or_else(|| file.master_key_file.clone())) {
        (Some(key), _) => Ok(Some(key)),
        (None, Some(path)) => Ok(Some(read_secret_file(&path)?)),
        (None, None) => Ok(None),
    }
}

/// A secret kept in a file, without its trailing newline.
pub fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
