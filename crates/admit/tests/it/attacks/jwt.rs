//! JWT attacks (RFC 8725 §2) on the resource-server guard and on admit's own reader of
//! JWTs from strangers, the `id_token_hint` of RP-initiated logout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use admit_jose::{Algorithm, JwkSet, KeySet, SigningKey, VerifyingKey};
use admit_resource::Verifier;
use axum::Router;
use serde_json::{Value, json};

use super::{
    admit_keys, assert_invalid_token, b64, guarded_api, jws, merged, parts, present, serve, unb64,
};
use crate::code_flow::{VERIFIER, authorize_url, setup, urlencode};
use crate::harness::provisioned;

/// An attacker's web server: answers every request with `jwks`, counting them.
async fn attacker_site(jwks: Value) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let site = Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let jwks = jwks.clone();
        async move { axum::Json(jwks) }
    });
    (serve(site).await, hits)
}

/// The public JWK admit publishes under `kid`.
async fn published_jwk(t: &crate::harness::TestServer, kid: &str) -> Value {
    let jwks = t.get_json("/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    keys.iter().find(|k| k["kid"] == kid).unwrap().clone()
}

/// Forged, altered and misdirected access tokens (RFC 8725 §2.1, §2.6-§2.9 and §3.1-§3.11,
/// RFC 9068 §4): the guard takes keys only from admit's JWKS, checks the algorithm against
/// the key's own, then `typ`, `iss`, `aud` and times, and answers 401 `invalid_token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_forged_and_misdirected_access_tokens() {
    let p = provisioned().await;
    let (status, body) = p.login("read").await;
    assert_eq!(status, 200, "{body}");
    let genuine = body["access_token"].as_str().unwrap().to_owned();
    let (header, claims) = parts(&genuine);
    let kid = header["kid"].as_str().unwrap().to_owned();
    let keys = admit_keys(&p.t).await;
    let admit_key = keys.access_token_key();
    assert_eq!(admit_key.kid(), kid, "the key that signs access tokens");
    let public_jwk = published_jwk(&p.t, &kid).await;

    let (attacker, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let attacker_jwk = serde_json::to_value(attacker.public_jwk().unwrap()).unwrap();
    let (evil, hits) = attacker_site(json!({"keys": [attacker_jwk]})).await;
    let hmac = |secret: &[u8]| SigningKey::from_private(Algorithm::HS256, secret, None).unwrap();
    let jwk_as_secret = hmac(public_jwk.to_string().as_bytes());
    let x_as_secret = hmac(&unb64(public_jwk["x"].as_str().unwrap()));

    let now = admit_server::now();
    let header_with = |changes: Value| merged(&header, changes).to_string();
    let claims_with = |changes: Value| serde_json::to_vec(&merged(&claims, changes)).unwrap();
    let signed = |h: Value, c: Value| jws(&header_with(h), &claims_with(c), admit_key);
    let (signing_input, signature) = genuine.rsplit_once('.').unwrap();
    let header_part = signing_input.split('.').next().unwrap();

    let cases: Vec<(&str, String)> = vec![
        // §2.1, §3.1: `none` is not an algorithm.
        (
            "alg none, empty signature",
            format!(
                "{}.{}.",
                b64(header_with(json!({"alg": "none"}))),
                b64(claims_with(json!({})))
            ),
        ),
        (
            "alg None, empty signature",
            format!(
                "{}.{}.",
                b64(header_with(json!({"alg": "None"}))),
                b64(claims_with(json!({})))
            ),
        ),
        // §2.1, §3.1: algorithm confusion, the public key used as an HMAC secret.
        (
            "HS256 keyed with admit's public JWK, real kid",
            jws(
                &header_with(json!({"alg": "HS256"})),
                &claims_with(json!({})),
                &jwk_as_secret,
            ),
        ),
        (
            "HS256 keyed with admit's raw public key, real kid",
            jws(
                &header_with(json!({"alg": "HS256"})),
                &claims_with(json!({})),
                &x_as_secret,
            ),
        ),
        (
            "HS256 keyed with admit's raw public key, no kid",
            jws(
                &header_with(json!({"alg": "HS256", "kid": null})),
                &claims_with(json!({})),
                &x_as_secret,
            ),
        ),
        // §2.1, §3.3: a key admit does not publish, under the kid of one it does.
        (
            "attacker's key, real kid",
            jws(&header_with(json!({})), &claims_with(json!({})), &attacker),
        ),
        // §2.9, §3.10: the token does not choose its key (jwk, jku, x5u are ignored).
        (
            "embedded jwk, attacker's kid",
            jws(
                &header_with(json!({"kid": attacker.kid(), "jwk": attacker_jwk})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        (
            "embedded jwk, real kid",
            jws(
                &header_with(json!({"jwk": attacker_jwk})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        (
            "jku to the attacker's JWKS",
            jws(
                &header_with(json!({"kid": attacker.kid(), "jku": format!("{evil}/jwks.json")})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        (
            "x5u to the attacker's site",
            jws(
                &header_with(json!({"kid": attacker.kid(), "x5u": format!("{evil}/cert.pem")})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        // §2.9: a kid is compared, never used as a path or a query.
        (
            "kid path traversal",
            jws(
                &header_with(json!({"kid": "../../../../../../dev/null"})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        (
            "kid SQL injection",
            jws(
                &header_with(json!({"kid": "x' OR '1'='1"})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        // §2.1: signature stripped.
        ("signature stripped, dot kept", format!("{signing_input}.")),
        ("signature stripped, two parts", signing_input.to_owned()),
        // §3.3: payload changed after signing.
        (
            "payload tampered after signing",
            format!(
                "{header_part}.{}.{signature}",
                b64(claims_with(json!({"scope": "read admin"})))
            ),
        ),
        // RFC 7519 §4.1.4, §4.1.5: time limits (beyond the guard's 30 s leeway).
        (
            "expired",
            signed(json!({}), json!({"exp": now - 3600, "iat": now - 4200})),
        ),
        (
            "not yet valid",
            signed(json!({}), json!({"nbf": now + 3600})),
        ),
        (
            "issued in the future",
            signed(json!({}), json!({"iat": now + 3600})),
        ),
        ("no exp", signed(json!({}), json!({"exp": null}))),
        // §3.8: the issuer is compared exactly.
        (
            "wrong iss",
            signed(json!({}), json!({"iss": "https://evil.example"})),
        ),
        (
            "iss with a trailing slash",
            signed(json!({}), json!({"iss": format!("{}/", p.t.base)})),
        ),
        ("no iss", signed(json!({}), json!({"iss": null}))),
        // §2.7, §3.9, RFC 9700 §4.10.2: a token for another API.
        (
            "wrong aud",
            signed(json!({}), json!({"aud": "https://other-api.example"})),
        ),
        (
            "wrong aud in an array",
            signed(json!({}), json!({"aud": ["https://other-api.example"]})),
        ),
        ("no aud", signed(json!({}), json!({"aud": null}))),
        // §2.8, §3.11, RFC 9068 §2.1: an ID token (typ JWT) is not an access token.
        (
            "typ JWT (an ID token)",
            signed(json!({"typ": "JWT"}), json!({})),
        ),
        ("no typ", signed(json!({"typ": null}), json!({}))),
        // RFC 7515 §4.1.11: an extension the guard does not understand.
        (
            "unknown crit",
            signed(
                json!({"crit": ["urn:example:policy"], "urn:example:policy": "x"}),
                json!({}),
            ),
        ),
        (
            "crit naming a claim",
            signed(json!({"crit": ["exp"]}), json!({})),
        ),
        ("empty crit", signed(json!({"crit": []}), json!({}))),
        // §2.6: one header, two readings (RFC 7515 §4: no duplicate names).
        (
            "duplicate typ",
            jws(
                &format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{kid}","typ":"at+jwt"}}"#),
                &claims_with(json!({})),
                admit_key,
            ),
        ),
        (
            "duplicate alg",
            jws(
                &format!(r#"{{"alg":"none","alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#),
                &claims_with(json!({})),
                admit_key,
            ),
        ),
        // §3.7 and bounded work: payloads that are not UTF-8 JSON objects, or too big.
        (
            "payload not UTF-8",
            jws(&header_with(json!({})), b"\xff\xfe{}", admit_key),
        ),
        (
            "payload an array",
            jws(&header_with(json!({})), b"[]", admit_key),
        ),
        (
            "oversized (20 kB)",
            signed(json!({}), json!({"pad": "x".repeat(20_000)})),
        ),
    ];

    let api = guarded_api(Verifier::builder(&p.t.base, &p.t.base)).await;
    // An API that also accepts HS256 tokens, with a secret of its own next to admit's
    // JWKS: admit's public keys still never become HMAC keys.
    let jwks: JwkSet =
        serde_json::from_value(p.t.get_json("/.well-known/jwks.json").await).unwrap();
    let mut both = KeySet::from_jwks(&jwks).0.keys().to_vec();
    both.push(VerifyingKey::hmac(&[7; 32], Some("shared".into())).unwrap());
    let api_hs = Verifier::builder(&p.t.base, &p.t.base)
        .keys(KeySet::new(both))
        .algorithms([Algorithm::EdDSA, Algorithm::HS256]);
    let api_hs = guarded_api(api_hs).await;
    for url in [&api, &api_hs] {
        // The controls: the genuine token, and one built here with admit's key.
        assert_eq!(present(&p.t.http, url, &genuine).await.0, 200);
        assert_eq!(
            present(&p.t.http, url, &signed(json!({}), json!({})))
                .await
                .0,
            200
        );
        for (name, token) in &cases {
            assert_invalid_token(present(&p.t.http, url, token).await, name);
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no jku or x5u was fetched");
}

/// Forged `id_token_hint`s at RP-initiated logout (RFC 8725 §2.1, §2.6, §2.8, §3.1, §3.8,
/// §3.10; OpenID Connect RP-Initiated Logout §2, §4): a hint admit did not sign for this
/// session is ignored, so the user is asked to confirm: no silent logout, no redirect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ignores_forged_id_token_hints() {
    let mut f = setup().await;
    let code = f.code("").await;
    let (status, tokens) = f.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let (header, claims) = parts(&id_token);
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().unwrap().to_owned();
    let keys = admit_keys(&f.t).await;
    let id_key = keys.signing_key(Algorithm::RS256).unwrap();
    assert_eq!(id_key.kid(), kid);
    let public_jwk = published_jwk(&f.t, &kid).await.to_string();

    // RFC 8725 §2.8, §3.11: the genuine ID token is no access token, neither for an API
    // whose audience is the client's id nor at admit's UserInfo.
    let api = guarded_api(Verifier::builder(&f.t.base, "site")).await;
    assert_invalid_token(present(&f.t.http, &api, &id_token).await, "API");
    let userinfo = format!("{}/oauth2/userinfo", f.t.base);
    assert_invalid_token(present(&f.t.http, &userinfo, &id_token).await, "UserInfo");

    let (attacker, _) = SigningKey::generate(Algorithm::RS256).unwrap();
    let attacker_jwk = serde_json::to_value(attacker.public_jwk().unwrap()).unwrap();
    let (evil, hits) = attacker_site(json!({"keys": [attacker_jwk]})).await;
    let hmac = SigningKey::from_private(Algorithm::HS256, public_jwk.as_bytes(), None).unwrap();
    let header_with = |changes: Value| merged(&header, changes).to_string();
    let claims_with = |changes: Value| serde_json::to_vec(&merged(&claims, changes)).unwrap();
    let signed = |h: Value, c: Value| jws(&header_with(h), &claims_with(c), id_key);
    let (signing_input, signature) = id_token.rsplit_once('.').unwrap();
    let header_part = signing_input.split('.').next().unwrap();
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(header_with(json!({"alg": "none"}))),
                b64(claims_with(json!({})))
            ),
        ),
        (
            "HS256 keyed with admit's public JWK",
            jws(
                &header_with(json!({"alg": "HS256"})),
                &claims_with(json!({})),
                &hmac,
            ),
        ),
        (
            "attacker's key, real kid",
            jws(&header_with(json!({})), &claims_with(json!({})), &attacker),
        ),
        (
            "embedded jwk",
            jws(
                &header_with(json!({"kid": attacker.kid(), "jwk": attacker_jwk})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        (
            "jku to the attacker",
            jws(
                &header_with(json!({"kid": attacker.kid(), "jku": format!("{evil}/jwks.json")})),
                &claims_with(json!({})),
                &attacker,
            ),
        ),
        ("signature stripped", format!("{signing_input}.")),
        (
            "payload tampered after signing",
            format!(
                "{header_part}.{}.{signature}",
                b64(claims_with(json!({"aud": "site", "nonce": "x"})))
            ),
        ),
        // Signed with admit's key, to isolate the check: §3.8 issuer, §3.11 type, crit.
        (
            "wrong iss",
            signed(json!({}), json!({"iss": "https://evil.example"})),
        ),
        (
            "an access token's typ",
            signed(json!({"typ": "at+jwt"}), json!({})),
        ),
        (
            "unknown crit",
            signed(
                json!({"crit": ["urn:example:x"], "urn:example:x": 1}),
                json!({}),
            ),
        ),
        (
            "duplicate alg",
            jws(
                &format!(r#"{{"alg":"none","alg":"RS256","kid":"{kid}"}}"#),
                &claims_with(json!({})),
                id_key,
            ),
        ),
        (
            "oversized (20 kB)",
            signed(json!({}), json!({"pad": "x".repeat(20_000)})),
        ),
    ];
    let logout = |hint: &str| {
        format!(
            "{}/oauth2/logout?id_token_hint={hint}&client_id=site&post_logout_redirect_uri={}&state=s1",
            f.t.base,
            urlencode("https://site.example/bye")
        )
    };
    for (name, hint) in &cases {
        let page = f.browser.get(&logout(hint)).await;
        assert_eq!(page.status, 200, "{name}: {}", page.body);
        assert!(
            page.body.contains("id=\"logout-question\""),
            "{name}: asked to confirm"
        );
        assert!(page.headers.get("location").is_none(), "{name}");
        assert!(f.browser.has_cookie("admit_session"), "{name}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no jku was fetched");
    // Still logged in: prompt=none gives a code.
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&prompt=none"))
        .await;
    assert_eq!(page.status, 303);
    assert!(crate::browser::param(&page.location(), "code").is_some());
    // The control: the genuine hint ends the session at once and returns to the client.
    let page = f.browser.get(&logout(&id_token)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().as_str(),
        "https://site.example/bye?state=s1"
    );
}
