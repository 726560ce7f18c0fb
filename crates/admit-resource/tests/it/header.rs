//! The Authorization header itself (RFC 6750 §2.1, §3.1).

use crate::{claims, get, setup, sign};

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    let answer = setup.get_me(&token).await;
    answer.assert_ok_for("alice");
    assert_eq!(answer.body["client_id"], "app");
    assert_eq!(answer.body["scope"], "read profile");
    assert_eq!(answer.body["iss"], setup.issuer.url);
}

#[tokio::test]
async fn scheme_is_case_insensitive() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    get(&format!("{}/me", setup.api), &[&format!("bEaReR {token}")])
        .await
        .assert_ok_for("alice");
}

#[tokio::test]
async fn missing_header_is_a_bare_challenge() {
    let setup = setup().await;
    let answer = get(&format!("{}/me", setup.api), &[]).await;
    assert_eq!(answer.status, 401);
    // RFC 6750 §3.1: no error code when the request has no authentication.
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="test-api""#)
    );
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    assert!(answer.body["error_description"].is_string());
}

#[tokio::test]
async fn malformed_authorization_is_invalid_request() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    let bearer = format!("Bearer {token}");
    let cases: [&[&str]; 6] = [
        &["Basic xyz"],
        &["Bearer"],
        &["Bearer "],
        &["Bearer a b"],
        &["Bearer a\"b"],
        &[&bearer, &bearer],
    ];
    for authorization in cases {
        let answer = get(&format!("{}/me", setup.api), authorization).await;
        answer.assert_refused(400, "invalid_request");
    }
}

#[tokio::test]
async fn a_handler_without_the_layer_is_a_server_error() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    let answer = get(
        &format!("{}/unguarded", setup.api),
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body["error"], "server_error");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("BearerLayer")
    );
}
