//! Command-line interface: argument definitions and dispatch.

mod audit;
mod calibrate;
mod clients;
mod config_cmd;
mod consents;
mod demo;
mod doctor;
mod keys;
mod lifecycle;
mod log_fields;
mod log_output;
mod serve;
mod sessions;
mod token;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use admit_store::Store;
use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, FileConfig};

#[derive(Parser)]
#[command(
    name = "admit",
    version,
    about = "admit: an OAuth 2.0 / OpenID Connect authorization server that issues JWT access tokens"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default: sqlite://DATA_DIR/admit.db) or postgres://...
    #[arg(
        long = "database",
        env = "ADMIT_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Directory for the embedded database and the generated master key [default: ./admit-data]
    #[arg(long, env = "ADMIT_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Optional TOML file with any of the settings (flags and ADMIT_* variables win over it)
    #[arg(long, env = "ADMIT_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the authorization server
    Serve(serve::Args),
    /// Manage users (resource owners)
    #[command(subcommand)]
    User(users::Command),
    /// Manage OAuth clients
    #[command(subcommand)]
    Client(clients::Command),
    /// See and withdraw users' consents to clients
    #[command(subcommand)]
    Consent(consents::Command),
    /// See and end SSO sessions
    #[command(subcommand)]
    Session(sessions::Command),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(keys::Command),
    /// Read the audit log and check it has not been altered
    #[command(subcommand)]
    Audit(audit::Command),
    /// Clients and users declared in the --config file: plan, apply, diff
    #[command(subcommand)]
    Config(config_cmd::Command),
    /// Decode or verify a JWT
    #[command(subcommand)]
    Token(token::Command),
    /// Measure password hashing and JWT signing on this machine, and propose Argon2id
    /// parameters for a target time per login
    Calibrate(calibrate::Args),
    /// Check the deployment (settings, clients, keys, master key file, clock) against
    /// RFC 9700's advice; exits 1 on a high-severity finding
    Doctor(doctor::Args),
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = FileConfig::load(cli.config.as_deref())?;
    let (data_dir, database_url) = config::database(cli.database_url, cli.data_dir, &file);
    let open = || open_store(&database_url, &data_dir);
    let master = keys::MasterKeySource {
        data_dir: &data_dir,
        file: &file,
    };
    match cli.command {
        Command::Serve(args) => {
            let config = cli.config.as_deref();
            serve::run(args, &file, config, data_dir.clone(), database_url.clone()).await
        }
        Command::User(cmd) => users::run(cmd, &open().await?, &file).await,
        Command::Client(cmd) => clients::run(cmd, &open().await?).await,
        Command::Consent(cmd) => consents::run(cmd, &open().await?).await,
        Command::Session(cmd) => sessions::run(cmd, &open().await?).await,
        Command::Keys(cmd) => keys::run(cmd, &open().await?, master).await,
        Command::Audit(cmd) => audit::run(cmd, &open().await?, master).await,
        Command::Config(cmd) => {
            config_cmd::require_file(cli.config.as_deref())?;
            config_cmd::run(cmd, &open().await?, &file).await
        }
        Command::Token(cmd) => token::run(cmd).await,
        Command::Calibrate(args) => calibrate::run(args),
        Command::Doctor(args) => doctor::run(args, &file, data_dir, database_url).await,
    }
}

/// The Argon2id cost of new password hashes: taken by `serve` (for the dummy check of
/// unknown users) and by the commands that set a password.
#[derive(clap::Args)]
pub struct PasswordHashArgs {
    /// Argon2id memory of new password hashes in KiB, at least 19456 (OWASP's minimum);
    /// `admit calibrate` proposes a value for this machine [default: 19456]
    #[arg(long, env = "ADMIT_PASSWORD_HASH_MEMORY_KIB")]
    password_hash_memory_kib: Option<u32>,
    /// Argon2id iterations of new password hashes, at least 2 [default: 2]
    #[arg(long, env = "ADMIT_PASSWORD_HASH_ITERATIONS")]
    password_hash_iterations: Option<u32>,
}

impl PasswordHashArgs {
    /// Flag or variable, then the file, then OWASP's minimum, which is also the floor.
    pub fn resolve(&self, file: &FileConfig) -> anyhow::Result<admit_server::password::HashParams> {
        config::password_hash(
            self.password_hash_memory_kib
                .or(file.password_hash_memory_kib),
            self.password_hash_iterations
                .or(file.password_hash_iterations),
        )
    }
}

async fn open_store(url: &str, data_dir: &std::path::Path) -> anyhow::Result<Store> {
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
    }
    Store::connect(url).await.context("opening the database")
}

/// The id of the user named `username`, or a one-line refusal.
async fn user_id(store: &Store, username: &str) -> anyhow::Result<String> {
    let user = store
        .user_by_username(&admit_oauth::username::canonical(username))
        .await?;
    user.map(|u| u.id)
        .with_context(|| format!("no user {username:?}"))
}

/// Records a change made from the command line in the audit log, as `cli:$USER`.
async fn audit(
    store: &Store,
    event: &str,
    subject: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let record = admit_server::audit::Event::new(event, "success")
        .actor(format!("cli:{user}"))
        .subject(subject)
        .detail(detail)
        .into_inner();
    store.append_audit(&[record]).await?;
    Ok(())
}

/// Reads one line from standard input (a password or secret), without the newline.
fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!value.is_empty(), "the {what} on standard input is empty");
    Ok(value)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every command (they run only in debug builds
    /// when a command is parsed, so a mistake would otherwise surface in one command).
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
