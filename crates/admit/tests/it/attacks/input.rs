//! Hostile input: oversized and deeply nested requests, and look-alike usernames.

use admit_resource::Verifier;
use serde_json::Value;

use super::{admit_keys, assert_invalid_token, guarded_api, jws, parts, present};
use crate::code_flow::{Flow, VERIFIER, authorize_url, setup};
use crate::harness::{PASSWORD, provisioned};

/// Denial of service by oversized or deeply nested input (the issue's own item; no BCP
/// section): bodies, queries and headers are capped before parsing (413, 414, 431, never
/// 500), a JWT nested 10 000 deep is 401 `invalid_token`, and the server carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_nested_input_is_refused_without_harm() {
    let p = provisioned().await;
    let t = &p.t;
    // Token requests of 32 kB and 2 MB. admit stops reading at 16 KiB and answers 413;
    // while 2 MB are still being sent, the server may close first (RFC 9112 §9.6), so
    // the client sees the connection end instead of the answer.
    for size in [32 << 10, 2 << 20] {
        let sent = t
            .http
            .post(format!("{}/oauth2/token", t.base))
            .basic_auth("app", Some(&p.secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=password&pad={}", "x".repeat(size)))
            .send()
            .await;
        match sent {
            Ok(response) => {
                assert_eq!(response.status(), 413, "{size}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"], "invalid_request", "{size}");
            }
            Err(e) if size > 32 << 10 && e.is_request() => {}
            Err(e) => panic!("{size}: {e:?}"),
        }
    }
    // A 40 kB authorization request: 414, never a redirect. hyper answers while the
    // request line is still arriving and closes, so here too the client may see the
    // connection end before it reads the answer (RFC 9112 §9.6).
    let url = format!(
        "{}&pad={}",
        authorize_url(&t.base, "app", ""),
        "x".repeat(40_000)
    );
    match t.http.get(&url).send().await {
        Ok(response) => {
            assert_eq!(response.status(), 414);
            assert!(response.headers().get("location").is_none());
        }
        Err(e) if e.is_request() => {}
        Err(e) => panic!("40 kB query: {e:?}"),
    }
    // A 100 kB Basic header.
    let response = t
        .http
        .post(format!("{}/oauth2/token", t.base))
        .basic_auth("app", Some("s".repeat(100_000)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Ten thousand '[' in a JWT payload signed with admit's own key, at the guard and
    // at UserInfo.
    let (_, tokens) = p.login("read").await;
    let (header, _) = parts(tokens["access_token"].as_str().unwrap());
    let keys = admit_keys(t).await;
    let nested = jws(
        &header.to_string(),
        "[".repeat(10_000).as_bytes(),
        keys.access_token_key(),
    );
    let api = guarded_api(Verifier::builder(&t.base, &t.base)).await;
    assert_invalid_token(present(&t.http, &api, &nested).await, "guard");
    let userinfo = format!("{}/oauth2/userinfo", t.base);
    assert_invalid_token(present(&t.http, &userinfo, &nested).await, "UserInfo");
    let closed = jws(
        &header.to_string(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
        keys.access_token_key(),
    );
    assert_invalid_token(present(&t.http, &api, &closed).await, "balanced nesting");
    // Everything still works.
    assert_eq!(
        t.get_json("/.well-known/openid-configuration").await["issuer"],
        t.base.as_str()
    );
    assert_eq!(p.login("read").await.0, 200);
    assert_eq!(
        present(&t.http, &api, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
}

/// Unicode look-alike usernames (RFC 8265 §3.3; the password grant is in
/// `password_flow::look_alike_usernames_are_one_account`): on the login form `ＡＬＩＣＥ`
/// is alice (NFKC + lowercase), a Cyrillic `аlice` stays another account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_usernames_on_the_login_form() {
    let mut f = setup().await;
    let cyrillic = "\u{430}lice";
    f.t.add_user(cyrillic, "another strong password");
    let (alice, name) = log_in_as(&mut f, "alice", PASSWORD).await.unwrap();
    assert_eq!(name, "alice");
    let (fullwidth, _) = log_in_as(&mut f, "ＡＬＩＣＥ", PASSWORD).await.unwrap();
    assert_eq!(fullwidth, alice, "fullwidth is the same account");
    let (other, name) = log_in_as(&mut f, cyrillic, "another strong password")
        .await
        .unwrap();
    assert_ne!(other, alice, "Cyrillic а is another account");
    assert_eq!(name, cyrillic);
    assert_eq!(
        log_in_as(&mut f, cyrillic, PASSWORD).await,
        None,
        "not with alice's password"
    );
    assert_eq!(
        log_in_as(&mut f, "alice", "another strong password").await,
        None
    );
}

/// Logs in on the login form in a fresh browser; the UserInfo `sub` and
/// `preferred_username` of the account reached, or `None` when the login is refused.
async fn log_in_as(f: &mut Flow, username: &str, password: &str) -> Option<(Value, Value)> {
    f.browser = crate::browser::Browser::new();
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let mut page = f.login(&page, username, password).await;
    if page.status == 401 {
        return None;
    }
    if page.body.contains("name=\"decision\"") {
        page = f.consent(&page, "approve").await;
    }
    let code = crate::browser::param(&page.location(), "code").unwrap();
    let (_, tokens) = f.exchange(&code, VERIFIER).await;
    let access = tokens["access_token"].as_str().unwrap();
    let info =
        f.t.bearer_json(format!("{}/oauth2/userinfo", f.t.base), access)
            .await;
    Some((info["sub"].clone(), info["preferred_username"].clone()))
}
