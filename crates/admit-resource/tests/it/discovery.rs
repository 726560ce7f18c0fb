//! Building a verifier: discovery (RFC 8414 §3, OpenID Connect Discovery §4) and
//! the limits on what is fetched.

use admit_resource::{FetchError, SetupError, Verifier};

use crate::{AUD, MockIssuer, claims, sign, spawn_api};

#[tokio::test]
async fn metadata_for_another_issuer_fails_the_build() {
    let issuer = MockIssuer::start().await;
    issuer.set_metadata_issuer("https://evil.example");
    let error = Verifier::builder(&issuer.url, AUD)
        .discover()
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(error, SetupError::IssuerMismatch { .. }),
        "{error}"
    );
    assert_eq!(
        issuer.jwks_fetches(),
        0,
        "no keys are fetched from a mismatched document"
    );
}

/// RFC 8414 §3.3 asks for an identical issuer: a trailing slash is a different one.
#[tokio::test]
async fn issuer_comparison_is_exact() {
    let issuer = MockIssuer::start().await;
    let error = Verifier::builder(format!("{}/", issuer.url), AUD)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(error, SetupError::IssuerMismatch { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn falls_back_to_oauth_authorization_server_metadata() {
    let issuer = MockIssuer::start().await;
    issuer.without_openid_configuration();
    let verifier = Verifier::builder(&issuer.url, AUD)
        .discover()
        .build()
        .await
        .unwrap();
    let token = sign(&issuer.key, &claims(&issuer.url));
    assert_eq!(verifier.verify(&token).await.unwrap().sub, "alice");
}

#[tokio::test]
async fn no_metadata_at_all_fails_the_build() {
    let issuer = MockIssuer::start().await;
    let error = Verifier::builder(format!("{}/nowhere", issuer.url), AUD)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::Discovery(FetchError::Status { status: 404, .. })
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_jwks_uri_without_discovery() {
    let issuer = MockIssuer::start().await;
    let verifier = Verifier::builder(&issuer.url, AUD)
        .jwks_uri(format!("{}/jwks", issuer.url))
        .build()
        .await
        .unwrap();
    let api = spawn_api(verifier).await;
    let token = sign(&issuer.key, &claims(&issuer.url));
    crate::get(&format!("{api}/me"), &[&format!("Bearer {token}")])
        .await
        .assert_ok_for("alice");
}

#[tokio::test]
async fn what_is_not_a_small_json_200_is_refused() {
    let issuer = MockIssuer::start().await;
    let build = |path: &str| {
        Verifier::builder(&issuer.url, AUD)
            .jwks_uri(format!("{}{path}", issuer.url))
            .build()
    };
    let error = build("/jwks-html").await.unwrap_err();
    assert!(
        matches!(error, SetupError::Jwks(FetchError::NotJson { .. })),
        "{error}"
    );
    let error = build("/jwks-big").await.unwrap_err();
    assert!(
        matches!(error, SetupError::Jwks(FetchError::TooLarge { .. })),
        "{error}"
    );
    let error = build("/missing").await.unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::Jwks(FetchError::Status { status: 404, .. })
        ),
        "{error}"
    );
    issuer.set_jwks_down(true);
    let error = build("/jwks").await.unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::Jwks(FetchError::Status { status: 503, .. })
        ),
        "{error}"
    );
}
