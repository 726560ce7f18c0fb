//! `admit user ...`: resource owners and their passwords.

use std::process::ExitCode;

use admit_server::{now, password, random_token, revocation, rules};
use admit_store::{Store, StoreError, User};
use anyhow::{Context, bail, ensure};
use clap::Subcommand;
use serde_json::json;

use super::{PasswordHashArgs, read_stdin_line};
use crate::config::FileConfig;

#[derive(Subcommand)]
pub enum Command {
    /// Create a user; the password is read from standard input
    Add {
        username: String,
        /// Read the password from standard input (required: passwords never go in arguments)
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        hashing: PasswordHashArgs,
    },
    /// List users
    List,
    /// Remove a user; their refresh tokens stop working at once
    Remove { username: String },
    /// Lift the login lock and back-off of a username (known or not), or of a client
    /// address with --address
    Unlock {
        #[arg(required_unless_present = "address", conflicts_with = "address")]
        username: Option<String>,
        /// A client address (IPv4 or IPv6) instead of a username
        #[arg(long)]
        address: Option<std::net::IpAddr>,
    },
    /// Change a user's password; their refresh tokens stop working at once
    Passwd {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        hashing: PasswordHashArgs,
    },
}

pub async fn run(cmd: Command, store: &Store, file: &FileConfig) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Add {
            username,
            email,
            name,
            hashing,
            ..
        } => {
            let params = hashing.resolve(file)?;
            let username = admit_oauth::username::canonical(&username);
            admit_oauth::username::check(&username).map_err(anyhow::Error::msg)?;
            if let Some(email) = &email {
                rules::email(email).map_err(|e| anyhow::anyhow!("--email {email:?}: {e}"))?;
            }
            let password = new_password()?;
            let now = now();
            let user = User {
                id: random_token::<16>(),
                username: username.clone(),
                password_hash: password::hash_with(&password, params),
                email,
                email_verified: false,
                name,
                created_at: now,
                updated_at: now,
            };
            match store.insert_user(&user).await {
                Err(StoreError::Conflict) => bail!("user {username:?} already exists"),
                other => other?,
            }
            super::audit(store, "user.add", &user.id, json!({ "username": username })).await?;
            println!("created user {username} (sub {})", user.id);
        }
        Command::List => {
            println!("{:<24} {:<24} {:<30} NAME", "USERNAME", "SUB", "EMAIL");
            for u in store.list_users().await? {
                println!(
                    "{:<24} {:<24} {:<30} {}",
                    u.username,
                    u.id,
                    u.email.as_deref().unwrap_or("-"),
                    u.name.as_deref().unwrap_or("-")
                );
            }
        }
        Command::Remove { username } => {
            let username = admit_oauth::username::canonical(&username);
            let user = store
                .user_by_username(&username)
                .await?
                .with_context(|| format!("no user {username:?}"))?;
            let now = now();
            // The store ends the user's sessions and refresh tokens in the same change;
            // the event ends their access tokens at resource servers that follow it.
            ensure!(
                store.delete_user(&username, now).await?,
                "no user {username:?}"
            );
            revocation::user(store, &user.id, now).await?;
            super::audit(
                store,
                "user.remove",
                &user.id,
                json!({ "username": username }),
            )
            .await?;
            println!("removed user {username}");
        }
        Command::Unlock { username, address } => {
            // The keys login.rs counts under.
            let key = match (username, address) {
                (_, Some(address)) => format!("addr:{address}"),
                (Some(name), None) => format!("user:{}", admit_oauth::username::canonical(&name)),
                (None, None) => bail!("give a username or --address"),
            };
            let cleared = store.clear_login_failures(&key).await?;
            super::audit(store, "login.unlock", &key, json!({ "cleared": cleared })).await?;
            match cleared {
                true => println!("unlocked {key}: its failed logins are forgotten"),
                false => println!("{key} had no failed logins"),
            }
        }
        Command::Passwd {
            username, hashing, ..
        } => {
            let params = hashing.resolve(file)?;
            let username = admit_oauth::username::canonical(&username);
            let user = store
                .user_by_username(&username)
                .await?
                .with_context(|| format!("no user {username:?}"))?;
            let hash = password::hash_with(&new_password()?, params);
            let now = now();
            ensure!(
                store.set_password(&username, &hash, now).await?,
                "no user {username:?}"
            );
            revocation::user(store, &user.id, now).await?;
            super::audit(
                store,
                "user.passwd",
                &user.id,
                json!({ "username": username }),
            )
            .await?;
            println!("changed the password of {username}; their sessions and tokens are revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new_password() -> anyhow::Result<String> {
    let password = read_stdin_line("password")?;
    rules::password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}
