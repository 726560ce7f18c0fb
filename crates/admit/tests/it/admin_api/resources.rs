//! Each resource of the admin API end to end: users, clients, sessions and consents,
//! keys, and the audit records the changes leave, on SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Admin, admin, admin_on, client_token};
use crate::code_flow;
use crate::harness::{PASSWORD, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_read_changed_and_removed_with_etags() {
    users_flow(&admin().await).await;
}

async fn users_flow(a: &Admin) {
    let created = a.create_user("Alice").await;
    // Usernames are stored in canonical form; the password never comes back.
    assert_eq!(created.body["username"], "alice");
    assert!(created.body.get("password").is_none());
    assert!(created.body.get("password_hash").is_none());
    assert_eq!(created.header("location"), "/admin/users/alice");
    let tag = created.header("etag").to_owned();
    assert!(tag.starts_with('"'), "{tag}");

    let again = json!({"username": "ALICE", "password": PASSWORD});
    let conflict = a.call(Method::POST, "/admin/users", Some(again)).await;
    conflict.problem(409);

    // The CLI sees what the API made.
    assert!(a.t.admit_ok(&["user", "list"], None).contains("alice"));

    let got = a.call(Method::GET, "/admin/users/ALICE", None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), tag);
    assert_eq!(got.body["id"], created.body["id"]);
    let unchanged = a
        .call_with(
            Method::GET,
            "/admin/users/alice",
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(unchanged.status, 304);

    // A password change with a stale tag is refused; with the current one it lands,
    // and logins use the new password.
    let new_password = json!({"password": "a whole new passphrase"});
    let stale = a
        .call_with(
            Method::PUT,
            "/admin/users/alice/password",
            Some(new_password.clone()),
            &[("if-match", "\"stale\"")],
        )
        .await;
    stale.problem(412);
    let changed = a
        .call_with(
            Method::PUT,
            "/admin/users/alice/password",
            Some(new_password),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    let new_tag = changed.header("etag").to_owned();
    assert_ne!(new_tag, tag);
    let got = a.call(Method::GET, "/admin/users/alice", None).await;
    assert_eq!(got.header("etag"), new_tag);
    let secret = a.t.add_client("app", &["--grant", "password"]);
    for (password, status) in [("a whole new passphrase", 200), (PASSWORD, 400)] {
        let (got, _, _) =
            a.t.token(
                Some(("app", &secret)),
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(got, status);
    }

    let unlocked = a
        .call(Method::POST, "/admin/users/alice/unlock", None)
        .await;
    assert_eq!(unlocked.status, 200);
    assert!(unlocked.body["cleared"].is_boolean());
    let unlocked = a
        .call(Method::POST, "/admin/addresses/::1/unlock", None)
        .await;
    assert_eq!(unlocked.status, 200);
    a.call(Method::POST, "/admin/addresses/not-an-ip/unlock", None)
        .await
        .problem(400);

    // Removal honours If-Match too.
    let stale = a
        .call_with(
            Method::DELETE,
            "/admin/users/alice",
            None,
            &[("if-match", &tag)],
        )
        .await;
    stale.problem(412);
    let removed = a
        .call_with(
            Method::DELETE,
            "/admin/users/alice",
            None,
            &[("if-match", &new_tag)],
        )
        .await;
    assert_eq!(removed.status, 204);
    a.call(Method::GET, "/admin/users/alice", None)
        .await
        .problem(404);
    a.call(Method::DELETE, "/admin/users/alice", None)
        .await
        .problem(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_registered_patched_and_removed_safely() {
    clients_flow(&admin().await).await;
}

async fn clients_flow(a: &Admin) {
    // Tried before it exists, the id is remembered as unknown; registered through the
    // admin API, it works at once all the same.
    let (status, _, _) =
        a.t.token(
            Some(("svc", "whatever")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 401);
    let created = a
        .create_client(json!({
            "client_id": "svc",
            "grant_types": ["client_credentials"],
            "scopes": ["read", "write"],
            "name": "A service",
        }))
        .await;
    assert_eq!(created.header("cache-control"), "no-store");
    assert_eq!(created.header("location"), "/admin/clients/svc");
    // The generated secret is shown once and works.
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    assert_eq!(created.body["client"]["type"], "confidential");
    client_token(&a.t, "svc", &secret, "read").await;
    // A chosen secret is not echoed.
    let chosen = a
        .create_client(json!({"client_id": "svc2", "client_secret": "s".repeat(40)}))
        .await;
    assert!(chosen.body["client_secret"].is_null());
    let public = a
        .create_client(json!({
            "client_id": "spa",
            "public": true,
            "redirect_uris": ["https://spa.example/cb"],
        }))
        .await;
    assert_eq!(public.body["client"]["type"], "public");
    assert_eq!(
        public.body["client"]["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    a.call(
        Method::POST,
        "/admin/clients",
        Some(json!({"client_id": "svc"})),
    )
    .await
    .problem(409);

    let got = a.call(Method::GET, "/admin/clients/svc", None).await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("client_secret").is_none());
    assert!(got.body.get("secret_hash").is_none());
    let tag = got.header("etag").to_owned();
    assert_eq!(tag, created.header("etag"));
    let show = a.t.admit_ok(&["client", "show", "svc"], None);
    assert!(show.contains("A service"), "{show}");

    // Two editors read the same version: the first change lands, the second gets 412.
    let patch = |body: Value, tag: &str| {
        a.t.http
            .patch(format!("{}/admin/clients/svc", a.t.base))
            .bearer_auth(&a.token)
            .header("content-type", "application/merge-patch+json")
            .header("if-match", tag)
            .body(body.to_string())
            .send()
    };
    let first = patch(json!({"scopes": ["read"], "name": null}), &tag)
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first_tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["scopes"], json!(["read"]));
    assert!(first["name"].is_null());
    assert_eq!(first["grant_types"], json!(["client_credentials"]));
    let second = patch(json!({"access_token_ttl": 60}), &tag).await.unwrap();
    assert_eq!(second.status(), 412);
    assert_eq!(second.headers()["content-type"], "application/problem+json");
    // A change the rules refuse changes nothing.
    let refused = patch(json!({"grant_types": []}), &first_tag).await.unwrap();
    assert_eq!(refused.status(), 400);
    let now = a.call(Method::GET, "/admin/clients/svc", None).await;
    assert_eq!(now.header("etag"), first_tag);
    // Without If-Match a change applies to the current version.
    let ttl = a
        .call(
            Method::PATCH,
            "/admin/clients/svc",
            Some(json!({"access_token_ttl": 120})),
        )
        .await;
    assert_eq!(ttl.status, 200, "{}", ttl.body);
    assert_eq!(ttl.body["access_token_ttl"], 120);
    // Eight editors at once with the same tag, each changing something different:
    // exactly one lands, whatever the interleaving.
    let tag = ttl.header("etag").to_owned();
    let editors = (1..=8).map(|n| patch(json!({"access_token_ttl": 1000 + n}), &tag));
    let statuses: Vec<u16> = futures::future::join_all(editors)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 412].contains(s)),
        "{statuses:?}"
    );
    a.call(Method::PATCH, "/admin/clients/nope", Some(json!({})))
        .await
        .problem(404);

    // Removal with a stale tag is refused; then the client and its tokens are gone.
    a.call_with(
        Method::DELETE,
        "/admin/clients/svc",
        None,
        &[("if-match", &tag)],
    )
    .await
    .problem(412);
    let removed = a.call(Method::DELETE, "/admin/clients/svc", None).await;
    assert_eq!(removed.status, 204);
    a.call(Method::GET, "/admin/clients/svc", None)
        .await
        .problem(404);
    eventually("the removed client's secret stops working", || async {
        let (status, _, _) =
            a.t.token(
                Some(("svc", &secret)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        status == 401
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_consents_are_listed_and_ended() {
    let mut flow = code_flow::setup().await;
    flow.code("").await;
    let a = admin_on(flow.t).await;

    let sessions = a
        .call(Method::GET, "/admin/sessions?user=alice", None)
        .await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    let items = sessions.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "live");
    assert!(items[0].get("secret_hash").is_none());
    let sid = items[0]["id"].as_str().unwrap().to_owned();
    a.call(Method::GET, "/admin/sessions?user=nobody", None)
        .await
        .problem(404);

    let consents = a
        .call(Method::GET, "/admin/users/alice/consents", None)
        .await;
    assert_eq!(consents.status, 200);
    assert_eq!(consents.body["items"][0]["client_id"], "site");
    let withdrawn = a
        .call(Method::DELETE, "/admin/users/alice/consents/site", None)
        .await;
    assert_eq!(withdrawn.status, 204);
    a.call(Method::DELETE, "/admin/users/alice/consents/site", None)
        .await
        .problem(404);
    let consents = a
        .call(Method::GET, "/admin/users/alice/consents", None)
        .await;
    assert_eq!(consents.body["items"], json!([]));

    let ended = a
        .call(Method::DELETE, &format!("/admin/sessions/{sid}"), None)
        .await;
    assert_eq!(ended.status, 204);
    let sessions = a.call(Method::GET, "/admin/sessions", None).await;
    assert_eq!(sessions.body["items"][0]["state"], "ended");
    a.call(Method::DELETE, "/admin/sessions/no-such-session", None)
        .await
        .problem(404);
    let all = a
        .call(Method::DELETE, "/admin/users/alice/sessions", None)
        .await;
    assert_eq!(all.body, json!({"ended": 0}));

    let records = a.audit_records("session.end").await;
    assert_eq!(records[0]["subject"], sid.as_str());
    assert_eq!(records[0]["actor"], "client:ops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_listed_and_rotated() {
    let a = admin().await;
    let keys = a.call(Method::GET, "/admin/keys", None).await;
    assert_eq!(keys.status, 200);
    let items = keys.body["items"].as_array().unwrap();
    let current_es256 = items
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "current")
        .unwrap()["kid"]
        .clone();
    assert!(items.iter().all(|k| k.get("private_key_enc").is_none()));
    // The next keys were published a moment ago: too young to promote unless forced.
    let early = a
        .call(
            Method::POST,
            "/admin/keys/rotate",
            Some(json!({"algs": ["ES256"]})),
        )
        .await;
    early.problem(409);
    let rotated = a
        .call(
            Method::POST,
            "/admin/keys/rotate",
            Some(json!({"algs": ["ES256"], "force": true})),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let kid = rotated.body["rotated"][0]["kid"].clone();
    let keys = a.call(Method::GET, "/admin/keys", None).await;
    let state_of = |kid: &Value| {
        keys.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| &k["kid"] == kid)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(&kid), "current");
    assert_eq!(state_of(&current_es256), "retired");
    let records = a.audit_records("key.rotate").await;
    assert_eq!(records[0]["subject"], kid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_audited_and_the_log_verifies() {
    let a = admin().await;
    let user = a.create_user("carol").await;
    a.create_client(json!({"client_id": "svc", "grant_types": ["client_credentials"]}))
        .await;
    a.call(
        Method::PATCH,
        "/admin/clients/svc",
        Some(json!({"name": "Service"})),
    )
    .await;
    a.call(Method::DELETE, "/admin/clients/svc", None).await;
    a.call(Method::DELETE, "/admin/users/carol", None).await;

    for (event, subject) in [
        ("user.add", user.body["id"].as_str().unwrap()),
        ("client.add", "svc"),
        ("client.update", "svc"),
        ("client.remove", "svc"),
        ("user.remove", user.body["id"].as_str().unwrap()),
    ] {
        let records = a.audit_records(event).await;
        assert_eq!(records.len(), 1, "{event}");
        let r = &records[0];
        if event == "client.update" {
            assert_eq!(r["detail"], json!({"changed": ["name"]}));
        }
        assert_eq!(r["actor"], "client:ops", "{event}");
        assert_eq!(r["subject"], subject, "{event}");
        assert_eq!(r["outcome"], "success");
        assert_eq!(r["address"], "127.0.0.1");
        // No password or secret reaches a record.
        assert!(!r.to_string().contains(PASSWORD), "{r}");
    }
    // Filters and pages: the removed user's records (by id), one per page, newest first.
    let id = user.body["id"].as_str().unwrap();
    let first = a
        .call(
            Method::GET,
            &format!("/admin/audit?user={id}&limit=1"),
            None,
        )
        .await;
    assert_eq!(first.status, 200);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = a
        .call(
            Method::GET,
            &format!("/admin/audit?user={id}&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert!(first.body["items"][0]["seq"].as_i64() > second.body["items"][0]["seq"].as_i64());
    let by_client = a
        .call(
            Method::GET,
            "/admin/audit?client=ops&event=client.add",
            None,
        )
        .await;
    assert_eq!(by_client.body["items"].as_array().unwrap().len(), 1);

    let verified = a.call(Method::GET, "/admin/audit/verify", None).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body["ok"], true, "{}", verified.body);
    assert!(verified.body["records"].as_i64().unwrap() >= 5);
}

/// The store's conditional writes and keyset pages over PostgreSQL too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_over_postgres() {
    let Some((database_url, name)) = crate::postgres::fresh_database().await else {
        return;
    };
    let a =
        admin_on(crate::harness::start_with(|s| s.database_url = database_url.clone()).await).await;
    users_flow(&a).await;
    clients_flow(&a).await;
    for path in [
        "/admin/users?limit=1",
        "/admin/clients?limit=1",
        "/admin/sessions?limit=1",
        "/admin/audit?limit=1&event=client.add",
    ] {
        let first = a.call(Method::GET, path, None).await;
        assert_eq!(first.status, 200, "{path}: {}", first.body);
        if let Some(cursor) = first.body["next_cursor"].as_str() {
            let next = a
                .call(Method::GET, &format!("{path}&cursor={cursor}"), None)
                .await;
            assert_eq!(next.status, 200, "{path}: {}", next.body);
            assert_ne!(next.body["items"], first.body["items"]);
        }
    }
    drop(a);
    crate::postgres::drop_database(&name).await;
}
