//! `admit keys ...`: the signing keys and their lifecycle (next, current, retired).

use std::path::PathBuf;
use std::process::ExitCode;

use admit_jose::{Algorithm, Jwk, JwkSet};
use admit_server::keyring::{self, ASYMMETRIC};
use admit_server::master_key::MasterKey;
use admit_server::now;
use admit_store::Store;
use anyhow::Context;
use clap::Subcommand;

use crate::config::{self, FileConfig};

#[derive(Subcommand)]
pub enum Command {
    /// List signing keys: algorithm, kid (RFC 7638 thumbprint), state and dates
    List,
    /// Promote each next key to current, retire the current one, publish a new next key
    Rotate {
        /// Only this algorithm (repeatable) [default: EdDSA, ES256 and RS256]
        #[arg(long = "alg")]
        algs: Vec<String>,
        /// Rotate even if the next key was published too recently for every cached JWKS
        /// to hold it (resource servers then fetch the JWKS again on the unknown kid)
        #[arg(long)]
        force: bool,
    },
    /// Import a private key (a private JWK file) as the next key of its algorithm
    Import { file: PathBuf },
    /// Print the published public keys as a JWKS
    Export {
        /// Public keys only (the only kind admit exports)
        #[arg(long, required = true)]
        public: bool,
    },
}

/// Where the CLI finds the master key: as `admit serve` does, but never creating one.
pub struct MasterKeySource<'a> {
    pub data_dir: &'a std::path::Path,
    pub file: &'a FileConfig,
}

impl MasterKeySource<'_> {
    pub fn load(&self) -> anyhow::Result<MasterKey> {
        let configured = config::master_key(
            std::env::var("ADMIT_MASTER_KEY").ok(),
            std::env::var_os("ADMIT_MASTER_KEY_FILE").map(PathBuf::from),
            self.file,
        )?;
        MasterKey::load(configured.as_deref(), self.data_dir)
    }
}

pub async fn run(
    cmd: Command,
    store: &Store,
    master: MasterKeySource<'_>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List => {
            let keys = store.list_keys().await?;
            if keys.is_empty() {
                println!("no keys yet: `admit serve` generates them on first start");
            }
            println!(
                "{:<6} {:<44} {:<8} {:<11} {:<11} RETIRED",
                "ALG", "KID", "STATE", "CREATED", "ACTIVATED"
            );
            let date = |t: Option<i64>| t.map_or("-".to_owned(), |t| t.to_string());
            for k in keys {
                println!(
                    "{:<6} {:<44} {:<8} {:<11} {:<11} {}",
                    k.alg,
                    k.kid,
                    k.state,
                    k.created_at,
                    date(k.activated_at),
                    date(k.retired_at)
                );
            }
        }
        Command::Rotate { algs, force } => {
            let algs: Vec<Algorithm> = if algs.is_empty() {
                ASYMMETRIC.to_vec()
            } else {
                algs.iter()
                    .map(|a| config::algorithm(a))
                    .collect::<Result<_, _>>()?
            };
            anyhow::ensure!(
                algs.iter().all(|a| !a.is_symmetric()),
                "the HS256 secret is configured, not rotated here"
            );
            let master = master.load()?;
            for alg in algs {
                let kid = keyring::rotate(store, &master, alg, force, now()).await?;
                let detail = serde_json::json!({ "alg": alg.name() });
                super::audit(store, "key.rotate", &kid, detail).await?;
                println!("{alg}: {kid} is now current; a new next key is published");
            }
            println!(
                "running servers pick the change up within {} s",
                keyring::RELOAD_INTERVAL
            );
        }
        Command::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let jwk: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let kid = keyring::import(store, &master.load()?, &jwk, now()).await?;
            super::audit(store, "key.import", &kid, serde_json::json!({})).await?;
            println!("imported {kid} as the next key; `admit keys rotate` makes it current");
        }
        Command::Export { .. } => {
            let mut jwks = JwkSet::default();
            for k in store.list_keys().await? {
                if let Some(jwk) = k.public_jwk {
                    jwks.keys.push(serde_json::from_str::<Jwk>(&jwk)?);
                }
            }
            println!("{}", serde_json::to_string_pretty(&jwks)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
