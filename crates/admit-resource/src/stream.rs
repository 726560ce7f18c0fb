//! Push mode: a background task follows admit's revocation stream (Server-Sent
//! Events, WHATWG HTML §9.2) and keeps the revocation set every check reads locally.
//!
//! The task connects with the client's credentials, applies the snapshot, the
//! `ready` event and then live events. On any disconnect it reconnects with
//! exponential backoff (200 ms doubling to 5 s) and sends `Last-Event-ID`, so the
//! server replays what was missed (§9.2.4). Contact is the `ready` event and, after
//! it, every event and heartbeat: a check fails closed, or warns once and stays
//! open, when the last contact is older than the bound. The task ends when the last
//! clone of the verifier is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use admit_jose::AccessTokenClaims;
use http::StatusCode;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Client, Response, Url};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::credentials::ClientCredentials;
use crate::fetch::{FETCH_TIMEOUT, essence};
use crate::revocation::{Entry, RevocationSet};
use crate::sse::{EventStream, Item};
use crate::{BearerError, FetchError};

const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// admit sends a heartbeat every 10 s: a connection silent for this long is dead,
/// even if TCP has not noticed.
const SILENCE_LIMIT: Duration = Duration::from_secs(25);
/// How long `build` waits for the first `ready` event (the snapshot comes before it).
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection is renewed this often (resuming where it stopped), so that a
/// client-wide request timeout can never cut it short.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60 * 60);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What [`Verifier::verify`](crate::Verifier::verify) does once the revocation stream
/// has been silent (no event, no heartbeat) for longer than the bound set with
/// [`VerifierBuilder::stream_failure`](crate::VerifierBuilder::stream_failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Refuse every token with 503 and `Retry-After`
    /// ([`BearerError::RevocationUnknown`]): a revoked token never gets through, and
    /// the API is down while admit's stream is. The default.
    #[default]
    Closed,
    /// Keep accepting tokens that verify and are not in the revocation set, as in
    /// local mode: a token revoked during the outage works until the stream returns
    /// (or it expires).
    Open,
}

/// The state of push mode, for metrics and health checks
/// ([`Verifier::revocation_status`](crate::Verifier::revocation_status)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStatus {
    /// The stream is open and caught up (past its `ready` event).
    pub connected: bool,
    /// The `id` of the last event applied; 0 before any.
    pub last_event_id: i64,
    /// Revocations in the set; expired ones are dropped about once a minute.
    pub entries: usize,
    /// Time since the last event or heartbeat. Past the bound, the fail mode applies.
    pub since_contact: Duration,
}

/// The verifier's side of push mode. Dropping it stops the task.
pub(crate) struct RevocationStream {
    shared: Arc<Shared>,
    task: AbortHandle,
}

/// What the task writes and checks read.
struct Shared {
    url: Url,
    fail: FailMode,
    bound: Duration,
    leeway: i64,
    /// Written per event, never across an await.
    state: RwLock<State>,
    /// The silence past the bound has been logged: once per outage, not per request.
    outage_reported: AtomicBool,
}

struct State {
    set: RevocationSet,
    last_event_id: Option<i64>,
    live: bool,
    last_contact: Instant,
    last_prune: Instant,
}

impl RevocationStream {
    /// Starts the task and waits until the first connection reached `ready`, so that
    /// the verifier never serves without the snapshot. The first connection failing
    /// fails the start; later ones are retried forever.
    pub async fn start(
        client: Client,
        url: Url,
        credentials: ClientCredentials,
        (fail, bound): (FailMode, Duration),
        leeway: i64,
    ) -> Result<RevocationStream, FetchError> {
        let shared = Arc::new(Shared {
            url: url.clone(),
            fail,
            bound,
            leeway,
            state: RwLock::new(State {
                set: RevocationSet::default(),
                last_event_id: None,
                live: false,
                last_contact: Instant::now(),
                last_prune: Instant::now(),
            }),
            outage_reported: AtomicBool::new(false),
        });
        let follower = Follower {
            client,
            credentials,
            shared: shared.clone(),
        };
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(follower.run(ready)).abort_handle();
        let stream = RevocationStream { shared, task };
        match tokio::time::timeout(READY_TIMEOUT, is_ready).await {
            Ok(Ok(Ok(()))) => Ok(stream),
            Ok(Ok(Err(error))) => Err(error),
            Ok(Err(_)) | Err(_) => Err(FetchError::Invalid {
                url,
                reason: format!("no ready event within {READY_TIMEOUT:?}"),
            }),
        }
    }

    /// After the token verified: refused if an entry matches it (even during an
    /// outage), and with [`FailMode::Closed`] while the stream is silent past the bound.
    pub fn check(&self, claims: &AccessTokenClaims) -> Result<(), BearerError> {
        if self.shared.read().set.is_revoked(claims) {
            return Err(BearerError::Revoked);
        }
        if self.shared.silent_too_long() && self.shared.fail == FailMode::Closed {
            return Err(BearerError::RevocationUnknown);
        }
        Ok(())
    }

    pub fn status(&self) -> RevocationStatus {
        let state = self.shared.read();
        RevocationStatus {
            connected: state.live,
            last_event_id: state.last_event_id.unwrap_or(0),
            entries: state.set.len(),
            since_contact: state.last_contact.elapsed(),
        }
    }

    pub fn fail_mode(&self) -> FailMode {
        self.shared.fail
    }
}

impl Drop for RevocationStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the last contact is older than the bound; the first time in an
    /// outage, says so.
    fn silent_too_long(&self) -> bool {
        let silent = self.read().last_contact.elapsed();
        if silent <= self.bound {
            return false;
        }
        if !self.outage_reported.swap(true, Ordering::Relaxed) {
            let (url, bound) = (&self.url, self.bound);
            match self.fail {
                FailMode::Closed => tracing::warn!(
                    %url, ?bound,
                    "the revocation stream is silent for longer than the bound: refusing every token (503) until it is back"
                ),
                FailMode::Open => tracing::warn!(
                    %url, ?bound,
                    "the revocation stream is silent for longer than the bound: accepting tokens without news of revocations until it is back"
                ),
            }
        }
        true
    }

    /// Applies one item of the stream; true for the `ready` event.
    fn apply(&self, item: Item) -> bool {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let (event, data, id) = match item {
            Item::Comment => {
                if state.live {
                    state.last_contact = Instant::now();
                }
                if state.last_prune.elapsed() >= PRUNE_EVERY {
                    state.set.prune(crate::verifier::unix_now(), self.leeway);
                    state.last_prune = Instant::now();
                }
                return false;
            }
            Item::Event { event, data, id } => (event, data, id),
        };
        match id.parse::<i64>() {
            Ok(id) => state.last_event_id = Some(id),
            Err(_) => tracing::debug!(id, "an event id that is not a number; not resuming from it"),
        }
        match event.as_str() {
            "revocation" => {
                match serde_json::from_str::<Entry>(&data) {
                    Ok(entry) => {
                        if let Err(entry) = state.set.insert(entry) {
                            tracing::warn!(
                                kind = entry.kind,
                                "a revocation of an unknown kind; ignored"
                            );
                        }
                    }
                    Err(error) => tracing::warn!(%error, "an unreadable revocation event; ignored"),
                }
                if state.live {
                    state.last_contact = Instant::now();
                }
                false
            }
            "ready" => {
                state.live = true;
                state.last_contact = Instant::now();
                drop(state);
                if self.outage_reported.swap(false, Ordering::Relaxed) {
                    tracing::info!(url = %self.url, "the revocation stream is back: checking revocations again");
                }
                true
            }
            _ => false,
        }
    }
}

/// The task's side: connects, reads, reconnects.
struct Follower {
    client: Client,
    credentials: ClientCredentials,
    shared: Arc<Shared>,
}

impl Follower {
    async fn run(self, ready: oneshot::Sender<Result<(), FetchError>>) {
        let mut ready = Some(ready);
        let mut delay = BACKOFF_START;
        let mut lost = false;
        loop {
            let (was_live, error) = self.follow(&mut ready, &mut lost).await;
            self.shared
                .state
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .live = false;
            if let Some(ready) = ready.take() {
                // The first connection: `build` reports the failure.
                let _ = ready.send(Err(error));
                return;
            }
            let renewed = matches!(&error, FetchError::Http { source, .. } if source.is_timeout());
            if was_live && renewed {
                tracing::debug!("renewing the revocation stream connection");
            } else if was_live {
                tracing::warn!(%error, "lost the revocation stream; reconnecting");
                lost = true;
            } else {
                tracing::debug!(%error, retry_in = ?delay, "could not reconnect to the revocation stream");
            }
            if was_live {
                delay = BACKOFF_START;
            }
            // Also reports an outage to an API that gets no requests.
            self.shared.silent_too_long();
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(BACKOFF_CAP);
        }
    }

    /// One connection, until it ends: whether it reached `ready`, and why it ended.
    async fn follow(
        &self,
        ready: &mut Option<oneshot::Sender<Result<(), FetchError>>>,
        lost: &mut bool,
    ) -> (bool, FetchError) {
        let mut response = match self.connect().await {
            Ok(response) => response,
            Err(error) => return (false, error),
        };
        let mut parser = EventStream::default();
        let mut items = Vec::new();
        let mut live = false;
        loop {
            let chunk = match tokio::time::timeout(SILENCE_LIMIT, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => return (live, self.invalid("the server ended the stream")),
                Ok(Err(error)) => return (live, self.http(error)),
                Err(_) => {
                    let reason = format!("no event or heartbeat for {SILENCE_LIMIT:?}");
                    return (live, self.invalid(&reason));
                }
            };
            let parsed = parser.feed(&chunk, &mut items);
            for item in items.drain(..) {
                if self.shared.apply(item) && !live {
                    live = true;
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Ok(()));
                    }
                    if std::mem::take(lost) {
                        let id = self.shared.read().last_event_id.unwrap_or(0);
                        tracing::info!(last_event_id = id, "reconnected to the revocation stream");
                    }
                }
            }
            if let Err(error) = parsed {
                return (live, self.invalid(&error.to_string()));
            }
        }
    }

    async fn connect(&self) -> Result<Response, FetchError> {
        let url = &self.shared.url;
        let mut request = self
            .client
            .get(url.clone())
            .header(ACCEPT, "text/event-stream")
            // WHATWG HTML §9.2.4: no cached answer.
            .header(CACHE_CONTROL, "no-cache")
            .timeout(CONNECTION_LIFETIME);
        if let Some(id) = self.shared.read().last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let request = self.credentials.authorize(request);
        let response = tokio::time::timeout(FETCH_TIMEOUT, request.send())
            .await
            .map_err(|_| self.invalid(&format!("no answer within {FETCH_TIMEOUT:?}")))?
            .map_err(|error| self.http(error))?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status {
                url: url.clone(),
                status: response.status().as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if essence(content_type) != "text/event-stream" {
            let content_type: String = content_type.chars().take(64).collect();
            return Err(self.invalid(&format!(
                "content type {content_type:?} is not text/event-stream"
            )));
        }
        Ok(response)
    }

    fn http(&self, source: reqwest::Error) -> FetchError {
        FetchError::Http {
            url: self.shared.url.clone(),
            source: source.without_url(),
        }
    }

    fn invalid(&self, reason: &str) -> FetchError {
        FetchError::Invalid {
            url: self.shared.url.clone(),
            reason: reason.to_owned(),
        }
    }
}
