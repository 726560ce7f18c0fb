//! The cache of verified tokens: a token seen again skips its signature check, but
//! never outlives its key, its `exp` or a revocation, and a forgery never hits it.

use std::time::Duration;

use admit_jose::{Algorithm, SigningKey};
use admit_resource::{Verifier, VerifierBuilder};
use serde_json::json;

use crate::{AUD, CLIENT_ID, CLIENT_SECRET, MockIssuer, claims, claims_with, eventually, now};
use crate::{setup, sign, spawn_api};

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_jwks() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    for _ in 0..3 {
        setup.get_me(&token).await.assert_ok_for("alice");
    }
    // The issuer replaces its key; a token of the new key makes the verifier refetch.
    let (next, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    setup.issuer.unpublish_all();
    setup.issuer.publish(&next);
    let fetches = setup.issuer.jwks_fetches();
    setup
        .get_me(&sign(&next, &claims(&setup.issuer.url)))
        .await
        .assert_ok_for("alice");
    assert_eq!(setup.issuer.jwks_fetches(), fetches + 1);

    let answer = setup.get_me(&token).await;
    answer.assert_invalid_token();
    let description = answer.body["error_description"].as_str().unwrap();
    assert!(description.contains("unknown key"), "{description}");
}

/// No other token comes in between: the refresh of old keys alone voids the entry.
#[tokio::test]
async fn a_cached_token_is_refused_once_a_refresh_drops_its_key() {
    // Every request refreshes the keys (the JWKS is unchanged until we change it).
    let (issuer, me) = api_with(|b| b.jwks_max_age(Duration::ZERO)).await;
    let bearer = format!("Bearer {}", sign(&issuer.key, &claims(&issuer.url)));
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");
    assert!(
        issuer.jwks_fetches() > 1,
        "the keys were refreshed meanwhile"
    );

    issuer.unpublish_all();
    crate::get(&me, &[&bearer]).await.assert_invalid_token();
}

/// Same header and claims as a cached token, another signature: another token.
#[tokio::test]
async fn a_forgery_of_a_cached_token_is_refused() {
    let setup = setup().await;
    let claims = claims(&setup.issuer.url);
    let token = sign(&setup.issuer.key, &claims);
    setup.get_me(&token).await.assert_ok_for("alice");

    let (_, private) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let kid = Some(setup.issuer.key.kid().to_owned());
    let forger = SigningKey::from_private(Algorithm::EdDSA, &private, kid).unwrap();
    let forged = sign(&forger, &claims);
    let signed_part = |t: &str| t.rsplit_once('.').unwrap().0.to_owned();
    assert_eq!(signed_part(&forged), signed_part(&token));
    let answer = setup.get_me(&forged).await;
    answer.assert_invalid_token();
    let description = answer.body["error_description"].as_str().unwrap();
    assert!(description.contains("signature"), "{description}");
    setup.get_me(&token).await.assert_ok_for("alice");
}

#[tokio::test]
async fn an_expired_token_is_refused_though_cached() {
    let (issuer, me) = api_with(|b| b.leeway(0)).await;
    let exp = now() + 2;
    let token = sign(&issuer.key, &claims_with(&issuer.url, json!({"exp": exp})));
    let bearer = format!("Bearer {token}");
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");

    eventually("the token expires", Duration::from_secs(5), async || {
        now() > exp
    })
    .await;
    let answer = crate::get(&me, &[&bearer]).await;
    answer.assert_invalid_token();
    let description = answer.body["error_description"].as_str().unwrap();
    assert!(description.contains("expired"), "{description}");
}

/// The cache saves the signature check, not the revocation check.
#[tokio::test]
async fn a_cached_token_is_still_checked_for_revocation() {
    let (issuer, me) =
        api_with(|b| b.introspection(CLIENT_ID, CLIENT_SECRET, Duration::ZERO)).await;
    let bearer = format!("Bearer {}", sign(&issuer.key, &claims(&issuer.url)));
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");
    crate::get(&me, &[&bearer]).await.assert_ok_for("alice");
    issuer.deactivate("j1");
    crate::get(&me, &[&bearer]).await.assert_revoked();
}

/// `token_cache(0)` turns the cache off; everything else behaves the same.
#[tokio::test]
async fn without_a_cache_tokens_still_verify() {
    let issuer = MockIssuer::start().await;
    let verifier = Verifier::builder(&issuer.url, AUD)
        .token_cache(0)
        .build()
        .await
        .unwrap();
    assert!(format!("{verifier:?}").contains("token_cache: 0"));
    let api = spawn_api(verifier).await;
    let bearer = format!("Bearer {}", sign(&issuer.key, &claims(&issuer.url)));
    for _ in 0..2 {
        crate::get(&format!("{api}/me"), &[&bearer])
            .await
            .assert_ok_for("alice");
    }
}

/// An issuer, and an API whose verifier `configure` sets up; returns the issuer and
/// the API's `/me` URL.
async fn api_with(
    configure: impl FnOnce(VerifierBuilder) -> VerifierBuilder,
) -> (MockIssuer, String) {
    let issuer = MockIssuer::start().await;
    let verifier = configure(Verifier::builder(&issuer.url, AUD))
        .build()
        .await
        .unwrap();
    let me = format!("{}/me", spawn_api(verifier).await);
    (issuer, me)
}
