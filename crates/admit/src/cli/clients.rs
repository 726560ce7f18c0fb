//! `admit client ...`: OAuth clients.

use std::process::ExitCode;

use admit_oauth::secret;
use admit_server::{now, random_token, rules};
use admit_store::{Client, Store, StoreError};
use anyhow::{bail, ensure};
use clap::Subcommand;

use super::read_stdin_line;

// Parsed once per process: the size of the `Add` variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Register a client; a generated secret is printed once (unless --public or --secret-stdin)
    Add {
        client_id: String,
        /// A public client (no secret): a browser or native app that cannot keep one
        #[arg(long)]
        public: bool,
        /// A grant type it may use (repeatable): authorization_code, refresh_token,
        /// client_credentials, password [default: authorization_code refresh_token]
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<String>,
        /// A redirect URI, matched exactly (repeatable)
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to, matched exactly (repeatable)
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A scope it may ask for (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A first-party client: users are not asked for consent
        #[arg(long)]
        skip_consent: bool,
        /// Let this confidential client omit PKCE (weaker: RFC 9700 §2.1.1 recommends it for all)
        #[arg(long, conflicts_with = "public")]
        allow_no_pkce: bool,
        /// Algorithm of its ID tokens: RS256 (default), ES256 or EdDSA
        #[arg(long)]
        id_token_alg: Option<String>,
        /// A resource server: may introspect any token and follow the revocation stream
        /// (confidential clients only: a public client proves nothing about itself)
        #[arg(long, conflicts_with = "public")]
        introspect: bool,
        /// Its access-token lifetime in seconds, at most 86400 [default: the server's]
        #[arg(long)]
        access_token_ttl: Option<i64>,
        /// Its absolute refresh-token lifetime in seconds [default: the server's]
        #[arg(long)]
        refresh_token_ttl: Option<i64>,
        /// Its refresh-token idle lifetime in seconds [default: the server's]
        #[arg(long)]
        refresh_idle_ttl: Option<i64>,
        /// Its authorization-code lifetime in seconds, at most 600 [default: the server's]
        #[arg(long)]
        code_ttl: Option<i64>,
        /// The oldest SSO login (seconds) it accepts without asking again [default: the
        /// session's whole lifetime]
        #[arg(long)]
        session_ttl: Option<i64>,
        /// Read the client secret from standard input instead of generating one
        #[arg(long, conflicts_with = "public")]
        secret_stdin: bool,
        /// A display name
        #[arg(long)]
        name: Option<String>,
    },
    /// List clients
    List,
    /// Show one client
    Show { client_id: String },
    /// Remove a client; its refresh tokens stop working at once
    Remove { client_id: String },
}

pub async fn run(cmd: Command, store: &Store) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Add {
            client_id,
            public,
            grants,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            skip_consent,
            allow_no_pkce,
            id_token_alg,
            introspect,
            access_token_ttl,
            refresh_token_ttl,
            refresh_idle_ttl,
            code_ttl,
            session_ttl,
            secret_stdin,
            name,
        } => {
            let secret = match (public, secret_stdin) {
                (true, _) => None,
                (false, true) => Some(read_stdin_line("client secret")?),
                (false, false) => Some(random_token::<32>()),
            };
            if let Some(s) = &secret {
                rules::client_secret(s).map_err(anyhow::Error::msg)?;
            }
            let grant_types = match grants.is_empty() {
                true => vec!["authorization_code".into(), "refresh_token".into()],
                false => grants,
            };
            let mut client = Client {
                client_id: client_id.clone(),
                secret_hash: secret.as_deref().map(secret::hash),
                public,
                name,
                grant_types,
                redirect_uris,
                post_logout_redirect_uris,
                scopes,
                skip_consent,
                require_pkce: !allow_no_pkce,
                id_token_alg,
                access_token_ttl,
                refresh_token_ttl,
                refresh_idle_ttl,
                may_introspect: introspect,
                code_ttl,
                session_ttl,
                created_at: now(),
            };
            rules::client(&mut client).map_err(anyhow::Error::msg)?;
            match store.insert_client(&client).await {
                Err(StoreError::Conflict) => bail!("client {client_id:?} already exists"),
                other => other?,
            }
            super::audit(store, "client.add", &client_id, serde_json::json!({})).await?;
            println!("created client {client_id}");
            if let (Some(secret), false) = (secret, secret_stdin) {
                println!("client_secret: {secret}");
                println!("(shown once: admit keeps only a hash of it)");
            }
        }
        Command::List => {
            println!("{:<24} {:<12} GRANTS", "CLIENT_ID", "TYPE");
            for c in store.list_clients().await? {
                let kind = if c.public { "public" } else { "confidential" };
                println!(
                    "{:<24} {:<12} {}",
                    c.client_id,
                    kind,
                    c.grant_types.join(" ")
                );
            }
        }
        Command::Show { client_id } => {
            let Some(c) = store.client(&client_id).await? else {
                bail!("no client {client_id:?}")
            };
            let show = serde_json::json!({
                "client_id": c.client_id,
                "name": c.name,
                "type": if c.public { "public" } else { "confidential" },
                "grant_types": c.grant_types,
                "redirect_uris": c.redirect_uris,
                "post_logout_redirect_uris": c.post_logout_redirect_uris,
                "skip_consent": c.skip_consent,
                "require_pkce": c.require_pkce,
                "id_token_alg": c.id_token_alg,
                "may_introspect": c.may_introspect,
                "access_token_ttl": c.access_token_ttl,
                "refresh_token_ttl": c.refresh_token_ttl,
                "refresh_idle_ttl": c.refresh_idle_ttl,
                "code_ttl": c.code_ttl,
                "session_ttl": c.session_ttl,
                "scopes": c.scopes,
                "created_at": c.created_at,
            });
            println!("{}", serde_json::to_string_pretty(&show)?);
        }
        Command::Remove { client_id } => {
            let now = now();
            // The store ends the client's refresh tokens; the event ends its access tokens.
            ensure!(
                store.delete_client(&client_id, now).await?,
                "no client {client_id:?}"
            );
            admit_server::revocation::client(store, &client_id, now).await?;
            super::audit(store, "client.remove", &client_id, serde_json::json!({})).await?;
            println!("removed client {client_id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
