//! `admit client ...`: OAuth clients.

use std::process::ExitCode;

use admit_oauth::client::GrantType;
use admit_oauth::scope::Scope;
use admit_oauth::secret;
use admit_server::{now, random_token};
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
            ensure!(
                !client_id.is_empty()
                    && client_id.len() <= 128
                    && client_id.bytes().all(|b| b.is_ascii_graphic() && b != b':'),
                "a client id has 1 to 128 printable ASCII characters, without ':'"
            );
            let grants = parse_grants(&grants, public)?;
            for uri in redirect_uris.iter().chain(&post_logout_redirect_uris) {
                check_redirect_uri(uri)?;
            }
            for (name, ttl) in [
                ("--access-token-ttl", access_token_ttl),
                ("--refresh-token-ttl", refresh_token_ttl),
                ("--refresh-idle-ttl", refresh_idle_ttl),
                ("--code-ttl", code_ttl),
                ("--session-ttl", session_ttl),
            ] {
                ensure!(
                    ttl.is_none_or(|t| t > 0),
                    "{name} must be a positive number of seconds"
                );
            }
            ensure!(
                access_token_ttl
                    .is_none_or(|t| t <= admit_server::revocation::MAX_ACCESS_TOKEN_TTL),
                "--access-token-ttl may be at most {} seconds",
                admit_server::revocation::MAX_ACCESS_TOKEN_TTL
            );
            // RFC 6749 §4.1.2: codes live ten minutes at most.
            ensure!(
                code_ttl.is_none_or(|t| t <= 600),
                "--code-ttl may be at most 600 seconds"
            );
            if let Some(alg) = &id_token_alg {
                ensure!(
                    ["RS256", "ES256", "EdDSA"].contains(&alg.as_str()),
                    "--id-token-alg must be RS256, ES256 or EdDSA"
                );
            }
            let scopes = parse_scopes(&scopes)?;
            let secret = match (public, secret_stdin) {
                (true, _) => None,
                (false, true) => Some(read_stdin_line("client secret")?),
                (false, false) => Some(random_token(32)),
            };
            if let Some(s) = &secret {
                ensure!(
                    s.len() >= 32,
                    "a client secret needs at least 32 characters"
                );
                // Unreserved characters only (RFC 3986 §2.3): some client libraries skip the
                // form-encoding RFC 6749 §2.3.1 asks for in Basic credentials, and with these
                // characters both forms are the same.
                ensure!(
                    s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                    "a client secret may contain only letters, digits and - . _ ~"
                );
            }
            let client = Client {
                client_id: client_id.clone(),
                secret_hash: secret.as_deref().map(secret::hash),
                public,
                name,
                grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
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

/// Each `--scope` is one RFC 6749 §3.3 scope token.
fn parse_scopes(scopes: &[String]) -> anyhow::Result<Vec<String>> {
    if scopes.is_empty() {
        return Ok(vec![]);
    }
    let parsed = Scope::parse(&scopes.join(" "))
        .map_err(|e| anyhow::anyhow!("--scope: {}", e.error_description))?;
    Ok(parsed.iter().map(str::to_owned).collect())
}

fn parse_grants(names: &[String], public: bool) -> anyhow::Result<Vec<GrantType>> {
    let mut grants: Vec<GrantType> = Vec::new();
    for name in names {
        let grant: GrantType = name
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--grant: {e}"))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.is_empty() {
        grants = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    }
    // RFC 6749 §4.4: client credentials need a client that can keep a secret.
    ensure!(
        !(public && grants.contains(&GrantType::ClientCredentials)),
        "a public client cannot use client_credentials"
    );
    Ok(grants)
}

/// RFC 6749 §3.1.2: an absolute URI without a fragment.
fn check_redirect_uri(uri: &str) -> anyhow::Result<()> {
    let parsed =
        url::Url::parse(uri).map_err(|e| anyhow::anyhow!("--redirect-uri {uri:?}: {e}"))?;
    ensure!(
        parsed.fragment().is_none(),
        "--redirect-uri {uri:?} must not have a fragment"
    );
    Ok(())
}
