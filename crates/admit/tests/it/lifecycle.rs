//! Token lifecycle: introspection (RFC 7662), revocation (RFC 7009), sessions, and
//! the revocations they publish, over HTTP against the running server.

use serde_json::Value;

use crate::code_flow::{VERIFIER, setup};
use crate::harness::{PASSWORD, TestServer, eventually, provisioned, start};

/// POSTs a form with Basic client credentials; returns status and JSON body.
pub async fn post(
    t: &TestServer,
    path: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = t
        .http
        .post(format!("{}{path}", t.base))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn introspect(t: &TestServer, client: (&str, &str), token: &str) -> Value {
    let (status, body) = post(t, "/oauth2/introspect", client, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn inactive() -> Value {
    serde_json::json!({"active": false})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_describes_live_tokens_and_nothing_else() {
    let p = provisioned().await;
    let app = ("app", p.secret.as_str());
    let (_, tokens) = p.login("read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let a = introspect(&p.t, app, access).await;
    assert_eq!(a["active"], true);
    assert_eq!(a["client_id"], "app");
    assert_eq!(a["username"], "alice");
    assert_eq!(a["scope"], "read");
    assert_eq!(a["token_type"], "Bearer");
    for field in ["exp", "iat", "sub", "aud", "iss", "jti"] {
        assert!(a.get(field).is_some(), "{field}");
    }
    let r = introspect(&p.t, app, refresh).await;
    assert_eq!(
        (r["active"].as_bool(), r["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    // The hint orders the lookups but is not trusted.
    let (_, wrong_hint) = post(
        &p.t,
        "/oauth2/introspect",
        app,
        &[("token", refresh), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(wrong_hint["active"], true);

    // Garbage, tampered, very long: exactly {"active": false}.
    let mut tampered = access.to_owned();
    tampered.insert(access.len() - 10, 'x');
    for token in ["garbage", tampered.as_str(), &"a".repeat(12_000)] {
        assert_eq!(introspect(&p.t, app, token).await, inactive());
    }
    // Another client may not see it; a resource server registered to introspect may.
    let other = p.t.add_client("other", &["--grant", "client_credentials"]);
    assert_eq!(
        introspect(&p.t, ("other", &other), access).await,
        inactive()
    );
    let rs =
        p.t.add_client("api", &["--grant", "client_credentials", "--introspect"]);
    assert_eq!(introspect(&p.t, ("api", &rs), access).await["active"], true);

    // Bad requests: spec errors, not answers.
    assert_eq!(
        post(
            &p.t,
            "/oauth2/introspect",
            ("app", "wrong"),
            &[("token", access)]
        )
        .await
        .0,
        401
    );
    assert_eq!(post(&p.t, "/oauth2/introspect", app, &[]).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_ends_access_before_expiry() {
    let p = provisioned().await;
    let app = ("app", p.secret.as_str());
    let (_, first) = p.login("read").await;
    let (_, second) = p.login("read").await;

    // An access token: its jti is revoked until it expires; nothing else is touched.
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        post(
            &p.t,
            "/oauth2/revoke",
            app,
            &[("token", access), ("token_type_hint", "access_token")]
        )
        .await
        .0,
        200
    );
    assert_eq!(introspect(&p.t, app, access).await, inactive());
    assert_eq!(
        introspect(&p.t, app, first["refresh_token"].as_str().unwrap()).await["active"],
        true
    );

    // A refresh token: its family ends, and so do the access tokens issued from it.
    let refresh = second["refresh_token"].as_str().unwrap();
    assert_eq!(
        post(&p.t, "/oauth2/revoke", app, &[("token", refresh)])
            .await
            .0,
        200
    );
    assert_eq!(introspect(&p.t, app, refresh).await, inactive());
    assert_eq!(
        introspect(&p.t, app, second["access_token"].as_str().unwrap()).await,
        inactive()
    );
    let (status, body) = post(
        &p.t,
        "/oauth2/token",
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Unknown tokens: 200 (RFC 7009 §2.2). Another client's token: refused, unchanged.
    assert_eq!(
        post(&p.t, "/oauth2/revoke", app, &[("token", "never-issued")])
            .await
            .0,
        200
    );
    let other = p.t.add_client("other", &["--grant", "client_credentials"]);
    let live = first["refresh_token"].as_str().unwrap();
    let (status, body) = post(
        &p.t,
        "/oauth2/revoke",
        ("other", &other),
        &[("token", live)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    assert_eq!(introspect(&p.t, app, live).await["active"], true);
    assert_eq!(
        post(&p.t, "/oauth2/revoke", ("app", "wrong"), &[("token", live)])
            .await
            .0,
        401
    );
    assert_eq!(post(&p.t, "/oauth2/revoke", app, &[]).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_passwords_and_clients_end_their_tokens() {
    let mut f = setup().await;
    let site = ("site", f.secret.clone());
    let code = f.code("").await;
    let (_, tokens) = f.exchange(&code, VERIFIER).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let introspect_site = |token: String| {
        let (t, secret) = (&f.t, site.1.clone());
        async move { introspect(t, ("site", &secret), &token).await["active"].clone() }
    };
    assert_eq!(introspect_site(access.clone()).await, true);

    let list = f.t.admit_ok(&["session", "list", "--user", "alice"], None);
    let session_id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(list.contains("live"));
    f.t.admit_ok(&["session", "revoke", &session_id], None);
    assert_eq!(
        introspect_site(access.clone()).await,
        false,
        "the session's access token (sid) is revoked"
    );
    assert_eq!(
        introspect_site(tokens["refresh_token"].as_str().unwrap().to_owned()).await,
        false
    );
    assert!(f.t.admit_ok(&["session", "list"], None).contains("ended"));

    // A password change ends every token issued before it, but not the next login.
    let p = provisioned().await;
    let app = ("app", p.secret.as_str());
    let (_, before) = p.login("read").await;
    p.t.admit_ok(
        &["user", "passwd", "alice", "--password-stdin"],
        Some("another good password"),
    );
    assert_eq!(
        introspect(&p.t, app, before["access_token"].as_str().unwrap()).await,
        inactive()
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (status, after) = post(
        &p.t,
        "/oauth2/token",
        app,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "another good password"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&p.t, app, after["access_token"].as_str().unwrap()).await["active"],
        true
    );

    // Removing a client ends its tokens for resource servers that introspect.
    let rs =
        p.t.add_client("api", &["--grant", "client_credentials", "--introspect"]);
    p.t.admit_ok(&["client", "remove", "app"], None);
    assert_eq!(
        introspect(&p.t, ("api", &rs), after["access_token"].as_str().unwrap()).await,
        inactive()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_client_is_refused_within_a_second_and_what_it_got_meanwhile_is_revoked() {
    let t = start().await;
    let svc = t.add_client("svc", &["--grant", "client_credentials"]);
    let rs = t.add_client("api", &["--grant", "client_credentials", "--introspect"]);
    let grant = [("grant_type", "client_credentials")];
    // Authenticated once, the client is cached for a second.
    assert_eq!(t.token(Some(("svc", &svc)), &grant).await.0, 200);
    t.admit_ok(&["client", "remove", "svc"], None);
    let late = std::sync::Mutex::new(Vec::new());
    eventually("the removed client is refused", || async {
        let (status, _, body) = t.token(Some(("svc", &svc)), &grant).await;
        match status {
            401 => return body["error"] == "invalid_client",
            200 => late
                .lock()
                .unwrap()
                .push(body["access_token"].as_str().unwrap().to_owned()),
            other => panic!("{other}: {body}"),
        }
        false
    })
    .await;
    // Tokens the cached copy issued after the removal are covered by its revocation.
    for token in late.into_inner().unwrap() {
        assert_eq!(introspect(&t, ("api", &rs), &token).await, inactive());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_id_is_remembered_for_a_second_then_asked_again() {
    let t = start().await;
    let grant = [("grant_type", "client_credentials")];
    let tried = std::time::Instant::now();
    let (status, _, body) = t.token(Some(("late", "whatever")), &grant).await;
    assert_eq!((status, &body["error"]), (401, &"invalid_client".into()));
    // Added by the CLI, straight into the database: this instance still holds the id
    // as unknown, without asking the database, until its second is over.
    let secret = t.add_client("late", &["--grant", "client_credentials"]);
    let (status, _, body) = t.token(Some(("late", &secret)), &grant).await;
    if tried.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!((status, &body["error"]), (401, &"invalid_client".into()));
    }
    eventually(
        "the new client works once its id is asked again",
        || async { t.token(Some(("late", &secret)), &grant).await.0 == 200 },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetimes_are_set_per_client() {
    let p = provisioned().await;
    let short = p.t.add_client(
        "short",
        &[
            "--grant",
            "password",
            "--grant",
            "refresh_token",
            "--access-token-ttl",
            "120",
            "--refresh-idle-ttl",
            "1",
        ],
    );
    let short = ("short", short.as_str());
    let (_, tokens) = post(
        &p.t,
        "/oauth2/token",
        short,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(tokens["expires_in"], 120);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (status, body) = post(
        &p.t,
        "/oauth2/token",
        short,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "unused past its idle lifetime"
    );
    let out = p.t.admit(
        &["client", "add", "bad", "--access-token-ttl", "999999"],
        None,
    );
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_and_withdraw_consents_on_their_account_page() {
    let mut f = setup().await;
    let code = f.code("").await;
    let (_, tokens) = f.exchange(&code, VERIFIER).await;
    let account = format!("{}/account", f.t.base);
    let page = f.browser.get(&account).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Example Site") && page.body.contains("withdraw-site"),
        "{}",
        page.body
    );
    // A forged withdrawal changes nothing.
    let forged = f
        .browser
        .post(
            &format!("{account}/consents"),
            &[
                ("interaction", &page.field("interaction")),
                ("csrf", "forged"),
                ("client_id", "site"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        f.t.admit_ok(&["consent", "list", "alice"], None)
            .contains("site")
    );
    let done = f
        .browser
        .post(
            &format!("{account}/consents"),
            &[
                ("interaction", &page.field("interaction")),
                ("csrf", &page.field("csrf")),
                ("client_id", "site"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    let (status, _) = post(
        &f.t,
        "/oauth2/token",
        ("site", &f.secret),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        status, 400,
        "withdrawing consent ends the application's tokens"
    );
    assert!(f.browser.get(&account).await.body.contains("no-consents"));

    // Without a session the account page asks for the password, then shows the account.
    let mut other = crate::browser::Browser::new();
    let login = other.get(&account).await;
    assert!(login.body.contains("action=\"/account/login\""));
    let form = [
        ("interaction", login.field("interaction")),
        ("csrf", login.field("csrf")),
        ("username", "alice".into()),
        ("password", PASSWORD.into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = other.post(&format!("{account}/login"), &form).await;
    assert_eq!(page.status, 303);
    assert!(other.get(&account).await.body.contains("Logged in as"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_edge_cases_of_the_lifecycle_endpoints() {
    let p = provisioned().await;
    let app = ("app", p.secret.as_str());
    // NUL characters are refused before they reach the database.
    let (status, body) = post(
        &p.t,
        "/oauth2/token",
        app,
        &[
            ("grant_type", "password"),
            ("username", "al\0ice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let page =
        p.t.http
            .get(format!("{}/oauth2/authorize?client_id=a%00b", p.t.base))
            .send()
            .await
            .unwrap();
    assert_eq!(page.status(), 400);
    // A public client cannot be a resource server, and cannot introspect.
    assert!(
        !p.t.admit(
            &["client", "add", "pub-rs", "--public", "--introspect"],
            None
        )
        .status
        .success()
    );
    p.t.admit_ok(
        &[
            "client",
            "add",
            "spa",
            "--public",
            "--grant",
            "refresh_token",
        ],
        None,
    );
    let (_, tokens) = p.login("read").await;
    let anonymous =
        p.t.http
            .post(format!("{}/oauth2/introspect", p.t.base))
            .form(&[
                ("client_id", "spa"),
                ("token", tokens["access_token"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
    let anonymous: Value = anonymous.json().await.unwrap();
    assert_eq!(anonymous, inactive());
    // An expired token is inactive at once: no leeway for admit's own clock.
    let short = p.t.add_client(
        "short",
        &["--grant", "client_credentials", "--access-token-ttl", "1"],
    );
    let (_, t) = post(
        &p.t,
        "/oauth2/token",
        ("short", &short),
        &[("grant_type", "client_credentials")],
    )
    .await;
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        introspect(&p.t, ("short", &short), t["access_token"].as_str().unwrap()).await,
        inactive()
    );
    // Revoking the same token twice records one revocation.
    let access = tokens["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(
            post(&p.t, "/oauth2/revoke", app, &[("token", access)])
                .await
                .0,
            200
        );
    }
    let rs =
        p.t.add_client("api", &["--grant", "client_credentials", "--introspect"]);
    let mut stream =
        p.t.http
            .get(format!("{}/oauth2/revocations", p.t.base))
            .basic_auth("api", Some(&rs))
            .send()
            .await
            .unwrap();
    let events = crate::revocation_stream::read_events(&mut stream, |e| {
        e.iter().any(|(kind, _, _)| kind == "ready")
    })
    .await;
    assert_eq!(
        events
            .iter()
            .filter(|(kind, _, _)| kind == "revocation")
            .count(),
        1
    );
}
