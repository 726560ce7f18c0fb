//! admit-resource over real HTTP: a mock issuer and a protected API, each on
//! 127.0.0.1:0, driven with reqwest.

mod cache;
mod discovery;
mod header;
mod hmac;
mod introspection;
mod issuer;
mod keys;
mod push;
mod scope;
mod token;
mod warnings;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use admit_jose::SigningKey;
use admit_resource::{AccessTokenClaims, Authenticated, BearerLayer, Verifier};
use axum::routing;
use axum::{Json, Router};
use serde_json::{Value, json};

pub use issuer::{CLIENT_ID, CLIENT_SECRET, MockIssuer};

pub const AUD: &str = "https://api.example";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid access-token claims from `iss`, now.
pub fn claims(iss: &str) -> Value {
    json!({"iss": iss, "sub": "alice", "aud": AUD, "exp": now() + 300, "iat": now(),
           "jti": "j1", "client_id": "app", "scope": "read profile", "auth_time": now() - 10})
}

/// [`claims`] with some members replaced or added.
pub fn claims_with(iss: &str, changes: Value) -> Value {
    let mut claims = claims(iss);
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

/// Polls `condition` every 20 ms until it holds; fails the test after `limit`. The
/// limit is generous: it bounds a hung test, it does not measure anything.
pub async fn eventually(what: &str, limit: Duration, mut condition: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn sign(key: &SigningKey, claims: &Value) -> String {
    admit_jose::sign(key, admit_jose::ACCESS_TOKEN_TYP, claims).unwrap()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The protected API: `/me` echoes the claims the handler sees, `/admin` needs the
/// `admin` scope, `/unguarded` takes `Authenticated` without the layer (a bug).
pub async fn spawn_api(verifier: Verifier) -> String {
    async fn echo(Authenticated(claims): Authenticated) -> Json<AccessTokenClaims> {
        Json(AccessTokenClaims::clone(&claims))
    }
    let me = Router::new()
        .route("/me", routing::get(echo))
        .route_layer(BearerLayer::new(verifier.clone()).realm("test-api"));
    let admin = Router::new()
        .route("/admin", routing::get(echo))
        // `layer`, not `route_layer`: both must fit a Router.
        .layer(BearerLayer::new(verifier).require_scopes(["admin"]));
    let router = Router::new()
        .route("/unguarded", routing::get(echo))
        .merge(me)
        .merge(admin);
    format!("http://{}", serve(router).await)
}

/// A mock issuer with one EdDSA key, a verifier that discovered it, and the API.
pub struct Setup {
    pub issuer: MockIssuer,
    pub api: String,
}

pub async fn setup() -> Setup {
    let issuer = MockIssuer::start().await;
    let verifier = Verifier::builder(&issuer.url, AUD)
        .discover()
        .build()
        .await
        .unwrap();
    let api = spawn_api(verifier).await;
    Setup { issuer, api }
}

impl Setup {
    pub async fn get_me(&self, token: &str) -> Answer {
        get(&format!("{}/me", self.api), &[&format!("Bearer {token}")]).await
    }
}

/// What the API answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenge: Option<String>,
    pub cache_control: Option<String>,
    pub retry_after: Option<String>,
    pub body: Value,
}

pub async fn get(url: &str, authorization: &[&str]) -> Answer {
    let mut request = reqwest::Client::new().get(url);
    for value in authorization {
        // reqwest appends: several values make several Authorization headers.
        request = request.header("authorization", *value);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (challenge, cache_control) = (header("www-authenticate"), header("cache-control"));
    let retry_after = header("retry-after");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    Answer {
        status,
        challenge,
        cache_control,
        retry_after,
        body,
    }
}

impl Answer {
    /// An RFC 6750 refusal: status, `error` in the challenge and in the JSON body.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{self:?}");
        let challenge = self.challenge.as_deref().unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm=\""), "{self:?}");
        assert!(
            challenge.contains(&format!("error=\"{error}\"")),
            "{self:?}"
        );
        assert!(challenge.contains("error_description=\""), "{self:?}");
        assert_eq!(self.body["error"], error, "{self:?}");
        assert!(self.body["error_description"].is_string(), "{self:?}");
        assert_eq!(self.cache_control.as_deref(), Some("no-store"), "{self:?}");
    }

    #[track_caller]
    pub fn assert_invalid_token(&self) {
        self.assert_refused(401, "invalid_token");
    }

    /// Refused because the issuer revoked the token: 401 `invalid_token` that says so.
    #[track_caller]
    pub fn assert_revoked(&self) {
        self.assert_invalid_token();
        let description = self.body["error_description"].as_str().unwrap();
        assert!(description.contains("revoked"), "{self:?}");
    }

    /// Refused because revocation cannot be checked now (fail closed).
    #[track_caller]
    pub fn assert_revocation_unknown(&self) {
        assert_eq!(self.status, 503, "{self:?}");
        assert_eq!(self.retry_after.as_deref(), Some("5"), "{self:?}");
        assert_eq!(self.body["error"], "temporarily_unavailable", "{self:?}");
        assert_eq!(self.cache_control.as_deref(), Some("no-store"), "{self:?}");
    }

    #[track_caller]
    pub fn assert_ok_for(&self, sub: &str) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.body["sub"], sub, "{self:?}");
    }
}
