//! Each known JWT attack (RFC 8725 §2) is refused, with the reason it is refused.

use admit_jose::{Algorithm, JoseError, KeySet, SigningKey, sign};
use serde_json::{Value, json};

use crate::{AUD, ISS, NOW, b64, claims, issuer, validation};

/// Builds a token from raw header and claims, signed by `sign_with` over the signing input.
fn forge(header: Value, claims: &Value, sign_with: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = sign_with(input.as_bytes());
    format!("{input}.{}", b64(signature))
}

fn check(keys: &KeySet, token: &str) -> Result<(), JoseError> {
    keys.verify(token, &validation(), NOW).map(|_| ())
}

#[test]
fn a_valid_token_passes_for_each_asymmetric_algorithm() {
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
        let (key, keys) = issuer(alg);
        check(&keys, &sign(&key, "at+jwt", &claims()).unwrap()).unwrap();
    }
}

#[test]
fn alg_none_is_refused() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = forge(
            json!({"alg": alg, "typ": "at+jwt", "kid": key.kid()}),
            &claims(),
            |_| vec![],
        );
        assert!(
            matches!(
                check(&keys, &token),
                Err(JoseError::UnsupportedAlgorithm(_))
            ),
            "{alg}"
        );
    }
}

#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    // RFC 8725 §2.1: the attacker MACs with the published key bytes and says HS256.
    let (key, keys) = issuer(Algorithm::RS256);
    let public = serde_json::to_vec(&key.public_jwk().unwrap()).unwrap();
    let hmac = SigningKey::from_private(Algorithm::HS256, &public, Some(key.kid().into())).unwrap();
    let token = forge(
        json!({"alg": "HS256", "typ": "at+jwt", "kid": key.kid()}),
        &claims(),
        |m| hmac.sign(m).unwrap(),
    );
    assert_eq!(
        check(&keys, &token),
        Err(JoseError::AlgorithmNotAllowed("HS256"))
    );
    // Even where a caller allows HS256, a public key is never an HMAC key.
    let mut lenient = validation();
    lenient.algorithms.push(Algorithm::HS256);
    assert!(matches!(
        keys.verify(&token, &lenient, NOW),
        Err(JoseError::KeyAlgorithmMismatch { .. })
    ));
}

#[test]
fn a_key_is_only_used_for_its_own_algorithm() {
    let (ed, ed_keys) = issuer(Algorithm::EdDSA);
    let (es, _) = issuer(Algorithm::ES256);
    // An ES256 token that names the EdDSA key's kid.
    let token = forge(
        json!({"alg": "ES256", "typ": "at+jwt", "kid": ed.kid()}),
        &claims(),
        |m| es.sign(m).unwrap(),
    );
    assert!(matches!(
        check(&ed_keys, &token),
        Err(JoseError::KeyAlgorithmMismatch { .. })
    ));
}

#[test]
fn kid_tricks_find_no_key() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    for kid in [
        "../../../../dev/null",
        "' OR '1'='1",
        "",
        "*",
        &format!("{} ", key.kid()),
        &key.kid().to_uppercase(),
    ] {
        let token = forge(
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}),
            &claims(),
            |m| key.sign(m).unwrap(),
        );
        assert!(
            matches!(check(&keys, &token), Err(JoseError::UnknownKey(_))),
            "{kid:?}"
        );
    }
    // A kid of the wrong JSON type is malformed, not a lookup.
    let token = forge(
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": 7}),
        &claims(),
        |m| key.sign(m).unwrap(),
    );
    assert!(matches!(check(&keys, &token), Err(JoseError::Malformed(_))));
}

#[test]
fn embedded_or_remote_keys_in_the_header_are_ignored() {
    // RFC 8725 §3.10 / CVE-2018-0114: jwk, jku, x5u and x5c never choose the key.
    let (real, keys) = issuer(Algorithm::EdDSA);
    let (attacker, _) = issuer(Algorithm::EdDSA);
    let header = json!({
        "alg": "EdDSA", "typ": "at+jwt", "kid": real.kid(),
        "jwk": attacker.public_jwk().unwrap(),
        "jku": "https://attacker.example/jwks", "x5u": "https://attacker.example/cert",
        "x5c": ["MIIB"],
    });
    let token = forge(header, &claims(), |m| attacker.sign(m).unwrap());
    assert_eq!(check(&keys, &token), Err(JoseError::BadSignature));
}

#[test]
fn ecdsa_all_zero_signature_is_refused() {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
    let (key, keys) = issuer(Algorithm::ES256);
    let token = forge(
        json!({"alg": "ES256", "typ": "at+jwt", "kid": key.kid()}),
        &claims(),
        |_| vec![0; 64],
    );
    assert_eq!(check(&keys, &token), Err(JoseError::BadSignature));
}

#[test]
fn tampering_with_any_part_is_detected() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    let token = sign(&key, "at+jwt", &claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut more_scope = claims();
    more_scope["scope"] = json!("read admin");
    let header_without_typ =
        b64(json!({"alg": "EdDSA", "kid": key.kid(), "typ": "JWT"}).to_string());
    let mut sig = crate::b64_decode(parts[2]);
    sig[0] ^= 1;
    for forged in [
        format!("{}.{}.{}", parts[0], b64(more_scope.to_string()), parts[2]),
        format!("{header_without_typ}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], b64(&sig)),
    ] {
        assert_eq!(check(&keys, &forged), Err(JoseError::BadSignature));
    }
    assert!(matches!(
        check(&keys, &format!("{}.{}", parts[0], parts[1])),
        Err(JoseError::Malformed(_))
    ));
    assert!(matches!(
        check(&keys, &format!("{token}.x")),
        Err(JoseError::Malformed(_))
    ));
    assert!(matches!(
        check(&keys, &format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
        Err(JoseError::Malformed(_))
    ));
}

#[test]
fn time_claims_are_enforced_with_leeway() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    let with = |name: &str, value: i64| {
        let mut c = claims();
        c[name] = json!(value);
        sign(&key, "at+jwt", &c).unwrap()
    };
    assert_eq!(
        check(&keys, &with("exp", NOW - 31)),
        Err(JoseError::Expired)
    );
    check(&keys, &with("exp", NOW - 29)).unwrap();
    assert_eq!(
        check(&keys, &with("nbf", NOW + 31)),
        Err(JoseError::NotYetValid)
    );
    check(&keys, &with("nbf", NOW + 29)).unwrap();
    assert_eq!(
        check(&keys, &with("iat", NOW + 3600)),
        Err(JoseError::NotYetValid)
    );
    // Extreme values are judged, not overflowed into a panic.
    check(&keys, &with("exp", i64::MAX)).unwrap();
    assert_eq!(
        check(&keys, &with("iat", i64::MAX)),
        Err(JoseError::NotYetValid)
    );
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check(&keys, &sign(&key, "at+jwt", &no_exp).unwrap()),
        Err(JoseError::MissingClaim("exp"))
    );
}

#[test]
fn issuer_audience_and_type_must_match() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    let mut c = claims();
    c["iss"] = json!("https://evil.example");
    assert!(matches!(
        check(&keys, &sign(&key, "at+jwt", &c).unwrap()),
        Err(JoseError::WrongIssuer(_))
    ));
    let mut c = claims();
    c["aud"] = json!(["https://other.example"]);
    assert_eq!(
        check(&keys, &sign(&key, "at+jwt", &c).unwrap()),
        Err(JoseError::WrongAudience)
    );
    let mut c = claims();
    c["aud"] = json!(["https://other.example", AUD]);
    check(&keys, &sign(&key, "at+jwt", &c).unwrap()).unwrap();
    // An ID token (typ JWT) must not be accepted as an access token (RFC 9068 §4).
    assert!(matches!(
        check(&keys, &sign(&key, "JWT", &claims()).unwrap()),
        Err(JoseError::WrongType { .. })
    ));
    check(&keys, &sign(&key, "application/AT+JWT", &claims()).unwrap()).unwrap();
    assert_eq!(ISS, claims()["iss"]);
}

#[test]
fn unknown_critical_headers_are_refused() {
    let (key, keys) = issuer(Algorithm::EdDSA);
    for crit in [json!(["exp"]), json!(["b64"]), json!([])] {
        let token = forge(
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid(), "crit": crit, "b64": false}),
            &claims(),
            |m| key.sign(m).unwrap(),
        );
        assert!(matches!(
            check(&keys, &token),
            Err(JoseError::UnknownCritical(_))
        ));
    }
}

#[test]
fn oversized_and_garbage_tokens_are_refused_cheaply() {
    let (_, keys) = issuer(Algorithm::EdDSA);
    assert_eq!(
        check(&keys, &"a".repeat(admit_jose::MAX_TOKEN_LEN + 1)),
        Err(JoseError::TooLarge)
    );
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "e30.e30.",
        "\u{0}.\u{0}.\u{0}",
        "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.AA",
    ] {
        assert!(check(&keys, garbage).is_err(), "{garbage:?}");
    }
}

#[test]
fn weak_or_mismatched_jwks_are_refused() {
    use admit_jose::{Jwk, VerifyingKey};
    let (key, _) = issuer(Algorithm::EdDSA);
    let mut jwk: Jwk = key.public_jwk().unwrap();
    jwk.alg = Some("RS256".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(JoseError::InvalidKey(_))
    ));
    let mut jwk = key.public_jwk().unwrap();
    jwk.use_ = Some("enc".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(JoseError::InvalidKey(_))
    ));
    // A 1024-bit RSA key (RFC 7517 A.1's modulus is 2048; cut it in half).
    let (rsa, _) = issuer(Algorithm::RS256);
    let mut jwk = rsa.public_jwk().unwrap();
    let n = crate::b64_decode(jwk.n.as_deref().unwrap());
    jwk.n = Some(b64(&n[..128]));
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(JoseError::InvalidKey(_))
    ));
    assert!(matches!(
        VerifyingKey::hmac(b"short", None),
        Err(JoseError::InvalidKey(_))
    ));
}
