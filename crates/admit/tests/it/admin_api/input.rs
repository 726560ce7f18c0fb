//! What the admin API refuses (RFC 9457 problems, never a server error) and how its
//! lists page.

use reqwest::Method;
use serde_json::json;

use super::admin;
use crate::harness::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_never_a_server_error() {
    let a = admin().await;
    let post = |body: &'static str, content_type: &'static str| {
        a.t.http
            .post(format!("{}/admin/users", a.t.base))
            .bearer_auth(&a.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type, status) in [
        ("{\"username\": \"bob\"", "application/json", 400),
        ("[]", "application/json", 400),
        (
            "{\"username\": \"bob\", \"password\": 5}",
            "application/json",
            400,
        ),
        (
            "{\"username\": \"bob\", \"password\": \"long enough\", \"admin\": true}",
            "application/json",
            400,
        ),
        ("username=bob", "application/x-www-form-urlencoded", 415),
    ] {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let huge = json!({"username": "bob", "password": "x".repeat(100 * 1024)});
    a.call(Method::POST, "/admin/users", Some(huge))
        .await
        .problem(413);
    for body in [
        json!({"username": "bad name", "password": PASSWORD}),
        json!({"username": "", "password": PASSWORD}),
        json!({"username": "bob", "password": "short"}),
        json!({"username": "bob", "password": PASSWORD, "email": "no-at-sign"}),
    ] {
        a.call(Method::POST, "/admin/users", Some(body))
            .await
            .problem(400);
    }
    for body in [
        json!({"client_id": "a:b"}),
        json!({"client_id": "p", "public": true, "grant_types": ["client_credentials"]}),
        json!({"client_id": "p", "grant_types": ["implicit"]}),
        json!({"client_id": "p", "redirect_uris": ["not a uri"]}),
        json!({"client_id": "p", "access_token_ttl": -1}),
        json!({"client_id": "p", "client_secret": "short"}),
        json!({"client_id": "p", "public": true, "client_secret": "x".repeat(40)}),
        json!({"client_id": "p", "id_token_alg": "none"}),
    ] {
        a.call(Method::POST, "/admin/clients", Some(body))
            .await
            .problem(400);
    }
    for path in [
        "/admin/users?limit=0",
        "/admin/users?limit=abc",
        "/admin/users?limit=99999999999999999999",
        "/admin/users?cursor=%21%21",
        "/admin/users?unknown=1",
        "/admin/audit?since=yesterday",
        "/admin/sessions?cursor=YWJj",
    ] {
        a.call(Method::GET, path, None).await.problem(400);
    }
    a.call(Method::GET, "/admin/nothing-here", None)
        .await
        .problem(404);
    let wrong_method = a.call(Method::PUT, "/admin/users", None).await;
    wrong_method.problem(405);
    assert!(wrong_method.header("allow").contains("GET"));
    let rotate_hs = json!({"algs": ["HS256"]});
    a.call(Method::POST, "/admin/keys/rotate", Some(rotate_hs))
        .await
        .problem(400);
    let not_a_key = json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"});
    a.call(Method::POST, "/admin/keys/import", Some(not_a_key))
        .await
        .problem(400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_with_cursors_and_links() {
    let a = admin().await;
    for id in ["c1", "c2", "c3", "c4", "c5"] {
        a.create_client(json!({"client_id": id, "grant_types": ["client_credentials"]}))
            .await;
    }
    // ops was made by the CLI: six clients in all.
    let mut seen = Vec::new();
    let mut path = "/admin/clients?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let reply = a.call(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        pages += 1;
        let items = reply.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|c| c["client_id"].as_str().unwrap().to_owned()),
        );
        match reply.body["next_cursor"].as_str() {
            None => {
                assert_eq!(reply.header("link"), "");
                break;
            }
            Some(cursor) => {
                // The Link header points at the same page the cursor does.
                let link = reply.header("link");
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                assert!(link.contains("limit=2"), "{link}");
                path = format!("/admin/clients?limit=2&cursor={cursor}");
            }
        }
    }
    assert_eq!(seen, ["c1", "c2", "c3", "c4", "c5", "ops"]);
    assert_eq!(pages, 3);

    let keys = a.call(Method::GET, "/admin/keys?limit=1", None).await;
    assert_eq!(keys.body["items"].as_array().unwrap().len(), 1);
    assert!(keys.body["next_cursor"].is_string());
    let users = a.call(Method::GET, "/admin/users", None).await;
    assert_eq!(users.body, json!({"items": [], "next_cursor": null}));
}
