//! Static keys, and HS256: only with a shared secret given explicitly and named in
//! the algorithms.

use admit_jose::{Algorithm, KeySet, SigningKey, VerifyingKey};
use admit_resource::{SetupError, Verifier};

use crate::{AUD, claims, get, sign, spawn_api};

const ISS: &str = "https://hs.example";
const SECRET: &[u8] = b"a shared secret of at least 32 bytes, for tests";

fn shared_key() -> SigningKey {
    SigningKey::from_private(Algorithm::HS256, SECRET, Some("shared".into())).unwrap()
}

async fn api(keys: Vec<VerifyingKey>, algorithms: &[Algorithm]) -> String {
    let verifier = Verifier::builder(ISS, AUD)
        .keys(KeySet::new(keys))
        .algorithms(algorithms.iter().copied())
        .build()
        .await
        .unwrap();
    spawn_api(verifier).await
}

async fn get_me(api: &str, token: &str) -> crate::Answer {
    get(&format!("{api}/me"), &[&format!("Bearer {token}")]).await
}

#[tokio::test]
async fn hs256_with_a_shared_secret() {
    let api = api(
        vec![VerifyingKey::hmac(SECRET, Some("shared".into())).unwrap()],
        &[Algorithm::HS256],
    )
    .await;
    get_me(&api, &sign(&shared_key(), &claims(ISS)))
        .await
        .assert_ok_for("alice");

    let wrong =
        SigningKey::from_private(Algorithm::HS256, &[7; 32], Some("shared".into())).unwrap();
    get_me(&api, &sign(&wrong, &claims(ISS)))
        .await
        .assert_invalid_token();
}

#[tokio::test]
async fn hs256_mode_refuses_asymmetric_tokens_unless_allowed() {
    let (ed, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let keys = || {
        vec![
            VerifyingKey::hmac(SECRET, Some("shared".into())).unwrap(),
            ed.verifying_key().unwrap(),
        ]
    };
    let token = sign(&ed, &claims(ISS));

    let hs256_only = api(keys(), &[Algorithm::HS256]).await;
    get_me(&hs256_only, &token).await.assert_invalid_token();
    get_me(&hs256_only, &sign(&shared_key(), &claims(ISS)))
        .await
        .assert_ok_for("alice");

    let both = api(keys(), &[Algorithm::HS256, Algorithm::EdDSA]).await;
    get_me(&both, &token).await.assert_ok_for("alice");
}

/// The default algorithms never include HS256, even when the key set has a secret.
#[tokio::test]
async fn hs256_is_off_by_default() {
    let verifier = Verifier::builder(ISS, AUD)
        .keys(KeySet::new(vec![
            VerifyingKey::hmac(SECRET, Some("shared".into())).unwrap(),
        ]))
        .build()
        .await
        .unwrap();
    let error = verifier
        .verify(&sign(&shared_key(), &claims(ISS)))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        admit_resource::BearerError::InvalidToken(admit_jose::JoseError::AlgorithmNotAllowed(
            "HS256"
        ))
    );
}

#[tokio::test]
async fn hs256_cannot_be_enabled_with_fetched_keys() {
    for builder in [
        Verifier::builder(ISS, AUD),
        Verifier::builder(ISS, AUD).jwks_uri("http://127.0.0.1:9/jwks"),
    ] {
        let error = builder
            .algorithms([Algorithm::HS256, Algorithm::EdDSA])
            .build()
            .await
            .unwrap_err();
        assert!(matches!(error, SetupError::Config(_)), "{error}");
    }
}

#[tokio::test]
async fn configuration_mistakes_fail_the_build() {
    let error = Verifier::builder(ISS, AUD)
        .keys(KeySet::default())
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, SetupError::Config(_)), "{error}");
    let (ed, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let error = Verifier::builder(ISS, AUD)
        .keys(KeySet::new(vec![ed.verifying_key().unwrap()]))
        .algorithms([])
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, SetupError::Config(_)), "{error}");
}
