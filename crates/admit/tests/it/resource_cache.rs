//! `admit-resource`'s cache of verified tokens against the real server, behind the
//! demo API: a token used again keeps working, but never outlives its key in admit's
//! JWKS nor its `exp`.

use std::time::{Duration, Instant};

use admit_resource::Verifier;
use admit_server::Settings;
use sqlx::Connection;

use crate::harness::{PASSWORD, TestServer, start_with};

/// admit with alice and a password-grant client `app`; returns it and the secret.
async fn admit(configure: impl FnOnce(&mut Settings)) -> (TestServer, String) {
    let t = start_with(configure).await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client("app", &["--grant", "password"]);
    (t, secret)
}

async fn access_token(t: &TestServer, secret: &str) -> String {
    let (status, _, body) = t
        .token(
            Some(("app", secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// The demo API guarded by `verifier`; returns the URL of its `/api/me`.
async fn demo_api(verifier: Verifier) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = admit_demo::router(verifier);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/api/me")
}

async fn status(t: &TestServer, url: &str, token: &str) -> u16 {
    let response = t.http.get(url).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

fn kid_of(token: &str) -> String {
    let jwt = admit_jose::UnverifiedJwt::parse(token).unwrap();
    jwt.header().kid.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_token_is_refused_once_admit_drops_its_key() {
    let (t, secret) = admit(|s| s.key_reload_interval = 1).await;
    // Keys refreshed on every request, so the test need not wait for a max age.
    let verifier = Verifier::builder(&t.base, &t.base)
        .discover()
        .jwks_max_age(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let me = demo_api(verifier).await;
    let token = access_token(&t, &secret).await;
    for _ in 0..3 {
        assert_eq!(status(&t, &me, &token).await, 200);
    }

    // Retire the token's key, then delete it, as if it had been compromised.
    let kid = kid_of(&token);
    t.admit_ok(&["keys", "rotate", "--alg", "EdDSA", "--force"], None);
    let mut db = sqlx::SqliteConnection::connect(&t.database_url())
        .await
        .unwrap();
    let deleted = sqlx::query("DELETE FROM signing_keys WHERE kid = ?")
        .bind(&kid)
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    // admit re-reads its keys every second; the limit bounds a hung test only.
    let start = Instant::now();
    while t.get_json("/.well-known/jwks.json").await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == kid.as_str())
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the key is still published"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(
        status(&t, &me, &token).await,
        401,
        "the cached token is refused"
    );
    let fresh = access_token(&t, &secret).await;
    assert_ne!(kid_of(&fresh), kid);
    assert_eq!(status(&t, &me, &fresh).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_though_cached() {
    let (t, secret) = admit(|s| s.access_token_ttl = 5).await;
    let verifier = Verifier::builder(&t.base, &t.base)
        .discover()
        .leeway(0)
        .build()
        .await
        .unwrap();
    let me = demo_api(verifier).await;
    let token = access_token(&t, &secret).await;
    let answer: serde_json::Value = t.bearer_json(&me, &token).await;
    let exp = answer["exp"].as_i64().unwrap();
    assert_eq!(status(&t, &me, &token).await, 200);

    // Past `exp`, with no leeway: a fresh verification refuses it, so must the cache.
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    while unix_now() <= exp {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(&t, &me, &token).await, 401);
}
