//! `admit session ...`: SSO sessions; revoking one ends its refresh tokens and, where
//! resource servers follow the revocation stream, its access tokens.

use std::process::ExitCode;

use admit_server::{now, revocation};
use admit_store::Store;
use anyhow::bail;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// List sessions (live and ended)
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// End one session by id, or every session of a user
    Revoke {
        /// Session ids are random base64url and may start with '-'
        #[arg(allow_hyphen_values = true)]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        user: Option<String>,
    },
}

pub async fn run(cmd: Command, store: &Store) -> anyhow::Result<ExitCode> {
    let now = now();
    match cmd {
        Command::List { user } => {
            let user_id = match user {
                Some(name) => Some(super::user_id(store, &name).await?),
                None => None,
            };
            println!(
                "{:<24} {:<24} {:<11} {:<11} STATE",
                "ID", "USER", "AUTH_TIME", "EXPIRES"
            );
            for s in store.list_sessions(user_id.as_deref()).await? {
                let state = match s.revoked_at {
                    Some(_) => "ended",
                    None if s.expires_at <= now => "expired",
                    None => "live",
                };
                println!(
                    "{:<24} {:<24} {:<11} {:<11} {state}",
                    s.id, s.user_id, s.auth_time, s.expires_at
                );
            }
        }
        Command::Revoke { id: Some(id), .. } => {
            if store.session(&id).await?.is_none() {
                bail!("no session {id:?}");
            }
            revocation::session(store, &id, now).await?;
            super::audit(store, "session.end", &id, serde_json::json!({})).await?;
            println!("ended session {id}");
        }
        Command::Revoke {
            user: Some(name), ..
        } => {
            let user_id = super::user_id(store, &name).await?;
            let sessions = store.list_sessions(Some(&user_id)).await?;
            let live: Vec<_> = sessions.iter().filter(|s| s.revoked_at.is_none()).collect();
            for s in &live {
                revocation::session(store, &s.id, now).await?;
                super::audit(store, "session.end", &s.id, serde_json::json!({})).await?;
            }
            println!("ended {} session(s) of {name}", live.len());
        }
        Command::Revoke { .. } => bail!("give a session id or --user"),
    }
    Ok(ExitCode::SUCCESS)
}
