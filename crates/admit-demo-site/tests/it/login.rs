//! The whole flow: log in, look, refresh, log out; and the ways a callback fails.

use crate::fake_admit::{self, CLIENT_SECRET};
use crate::{Browser, csrf_of, spawn_site};

#[tokio::test]
async fn log_in_refresh_and_log_out() {
    let admit = fake_admit::spawn().await;
    let site = spawn_site(&admit).await;
    let mut browser = Browser::new();

    let home = browser.get(&format!("{site}/")).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains(r#"id="login""#));
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(home.headers["cache-control"], "no-store");
    assert_eq!(home.headers["referrer-policy"], "no-referrer");

    // Step 1: the site sends the browser to admit.
    let login = browser.get(&format!("{site}/login")).await;
    assert_eq!(login.status, 303);
    let authorize = login.location();
    assert!(authorize.starts_with(&format!("{}/oauth2/authorize?", admit.issuer)));
    for part in [
        "response_type=code",
        "scope=openid+profile+email",
        "code_challenge_method=S256",
        "nonce=",
        "state=",
    ] {
        assert!(authorize.contains(part), "{part} missing from {authorize}");
    }
    let cookie = browser.cookie.clone().unwrap();
    assert!(cookie.starts_with("admit_demo_site="));

    // Steps 2 and 3: admit logs the user in and sends the browser back.
    let back = browser.get(&authorize).await;
    assert_eq!(back.status, 303);
    let callback = back.location();
    assert!(callback.starts_with(&format!("{site}/callback?code=")));

    // Steps 4 and 5 happen inside the callback.
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/");
    assert_ne!(
        browser.cookie.as_ref(),
        Some(&cookie),
        "the session id is rotated at login"
    );

    let page = browser.get(&format!("{site}/")).await.body;
    for id in [
        "userinfo",
        "id-token",
        "access-token",
        "api-call",
        "timeline",
        "refresh",
        "logout",
    ] {
        assert!(page.contains(&format!(r#"id="{id}""#)), "#{id} missing");
    }
    assert!(!page.contains(r#"id="error""#), "{page}");
    assert!(
        page.contains("Alice &lt;Liddell&gt;"),
        "UserInfo is shown, escaped"
    );
    assert!(page.contains("Hello, alice"), "the API's answer is shown");
    for step in 1..=5 {
        assert!(
            page.contains(&format!(r#"data-step="{step}""#)),
            "step {step} missing"
        );
    }
    assert!(page.contains("at_hash matches the access token"));
    assert!(page.contains("Access token hash"));
    // No code, client secret or refresh token on the page (the two tokens are shown on purpose).
    let (code, first_refresh) = {
        let log = admit.log.lock().unwrap();
        (log.codes[0].clone(), log.refresh_tokens[0].clone())
    };
    for secret in [code.as_str(), CLIENT_SECRET, first_refresh.as_str()] {
        assert!(!page.contains(secret), "{secret} leaked onto the page");
    }

    // Refresh, with the form's CSRF token.
    let csrf = csrf_of(&page);
    let refreshed = browser
        .post(&format!("{site}/refresh"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refreshed.status, 303);
    let page = browser.get(&format!("{site}/")).await.body;
    assert!(page.contains("Refreshed 1 time"), "{page}");
    assert!(
        admit
            .log
            .lock()
            .unwrap()
            .spent_refresh_tokens
            .contains(&first_refresh)
    );
    assert!(page.contains("The site trades the refresh token for new tokens"));
    assert!(!page.contains(r#"id="error""#), "{page}");

    // A form without the right CSRF token is refused.
    let forged = browser
        .post(&format!("{site}/refresh"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains(r#"id="error""#));

    // Log out: the site forgets, then sends the browser to admit's end_session_endpoint.
    let out = browser
        .post(&format!("{site}/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, 303);
    let end_session = out.location();
    assert!(end_session.starts_with(&format!("{}/oauth2/logout?", admit.issuer)));
    browser.get(&end_session).await;
    let query = admit.log.lock().unwrap().logout_query.clone().unwrap();
    assert!(query["id_token_hint"].starts_with("eyJ"));
    assert_eq!(query["post_logout_redirect_uri"], format!("{site}/"));
    assert_eq!(query["client_id"], fake_admit::CLIENT_ID);
    let state = &query["state"];
    let page = browser.get(&format!("{site}/?state={state}")).await.body;
    assert!(page.contains("admit ended its session too"), "{page}");
    assert!(page.contains(r#"id="login""#));
    assert!(!page.contains(r#"id="userinfo""#));
}

#[tokio::test]
async fn an_error_from_admit_is_shown() {
    let admit = fake_admit::spawn().await;
    let site = spawn_site(&admit).await;
    let mut browser = Browser::new();
    admit.log.lock().unwrap().deny_next = Some("access_denied".into());
    let authorize = browser.get(&format!("{site}/login")).await.location();
    let callback = browser.get(&authorize).await.location();
    assert!(callback.contains("error=access_denied"));
    let back = browser.get(&callback).await;
    assert_eq!(back.status, 303);
    let page = browser.get(&format!("{site}/")).await.body;
    assert!(page.contains(r#"id="error""#));
    assert!(
        page.contains("error=access_denied: The user said &lt;no&gt;."),
        "{page}"
    );
}

#[tokio::test]
async fn a_callback_with_a_foreign_state_is_refused() {
    let admit = fake_admit::spawn().await;
    let site = spawn_site(&admit).await;
    let mut browser = Browser::new();
    let authorize = browser.get(&format!("{site}/login")).await.location();
    let callback = browser.get(&authorize).await.location();
    let (before, after) = callback.split_once("state=").unwrap();
    let forged = format!("{before}state=forged{}", &after[after.find('&').unwrap()..]);
    browser.get(&forged).await;
    let page = browser.get(&format!("{site}/")).await.body;
    assert!(page.contains(r#"id="error""#));
    assert!(page.contains("does not match"), "{page}");
    assert!(
        admit.log.lock().unwrap().codes.len() == 1,
        "the code was never redeemed"
    );
}

#[tokio::test]
async fn a_callback_without_a_session_is_refused() {
    let admit = fake_admit::spawn().await;
    let site = spawn_site(&admit).await;
    let answer = Browser::new()
        .get(&format!("{site}/callback?code=abc&state=def"))
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains(r#"id="error""#));
}
