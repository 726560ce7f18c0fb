//! JWT signing and verification for each algorithm admit offers, beside the raw
//! aws-lc-rs primitive doing the same signature (the ceiling on one core) and the
//! `jsonwebtoken` crate doing the same work on the same backend.
//!
//! `cargo bench -p admit-jose` (results and machine in BENCHMARKS.md).

use admit_jose::{Algorithm, KeySet, SigningKey, Validation, sign};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const NOW: i64 = 1_700_000_000;

fn claims() -> serde_json::Value {
    json!({"iss": "https://issuer.example", "sub": "S9p0R4UbAC6TnWAMW9jjEA", "aud": "https://issuer.example",
           "exp": NOW + 600, "iat": NOW, "jti": "XUJbXW6eQTCSn-Qc7k_EnA", "client_id": "app", "scope": "read write"})
}

fn jwt(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        let (key, pkcs8) = SigningKey::generate(alg).unwrap();
        let keys = KeySet::new(vec![key.verifying_key().unwrap()]);
        let mut validation =
            Validation::access_token("https://issuer.example", "https://issuer.example");
        validation.algorithms = vec![alg];
        let claims = claims();
        let token = sign(&key, "at+jwt", &claims).unwrap();
        let input = &token[..token.rfind('.').unwrap()];
        let signature = key.sign(input.as_bytes()).unwrap();
        let verifying = key.verifying_key().unwrap();

        let mut group = c.benchmark_group(alg.name());
        group.bench_function("sign JWT", |b| {
            b.iter(|| sign(&key, "at+jwt", &claims).unwrap())
        });
        group.bench_function("sign (primitive)", |b| {
            b.iter(|| key.sign(input.as_bytes()).unwrap())
        });
        group.bench_function("verify JWT", |b| {
            b.iter(|| keys.verify(&token, &validation, NOW).unwrap())
        });
        group.bench_function("verify (primitive)", |b| {
            b.iter(|| verifying.verify(input.as_bytes(), &signature).unwrap())
        });
        if let Some((encoding, decoding, validation)) = jsonwebtoken_keys(alg, &key, &pkcs8) {
            let header = jsonwebtoken::Header::new(validation.algorithms[0]);
            // jsonwebtoken reads the system clock, so its claims expire in real time.
            let mut their_claims = claims.clone();
            their_claims["exp"] = json!(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 600
            );
            let their_token = jsonwebtoken::encode(&header, &their_claims, &encoding).unwrap();
            group.bench_function("sign JWT (jsonwebtoken)", |b| {
                b.iter(|| jsonwebtoken::encode(&header, &claims, &encoding).unwrap())
            });
            group.bench_function("verify JWT (jsonwebtoken)", |b| {
                b.iter(|| {
                    jsonwebtoken::decode::<serde_json::Value>(&their_token, &decoding, &validation)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

/// The same key in `jsonwebtoken`'s types, kept across iterations as a caller would
/// (its `encode` still parses the private key on every call). None for HS256, whose
/// key admit derives and does not export as PKCS#8.
fn jsonwebtoken_keys(
    alg: Algorithm,
    key: &SigningKey,
    pkcs8: &[u8],
) -> Option<(
    jsonwebtoken::EncodingKey,
    jsonwebtoken::DecodingKey,
    jsonwebtoken::Validation,
)> {
    use jsonwebtoken::{Algorithm as A, DecodingKey, EncodingKey, jwk::Jwk};
    let (their_alg, encoding) = match alg {
        Algorithm::EdDSA => (A::EdDSA, EncodingKey::from_ed_der(pkcs8)),
        Algorithm::ES256 => (A::ES256, EncodingKey::from_ec_der(pkcs8)),
        // `from_rsa_der` wants PKCS#1; its PEM reader takes PKCS#8.
        Algorithm::RS256 => (
            A::RS256,
            EncodingKey::from_rsa_pem(pem(pkcs8).as_bytes()).ok()?,
        ),
        Algorithm::HS256 => return None,
    };
    let jwk: Jwk = serde_json::from_value(serde_json::to_value(key.public_jwk()?).ok()?).ok()?;
    let decoding = DecodingKey::from_jwk(&jwk).ok()?;
    let mut validation = jsonwebtoken::Validation::new(their_alg);
    validation.set_issuer(&["https://issuer.example"]);
    validation.set_audience(&["https://issuer.example"]);
    Some((encoding, decoding, validation))
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

criterion_group!(benches, jwt);
criterion_main!(benches);
