//! The JWKS cache: rotation, the refetch floor, single flight, and an issuer that
//! goes away.

use std::time::Duration;

use admit_jose::{Algorithm, SigningKey};
use admit_resource::Verifier;
use tokio::task::JoinSet;

use crate::{AUD, MockIssuer, claims, setup, sign, spawn_api};

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_accepted() {
    let setup = setup().await;
    assert_eq!(
        setup.issuer.jwks_fetches(),
        1,
        "build fetches the JWKS once"
    );
    let (next, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    setup.issuer.publish(&next);

    let token = sign(&next, &claims(&setup.issuer.url));
    setup.get_me(&token).await.assert_ok_for("alice");
    assert_eq!(setup.issuer.jwks_fetches(), 2);
    // Known now: no further fetch, and the old key still works.
    setup.get_me(&token).await.assert_ok_for("alice");
    setup
        .get_me(&sign(&setup.issuer.key, &claims(&setup.issuer.url)))
        .await
        .assert_ok_for("alice");
    assert_eq!(setup.issuer.jwks_fetches(), 2);
}

/// Regression guard: unknown `kid`s are free to send, so they must not turn the API
/// into a way to flood the issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_unknown_kids_causes_one_refetch() {
    let setup = setup().await;
    let before = setup.issuer.jwks_fetches();
    let (_, private) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let mut burst = JoinSet::new();
    for i in 0..50 {
        let key =
            SigningKey::from_private(Algorithm::EdDSA, &private, Some(format!("unknown-{i}")))
                .unwrap();
        let token = sign(&key, &claims(&setup.issuer.url));
        let url = format!("{}/me", setup.api);
        burst.spawn(async move { crate::get(&url, &[&format!("Bearer {token}")]).await });
    }
    while let Some(answer) = burst.join_next().await {
        answer.unwrap().assert_invalid_token();
    }
    assert_eq!(setup.issuer.jwks_fetches() - before, 1);

    // Within the floor even a key the issuer has since published waits.
    let (late, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    setup.issuer.publish(&late);
    setup
        .get_me(&sign(&late, &claims(&setup.issuer.url)))
        .await
        .assert_invalid_token();
    assert_eq!(setup.issuer.jwks_fetches() - before, 1);
}

#[tokio::test]
async fn old_keys_keep_working_while_the_jwks_is_down() {
    let issuer = MockIssuer::start().await;
    // Every request wants fresh keys and may refetch: the worst case for an outage.
    let verifier = Verifier::builder(&issuer.url, AUD)
        .jwks_max_age(Duration::ZERO)
        .refetch_floor(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let api = spawn_api(verifier).await;
    issuer.set_jwks_down(true);

    let token = sign(&issuer.key, &claims(&issuer.url));
    for _ in 0..3 {
        crate::get(&format!("{api}/me"), &[&format!("Bearer {token}")])
            .await
            .assert_ok_for("alice");
    }
    assert!(issuer.jwks_fetches() > 1, "the verifier did try to refresh");

    // A key it never had stays unknown: 401, not 503, since some keys are known.
    let (stranger, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    crate::get(
        &format!("{api}/me"),
        &[&format!("Bearer {}", sign(&stranger, &claims(&issuer.url)))],
    )
    .await
    .assert_invalid_token();

    issuer.set_jwks_down(false);
    crate::get(&format!("{api}/me"), &[&format!("Bearer {token}")])
        .await
        .assert_ok_for("alice");
}

#[tokio::test]
async fn no_keys_and_no_jwks_is_503() {
    let issuer = MockIssuer::start().await;
    issuer.unpublish_all();
    let verifier = Verifier::builder(&issuer.url, AUD).build().await.unwrap();
    let api = spawn_api(verifier).await;
    issuer.set_jwks_down(true);

    let token = sign(&issuer.key, &claims(&issuer.url));
    let answer = crate::get(&format!("{api}/me"), &[&format!("Bearer {token}")]).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_key_published_after_start_is_found() {
    let issuer = MockIssuer::start().await;
    issuer.unpublish_all();
    let verifier = Verifier::builder(&issuer.url, AUD).build().await.unwrap();
    let api = spawn_api(verifier).await;
    issuer.publish(&issuer.key);

    let token = sign(&issuer.key, &claims(&issuer.url));
    crate::get(&format!("{api}/me"), &[&format!("Bearer {token}")])
        .await
        .assert_ok_for("alice");
}
