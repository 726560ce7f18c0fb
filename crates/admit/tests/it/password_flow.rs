//! The seed's "simple version": log in, get a JWT, call the API with it; then refresh
//! rotation and reuse detection.

use admit_jose::{JwkSet, KeySet, Validation};
use serde_json::Value;

use crate::harness::{PASSWORD, provisioned};

async fn verify_locally(
    t: &crate::harness::TestServer,
    token: &str,
) -> serde_json::Map<String, Value> {
    let jwks: JwkSet = serde_json::from_value(t.get_json("/.well-known/jwks.json").await).unwrap();
    let (keys, _) = KeySet::from_jwks(&jwks);
    keys.verify(
        token,
        &Validation::access_token(&t.base, &t.base),
        admit_server::now(),
    )
    .unwrap()
}

async fn start_demo_api(issuer: &str) -> String {
    let verifier = admit_resource::Verifier::builder(issuer, issuer)
        .discover()
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, admit_demo::router(verifier)).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_get_a_jwt_and_call_the_api() {
    let p = provisioned().await;
    let (status, _, body) =
        p.t.token(
            Some(("app", &p.secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "read");
    let access = body["access_token"].as_str().unwrap();
    assert!(
        body["refresh_token"].as_str().unwrap().len() >= 43,
        "256 bits of randomness"
    );

    // RFC 9068: typ at+jwt, a kid from the JWKS, and the required claims.
    let header: Value =
        serde_json::from_slice(&base64_decode(access.split('.').next().unwrap())).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    let claims = verify_locally(&p.t, access).await;
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
        "auth_time",
    ] {
        assert!(claims.contains_key(claim), "{claim} missing");
    }
    assert_eq!(claims["client_id"], "app");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );

    // The seed's resource server: checks the JWT on its own and answers.
    let api = start_demo_api(&p.t.base).await;
    let me: Value = p.t.bearer_json(format!("{api}/api/me"), access).await;
    assert_eq!(me["sub"], claims["sub"]);
    assert_eq!(me["client_id"], "app");
    let anonymous = p.t.http.get(format!("{api}/api/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // The admin route needs a scope this token does not carry (RFC 6750 §3.1).
    let forbidden =
        p.t.http
            .get(format!("{api}/api/admin"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert!(
        forbidden.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let (_, admin) = p.login("read admin").await;
    let allowed =
        p.t.http
            .get(format!("{api}/api/admin"))
            .bearer_auth(admin["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let p = provisioned().await;
    let (_, first) = p.login("read write").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let refresh = |token: String, scope: Option<&'static str>| {
        let t = &p.t;
        let secret = p.secret.clone();
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", token),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_owned()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.token(Some(("app", &secret)), &form).await
        }
    };
    // A narrower scope may be asked for; a wider one may not (RFC 6749 §6).
    let (status, _, body) = refresh(r1.to_owned(), Some("read admin")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, headers, second) = refresh(r1.to_owned(), Some("read")).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(second["scope"], "read");
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r2, r1);
    let claims = verify_locally(&p.t, second["access_token"].as_str().unwrap()).await;
    assert!(
        claims.contains_key("auth_time"),
        "auth_time carries over from the login"
    );

    // The old token stops working at once, and presenting it revokes the family,
    // so the newest token dies too (RFC 9700 §4.14.2).
    let (status, _, body) = refresh(r1.to_owned(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = refresh(r2.clone(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Another login starts a new family that works.
    let (_, again) = p.login("read").await;
    let (status, _, _) = refresh(again["refresh_token"].as_str().unwrap().to_owned(), None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_rotate_exactly_once() {
    let p = provisioned().await;
    let (_, login) = p.login("read").await;
    let token = login["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
    ];
    let results =
        futures::future::join_all((0..8).map(|_| p.t.token(Some(("app", &p.secret)), &form))).await;
    let ok = results.iter().filter(|(s, _, _)| *s == 200).count();
    assert!(ok <= 1, "at most one rotation wins, got {ok}");
    assert!(
        results.iter().all(|(s, _, _)| *s == 200 || *s == 400),
        "no 500 under a race"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_and_client_secret_post() {
    let p = provisioned().await;
    let (status, _, body) =
        p.t.token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", &p.secret),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "RFC 6749 §4.4.3: no refresh token"
    );
    let claims = verify_locally(&p.t, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "app");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_log_in_without_a_secret() {
    let p = provisioned().await;
    p.t.admit_ok(
        &[
            "client", "add", "cli-app", "--public", "--grant", "password", "--scope", "read",
        ],
        None,
    );
    let (status, _, body) =
        p.t.token(
            None,
            &[
                ("grant_type", "password"),
                ("client_id", "cli-app"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "not given the refresh_token grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_and_user_removal_end_refresh_tokens() {
    let p = provisioned().await;
    let (_, login) = p.login("read").await;
    p.t.admit_ok(
        &["user", "passwd", "alice", "--password-stdin"],
        Some("a whole new password"),
    );
    let (status, _, _) =
        p.t.token(
            Some(("app", &p.secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", login["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = p.login("read").await;
    assert_eq!(status, 400, "the old password no longer works");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// Usernames are NFKC-normalised and case-insensitive (admit-oauth/src/username.rs):
/// look-alike spellings reach the one account, and cannot make a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_usernames_are_one_account() {
    let p = provisioned().await;
    let login_as = async |username: &str| {
        let form = [
            ("grant_type", "password"),
            ("username", username),
            ("password", PASSWORD),
        ];
        let (status, _, body) = p.t.token(Some(("app", &p.secret)), &form).await;
        (status, body)
    };
    let sub = async |body: &Value| {
        let token = body["access_token"].as_str().unwrap();
        verify_locally(&p.t, token).await["sub"].clone()
    };
    let (_, alice) = login_as("alice").await;
    for spelling in ["Alice", "ALICE", "ａｌｉｃｅ"] {
        let (status, body) = login_as(spelling).await;
        assert_eq!(status, 200, "{spelling}: {body}");
        assert_eq!(sub(&body).await, sub(&alice).await, "{spelling}");
    }
    // A Cyrillic а is another letter: no such user, the answer to a wrong password.
    let (status, body) = login_as("\u{430}lice").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let taken = p.t.admit(
        &["user", "add", "ＡＬＩＣＥ", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"));
    p.t.admit_ok(
        &["user", "add", "Ｆｉｎｎ", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(p.t.admit_ok(&["user", "list"], None).contains("finn "));
}
