//! `admit keys ...`: the signing keys in the database.

use std::process::ExitCode;

use admit_store::Store;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// List signing keys: algorithm, kid (RFC 7638 thumbprint), state, creation time
    List,
}

pub async fn run(cmd: Command, store: &Store) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List => {
            let keys = store.list_keys().await?;
            if keys.is_empty() {
                println!("no keys yet: `admit serve` generates them on first start");
            }
            println!("{:<6} {:<44} {:<8} CREATED", "ALG", "KID", "STATE");
            for k in keys {
                println!("{:<6} {:<44} {:<8} {}", k.alg, k.kid, k.state, k.created_at);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
