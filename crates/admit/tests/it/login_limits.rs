//! Brute-force defence: back-off and locks for failed logins per account and per
//! client address (held in the database, so across instances), and 429s for clients
//! failing authentication. The thresholds are lowered per test; the shapes of the
//! policy (free tries, doubling waits, then a lock) have unit tests in login.rs.

use std::net::IpAddr;

use admit_server::login::{LoginLimits, Policy};
use serde_json::Value;

use crate::code_flow::{authorize_url, setup_with};
use crate::harness::{PASSWORD, TestServer, eventually, start_with};
use crate::postgres::{drop_database, fresh_database};

/// Three failures lock for five minutes, with no back-off before.
const LOCK_AT_THREE: Policy = Policy {
    free: 3,
    lock_after: 3,
    lock: 300,
    max_backoff: 1,
};
const LOOSE: Policy = Policy {
    free: 1000,
    lock_after: 1000,
    lock: 300,
    max_backoff: 1,
};

fn limits(account: Policy, address: Policy) -> impl FnOnce(&mut admit_server::Settings) {
    move |s| s.login_limits = LoginLimits { account, address }
}

/// A client whose requests come from `address` (any of 127.0.0.0/8 is loopback).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn password_grant(
    t: &TestServer,
    from: &reqwest::Client,
    secret: &str,
    username: &str,
    password: &str,
) -> (u16, Option<i64>, Value) {
    let response = from
        .post(format!("{}/oauth2/token", t.base))
        .basic_auth("app", Some(secret))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.json().await.unwrap())
}

fn provision(t: &TestServer) -> String {
    t.add_user("alice", PASSWORD);
    t.add_client("app", &["--grant", "password", "--scope", "read"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_locks_for_known_and_unknown_names_alike_until_unlocked() {
    let t = start_with(limits(LOCK_AT_THREE, LOOSE)).await;
    let secret = provision(&t);
    let here = client_from("127.0.0.1");

    let (mut wrong, mut answers) = (Vec::new(), Vec::new());
    for name in ["alice", "nobody"] {
        for _ in 0..3 {
            let (status, retry, body) = password_grant(&t, &here, &secret, name, "wrong").await;
            assert_eq!((status, retry), (400, None), "{body}");
            assert_eq!(body["error"], "invalid_grant");
            wrong.push(body);
        }
        // Locked: even the right password is refused, without being checked.
        let (status, retry, body) = password_grant(&t, &here, &secret, name, PASSWORD).await;
        assert_eq!(status, 429, "{body}");
        let retry = retry.expect("Retry-After");
        assert!((1..=300).contains(&retry), "{retry}");
        answers.push(body);
    }
    assert_eq!(
        answers[0], answers[1],
        "a locked account and a locked unknown name answer alike"
    );
    assert!(
        wrong.iter().all(|w| *w == wrong[0]),
        "a wrong password and an unknown name answer alike: {wrong:?}"
    );

    // The owner logging in from elsewhere neither gets in nor lifts the lock.
    let elsewhere = client_from("127.0.0.2");
    let (status, _, _) = password_grant(&t, &elsewhere, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 429);

    let out = t.admit_ok(&["user", "unlock", "ALICE"], None);
    assert!(out.contains("unlocked user:alice"), "{out}");
    let (status, _, body) = password_grant(&t, &here, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let out = t.admit_ok(&["user", "unlock", "alice"], None);
    assert!(out.contains("had no failed logins"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_fails_too_often_waits_while_others_log_in() {
    let t = start_with(limits(LOOSE, LOCK_AT_THREE)).await;
    let secret = provision(&t);
    let attacker = client_from("127.0.0.3");
    for name in ["amy", "bob", "carol"] {
        let (status, _, _) = password_grant(&t, &attacker, &secret, name, "guess").await;
        assert_eq!(status, 400);
    }
    let (status, retry, _) = password_grant(&t, &attacker, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 429);
    assert!(retry.is_some());

    let (status, _, body) =
        password_grant(&t, &client_from("127.0.0.4"), &secret, "alice", PASSWORD).await;
    assert_eq!(status, 200, "another address is not held back: {body}");

    t.admit_ok(&["user", "unlock", "--address", "127.0.0.3"], None);
    let (status, _, _) = password_grant(&t, &attacker, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_says_to_wait_with_429_and_retry_after() {
    let mut f = setup_with(limits(LOCK_AT_THREE, LOOSE)).await;
    let mut page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    for _ in 0..3 {
        page = f.login(&page, "alice", "wrong").await;
        assert_eq!(page.status, 401, "{}", page.body);
        assert!(page.body.contains("Wrong username or password."));
    }
    let locked = f.login(&page, "alice", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(
        locked.body.contains("Too many failed logins"),
        "{}",
        locked.body
    );
    assert!(locked.headers.contains_key("retry-after"));
    assert!(
        !locked.headers.contains_key("location"),
        "no code while locked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holds_on_every_instance_over_postgres() {
    let Some((database_url, name)) = fresh_database().await else {
        return;
    };
    let master_key = admit_server::random_token::<32>();
    let configure = |s: &mut admit_server::Settings| {
        s.database_url = database_url.clone();
        s.master_key = Some(master_key.clone());
        s.login_limits = LoginLimits {
            account: LOCK_AT_THREE,
            address: LOOSE,
        };
    };
    let a = start_with(configure).await;
    let b = start_with(configure).await;
    let secret = provision(&a);
    let here = client_from("127.0.0.1");
    for _ in 0..3 {
        let (status, _, _) = password_grant(&a, &here, &secret, "alice", "wrong").await;
        assert_eq!(status, 400);
    }
    let (status, _, body) = password_grant(&b, &here, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 429, "the other instance sees the lock: {body}");
    b.admit_ok(&["user", "unlock", "alice"], None);
    let (status, _, _) = password_grant(&a, &here, &secret, "alice", PASSWORD).await;
    assert_eq!(status, 200);
    a.server.shutdown().await;
    b.server.shutdown().await;
    drop_database(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_client_authentication_gets_429_while_the_right_secret_still_works() {
    let t = start_with(|_| {}).await;
    let secret = t.add_client("svc", &["--grant", "client_credentials"]);
    let attempt = |secret: String| {
        let http = t.http.clone();
        let url = format!("{}/oauth2/token", t.base);
        async move {
            let response = http
                .post(url)
                .basic_auth("svc", Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").cloned();
            let body: Value = response.json().await.unwrap();
            (status, retry, body)
        }
    };
    // The limit is 20 failures a minute per client.
    for _ in 0..20 {
        let (status, _, body) = attempt("wrong".into()).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, retry, body) = attempt("wrong".into()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let retry: i64 = retry.unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");

    let (status, _, body) = attempt(secret).await;
    assert_eq!(
        status, 200,
        "a client with the right secret is never held back: {body}"
    );
    eventually("the throttling is in the audit log", || async {
        let out = t.admit_ok(
            &["audit", "search", "--event", "client.auth", "--json"],
            None,
        );
        out.contains("\"outcome\":\"throttled\"")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_under_an_https_issuer_only_on_loopback_or_behind_a_declared_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |listen: &str, trust_proxy: bool| {
        let mut s = admit_server::Settings::new(listen.parse().unwrap(), dir.path().into());
        s.issuer = "https://login.example".into();
        s.trust_proxy = trust_proxy;
        s
    };
    let refused = admit_server::spawn(settings("0.0.0.0:0", false)).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("trust_proxy"), "{message}");
    admit_server::spawn(settings("127.0.0.1:0", false))
        .await
        .expect("loopback is allowed")
        .shutdown()
        .await;

    // Behind the proxy, the address is the one the proxy appended last.
    let t = start_with(|s| {
        s.trust_proxy = true;
        s.login_limits = LoginLimits {
            account: LOOSE,
            address: LOCK_AT_THREE,
        };
    })
    .await;
    let secret = provision(&t);
    let via_proxy = |forwarded: &'static str| {
        t.http
            .post(format!("{}/oauth2/token", t.base))
            .basic_auth("app", Some(secret.clone()))
            .header("x-forwarded-for", forwarded)
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "wrong"),
            ])
            .send()
    };
    for _ in 0..3 {
        // The client forges the first entry; the proxy appended 198.51.100.7.
        let status = via_proxy("10.9.9.9, 198.51.100.7").await.unwrap().status();
        assert_eq!(status, 400);
    }
    let status = via_proxy("10.9.9.9, 198.51.100.7").await.unwrap().status();
    assert_eq!(status, 429);
    let status = via_proxy("198.51.100.8").await.unwrap().status();
    assert_eq!(status, 400, "another forwarded address is counted apart");
    eventually("the audit log holds the forwarded address", || async {
        let out = t.admit_ok(&["audit", "search", "--event", "login", "--json"], None);
        out.contains("\"address\":\"198.51.100.7\"") && !out.contains("10.9.9.9")
    })
    .await;
}
