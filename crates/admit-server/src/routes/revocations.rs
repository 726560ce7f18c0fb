//! `GET /oauth2/revocations`: revocations as Server-Sent Events (WHATWG HTML §9.2), so
//! resource servers that verify JWTs locally learn within a second that a token was
//! revoked. First every live revocation (the snapshot), then `ready`, then new ones as
//! they happen. `Last-Event-ID` resumes after a disconnect without missing any.
//!
//! The events come from the database, so every instance serves the same stream.

use std::convert::Infallible;
use std::time::Duration;

use admit_oauth::form::Params;
use admit_oauth::{ErrorCode, OAuthError};
use admit_store::RevocationEvent;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use super::token::authenticate_client;
use crate::address::ClientAddress;
use crate::error::ApiError;
use crate::metrics::Held;
use crate::now;
use crate::state::AppState;

/// How often the database is asked for new events.
const POLL: Duration = Duration::from_millis(500);
const BATCH: i64 = 500;

pub async fn stream(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Basic authentication only: a GET has no body to carry client_secret_post.
    let client = authenticate_client(&state, &headers, &Params::default(), address).await?;
    if !client.may_introspect {
        return Err(ApiError::Forbidden(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered as a resource server (--introspect)",
        )));
    }
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let keep_alive = KeepAlive::new()
        .interval(Duration::from_secs(10))
        .text("ping");
    Ok(Sse::new(events(state, after))
        .keep_alive(keep_alive)
        .into_response())
}

struct Cursor {
    _subscribed: Held,
    state: AppState,
    after: i64,
    ready_sent: bool,
}

fn events(state: AppState, after: i64) -> impl Stream<Item = Result<Event, Infallible>> {
    let cursor = Cursor {
        _subscribed: Held::new(&state.metrics.stream_subscribers),
        state,
        after,
        ready_sent: false,
    };
    stream::unfold(cursor, |mut c| async move {
        loop {
            let batch = match c.state.store.revocations_after(c.after, now(), BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    // End the stream; the subscriber reconnects with Last-Event-ID.
                    tracing::warn!(error = %e, "revocation stream: reading events failed");
                    return None;
                }
            };
            if let Some(last) = batch.last() {
                c.after = last.seq;
                let events: Vec<_> = batch.iter().map(to_event).collect();
                return Some((events, c));
            }
            if !c.ready_sent {
                c.ready_sent = true;
                let ready = Event::default()
                    .event("ready")
                    .id(c.after.to_string())
                    .data("{}");
                return Some((vec![ready], c));
            }
            let mut shutdown = c.state.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return None,
            }
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(Ok)))
}

fn to_event(e: &RevocationEvent) -> Event {
    let data = serde_json::json!({"kind": e.kind, "value": e.value, "revoked_at": e.revoked_at, "expires_at": e.expires_at});
    Event::default()
        .event("revocation")
        .id(e.seq.to_string())
        .data(data.to_string())
}
