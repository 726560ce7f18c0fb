//! The plan: what must change in the database to match the file. [`plan`] is a pure
//! function of the declared and the live state (no store, no clock, no randomness),
//! so `plan`, `diff` and `apply` agree by construction and the rules are unit-tested
//! without a database.

use admit_store::{Client, User};
use serde::Serialize;

use super::resolve::{Declared, DeclaredUser};

/// The clients and users in the database.
#[derive(Debug, Default, Clone)]
pub struct Live {
    pub clients: Vec<Client>,
    pub users: Vec<User>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Client,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Change,
    Remove,
}

/// One client or user to add, change or remove. `id` is the client_id or username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: Kind,
    pub id: String,
    pub action: Action,
    /// For a change, the fields that differ (`secret` and `password` among them,
    /// never their values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
}

/// A row the file does not declare, left alone because the file does not manage
/// its kind (`[manage]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub kind: Kind,
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub kept: Vec<Kept>,
}

impl Plan {
    /// No drift: the database already matches the file.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Compares the file with the database: clients by client_id, users by username.
/// A secret or password is "changed" when the file's value no longer matches the
/// stored hash.
pub fn plan(declared: &Declared, live: &Live) -> Plan {
    let mut out = Plan::default();
    for (id, want) in &declared.clients {
        match live.clients.iter().find(|c| &c.client_id == id) {
            None => out
                .changes
                .push(change(Kind::Client, id, Action::Add, vec![])),
            Some(have) => {
                let fields = client_fields(want, have);
                if !fields.is_empty() {
                    out.changes
                        .push(change(Kind::Client, id, Action::Change, fields));
                }
            }
        }
    }
    for have in &live.clients {
        if !declared.clients.contains_key(&have.client_id) {
            undeclared(
                &mut out,
                Kind::Client,
                &have.client_id,
                declared.manage.clients,
            );
        }
    }
    for (name, want) in &declared.users {
        match live.users.iter().find(|u| &u.username == name) {
            None => out
                .changes
                .push(change(Kind::User, name, Action::Add, vec![])),
            Some(have) => {
                let fields = user_fields(want, have);
                if !fields.is_empty() {
                    out.changes
                        .push(change(Kind::User, name, Action::Change, fields));
                }
            }
        }
    }
    for have in &live.users {
        if !declared.users.contains_key(&have.username) {
            undeclared(&mut out, Kind::User, &have.username, declared.manage.users);
        }
    }
    out
}

fn change(kind: Kind, id: &str, action: Action, fields: Vec<&'static str>) -> Change {
    Change {
        kind,
        id: id.to_owned(),
        action,
        fields,
    }
}

fn undeclared(out: &mut Plan, kind: Kind, id: &str, managed: bool) {
    match managed {
        true => out.changes.push(change(kind, id, Action::Remove, vec![])),
        false => out.kept.push(Kept {
            kind,
            id: id.to_owned(),
        }),
    }
}

/// The fields of `have` that differ from `want`; `created_at` is the database's own.
pub fn client_fields(want: &Client, have: &Client) -> Vec<&'static str> {
    let checks = [
        ("name", want.name == have.name),
        ("public", want.public == have.public),
        // Both are SHA-256 of a high-entropy secret: comparing them leaks nothing.
        ("secret", want.secret_hash == have.secret_hash),
        ("grants", want.grant_types == have.grant_types),
        ("redirect_uris", want.redirect_uris == have.redirect_uris),
        (
            "post_logout_redirect_uris",
            want.post_logout_redirect_uris == have.post_logout_redirect_uris,
        ),
        ("scopes", want.scopes == have.scopes),
        ("skip_consent", want.skip_consent == have.skip_consent),
        ("require_pkce", want.require_pkce == have.require_pkce),
        ("id_token_alg", want.id_token_alg == have.id_token_alg),
        ("introspect", want.may_introspect == have.may_introspect),
        (
            "access_token_ttl",
            want.access_token_ttl == have.access_token_ttl,
        ),
        (
            "refresh_token_ttl",
            want.refresh_token_ttl == have.refresh_token_ttl,
        ),
        (
            "refresh_idle_ttl",
            want.refresh_idle_ttl == have.refresh_idle_ttl,
        ),
        ("code_ttl", want.code_ttl == have.code_ttl),
        ("session_ttl", want.session_ttl == have.session_ttl),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(f, _)| f)
        .collect()
}

/// The fields of `have` that differ from `want`. The password costs one Argon2id
/// check, a pure function of the password and the stored hash.
pub fn user_fields(want: &DeclaredUser, have: &User) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if want.email != have.email {
        fields.push("email");
    }
    if want.email_verified != have.email_verified {
        fields.push("email_verified");
    }
    if want.name != have.name {
        fields.push("name");
    }
    if !admit_server::password::verify(&want.password.0, &have.password_hash) {
        fields.push("password");
    }
    fields
}
