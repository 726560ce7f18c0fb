//! Introspection mode (RFC 7662): after local verification the verifier asks the
//! mock whether the token is active, and caches the answer.

use std::time::Duration;

use admit_resource::{FetchError, SetupError, Verifier};
use serde_json::{Value, json};

use crate::{
    AUD, Answer, CLIENT_ID, CLIENT_SECRET, MockIssuer, claims_with, eventually, now, sign,
    spawn_api,
};

struct Introspection {
    issuer: MockIssuer,
    api: String,
}

async fn introspection(cache_ttl: Duration) -> Introspection {
    let issuer = MockIssuer::start().await;
    let verifier = Verifier::builder(&issuer.url, AUD)
        .introspection(CLIENT_ID, CLIENT_SECRET, cache_ttl)
        .build()
        .await
        .unwrap();
    assert_eq!(issuer.introspections(), 1, "build probes the endpoint once");
    let api = spawn_api(verifier).await;
    Introspection { issuer, api }
}

impl Introspection {
    /// A token of the default claims changed by `changes`. Signed once and reused:
    /// the cache knows tokens, and a token signed a second later is another one.
    fn token(&self, changes: Value) -> String {
        sign(&self.issuer.key, &claims_with(&self.issuer.url, changes))
    }

    async fn get_me(&self, token: &str) -> Answer {
        crate::get(&format!("{}/me", self.api), &[&format!("Bearer {token}")]).await
    }

    /// Introspection requests since the start-up probe.
    fn asked(&self) -> usize {
        self.issuer.introspections() - 1
    }
}

#[tokio::test]
async fn an_active_token_is_accepted_and_the_answer_cached() {
    let setup = introspection(Duration::from_secs(60)).await;
    let token = setup.token(json!({}));
    setup.get_me(&token).await.assert_ok_for("alice");
    assert_eq!(setup.asked(), 1);
    setup.get_me(&token).await.assert_ok_for("alice");
    assert_eq!(setup.asked(), 1, "the second request is a cache hit");
    let other = setup.token(json!({"jti": "j2"}));
    setup.get_me(&other).await.assert_ok_for("alice");
    assert_eq!(setup.asked(), 2, "another token is another question");
}

#[tokio::test]
async fn an_inactive_token_is_refused_and_the_answer_cached() {
    let setup = introspection(Duration::from_secs(60)).await;
    setup.issuer.deactivate("j1");
    let token = setup.token(json!({}));
    setup.get_me(&token).await.assert_revoked();
    setup.get_me(&token).await.assert_revoked();
    assert_eq!(setup.asked(), 1);
    let other = setup.token(json!({"jti": "j2"}));
    setup.get_me(&other).await.assert_ok_for("alice");
}

/// Regression guard: a cached "active" must not keep an expired token alive (the
/// verifier's leeway accepts it locally; admit no longer does).
#[tokio::test]
async fn the_answer_does_not_outlive_the_token() {
    let setup = introspection(Duration::from_secs(60)).await;
    let exp = now() + 2;
    let token = setup.token(json!({"exp": exp}));
    setup.get_me(&token).await.assert_ok_for("alice");
    eventually("the token expires", Duration::from_secs(4), async || {
        now() >= exp
    })
    .await;
    setup.get_me(&token).await.assert_revoked();
    assert_eq!(setup.asked(), 2, "asked again once the token expired");
}

#[tokio::test]
async fn the_answer_does_not_outlive_the_cache_ttl() {
    let ttl = Duration::from_millis(200);
    let setup = introspection(ttl).await;
    let token = setup.token(json!({}));
    setup.get_me(&token).await.assert_ok_for("alice");
    setup.issuer.deactivate("j1");
    tokio::time::sleep(ttl).await;
    setup.get_me(&token).await.assert_revoked();
    assert_eq!(setup.asked(), 2);
}

/// Fails closed: a 503 from the endpoint or no endpoint at all.
#[tokio::test]
async fn an_endpoint_that_does_not_answer_is_503() {
    let setup = introspection(Duration::ZERO).await;
    let token = setup.token(json!({}));
    setup.issuer.set_introspection_down(true);
    setup.get_me(&token).await.assert_revocation_unknown();
    setup.issuer.set_introspection_down(false);
    setup.get_me(&token).await.assert_ok_for("alice");

    setup.issuer.stop().await;
    setup.get_me(&token).await.assert_revocation_unknown();
    setup.issuer.restart().await;
    setup.get_me(&token).await.assert_ok_for("alice");
}

/// A token refused locally is never introspected.
#[tokio::test]
async fn local_verification_comes_first() {
    let setup = introspection(Duration::ZERO).await;
    let token = setup.token(json!({"aud": "https://other.example"}));
    setup.get_me(&token).await.assert_invalid_token();
    assert_eq!(setup.asked(), 0);
}

#[tokio::test]
async fn wrong_credentials_or_no_endpoint_fail_the_build() {
    let issuer = MockIssuer::start().await;
    let build = || {
        Verifier::builder(&issuer.url, AUD)
            .introspection(CLIENT_ID, "wrong", Duration::from_secs(60))
            .build()
    };
    let error = build().await.unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::Introspection(FetchError::Status { status: 401, .. })
        ),
        "{error}"
    );
    issuer.without_revocation_endpoints();
    let error = build().await.unwrap_err();
    assert!(
        matches!(error, SetupError::NoEndpoint("introspection_endpoint")),
        "{error}"
    );
}
