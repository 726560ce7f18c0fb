//! JWT signing and verification for each algorithm admit offers, beside the raw
//! aws-lc-rs primitive doing the same signature: the ceiling on one core.
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
        let (key, _) = SigningKey::generate(alg).unwrap();
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
        group.finish();
    }
}

criterion_group!(benches, jwt);
criterion_main!(benches);
