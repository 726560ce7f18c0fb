//! Every bad authorization request and code redemption gets its spec error, with no
//! redirect until the client and redirect URI are trusted, and no state change.

use crate::browser::param;
use crate::code_flow::{CB, CHALLENGE, VERIFIER, authorize_url, setup, urlencode};
use crate::harness::PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_clients_and_redirects_get_a_page_not_a_redirect() {
    let mut f = setup().await;
    let base = f.t.base.clone();
    for (name, url) in [
        ("unknown client", authorize_url(&base, "ghost", "")),
        (
            "missing redirect_uri",
            authorize_url(&base, "site", "")
                .replace(&format!("redirect_uri={}", urlencode(CB)), ""),
        ),
        (
            "other redirect_uri",
            authorize_url(&base, "site", "")
                .replace(&urlencode(CB), &urlencode("https://evil.example/cb")),
        ),
        (
            "suffix",
            authorize_url(&base, "site", "")
                .replace(&urlencode(CB), &urlencode("https://site.example/cb/x")),
        ),
        (
            "repeated redirect_uri",
            authorize_url(
                &base,
                "site",
                &format!("&redirect_uri={}", urlencode("https://evil.example/")),
            ),
        ),
        (
            "repeated state",
            authorize_url(&base, "site", "&state=again"),
        ),
        (
            "oversized",
            authorize_url(&base, "site", &format!("&pad={}", "x".repeat(20_000))),
        ),
    ] {
        let page = f.browser.get(&url).await;
        assert!(
            page.headers.get("location").is_none(),
            "{name}: must not redirect"
        );
        assert!((400..500).contains(&page.status), "{name}: {}", page.status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_go_back_to_a_trusted_client_with_state_and_iss() {
    let mut f = setup().await;
    let base = f.t.base.clone();
    let cases = [
        (
            "response_type=token",
            authorize_url(&base, "site", "").replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            "no PKCE",
            authorize_url(&base, "site", "").replace(
                &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
                "",
            ),
            "invalid_request",
        ),
        (
            "plain PKCE",
            authorize_url(&base, "site", "")
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            "unknown scope",
            authorize_url(&base, "site", "")
                .replace("scope=openid%20profile%20email", "scope=openid%20admin"),
            "invalid_scope",
        ),
        (
            "prompt=none without session",
            authorize_url(&base, "site", "&prompt=none"),
            "login_required",
        ),
        (
            "request object",
            authorize_url(&base, "site", "&request=eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
    ];
    for (name, url, error) in cases {
        let page = f.browser.get(&url).await;
        assert_eq!(page.status, 303, "{name}: {}", page.body);
        let location = page.location();
        assert!(location.as_str().starts_with(CB), "{name}");
        assert_eq!(param(&location, "error").as_deref(), Some(error), "{name}");
        assert_eq!(param(&location, "state").as_deref(), Some("xyz"), "{name}");
        assert_eq!(
            param(&location, "iss").as_deref(),
            Some(base.as_str()),
            "{name}"
        );
    }
    // Denying consent: access_denied.
    let page = f.browser.get(&authorize_url(&base, "site", "")).await;
    let page = f.login(&page, "alice", PASSWORD).await;
    let page = f.consent(&page, "deny").await;
    assert_eq!(
        param(&page.location(), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_their_csrf_token_and_wrong_passwords_say_nothing_more() {
    let mut f = setup().await;
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let interaction = page.field("interaction");
    let login = format!("{}/login", f.t.base);
    // A forged CSRF token, and a missing one: refused, no session started.
    let forged = f
        .browser
        .post(
            &login,
            &[
                ("interaction", &interaction),
                ("csrf", "AAAA"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let missing = f
        .browser
        .post(
            &login,
            &[
                ("interaction", &interaction),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(missing.status, 400);
    assert!(!f.browser.has_cookie("admit_session"));
    // Another browser (no CSRF cookie) cannot post this browser's form.
    let mut other = crate::browser::Browser::new();
    let stolen = other
        .post(
            &login,
            &[
                ("interaction", &interaction),
                ("csrf", &page.field("csrf")),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stolen.status, 400);
    // Wrong password and unknown user: the same generic message.
    let wrong = f.login(&page, "alice", "not-the-password").await;
    let unknown = f.login(&page, "nobody", "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(
        wrong.body.contains("Wrong username or password.")
            && unknown.body.contains("Wrong username or password.")
    );
    // A tampered interaction is refused.
    let mut tampered = interaction.clone();
    tampered.replace_range(10..11, if &tampered[10..11] == "A" { "B" } else { "A" });
    let page2 = f
        .browser
        .post(
            &login,
            &[
                ("interaction", &tampered),
                ("csrf", &page.field("csrf")),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!((400..404).contains(&page2.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_redemption_checks_every_binding() {
    let mut f = setup().await;
    let other_secret =
        f.t.add_client("other", &["--redirect-uri", CB, "--scope", "openid"]);
    let form = |code: &str, redirect: &str, verifier: Option<&str>| {
        let mut f = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect.to_owned()),
        ];
        if let Some(v) = verifier {
            f.push(("code_verifier", v.to_owned()));
        }
        f
    };
    for (name, client, secret, redirect, verifier) in [
        (
            "another client",
            "other",
            other_secret.clone(),
            CB,
            Some(VERIFIER),
        ),
        (
            "wrong verifier",
            "site",
            f.secret.clone(),
            CB,
            Some("wrong-verifier-wrong-verifier-wrong-verifier-x"),
        ),
        ("missing verifier", "site", f.secret.clone(), CB, None),
        (
            "other redirect_uri",
            "site",
            f.secret.clone(),
            "https://site.example/other",
            Some(VERIFIER),
        ),
    ] {
        let code = f.code("").await;
        let (status, error) = token(&f.t, client, &secret, form(&code, redirect, verifier)).await;
        assert_eq!((status, error.as_str()), (400, "invalid_grant"), "{name}");
    }
    let (status, error) = token(
        &f.t,
        "site",
        &f.secret,
        form("made-up-code", CB, Some(VERIFIER)),
    )
    .await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
}

async fn token(
    t: &crate::harness::TestServer,
    client: &str,
    secret: &str,
    form: Vec<(&'static str, String)>,
) -> (u16, String) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = t.token(Some((client, secret)), &form).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_form_needs_its_csrf_token_and_the_same_user() {
    let mut f = setup().await;
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let page = f.login(&page, "alice", PASSWORD).await;
    let consent = format!("{}/consent", f.t.base);
    let interaction = page.field("interaction");
    let forged = f
        .browser
        .post(
            &consent,
            &[
                ("interaction", &interaction),
                ("csrf", "forged"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.headers.get("location").is_none());
    let missing = f
        .browser
        .post(
            &consent,
            &[("interaction", &interaction), ("decision", "approve")],
        )
        .await;
    assert_eq!(missing.status, 400);
    // Nothing was granted by the refused posts.
    assert!(
        !f.t.admit_ok(&["consent", "list", "alice"], None)
            .contains("site")
    );
    // A public client must use PKCE even when it says nothing about it.
    f.t.admit_ok(
        &[
            "client",
            "add",
            "spa",
            "--public",
            "--redirect-uri",
            CB,
            "--scope",
            "openid",
        ],
        None,
    );
    let url = authorize_url(&f.t.base, "spa", "")
        .replace(
            &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
            "",
        )
        .replace("scope=openid%20profile%20email", "scope=openid");
    let page = f.browser.get(&url).await;
    assert_eq!(
        param(&page.location(), "error").as_deref(),
        Some("invalid_request")
    );
}
