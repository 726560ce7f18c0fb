//! The demo API over real HTTP, with a minimal issuer that only publishes its
//! metadata and JWKS: the demo must never need more from it.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use admit_jose::{Algorithm, JwkSet, SigningKey};
use admit_resource::Verifier;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

const AUD: &str = "https://demo.example";

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

struct Demo {
    issuer: String,
    key: SigningKey,
    api: String,
}

/// An issuer publishing one key, and the demo API trusting it via discovery.
async fn start() -> Demo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let metadata = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    let jwks = JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    };
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(metadata) }),
        )
        .route("/jwks", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let verifier = Verifier::builder(&issuer, AUD)
        .discover()
        .build()
        .await
        .unwrap();
    let api = format!("http://{}", serve(admit_demo::router(verifier)).await);
    Demo { issuer, key, api }
}

impl Demo {
    fn token(&self, scope: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = json!({"iss": self.issuer, "sub": "alice", "aud": AUD, "exp": now + 300,
                            "iat": now, "jti": "j1", "client_id": "my-app", "scope": scope,
                            "auth_time": now - 5});
        admit_jose::sign(&self.key, admit_jose::ACCESS_TOKEN_TYP, &claims).unwrap()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

#[tokio::test]
async fn me_shows_who_the_token_is_for() {
    let demo = start().await;
    let (status, body) = demo.get("/api/me", Some(&demo.token("read profile"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["client_id"], "my-app");
    assert_eq!(body["scope"], json!(["read", "profile"]));
    assert_eq!(body["iss"], demo.issuer);
    assert!(body["exp"].is_i64() && body["auth_time"].is_i64(), "{body}");
    assert_eq!(
        body["message"],
        "Hello, alice: admit verified your token locally, without asking the authorization server."
    );
}

#[tokio::test]
async fn me_needs_a_token() {
    let demo = start().await;
    let (status, _) = demo.get("/api/me", None).await;
    assert_eq!(status, 401);
    let (status, body) = demo.get("/api/me", Some("not-a-token")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn admin_needs_the_admin_scope() {
    let demo = start().await;
    let (status, body) = demo.get("/api/admin", Some(&demo.token("read"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );

    let (status, body) = demo
        .get("/api/admin", Some(&demo.token("read admin")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"sub": "alice", "admin": true}));
}

#[tokio::test]
async fn index_is_open_and_lists_the_endpoints() {
    let demo = start().await;
    let (status, body) = demo.get("/", None).await;
    assert_eq!(status, 200);
    assert!(
        body["endpoints"]["/api/me"].is_string() && body["endpoints"]["/api/admin"].is_string()
    );
}
