//! A stand-in authorization server, just enough of admit's published behaviour to
//! drive the site end to end: discovery, JWKS, authorize (logs "alice" in at once),
//! token (code with PKCE S256, refresh with rotation), UserInfo, logout, and the
//! demo API. It signs with openidconnect's provider-side RSA key type.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, Audience, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "demo-site";
pub const CLIENT_SECRET: &str = "demo-site-secret-0123456789";

/// One RSA key for the whole test binary (generating one takes a moment).
fn key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    })
}

struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
    scope: String,
}

#[derive(Default)]
pub struct Log {
    /// Every code issued, so a test can check that none leaks onto the page.
    pub codes: Vec<String>,
    pub refresh_tokens: Vec<String>,
    pub spent_refresh_tokens: HashSet<String>,
    pub logout_query: Option<HashMap<String, String>>,
    /// When set, the next authorization request is answered with this error.
    pub deny_next: Option<String>,
}

struct Shared {
    issuer: String,
    key: CoreRsaPrivateSigningKey,
    grants: Mutex<HashMap<String, Grant>>,
    live_refresh: Mutex<HashMap<String, Grant>>,
    access_tokens: Mutex<HashSet<String>>,
    log: Arc<Mutex<Log>>,
    counter: Mutex<u32>,
}

pub struct FakeAdmit {
    pub issuer: String,
    pub log: Arc<Mutex<Log>>,
}

pub async fn spawn() -> FakeAdmit {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Log::default()));
    let shared = Arc::new(Shared {
        issuer: issuer.clone(),
        key: CoreRsaPrivateSigningKey::from_pem(key_pem(), Some(JsonWebKeyId::new("k1".into())))
            .unwrap(),
        grants: Mutex::default(),
        live_refresh: Mutex::default(),
        access_tokens: Mutex::default(),
        log: log.clone(),
        counter: Mutex::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/oauth2/authorize", get(authorize))
        .route("/oauth2/token", post(token))
        .route("/oauth2/userinfo", get(userinfo))
        .route("/oauth2/logout", get(logout))
        .route("/api/me", get(api_me))
        .with_state(shared);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeAdmit { issuer, log }
}

impl Shared {
    fn fresh(&self, prefix: &str) -> String {
        let mut counter = self.counter.lock().unwrap();
        *counter += 1;
        format!("{prefix}-{counter}-{}", "x".repeat(24))
    }

    fn access_token(&self, scope: &str, now: i64) -> String {
        let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": "k1"});
        let payload = json!({
            "iss": self.issuer, "sub": "alice", "aud": format!("{}/api", self.issuer),
            "client_id": CLIENT_ID, "scope": scope, "iat": now, "exp": now + 300,
            "jti": self.fresh("jti"),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self
            .key
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
        self.access_tokens.lock().unwrap().insert(token.clone());
        token
    }

    fn tokens(&self, grant: Grant, with_nonce: bool) -> Response {
        let now = chrono::Utc::now();
        let access_token = self.access_token(&grant.scope, now.timestamp());
        let mut claims = CoreIdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).unwrap(),
            vec![Audience::new(CLIENT_ID.into())],
            now + chrono::Duration::seconds(300),
            now,
            StandardClaims::new(SubjectIdentifier::new("alice".into())),
            EmptyAdditionalClaims {},
        )
        .set_auth_time(Some(now));
        if with_nonce {
            claims = claims.set_nonce(Some(Nonce::new(grant.nonce.clone())));
        }
        let id_token = CoreIdToken::new(
            claims,
            &self.key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&AccessToken::new(access_token.clone())),
            None,
        )
        .unwrap();
        let refresh_token = self.fresh("rt");
        self.log
            .lock()
            .unwrap()
            .refresh_tokens
            .push(refresh_token.clone());
        let scope = grant.scope.clone();
        self.live_refresh
            .lock()
            .unwrap()
            .insert(refresh_token.clone(), grant);
        (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                "refresh_token": refresh_token, "id_token": id_token.to_string(), "scope": scope,
            })),
        )
            .into_response()
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![
        shared.key.as_verification_key(),
    ]))
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).cloned().unwrap_or_default();
    assert_eq!(param("response_type"), "code");
    assert_eq!(param("client_id"), CLIENT_ID);
    assert_eq!(param("code_challenge_method"), "S256");
    let redirect_uri = param("redirect_uri");
    let state = param("state");
    let encode =
        |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    if let Some(error) = shared.log.lock().unwrap().deny_next.take() {
        return Redirect::to(&format!(
            "{redirect_uri}?error={error}&error_description={}&state={}&iss={}",
            encode("The user said <no>."),
            encode(&state),
            encode(&shared.issuer)
        ))
        .into_response();
    }
    let code = shared.fresh("code");
    shared.log.lock().unwrap().codes.push(code.clone());
    shared.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            redirect_uri: redirect_uri.clone(),
            nonce: param("nonce"),
            challenge: param("code_challenge"),
            scope: param("scope"),
        },
    );
    Redirect::to(&format!(
        "{redirect_uri}?code={code}&state={}&iss={}",
        encode(&state),
        encode(&shared.issuer)
    ))
    .into_response()
}

fn client_authenticated(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

fn oauth_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": code}))).into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_authenticated(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let param = |name: &str| form.get(name).cloned().unwrap_or_default();
    match param("grant_type").as_str() {
        "authorization_code" => {
            let Some(grant) = shared.grants.lock().unwrap().remove(&param("code")) else {
                return oauth_error("invalid_grant");
            };
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(param("code_verifier")));
            if challenge != grant.challenge || param("redirect_uri") != grant.redirect_uri {
                return oauth_error("invalid_grant");
            }
            shared.tokens(grant, true)
        }
        "refresh_token" => {
            let presented = param("refresh_token");
            let Some(grant) = shared.live_refresh.lock().unwrap().remove(&presented) else {
                return oauth_error("invalid_grant");
            };
            shared
                .log
                .lock()
                .unwrap()
                .spent_refresh_tokens
                .insert(presented);
            shared.tokens(grant, false)
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

fn bearer_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| shared.access_tokens.lock().unwrap().contains(token))
}

async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !bearer_ok(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({"sub": "alice", "name": "Alice <Liddell>", "email": "alice@example.test"}))
        .into_response()
}

async fn api_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !bearer_ok(&shared, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    }
    Json(json!({"sub": "alice", "message": "Hello, alice"})).into_response()
}

async fn logout(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> &'static str {
    shared.log.lock().unwrap().logout_query = Some(query);
    "logged out"
}
