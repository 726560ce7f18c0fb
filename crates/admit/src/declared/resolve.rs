//! From the file as written to the state it declares: every rule `admit client add`
//! and `admit user add` apply, with errors that name the file's key (never a
//! secret's value), and secret references read.

use std::collections::BTreeMap;

use admit_oauth::client::GrantType;
use admit_oauth::scope::Scope;
use admit_store::Client;
use anyhow::{Context, bail, ensure};

use super::file::{ClientDecl, Manage, SecretRef, UserDecl};
use crate::config::FileConfig;

/// What the file declares, checked, with secrets read.
#[derive(Debug, Default)]
pub struct Declared {
    /// By client_id; `created_at` is 0 and `secret_hash` the SHA-256 of the secret.
    pub clients: BTreeMap<String, Client>,
    /// By canonical username.
    pub users: BTreeMap<String, DeclaredUser>,
    pub manage: Manage,
}

#[derive(Debug, Clone)]
pub struct DeclaredUser {
    pub username: String,
    pub password: Secret,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// A secret's value, which never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Refuses a literal secret anywhere in the file. Run on every load, so a file with a
/// password in it is refused by `serve` too, not only by `admit config`.
pub fn refuse_literals(file: &FileConfig) -> anyhow::Result<()> {
    let clients = file
        .clients
        .iter()
        .map(|(id, c)| (format!("clients.{id}.secret"), &c.secret));
    let users = file
        .users
        .iter()
        .map(|(name, u)| (format!("users.{name}.password"), &u.password));
    for (key, secret) in clients.chain(users) {
        ensure!(
            secret.as_ref() != Some(&SecretRef::Literal),
            "{key}: a secret in the file must be a reference, {{ env = \"VAR\" }} or \
             {{ file = \"PATH\" }}, never the secret itself"
        );
    }
    Ok(())
}

/// Checks the declarations and reads their secrets from the environment and files.
pub fn resolve(file: &FileConfig) -> anyhow::Result<Declared> {
    resolve_with(file, &read_secret)
}

/// [`resolve`] with secrets read by `read` (tests pass their own).
pub fn resolve_with(
    file: &FileConfig,
    read: &dyn Fn(&SecretRef) -> anyhow::Result<String>,
) -> anyhow::Result<Declared> {
    refuse_literals(file)?;
    let known_scopes = match &file.scopes {
        Some(list) => Some(scopes("scopes", list)?),
        None => None,
    };
    let mut declared = Declared {
        manage: file.manage,
        ..Declared::default()
    };
    for (id, decl) in &file.clients {
        let client = client(id, decl, read)?;
        if let Some(known) = &known_scopes {
            for scope in &client.scopes {
                ensure!(
                    known.contains(scope),
                    "clients.{id}.scopes: {scope:?} is not in the top-level `scopes` list"
                );
            }
        }
        declared.clients.insert(id.clone(), client);
    }
    for (key, decl) in &file.users {
        let user = user(key, decl, read)?;
        let taken = declared.users.insert(user.username.clone(), user);
        ensure!(
            taken.is_none(),
            "users.{key}: another [users] entry names the same account (usernames compare \
             case-insensitively)"
        );
    }
    Ok(declared)
}

fn client(
    id: &str,
    d: &ClientDecl,
    read: &dyn Fn(&SecretRef) -> anyhow::Result<String>,
) -> anyhow::Result<Client> {
    let key = format!("clients.{id}");
    ensure!(
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic() && b != b':'),
        "{key}: a client id has 1 to 128 printable ASCII characters, without ':'"
    );
    let secret = match (d.public, &d.secret) {
        (true, Some(_)) => bail!("{key}.secret: a public client has no secret"),
        (true, None) => None,
        (false, None) => bail!(
            "{key}.secret: a confidential client needs one, {{ env = \"VAR\" }} or \
             {{ file = \"PATH\" }} (or set public = true)"
        ),
        (false, Some(r)) => Some(client_secret(&key, r, read)?),
    };
    let grants = grants(&key, d.grants.as_deref(), d.public)?;
    for uri in d.redirect_uris.iter().chain(&d.post_logout_redirect_uris) {
        let parsed = url::Url::parse(uri).with_context(|| format!("{key}: URI {uri:?}"))?;
        ensure!(
            parsed.fragment().is_none(),
            "{key}: URI {uri:?} must not have a fragment"
        );
    }
    ensure!(
        !(d.public && d.require_pkce == Some(false)),
        "{key}.require_pkce: a public client always uses PKCE"
    );
    ensure!(
        !(d.public && d.introspect),
        "{key}.introspect: only a confidential client may introspect"
    );
    if let Some(alg) = &d.id_token_alg {
        ensure!(
            ["RS256", "ES256", "EdDSA"].contains(&alg.as_str()),
            "{key}.id_token_alg must be RS256, ES256 or EdDSA"
        );
    }
    check_lifetimes(&key, d)?;
    Ok(Client {
        client_id: id.to_owned(),
        secret_hash: secret.map(|s| admit_oauth::secret::hash(&s.0)),
        public: d.public,
        name: d.name.clone(),
        grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
        redirect_uris: d.redirect_uris.clone(),
        post_logout_redirect_uris: d.post_logout_redirect_uris.clone(),
        scopes: scopes(&format!("{key}.scopes"), &d.scopes)?,
        skip_consent: d.skip_consent,
        require_pkce: d.require_pkce.unwrap_or(true),
        id_token_alg: d.id_token_alg.clone(),
        access_token_ttl: d.access_token_ttl,
        refresh_token_ttl: d.refresh_token_ttl,
        refresh_idle_ttl: d.refresh_idle_ttl,
        may_introspect: d.introspect,
        code_ttl: d.code_ttl,
        session_ttl: d.session_ttl,
        created_at: 0,
    })
}

/// The CLI's rules for a client secret (see cli/clients.rs).
fn client_secret(
    key: &str,
    r: &SecretRef,
    read: &dyn Fn(&SecretRef) -> anyhow::Result<String>,
) -> anyhow::Result<Secret> {
    let s = read(r).with_context(|| format!("{key}.secret"))?;
    ensure!(
        s.len() >= 32,
        "{key}.secret: a client secret needs at least 32 characters"
    );
    ensure!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
        "{key}.secret: a client secret may contain only letters, digits and - . _ ~"
    );
    Ok(Secret(s))
}

fn grants(key: &str, names: Option<&[String]>, public: bool) -> anyhow::Result<Vec<GrantType>> {
    let mut grants: Vec<GrantType> = Vec::new();
    for name in names.unwrap_or(&[]) {
        let grant: GrantType = name
            .parse()
            .map_err(|e: String| anyhow::anyhow!("{key}.grants: {e}"))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if names.is_none() {
        grants = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    }
    ensure!(!grants.is_empty(), "{key}.grants: give at least one grant");
    ensure!(
        !(public && grants.contains(&GrantType::ClientCredentials)),
        "{key}.grants: a public client cannot use client_credentials"
    );
    Ok(grants)
}

fn check_lifetimes(key: &str, d: &ClientDecl) -> anyhow::Result<()> {
    for (name, ttl) in [
        ("access_token_ttl", d.access_token_ttl),
        ("refresh_token_ttl", d.refresh_token_ttl),
        ("refresh_idle_ttl", d.refresh_idle_ttl),
        ("code_ttl", d.code_ttl),
        ("session_ttl", d.session_ttl),
    ] {
        ensure!(
            ttl.is_none_or(|t| t > 0),
            "{key}.{name} must be a positive number of seconds"
        );
    }
    let max = admit_server::revocation::MAX_ACCESS_TOKEN_TTL;
    ensure!(
        d.access_token_ttl.is_none_or(|t| t <= max),
        "{key}.access_token_ttl may be at most {max} seconds"
    );
    // RFC 6749 §4.1.2: codes live ten minutes at most.
    ensure!(
        d.code_ttl.is_none_or(|t| t <= 600),
        "{key}.code_ttl may be at most 600 seconds"
    );
    Ok(())
}

/// Each entry one RFC 6749 §3.3 scope token; the order kept, duplicates dropped.
fn scopes(key: &str, list: &[String]) -> anyhow::Result<Vec<String>> {
    if list.is_empty() {
        return Ok(vec![]);
    }
    for s in list {
        ensure!(
            !s.is_empty() && !s.contains(' '),
            "{key}: {s:?} is not one scope token"
        );
    }
    let parsed = Scope::parse(&list.join(" "))
        .map_err(|e| anyhow::anyhow!("{key}: {}", e.error_description))?;
    Ok(parsed.iter().map(str::to_owned).collect())
}

fn user(
    key: &str,
    d: &UserDecl,
    read: &dyn Fn(&SecretRef) -> anyhow::Result<String>,
) -> anyhow::Result<DeclaredUser> {
    let username = admit_oauth::username::canonical(key);
    admit_oauth::username::check(&username).map_err(|e| anyhow::anyhow!("users.{key}: {e}"))?;
    let Some(r) = &d.password else {
        bail!("users.{key}.password: required, {{ env = \"VAR\" }} or {{ file = \"PATH\" }}")
    };
    let password = read(r).with_context(|| format!("users.{key}.password"))?;
    // NIST SP 800-63B §5.1.1.2, as `admit user add`.
    ensure!(
        (8..=1024).contains(&password.chars().count()),
        "users.{key}.password: a password has 8 to 1024 characters"
    );
    if let Some(email) = &d.email {
        ensure!(
            email.contains('@') && email.len() <= 254,
            "users.{key}.email: {email:?} is not an email address"
        );
    }
    Ok(DeclaredUser {
        username,
        password: Secret(password),
        email: d.email.clone(),
        email_verified: d.email_verified,
        name: d.name.clone(),
    })
}

/// The value a reference points to: a set, non-empty variable, or a file's text
/// without its trailing newline.
pub fn read_secret(r: &SecretRef) -> anyhow::Result<String> {
    let value = match r {
        SecretRef::Env(var) => std::env::var(var)
            .with_context(|| format!("the environment variable {var} is not set"))?,
        SecretRef::File(path) => crate::config::read_secret_file(path)?,
        SecretRef::Literal => bail!("a literal secret is refused"),
    };
    ensure!(!value.is_empty(), "the referenced secret is empty");
    Ok(value)
}
