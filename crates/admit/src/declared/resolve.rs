//! From the file as written to the state it declares: every rule `admit client add`
//! and `admit user add` apply, with errors that name the file's key (never a
//! secret's value), and secret references read.

use std::collections::BTreeMap;

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
    let secret = match (d.public, &d.secret) {
        (true, Some(_)) => bail!("{key}.secret: a public client has no secret"),
        (true, None) => None,
        (false, None) => bail!(
            "{key}.secret: a confidential client needs one, {{ env = \"VAR\" }} or \
             {{ file = \"PATH\" }} (or set public = true)"
        ),
        (false, Some(r)) => {
            let s = read(r).with_context(|| format!("{key}.secret"))?;
            admit_server::rules::client_secret(&s)
                .map_err(|e| anyhow::anyhow!("{key}.secret: {e}"))?;
            Some(s)
        }
    };
    scopes(&format!("{key}.scopes"), &d.scopes)?;
    let mut client = Client {
        client_id: id.to_owned(),
        secret_hash: secret.map(|s| admit_oauth::secret::hash(&s)),
        public: d.public,
        name: d.name.clone(),
        grant_types: d
            .grants
            .clone()
            .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: d.redirect_uris.clone(),
        post_logout_redirect_uris: d.post_logout_redirect_uris.clone(),
        scopes: d.scopes.clone(),
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
    };
    admit_server::rules::client(&mut client).map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
    Ok(client)
}

/// Each entry one RFC 6749 §3.3 scope token ("a b" in a list is a mistake, not two
/// scopes); the order kept, duplicates dropped.
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
    let parsed = admit_oauth::scope::Scope::parse(&list.join(" "))
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
    admit_server::rules::password(&password)
        .map_err(|e| anyhow::anyhow!("users.{key}.password: {e}"))?;
    if let Some(email) = &d.email {
        admit_server::rules::email(email)
            .map_err(|e| anyhow::anyhow!("users.{key}.email {email:?}: {e}"))?;
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
