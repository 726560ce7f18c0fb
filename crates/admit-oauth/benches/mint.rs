//! The protocol core's share of a client-credentials request, without HTTP or
//! storage: parse the form, authenticate the client, grant the scope, build the
//! RFC 9068 claims, sign them and serialise the response. Beside it, the signature
//! alone: what is left is the protocol core's own cost.
//!
//! `cargo bench -p admit-oauth --bench mint` (results in BENCHMARKS.md).

use admit_jose::{Algorithm, SigningKey};
use admit_oauth::client::{Client, GrantType};
use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use admit_oauth::token::{
    AccessTokenGrant, Grant, TokenRequest, TokenResponse, check_grant_allowed,
};
use admit_oauth::{client_auth, secret};
use criterion::{Criterion, criterion_group, criterion_main};

const NOW: i64 = 1_700_000_000;
const BASIC: &str = "Basic c3ZjOnM0OS1zZWNyZXQtb2YtdGhlLXNlcnZpY2U="; // svc:s49-secret-of-the-service
const BODY: &[u8] = b"grant_type=client_credentials&scope=read";

fn client() -> Client {
    Client {
        client_id: "svc".to_owned(),
        secret_hash: Some(secret::hash("s49-secret-of-the-service")),
        grant_types: vec![GrantType::ClientCredentials],
        scopes: Scope::parse("read write").unwrap(),
        redirect_uris: vec![],
    }
}

fn mint(key: &SigningKey, client: &Client) -> Vec<u8> {
    let params = Params::parse(BODY).unwrap();
    let presented = client_auth::presented(Some(BASIC), &params).unwrap();
    client_auth::authenticate(&presented, Some(client)).unwrap();
    let request = TokenRequest::parse(&params).unwrap();
    check_grant_allowed(client, request.grant.grant_type()).unwrap();
    assert!(matches!(request.grant, Grant::ClientCredentials));
    let scope = Scope::grant(request.scope.as_deref(), &client.scopes).unwrap();
    let grant = AccessTokenGrant {
        issuer: "https://issuer.example",
        audience: "https://issuer.example",
        client_id: &client.client_id,
        subject: &client.client_id,
        scope: &scope,
        auth_time: None,
        lifetime: 600,
        jti: "XUJbXW6eQTCSn-Qc7k_EnA".to_owned(),
        session_id: None,
        grant_id: None,
    };
    let jwt = admit_jose::sign(key, admit_jose::ACCESS_TOKEN_TYP, &grant.claims(NOW)).unwrap();
    serde_json::to_vec(&TokenResponse::bearer(jwt, 600, &scope)).unwrap()
}

fn client_credentials(c: &mut Criterion) {
    let client = client();
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
        let (key, _) = SigningKey::generate(alg).unwrap();
        let mut group = c.benchmark_group(format!("client credentials {}", alg.name()));
        group.bench_function("mint (protocol core)", |b| b.iter(|| mint(&key, &client)));
        group.bench_function("signature alone", |b| {
            b.iter(|| {
                key.sign(b"eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0")
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, client_credentials);
criterion_main!(benches);
