//! `admit consent ...`: what each user allowed each client, and withdrawing it.

use std::process::ExitCode;

use admit_store::Store;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// List the consents a user has given
    List { username: String },
    /// Withdraw a user's consent to a client: its tokens for that user end, and the
    /// consent page shows again next time
    Revoke { username: String, client_id: String },
}

pub async fn run(cmd: Command, store: &Store) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { username } => {
            let consents = store
                .list_consents(&super::user_id(store, &username).await?)
                .await?;
            println!("{:<24} {:<12} SCOPE", "CLIENT_ID", "GRANTED_AT");
            for c in consents {
                println!("{:<24} {:<12} {}", c.client_id, c.granted_at, c.scope);
            }
        }
        Command::Revoke {
            username,
            client_id,
        } => {
            let user_id = super::user_id(store, &username).await?;
            let revoked =
                admit_server::revocation::consent(store, &user_id, &client_id, admit_server::now())
                    .await?;
            anyhow::ensure!(revoked, "{username} has given no consent to {client_id:?}");
            let detail = serde_json::json!({ "client_id": client_id });
            super::audit(store, "consent.withdraw", &user_id, detail).await?;
            println!("withdrew {username}'s consent to {client_id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
