//! The I/O around the pure planner: read the live state, and write a plan as one
//! store batch, with the revocation events and audit records its changes imply.

use admit_server::password::{self, HashParams};
use admit_server::{random_token, revocation};
use admit_store::{AuditEvent, Batch, Store, StoreError, User, Write};
use anyhow::Context;
use serde_json::json;

use super::plan::{Action, Kind, Live, Plan, plan};
use super::resolve::{Declared, resolve};
use crate::config::FileConfig;

/// The clients and users in the database; the users only when `file` declares or
/// manages some, so that a server with many users does not read them all at every
/// start and SIGHUP.
pub async fn live(store: &Store, file: &FileConfig) -> anyhow::Result<Live> {
    let users = match file.users.is_empty() && !file.manage.users {
        true => Vec::new(),
        false => store.list_users().await?,
    };
    Ok(Live {
        clients: store.list_clients().await?,
        users,
    })
}

/// What `apply` would change: reads the file's secrets and the database, writes nothing.
pub async fn plan_file(store: &Store, file: &FileConfig) -> anyhow::Result<Plan> {
    let declared = resolve(file)?;
    let live = live(store, file).await?;
    // Argon2id checks of declared passwords: off the async threads.
    tokio::task::spawn_blocking(move || plan(&declared, &live))
        .await
        .context("planning")
}

/// Makes the database match the clients and users `file` declares, in one
/// transaction, and returns what it changed (an empty plan when nothing differed).
/// New passwords are hashed with `params`; audit records name `actor` (`cli:NAME`,
/// or `admit` for a reload by the server). Removed clients and users have their
/// tokens revoked as `admit client remove` and `admit user remove` do. On error
/// nothing is written.
pub async fn apply(
    store: &Store,
    file: &FileConfig,
    params: HashParams,
    actor: &str,
) -> anyhow::Result<Plan> {
    let declared = resolve(file)?;
    let live = live(store, file).await?;
    let now = admit_server::now();
    let actor = actor.to_owned();
    // Argon2id, to compare passwords and hash new ones: off the async threads.
    let (plan, batch) = tokio::task::spawn_blocking(move || {
        let plan = plan(&declared, &live);
        let batch = batch(&plan, &declared, &live, params, now, &actor);
        (plan, batch)
    })
    .await
    .context("planning")?;
    match store.write_batch(&batch).await {
        Ok(()) => Ok(plan),
        Err(StoreError::Conflict) => anyhow::bail!(
            "a client or user the file adds was created meanwhile; nothing was changed"
        ),
        Err(e) => Err(anyhow::Error::new(e).context("applying the plan; nothing was changed")),
    }
}

/// The writes, revocation events and audit records that carry out `plan`.
fn batch(
    plan: &Plan,
    declared: &Declared,
    live: &Live,
    params: HashParams,
    now: i64,
    actor: &str,
) -> Batch {
    let mut b = Batch {
        now,
        ..Batch::default()
    };
    for c in &plan.changes {
        let audit = |b: &mut Batch, subject: &str, detail| {
            let event = format!("{}.{}", kind_name(c.kind), action_name(c.action));
            b.audit.push(record(&event, actor, subject, detail, now));
        };
        let source = json!({ "source": "config", "fields": c.fields });
        match (c.kind, c.action) {
            (Kind::Client, Action::Add) => {
                let mut client = declared.clients[&c.id].clone();
                client.created_at = now;
                b.writes.push(Write::InsertClient(client));
                audit(&mut b, &c.id, source);
            }
            (Kind::Client, Action::Change) => {
                let mut client = declared.clients[&c.id].clone();
                client.created_at = find_client(live, &c.id).created_at;
                b.writes.push(Write::UpdateClient(client));
                audit(&mut b, &c.id, source);
            }
            (Kind::Client, Action::Remove) => {
                b.writes.push(Write::DeleteClient(c.id.clone()));
                audit(&mut b, &c.id, source);
                revoke(&mut b, revocation::client_event(&c.id, now));
            }
            (Kind::User, Action::Add) => {
                let want = &declared.users[&c.id];
                let user = User {
                    id: random_token::<16>(),
                    username: want.username.clone(),
                    password_hash: password::hash_with(&want.password.0, params),
                    email: want.email.clone(),
                    email_verified: want.email_verified,
                    name: want.name.clone(),
                    created_at: now,
                    updated_at: now,
                };
                let detail = json!({ "source": "config", "username": c.id });
                audit(&mut b, &user.id, detail);
                b.writes.push(Write::InsertUser(user));
            }
            (Kind::User, Action::Change) => {
                let want = &declared.users[&c.id];
                let have = find_user(live, &c.id);
                let new_password = c.fields.contains(&"password");
                let user = User {
                    password_hash: match new_password {
                        true => password::hash_with(&want.password.0, params),
                        false => have.password_hash.clone(),
                    },
                    email: want.email.clone(),
                    email_verified: want.email_verified,
                    name: want.name.clone(),
                    updated_at: now,
                    ..have.clone()
                };
                b.writes.push(Write::UpdateUser {
                    user,
                    revoke: new_password,
                });
                let detail = json!({ "source": "config", "username": c.id, "fields": c.fields });
                audit(&mut b, &have.id, detail);
                // As `admit user passwd`: a new password ends every login made with the old.
                if new_password {
                    revoke(&mut b, revocation::user_event(&have.id, now));
                }
            }
            (Kind::User, Action::Remove) => {
                let have = find_user(live, &c.id);
                b.writes.push(Write::DeleteUser(have.id.clone()));
                audit(
                    &mut b,
                    &have.id,
                    json!({ "source": "config", "username": c.id }),
                );
                revoke(&mut b, revocation::user_event(&have.id, now));
            }
        }
    }
    b
}

fn revoke(b: &mut Batch, event: admit_store::NewRevocation) {
    b.audit.push(revocation::audit_event(&event));
    b.revocations.push(event);
}

fn record(
    event: &str,
    actor: &str,
    subject: &str,
    detail: serde_json::Value,
    now: i64,
) -> AuditEvent {
    let mut e = admit_server::audit::Event::new(event, "success")
        .actor(actor)
        .subject(subject)
        .detail(detail)
        .into_inner();
    e.at = now;
    e
}

// The plan was made from `live`, so what it changes or removes is there.
fn find_client<'a>(live: &'a Live, id: &str) -> &'a admit_store::Client {
    live.clients
        .iter()
        .find(|c| c.client_id == id)
        .expect("planned from this state")
}

fn find_user<'a>(live: &'a Live, username: &str) -> &'a User {
    live.users
        .iter()
        .find(|u| u.username == username)
        .expect("planned from this state")
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Client => "client",
        Kind::User => "user",
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Add => "add",
        Action::Change => "change",
        Action::Remove => "remove",
    }
}
