//! Attacks through the user's browser on admit's pages: CSRF on the login and consent
//! forms, 307 redirects, clickjacking, and leaks through Referer and caches.

use crate::browser::{Browser, Page, param};
use crate::code_flow::{CB, VERIFIER, authorize_url, setup, urlencode};
use crate::harness::PASSWORD;

/// The hidden fields of a login form with alice's credentials, or of a consent form
/// approving, from `interaction` and `csrf` (either may be left out).
fn form<'a>(
    interaction: Option<&'a str>,
    csrf: Option<&'a str>,
    rest: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form: Vec<_> = interaction
        .map(|i| ("interaction", i))
        .into_iter()
        .collect();
    form.extend(csrf.map(|c| ("csrf", c)));
    form.extend_from_slice(rest);
    form
}

fn sets_cookie(page: &Page, name: &str) -> bool {
    page.headers
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with(&format!("{name}=")))
}

/// CSRF on the login form (RFC 9700 §4.7, RFC 6749 §10.12): the form's CSRF token is
/// bound to this browser's cookie and to the sealed request, so a post without it, with
/// another browser's, or cross-site without the cookie is refused: no session, no code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_refuses_forged_posts() {
    let mut f = setup().await;
    let mut mallory = Browser::new();
    let url = authorize_url(&f.t.base, "site", "");
    let victim = f.browser.get(&url).await;
    let theirs = mallory.get(&url).await;
    let (vi, vc) = (victim.field("interaction"), victim.field("csrf"));
    let (mi, mc) = (theirs.field("interaction"), theirs.field("csrf"));
    let login = format!("{}/login", f.t.base);
    let credentials = [("username", "alice"), ("password", PASSWORD)];
    for (name, fields, status) in [
        ("no CSRF field", form(Some(&vi), None, &credentials), 400),
        (
            "another browser's form and token",
            form(Some(&mi), Some(&mc), &credentials),
            403,
        ),
        (
            "another browser's token",
            form(Some(&vi), Some(&mc), &credentials),
            403,
        ),
        (
            "this token for another form",
            form(Some(&mi), Some(&vc), &credentials),
            403,
        ),
    ] {
        let page = f.browser.post(&login, &fields).await;
        assert_eq!(page.status, status, "{name}: {}", page.body);
        assert!(page.headers.get("location").is_none(), "{name}");
        assert!(!sets_cookie(&page, "admit_session"), "{name}: no session");
    }
    // Cross-site: a real browser sends no SameSite=Lax cookie with another site's POST.
    let page = Browser::new()
        .post(&login, &form(Some(&vi), Some(&vc), &credentials))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(!sets_cookie(&page, "admit_session"));
    assert!(!f.browser.has_cookie("admit_session"));
    // The control: the form as admit sent it logs in.
    let page = f
        .browser
        .post(&login, &form(Some(&vi), Some(&vc), &credentials))
        .await;
    assert_eq!(page.status, 200, "the consent page");
    assert!(f.browser.has_cookie("admit_session"));
    // The account page's login form: the same defence.
    let theirs = mallory.get(&format!("{}/account", f.t.base)).await;
    let (ai, ac) = (theirs.field("interaction"), theirs.field("csrf"));
    let fields = form(Some(&ai), Some(&ac), &credentials);
    let page = Browser::new()
        .post(&format!("{}/account/login", f.t.base), &fields)
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(!sets_cookie(&page, "admit_session"));
}

/// CSRF on the consent form (RFC 9700 §4.7, RFC 6749 §10.12): approving needs this
/// browser's CSRF token for this form and the user who logged in for it; anything else
/// is refused, no consent is recorded and no code issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_form_refuses_forged_posts() {
    let mut f = setup().await;
    f.t.add_user("mallory", PASSWORD);
    let url = authorize_url(&f.t.base, "site", "");
    let login_page = f.browser.get(&url).await;
    let consent_page = f.login(&login_page, "alice", PASSWORD).await;
    let mut mallory = Browser::new();
    let page = mallory.get(&url).await;
    let credentials = [("username", "mallory"), ("password", PASSWORD)];
    let interaction = page.field("interaction");
    let page = mallory
        .post(
            &format!("{}/login", f.t.base),
            &form(Some(&interaction), Some(&page.field("csrf")), &credentials),
        )
        .await;
    assert_eq!(page.status, 200);
    let (mi, mc) = (page.field("interaction"), page.field("csrf"));
    let (vi, vc) = (
        consent_page.field("interaction"),
        consent_page.field("csrf"),
    );
    let (li, lc) = (login_page.field("interaction"), login_page.field("csrf"));
    let consent = format!("{}/consent", f.t.base);
    let approve = [("decision", "approve")];
    for (name, fields, status) in [
        ("no CSRF field", form(Some(&vi), None, &approve), 400),
        (
            "another browser's form and token",
            form(Some(&mi), Some(&mc), &approve),
            403,
        ),
        (
            "another browser's token",
            form(Some(&vi), Some(&mc), &approve),
            403,
        ),
        // The login form's request, not yet tied to a user, posted as a consent.
        (
            "the login form posted as consent",
            form(Some(&li), Some(&lc), &approve),
            400,
        ),
    ] {
        let page = f.browser.post(&consent, &fields).await;
        assert_eq!(page.status, status, "{name}: {}", page.body);
        assert!(page.headers.get("location").is_none(), "{name}: no code");
    }
    let page = Browser::new()
        .post(&consent, &form(Some(&vi), Some(&vc), &approve))
        .await;
    assert_eq!(page.status, 400, "cross-site: {}", page.body);
    assert!(page.headers.get("location").is_none());
    let consents = f.t.admit_ok(&["consent", "list", "alice"], None);
    assert!(
        !consents.contains("site"),
        "nothing was granted: {consents}"
    );
    // The control: this browser's own form approves.
    let page = f
        .browser
        .post(&consent, &form(Some(&vi), Some(&vc), &approve))
        .await;
    assert_eq!(page.status, 303);
    assert!(param(&page.location(), "code").is_some());
    // Withdrawing it from the account page without the form's token: refused.
    let withdraw = format!("{}/account/consents", f.t.base);
    let page = f.browser.post(&withdraw, &[("client_id", "site")]).await;
    assert_eq!(page.status, 403, "{}", page.body);
    let consents = f.t.admit_ok(&["consent", "list", "alice"], None);
    assert!(consents.contains("site"), "still granted: {consents}");
}

/// 307 redirects (RFC 9700 §4.12) and the client's CSRF defence (RFC 6749 §10.12): after
/// a form post carrying the password, admit redirects with 303, which makes the browser
/// drop the body, never with 307/308; and `state` comes back exactly as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_is_a_303_with_state_unchanged() {
    let mut f = setup().await;
    let state = "s t/+é&x=y?<\"'>%20";
    f.t.add_client(
        "first",
        &["--redirect-uri", CB, "--scope", "openid", "--skip-consent"],
    );
    let url = authorize_url(&f.t.base, "first", "")
        .replace("scope=openid%20profile%20email", "scope=openid")
        .replace("state=xyz", &format!("state={}", urlencode(state)));
    let page = f.browser.get(&url).await;
    // The login post, which carries the password, is answered by the code redirect.
    let page = f.login(&page, "alice", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location();
    assert!(location.as_str().starts_with(CB));
    assert_eq!(param(&location, "state").as_deref(), Some(state));
    // And the consent post.
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let page = f.consent(&page, "approve").await;
    assert_eq!(page.status, 303);
    assert_eq!(param(&page.location(), "state").as_deref(), Some("xyz"));
}

/// Script injection through reflected parameters (RFC 6749 §10.14): a `login_hint` or
/// `state` full of markup comes back escaped in the login page, never as markup, and the
/// page's CSP allows no inline script anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflected_parameters_are_escaped() {
    let mut f = setup().await;
    let payload = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
    let extra = format!("&login_hint={}", urlencode(payload));
    let url = authorize_url(&f.t.base, "site", &extra)
        .replace("state=xyz", &format!("state={}", urlencode(payload)));
    let page = f.browser.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("&lt;script&gt;") || page.body.contains("&#60;script&#62;"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<script>") && !page.body.contains("<img"),
        "{}",
        page.body
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

/// The pages a user sees at admit during an authorization: login, consent, an error,
/// the logout question; with the browser that reached them.
async fn pages(f: &mut crate::code_flow::Flow) -> Vec<(&'static str, Page)> {
    let login = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let wrong = f.login(&login, "alice", "wrong password").await;
    let consent = f.login(&login, "alice", PASSWORD).await;
    let error = f.browser.get(&authorize_url(&f.t.base, "ghost", "")).await;
    let logout = f.browser.get(&format!("{}/oauth2/logout", f.t.base)).await;
    let account = f.browser.get(&format!("{}/account", f.t.base)).await;
    assert_eq!(
        [
            login.status,
            wrong.status,
            consent.status,
            error.status,
            logout.status,
            account.status
        ],
        [200, 401, 200, 400, 200, 200]
    );
    vec![
        ("login", login),
        ("wrong password", wrong),
        ("consent", consent),
        ("error", error),
        ("logout question", logout),
        ("account", account),
    ]
}

/// Clickjacking (RFC 9700 §4.16, RFC 6749 §10.13): every page, login and consent first,
/// forbids framing with `Content-Security-Policy: frame-ancestors 'none'` and
/// `X-Frame-Options: DENY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cannot_be_framed() {
    let mut f = setup().await;
    for (name, page) in pages(&mut f).await {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{name}: {csp}");
        assert_eq!(page.headers["x-frame-options"], "DENY", "{name}");
    }
}

/// Credential leakage through Referer and caches (RFC 9700 §4.2, §4.3; RFC 6749 §5.1):
/// pages and the redirect carrying the code send `Referrer-Policy: no-referrer` and
/// `Cache-Control: no-store`; token responses, successes and errors, are `no-store`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_leaks_through_referer_or_caches() {
    let mut f = setup().await;
    let mut responses = pages(&mut f).await;
    let redirect = f.consent(&responses[2].1, "approve").await;
    assert_eq!(redirect.status, 303);
    let code = param(&redirect.location(), "code").unwrap();
    let error_redirect = f
        .browser
        .get(
            &authorize_url(&f.t.base, "site", "")
                .replace("response_type=code", "response_type=token"),
        )
        .await;
    assert_eq!(error_redirect.status, 303);
    responses.extend([
        ("code redirect", redirect),
        ("error redirect", error_redirect),
    ]);
    for (name, page) in &responses {
        assert_eq!(page.headers["referrer-policy"], "no-referrer", "{name}");
        assert_eq!(page.headers["cache-control"], "no-store", "{name}");
    }
    let (status, headers, body) =
        f.t.token(
            Some(("site", &f.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    let (status, headers, _) =
        f.t.token(
            Some(("site", &f.secret)),
            &[("grant_type", "authorization_code"), ("code", "made-up")],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(headers["cache-control"], "no-store", "an error too");
    let userinfo =
        f.t.http
            .get(format!("{}/oauth2/userinfo", f.t.base))
            .bearer_auth(body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(userinfo.status(), 200);
    assert_eq!(
        userinfo.headers()["cache-control"],
        "no-store",
        "UserInfo carries personal data"
    );
}
