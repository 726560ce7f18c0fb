//! Required scopes (RFC 6750 §3.1 `insufficient_scope`).

use serde_json::json;

use crate::{claims, get, setup, sign};

#[tokio::test]
async fn missing_scope_is_403_naming_the_required_scope() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    let answer = get(
        &format!("{}/admin", setup.api),
        &[&format!("Bearer {token}")],
    )
    .await;
    answer.assert_refused(403, "insufficient_scope");
    assert!(answer.challenge.unwrap().ends_with(r#", scope="admin""#));
}

#[tokio::test]
async fn the_required_scope_lets_the_request_through() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims["scope"] = json!("read admin");
    let token = sign(&setup.issuer.key, &claims);
    get(
        &format!("{}/admin", setup.api),
        &[&format!("Bearer {token}")],
    )
    .await
    .assert_ok_for("alice");
}

/// A scope is a whole space-separated word, never a substring.
#[tokio::test]
async fn a_scope_that_only_contains_the_name_is_not_it() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims["scope"] = json!("administrator read:admin");
    let token = sign(&setup.issuer.key, &claims);
    get(
        &format!("{}/admin", setup.api),
        &[&format!("Bearer {token}")],
    )
    .await
    .assert_refused(403, "insufficient_scope");
}

#[tokio::test]
#[should_panic(expected = "not a scope-token")]
async fn a_scope_with_a_space_is_a_programming_error() {
    let setup = setup().await;
    let verifier = admit_resource::Verifier::builder(&setup.issuer.url, crate::AUD)
        .build()
        .await
        .unwrap();
    let _ = admit_resource::BearerLayer::new(verifier).require_scopes(["read write"]);
}
