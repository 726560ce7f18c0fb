//! A tiny authorization server for the tests: discovery metadata and a JWKS it can
//! change, take down, and count fetches of; the introspection endpoint and the
//! revocation stream of admit's contract; and a listener that can be stopped and
//! restarted on the same port, as admit restarts.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use admit_jose::{Algorithm, Jwk, JwkSet, SigningKey};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// The confidential client the verifiers authenticate as. The secret has characters
/// that RFC 6749 §2.3.1 form-urlencodes before Basic.
pub const CLIENT_ID: &str = "resource-api";
pub const CLIENT_SECRET: &str = "s3cret: with+specials";
/// `base64("resource-api:s3cret%3A+with%2Bspecials")`, checked without decoding so
/// that a missing form-urlencoding step shows.
const BASIC: &str = "Basic cmVzb3VyY2UtYXBpOnMzY3JldCUzQSt3aXRoJTJCc3BlY2lhbHM=";

/// How often the stream sends `: ping`; admit's 10 s would make the tests slow.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

pub struct MockIssuer {
    /// `http://127.0.0.1:port`, the issuer identifier.
    pub url: String,
    /// Published at start.
    pub key: SigningKey,
    state: Arc<IssuerState>,
    server: tokio::sync::Mutex<Server>,
}

struct Server {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
    /// A duplicate of every accepted socket, to cut them all on [`MockIssuer::stop`].
    connections: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

#[derive(Default)]
struct IssuerState {
    url: String,
    metadata_issuer: Mutex<String>,
    keys: Mutex<Vec<Jwk>>,
    jwks_fetches: AtomicUsize,
    jwks_down: AtomicBool,
    no_openid_configuration: AtomicBool,
    no_revocation_endpoints: AtomicBool,
    introspections: AtomicUsize,
    introspection_down: AtomicBool,
    /// `jti`s introspection calls inactive.
    inactive: Mutex<HashSet<String>>,
    stream: Mutex<Revocations>,
    stream_forbidden: AtomicBool,
    /// The `Last-Event-ID` of every authorized stream request, in order.
    last_event_ids: Mutex<Vec<Option<String>>>,
}

/// admit's revocation log (every event ever, since none expires during a test) and
/// the open streams.
#[derive(Default)]
struct Revocations {
    events: Vec<(i64, String)>,
    followers: Vec<mpsc::UnboundedSender<String>>,
}

impl MockIssuer {
    pub async fn start() -> MockIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let (key, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
        let state = Arc::new(IssuerState {
            url: url.clone(),
            metadata_issuer: Mutex::new(url.clone()),
            keys: Mutex::new(vec![key.public_jwk().unwrap()]),
            ..IssuerState::default()
        });
        tokio::spawn(heartbeat(Arc::downgrade(&state)));
        let mut server = Server {
            addr,
            task: None,
            connections: Arc::default(),
        };
        server.serve(listener, &state);
        MockIssuer {
            url,
            key,
            state,
            server: tokio::sync::Mutex::new(server),
        }
    }

    /// Adds `key` to the JWKS (a rotation starts this way).
    pub fn publish(&self, key: &SigningKey) {
        self.state
            .keys
            .lock()
            .unwrap()
            .push(key.public_jwk().unwrap());
    }

    pub fn unpublish_all(&self) {
        self.state.keys.lock().unwrap().clear();
    }

    /// How many times `/jwks` was asked for, answered or not.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// `/jwks` answers 503 while down.
    pub fn set_jwks_down(&self, down: bool) {
        self.state.jwks_down.store(down, Ordering::SeqCst);
    }

    pub fn set_metadata_issuer(&self, issuer: &str) {
        *self.state.metadata_issuer.lock().unwrap() = issuer.to_owned();
    }

    /// Serve only the RFC 8414 metadata, as a plain OAuth server would.
    pub fn without_openid_configuration(&self) {
        self.state
            .no_openid_configuration
            .store(true, Ordering::SeqCst);
    }

    /// Metadata without `introspection_endpoint` and `revocation_stream_endpoint`.
    pub fn without_revocation_endpoints(&self) {
        self.state
            .no_revocation_endpoints
            .store(true, Ordering::SeqCst);
    }

    /// Like admit going away: no new connection, and every open one is cut.
    pub async fn stop(&self) {
        let mut server = self.server.lock().await;
        if let Some(task) = server.task.take() {
            task.abort();
            // Cancelled once it is polled again: then the listener is closed.
            let _ = task.await;
        }
        for connection in server.connections.lock().unwrap().drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
        self.state.stream.lock().unwrap().followers.clear();
    }

    /// Listens again on the same port, with the same state.
    pub async fn restart(&self) {
        let mut server = self.server.lock().await;
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(server.addr).await {
                Ok(listener) => break listener,
                Err(e) if attempts < 50 => {
                    attempts += 1;
                    eprintln!("rebinding {}: {e}", server.addr);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", server.addr),
            }
        };
        server.serve(listener, &self.state);
    }

    // -- Introspection (RFC 7662) --

    /// How many introspection requests arrived, answered or not.
    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// The introspection endpoint answers 503 while down.
    pub fn set_introspection_down(&self, down: bool) {
        self.state.introspection_down.store(down, Ordering::SeqCst);
    }

    /// Introspection answers `{"active": false}` for tokens with this `jti`.
    pub fn deactivate(&self, jti: &str) {
        self.state.inactive.lock().unwrap().insert(jti.to_owned());
    }

    // -- The revocation stream --

    /// Records a revocation and sends it to every open stream; returns its id.
    pub fn revoke(&self, kind: &str, value: &str, revoked_at: i64) -> i64 {
        let data = json!({"kind": kind, "value": value, "revoked_at": revoked_at,
                          "expires_at": crate::now() + 600});
        let mut stream = self.state.stream.lock().unwrap();
        let seq = stream.events.len() as i64 + 1;
        let event = format!("id: {seq}\nevent: revocation\ndata: {data}\n\n");
        stream.events.push((seq, event.clone()));
        stream.followers.retain(|f| f.send(event.clone()).is_ok());
        seq
    }

    /// Ends every open stream cleanly; the listener stays up.
    pub fn drop_streams(&self) {
        self.state.stream.lock().unwrap().followers.clear();
    }

    /// The stream answers 403, as for a client not allowed to follow it.
    pub fn forbid_stream(&self) {
        self.state.stream_forbidden.store(true, Ordering::SeqCst);
    }

    /// The `Last-Event-ID` of each authorized stream request, oldest first.
    pub fn last_event_ids(&self) -> Vec<Option<String>> {
        self.state.last_event_ids.lock().unwrap().clone()
    }
}

impl Server {
    fn serve(&mut self, listener: TcpListener, state: &Arc<IssuerState>) {
        let router = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(openid_configuration),
            )
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/jwks", get(jwks))
            .route("/jwks-html", get(|| async { "<html>not keys</html>" }))
            .route("/jwks-big", get(big_jwks))
            .route("/oauth2/introspect", post(introspect))
            .route("/oauth2/revocations", get(revocation_stream))
            .with_state(state.clone());
        let listener = Killable {
            listener,
            connections: self.connections.clone(),
        };
        self.task = Some(tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap()
        }));
    }
}

/// A listener that keeps a duplicate of each socket it accepts.
struct Killable {
    listener: TcpListener,
    connections: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl axum::serve::Listener for Killable {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Ok((stream, addr)) = self.listener.accept().await else {
                continue;
            };
            let stream = stream.into_std().unwrap();
            let duplicate = stream.try_clone().unwrap();
            self.connections.lock().unwrap().push(duplicate);
            return (TcpStream::from_std(stream).unwrap(), addr);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

async fn openid_configuration(state: State<Arc<IssuerState>>) -> Response {
    if state.no_openid_configuration.load(Ordering::SeqCst) {
        return StatusCode::NOT_FOUND.into_response();
    }
    metadata(state).await
}

async fn metadata(State(state): State<Arc<IssuerState>>) -> Response {
    let issuer = state.metadata_issuer.lock().unwrap().clone();
    let mut metadata = json!({"issuer": issuer, "jwks_uri": format!("{}/jwks", state.url)});
    if !state.no_revocation_endpoints.load(Ordering::SeqCst) {
        metadata["introspection_endpoint"] = json!(format!("{}/oauth2/introspect", state.url));
        metadata["revocation_stream_endpoint"] = json!(format!("{}/oauth2/revocations", state.url));
    }
    Json(metadata).into_response()
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if state.jwks_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = state.keys.lock().unwrap().clone();
    let mut response = Json(JwkSet { keys }).into_response();
    let jwk_set = header::HeaderValue::from_static("application/jwk-set+json");
    response.headers_mut().insert(header::CONTENT_TYPE, jwk_set);
    response
}

/// Valid JSON, too large to be a key set anyone should accept.
async fn big_jwks() -> Json<serde_json::Value> {
    Json(json!({"keys": [], "padding": "x".repeat(300 * 1024)}))
}

fn invalid_client() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "invalid_client"})),
    )
        .into_response();
    let challenge = header::HeaderValue::from_static("Basic realm=\"admit\"");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge);
    response
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value == BASIC)
}

/// RFC 7662 §2: active unless the token is expired, unreadable, or deactivated.
async fn introspect(
    State(state): State<Arc<IssuerState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return invalid_client();
    }
    if state.introspection_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let (Some(token), Some("access_token")) = (
        form.get("token"),
        form.get("token_type_hint").map(String::as_str),
    ) else {
        let error = json!({"error": "invalid_request"});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    };
    let claims = payload(token).filter(|claims| {
        let inactive = state.inactive.lock().unwrap();
        claims["exp"].as_i64().is_some_and(|exp| exp > crate::now())
            && !claims["jti"]
                .as_str()
                .is_some_and(|jti| inactive.contains(jti))
    });
    match claims {
        Some(mut claims) => {
            claims["active"] = json!(true);
            claims["token_type"] = json!("Bearer");
            Json(claims).into_response()
        }
        None => Json(json!({"active": false})).into_response(),
    }
}

/// The claims of a JWT, unverified: the mock issued it.
fn payload(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// The snapshot (or what followed `Last-Event-ID`), `ready`, then live events.
async fn revocation_stream(State(state): State<Arc<IssuerState>>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return invalid_client();
    }
    if state.stream_forbidden.load(Ordering::SeqCst) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap().to_owned());
    state
        .last_event_ids
        .lock()
        .unwrap()
        .push(last_event_id.clone());
    let after: i64 = last_event_id.map_or(0, |id| id.parse().unwrap());

    let (sender, receiver) = mpsc::unbounded_channel();
    let mut stream = state.stream.lock().unwrap();
    for (_, event) in stream.events.iter().filter(|(seq, _)| *seq > after) {
        sender.send(event.clone()).unwrap();
    }
    let last = stream.events.last().map_or(after, |(seq, _)| *seq);
    sender
        .send(format!("event: ready\nid: {last}\ndata: {{}}\n\n"))
        .unwrap();
    stream.followers.push(sender);
    drop(stream);

    let body = Body::from_stream(UnboundedReceiverStream::new(receiver).map(Ok::<_, Infallible>));
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}

/// `: ping` on every open stream, until the issuer is gone.
async fn heartbeat(state: Weak<IssuerState>) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let Some(state) = state.upgrade() else {
            return;
        };
        let mut stream = state.stream.lock().unwrap();
        stream
            .followers
            .retain(|f| f.send(": ping\n\n".to_owned()).is_ok());
    }
}
