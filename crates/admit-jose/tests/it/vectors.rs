//! RFC 7515 appendix A, RFC 8037 appendix A and RFC 7638 thumbprints.

use admit_jose::{Algorithm, Jwk, SigningKey, UnverifiedJwt, VerifyingKey};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../vectors/rfc.json")).unwrap()
}

fn signing_input(jws: &str) -> &str {
    &jws[..jws.rfind('.').unwrap()]
}

fn public_jwk(private: &Value) -> Jwk {
    serde_json::from_value(private.clone()).unwrap()
}

/// Deterministic algorithms must reproduce the published signature exactly,
/// and every published token must verify with the published public key.
#[test]
fn rfc7515_a1_hs256() {
    let v = &vectors()["rfc7515_a1_hs256"];
    let secret = crate::b64_decode(v["key"]["k"].as_str().unwrap());
    let jws = v["jws"].as_str().unwrap();
    let key = SigningKey::from_private(Algorithm::HS256, &secret, None).unwrap();
    assert_eq!(
        crate::b64(key.sign(signing_input(jws).as_bytes()).unwrap()),
        jws.rsplit('.').next().unwrap()
    );
    let jwt = UnverifiedJwt::parse(jws).unwrap();
    let claims = jwt
        .verify(&key.verifying_key().unwrap(), &[Algorithm::HS256])
        .unwrap();
    assert_eq!(claims["iss"], "joe");
}

#[test]
fn rfc7515_a2_rs256() {
    let v = &vectors()["rfc7515_a2_rs256"];
    let jws = v["jws"].as_str().unwrap();
    let key = SigningKey::from_private_jwk(&v["key"], None).unwrap();
    assert_eq!(
        crate::b64(key.sign(signing_input(jws).as_bytes()).unwrap()),
        jws.rsplit('.').next().unwrap()
    );
    let public = VerifyingKey::from_jwk(&public_jwk(&v["key"])).unwrap();
    UnverifiedJwt::parse(jws)
        .unwrap()
        .verify(&public, &[Algorithm::RS256])
        .unwrap();
}

#[test]
fn rfc7515_a3_es256() {
    // ECDSA is randomised: check the published signature, and a round trip of our own.
    let v = &vectors()["rfc7515_a3_es256"];
    let jws = v["jws"].as_str().unwrap();
    let public = VerifyingKey::from_jwk(&public_jwk(&v["key"])).unwrap();
    UnverifiedJwt::parse(jws)
        .unwrap()
        .verify(&public, &[Algorithm::ES256])
        .unwrap();
    let key = SigningKey::from_private_jwk(&v["key"], None).unwrap();
    let ours = key.sign(signing_input(jws).as_bytes()).unwrap();
    public.verify(signing_input(jws).as_bytes(), &ours).unwrap();
}

#[test]
fn rfc8037_a4_ed25519() {
    let v = &vectors()["rfc8037_a4_ed25519"];
    let jws = v["jws"].as_str().unwrap();
    let key = SigningKey::from_private_jwk(&v["key"], None).unwrap();
    assert_eq!(
        crate::b64(key.sign(signing_input(jws).as_bytes()).unwrap()),
        jws.rsplit('.').next().unwrap()
    );
    // The payload is plain text, not claims: check the signature alone.
    let public = VerifyingKey::from_jwk(&public_jwk(&v["key"])).unwrap();
    let jwt = UnverifiedJwt::parse(jws).unwrap();
    public
        .verify(signing_input(jws).as_bytes(), jwt.signature())
        .unwrap();
    // RFC 8037 A.3: the thumbprint of this key is the kid admit gives it.
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn rfc7638_thumbprints() {
    for case in vectors()["rfc7638_thumbprints"].as_array().unwrap() {
        let jwk = public_jwk(&case["key"]);
        assert_eq!(
            jwk.thumbprint().unwrap(),
            case["thumbprint"].as_str().unwrap()
        );
    }
}

#[test]
fn generated_keys_round_trip_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let (key, private) = SigningKey::generate(alg).unwrap();
        let again = SigningKey::from_private(alg, &private, Some(key.kid().into())).unwrap();
        let token = admit_jose::sign(&again, "at+jwt", &crate::claims()).unwrap();
        let (_, keys) = (
            0,
            admit_jose::KeySet::new(vec![key.verifying_key().unwrap()]),
        );
        let mut validation = crate::validation();
        validation.algorithms = vec![alg];
        keys.verify(&token, &validation, crate::NOW).unwrap();
        match key.public_jwk() {
            // Published keys carry kid, alg and use, and never a private member.
            Some(jwk) => {
                let text = serde_json::to_value(&jwk).unwrap();
                assert_eq!(text["kid"], key.kid());
                assert_eq!(text["alg"], alg.name());
                assert_eq!(text["use"], "sig");
                assert!(text.get("d").is_none());
                assert_eq!(jwk.thumbprint().unwrap(), key.kid());
            }
            None => assert!(alg.is_symmetric()),
        }
    }
}
