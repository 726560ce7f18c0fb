//! Ending access before tokens expire. Each function changes the stored state and
//! records a revocation event; introspection consults the events, and the revocation
//! stream publishes them to resource servers that verify JWTs locally.

use admit_store::{AuditEvent, NewRevocation, Store, StoreError};

use crate::audit::Event;

/// Access tokens live at most this long, so an event can be forgotten after it.
pub const MAX_ACCESS_TOKEN_TTL: i64 = 24 * 3600;

/// An SSO session: its refresh tokens and the access tokens carrying its `sid`.
pub async fn session(store: &Store, session_id: &str, now: i64) -> Result<bool, StoreError> {
    // Events only when something changed: repeating a revocation must not flood the
    // stream every resource server follows.
    let revoked = store.revoke_session(session_id, now).await?;
    if revoked {
        event(store, "sid", session_id, now).await?;
    }
    Ok(revoked)
}

/// A refresh-token family: its refresh tokens and the access tokens carrying its `gid`.
pub async fn family(store: &Store, family_id: &str, now: i64) -> Result<bool, StoreError> {
    let revoked = store.revoke_refresh_family(family_id, now).await?;
    if revoked {
        event(store, "grant", family_id, now).await?;
    }
    Ok(revoked)
}

/// A user's consent to a client, and with it the client's access for that user: the
/// refresh families and the access tokens issued from them. Returns whether a consent
/// was withdrawn.
pub async fn consent(
    store: &Store,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let withdrawn = store.revoke_consent(user_id, client_id).await?;
    for id in store.live_families(user_id, client_id).await? {
        family(store, &id, now).await?;
    }
    Ok(withdrawn)
}

/// One live access token, until it expires anyway (the caller checked it is live, so
/// a repeated revocation records nothing).
pub async fn access_token(store: &Store, jti: &str, exp: i64, now: i64) -> Result<(), StoreError> {
    record(store, "jti", jti, now, exp).await
}

/// Every token issued to a user until now (password change, removal). The store has
/// already ended the user's sessions and refresh tokens in the same change.
pub async fn user(store: &Store, user_id: &str, now: i64) -> Result<(), StoreError> {
    write(store, user_event(user_id, now)).await
}

/// Every token issued to a client until its removal. Instances may still accept the
/// client from their cache for up to `client_cache::TTL` after it, so the cut lies
/// that far ahead (and a second more for clocks that differ between instances): a
/// token obtained in that window is revoked too.
pub async fn client(store: &Store, client_id: &str, now: i64) -> Result<(), StoreError> {
    write(store, client_event(client_id, now)).await
}

/// The event [`user`] records, for a caller that writes it in a transaction of its
/// own (`admit config apply`, with [`audit_event`] beside it).
pub fn user_event(user_id: &str, now: i64) -> NewRevocation {
    new_event("sub", user_id, now, now + MAX_ACCESS_TOKEN_TTL)
}

/// The event [`client`] records; see [`user_event`].
pub fn client_event(client_id: &str, now: i64) -> NewRevocation {
    let cut = now + crate::client_cache::TTL.as_secs() as i64 + 1;
    new_event("client", client_id, cut, cut + MAX_ACCESS_TOKEN_TTL)
}

/// The audit record written with a revocation event.
pub fn audit_event(revocation: &NewRevocation) -> AuditEvent {
    Event::new("revoke", "success")
        .detail(serde_json::json!({ "kind": revocation.kind, "value": revocation.value }))
        .into_inner()
}

fn new_event(kind: &str, value: &str, revoked_at: i64, expires_at: i64) -> NewRevocation {
    NewRevocation {
        kind: kind.to_owned(),
        value: value.to_owned(),
        revoked_at,
        expires_at,
    }
}

async fn write(store: &Store, e: NewRevocation) -> Result<(), StoreError> {
    record(store, &e.kind, &e.value, e.revoked_at, e.expires_at).await
}

async fn event(store: &Store, kind: &str, value: &str, now: i64) -> Result<(), StoreError> {
    record(store, kind, value, now, now + MAX_ACCESS_TOKEN_TTL).await
}

/// The revocation event, and its audit record written at once (revocations are rare,
/// and the CLI, which has no audit writer, revokes through here too).
async fn record(
    store: &Store,
    kind: &str,
    value: &str,
    revoked_at: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    store
        .add_revocation(kind, value, revoked_at, expires_at)
        .await?;
    let audit = audit_event(&new_event(kind, value, revoked_at, expires_at));
    store.append_audit(&[audit]).await.map(drop)
}
