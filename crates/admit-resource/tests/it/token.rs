//! Tokens that must be refused with 401 `invalid_token` (RFC 6750 §3.1, RFC 9068 §4,
//! RFC 8725 §2).

use admit_jose::{Algorithm, SigningKey};
use serde_json::json;

use crate::{Setup, b64, claims, now, setup, sign};

/// The API must refuse `token` with 401 `invalid_token`, for the reason `because`
/// (a fragment of the description), so that no case passes for another reason.
async fn refused(setup: &Setup, token: &str, because: &str) {
    let answer = setup.get_me(token).await;
    answer.assert_invalid_token();
    let description = answer.body["error_description"].as_str().unwrap();
    assert!(
        description.contains(because),
        "{description:?} does not say {because:?}"
    );
    assert!(answer.challenge.unwrap().contains(description));
}

#[tokio::test]
async fn expired() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims["exp"] = json!(now() - 120);
    refused(&setup, &sign(&setup.issuer.key, &claims), "expired").await;
}

#[tokio::test]
async fn wrong_issuer() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims["iss"] = json!("https://other.example");
    refused(&setup, &sign(&setup.issuer.key, &claims), "another issuer").await;
}

#[tokio::test]
async fn wrong_audience() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims["aud"] = json!(["https://other-api.example"]);
    refused(
        &setup,
        &sign(&setup.issuer.key, &claims),
        "not meant for this resource",
    )
    .await;
}

/// RFC 9068 §4: an ID token or any other JWT from the same issuer is not an access token.
#[tokio::test]
async fn wrong_type() {
    let setup = setup().await;
    let token = admit_jose::sign(&setup.issuer.key, "JWT", &claims(&setup.issuer.url)).unwrap();
    refused(&setup, &token, "typ must be at+jwt").await;
}

#[tokio::test]
async fn missing_required_claim() {
    let setup = setup().await;
    let mut claims = claims(&setup.issuer.url);
    claims.as_object_mut().unwrap().remove("client_id");
    refused(
        &setup,
        &sign(&setup.issuer.key, &claims),
        "lacks the client_id claim",
    )
    .await;
}

#[tokio::test]
async fn tampered_payload() {
    let setup = setup().await;
    let token = sign(&setup.issuer.key, &claims(&setup.issuer.url));
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims(&setup.issuer.url);
    forged["sub"] = json!("mallory");
    forged["scope"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(forged.to_string()), parts[2]);
    refused(&setup, &tampered, "signature does not verify").await;
}

#[tokio::test]
async fn alg_none() {
    let setup = setup().await;
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": setup.issuer.key.kid()});
    let token = format!(
        "{}.{}.",
        b64(header.to_string()),
        b64(claims(&setup.issuer.url).to_string())
    );
    refused(&setup, &token, "algorithm is not accepted").await;
}

/// RFC 8725 §2.1: the public key used as an HMAC secret must not verify anything.
#[tokio::test]
async fn hs256_signed_with_the_public_key() {
    let setup = setup().await;
    let jwk = setup.issuer.key.public_jwk().unwrap();
    let public_bytes = {
        use base64::Engine;
        let x = jwk.x.as_deref().unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(x)
            .unwrap()
    };
    let kid = Some(setup.issuer.key.kid().to_owned());
    for secret in [public_bytes, serde_json::to_vec(&jwk).unwrap()] {
        let forger = SigningKey::from_private(Algorithm::HS256, &secret, kid.clone()).unwrap();
        refused(
            &setup,
            &sign(&forger, &claims(&setup.issuer.url)),
            "algorithm is not accepted",
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_kid() {
    let setup = setup().await;
    let (stranger, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    refused(
        &setup,
        &sign(&stranger, &claims(&setup.issuer.url)),
        "unknown key",
    )
    .await;
    assert_eq!(
        setup.issuer.jwks_fetches(),
        2,
        "one refetch before giving up"
    );
}

/// Same `kid` as the issuer's key, signed by another key.
#[tokio::test]
async fn forged_signature_under_a_known_kid() {
    let setup = setup().await;
    let (_, private) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let kid = Some(setup.issuer.key.kid().to_owned());
    let forger = SigningKey::from_private(Algorithm::EdDSA, &private, kid).unwrap();
    refused(
        &setup,
        &sign(&forger, &claims(&setup.issuer.url)),
        "signature does not verify",
    )
    .await;
}

#[tokio::test]
async fn not_a_jwt() {
    let setup = setup().await;
    refused(&setup, "abc", "malformed").await;
    refused(&setup, "a.b.c", "malformed").await;
}
