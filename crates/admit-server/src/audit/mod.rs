//! The audit log's writing side: handlers hand events to [`Audit::record`], and one
//! task per instance appends them in batches (a write per token would halve the
//! token rate) and signs the chain head now and then. Reading and checking the
//! chain is [`verify`]; the records and the hash chain are the store's (audit.rs).

mod verify;

use std::time::Duration;

use admit_jose::Algorithm;
use admit_store::{AuditAnchor, AuditEvent, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::state::AppState;

pub use verify::{Report, verify};

/// Events waiting for the writer.
const QUEUE: usize = 16 * 1024;
/// The most events one transaction appends.
const BATCH: usize = 1024;
/// How long the writer lets events gather after the first, so that under load a
/// transaction carries many (each costs several round trips to the database).
const LINGER: Duration = Duration::from_millis(10);
/// The `typ` of an anchor JWS.
pub const ANCHOR_TYP: &str = "admit-audit-anchor+jwt";

/// What an anchor signs.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnchorClaims {
    pub iss: String,
    pub seq: i64,
    pub hash: String,
    pub iat: i64,
}

/// The handle handlers record events through.
#[derive(Clone)]
pub struct Audit {
    queue: mpsc::Sender<AuditEvent>,
}

/// One event, built field by field: `Event::new("login", "failure").subject(id)`.
/// The actor and the detail stay empty (no allocation) until set; [`Event::into_inner`]
/// fills in the defaults, `admit` and `{}`.
pub struct Event(AuditEvent);

impl Event {
    pub fn new(event: &str, outcome: &str) -> Event {
        Event(AuditEvent {
            at: crate::now(),
            event: event.to_owned(),
            actor: String::new(),
            subject: None,
            client_id: None,
            address: None,
            outcome: outcome.to_owned(),
            detail: String::new(),
        })
    }

    pub fn actor(mut self, actor: impl Into<String>) -> Event {
        self.0.actor = actor.into();
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Event {
        self.0.subject = Some(subject.into());
        self
    }

    pub fn client(mut self, client_id: impl Into<String>) -> Event {
        self.0.client_id = Some(client_id.into());
        self
    }

    pub fn address(mut self, address: Option<std::net::IpAddr>) -> Event {
        self.0.address = address.map(|a| a.to_string());
        self
    }

    /// Further facts, as a JSON object; never a secret. A `json!` value, or a struct
    /// where the event is frequent (no map built first).
    pub fn detail(mut self, detail: impl Serialize) -> Event {
        // Only a map with keys that are not strings fails, and no caller builds one.
        self.0.detail = serde_json::to_string(&detail).unwrap_or_default();
        self
    }

    pub fn into_inner(mut self) -> AuditEvent {
        if self.0.actor.is_empty() {
            self.0.actor = "admit".to_owned();
        }
        if self.0.detail.is_empty() {
            self.0.detail = "{}".to_owned();
        }
        self.0
    }
}

impl Audit {
    /// The handle and the queue [`write`] drains.
    pub fn channel() -> (Audit, mpsc::Receiver<AuditEvent>) {
        let (queue, events) = mpsc::channel(QUEUE);
        (Audit { queue }, events)
    }

    /// Queues `event` for the writer. Never waits: when the queue is full, a task
    /// waits to hand it over instead of the request.
    pub fn record(&self, event: Event) {
        match self.queue.try_send(event.into_inner()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => {
                let queue = self.queue.clone();
                tokio::spawn(async move { queue.send(event).await.map_err(lost) });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => lost(()),
        }
    }
}

fn lost<T>(_: T) {
    tracing::error!("the audit writer has stopped: an audit event was lost");
}

/// Appends queued events as they come and signs the head every `anchor_every`;
/// on `stop`, appends what is still queued, signs, and returns.
pub async fn write(
    state: AppState,
    mut events: mpsc::Receiver<AuditEvent>,
    anchor_every: Duration,
    mut stop: oneshot::Receiver<()>,
) {
    let mut tick = tokio::time::interval(anchor_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(first) = events.recv() => {
                tokio::time::sleep(LINGER).await;
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match events.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                append(&state.store, &batch).await;
            }
            _ = tick.tick() => anchor_logged(&state).await,
        }
    }
    let mut rest = Vec::new();
    while let Ok(e) = events.try_recv() {
        rest.push(e);
    }
    append(&state.store, &rest).await;
    anchor_logged(&state).await;
}

/// Appends, retrying while the database is unreachable (a few times, then the
/// batch is logged as lost: a writer stuck for ever would stall every request).
async fn append(store: &Store, batch: &[AuditEvent]) {
    for attempt in 1..=5 {
        match store.append_audit(batch).await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "appending to the audit log failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::error!(
        events = batch.len(),
        "audit events lost: the database refused them"
    );
}

async fn anchor_logged(state: &AppState) {
    if let Err(e) = anchor(state).await {
        tracing::warn!(error = %format!("{e:#}"), "signing the audit chain head failed");
    }
}

/// Signs the chain head with the current EdDSA key, unless it is signed already.
pub async fn anchor(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    let Some((seq, hash)) = store.audit_head().await? else {
        return Ok(());
    };
    if store.latest_audit_anchor().await? >= seq {
        return Ok(());
    }
    let keys = state.keys();
    let key = keys
        .signing_key(Algorithm::EdDSA)
        .ok_or_else(|| anyhow::anyhow!("no current EdDSA key"))?;
    let now = crate::now();
    let claims = AnchorClaims {
        iss: state.settings().issuer.clone(),
        seq,
        hash: hash.clone(),
        iat: now,
    };
    let jws = admit_jose::sign(key, ANCHOR_TYP, &claims)?;
    store
        .insert_audit_anchor(&AuditAnchor {
            seq,
            hash,
            signed_at: now,
            jws,
        })
        .await?;
    Ok(())
}
