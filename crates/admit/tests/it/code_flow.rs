//! The authorization-code flow with PKCE and OpenID Connect, at the HTTP level:
//! login and consent pages, SSO across clients, ID tokens, UserInfo, logout.

use admit_jose::{JwkSet, KeySet, UnverifiedJwt, Validation};
use serde_json::Value;

use crate::browser::{Browser, Page, param};
use crate::harness::{PASSWORD, TestServer, start_with};

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const CB: &str = "https://site.example/cb";

pub struct Flow {
    pub t: TestServer,
    pub secret: String,
    pub browser: Browser,
}

pub async fn setup() -> Flow {
    setup_with(|_| {}).await
}

pub async fn setup_with(configure: impl FnOnce(&mut admit_server::Settings)) -> Flow {
    let t = start_with(configure).await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client(
        "site",
        &[
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--redirect-uri",
            CB,
            "--post-logout-redirect-uri",
            "https://site.example/bye",
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "email",
            "--scope",
            "read",
            "--name",
            "Example Site",
        ],
    );
    Flow {
        t,
        secret,
        browser: Browser::new(),
    }
}

pub fn authorize_url(base: &str, client_id: &str, extra: &str) -> String {
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile%20email&state=xyz&nonce=n-0S6&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        urlencode(CB)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Flow {
    pub async fn login(&mut self, page: &Page, username: &str, password: &str) -> Page {
        let form = [
            ("interaction", page.field("interaction")),
            ("csrf", page.field("csrf")),
            ("username", username.to_owned()),
            ("password", password.to_owned()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.browser
            .post(&format!("{}/login", self.t.base), &form)
            .await
    }

    pub async fn consent(&mut self, page: &Page, decision: &str) -> Page {
        let (interaction, csrf) = (page.field("interaction"), page.field("csrf"));
        let form = [
            ("interaction", interaction.as_str()),
            ("csrf", csrf.as_str()),
            ("decision", decision),
        ];
        self.browser
            .post(&format!("{}/consent", self.t.base), &form)
            .await
    }

    /// Log in and consent where asked; returns the code from the redirect.
    pub async fn code(&mut self, extra: &str) -> String {
        let mut page = self
            .browser
            .get(&authorize_url(&self.t.base, "site", extra))
            .await;
        if page.body.contains("name=\"password\"") {
            page = self.login(&page, "alice", PASSWORD).await;
        }
        if page.body.contains("name=\"decision\"") {
            page = self.consent(&page, "approve").await;
        }
        assert_eq!(page.status, 303, "{}", page.body);
        param(&page.location(), "code").expect("a code")
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> (u16, Value) {
        let (status, _, body) = self
            .t
            .token(
                Some(("site", &self.secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", CB),
                    ("code_verifier", verifier),
                ],
            )
            .await;
        (status, body)
    }
}

async fn jwks(t: &TestServer) -> KeySet {
    let jwks: JwkSet = serde_json::from_value(t.get_json("/.well-known/jwks.json").await).unwrap();
    KeySet::from_jwks(&jwks).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_consent_and_get_tokens_with_pkce() {
    let mut f = setup().await;
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    assert_eq!(page.status, 200);
    // Every page: no framing, strict CSP, no caching, no Referer.
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("default-src 'none'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.body.contains("Example Site") && page.body.contains("name=\"password\""));

    let page = f.login(&page, "alice", PASSWORD).await;
    assert_eq!(page.status, 200, "consent page");
    assert!(
        page.body.contains("see your email address"),
        "scopes in words"
    );
    let session_cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("admit_session="))
        .expect("an SSO session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));

    let page = f.consent(&page, "approve").await;
    assert_eq!(page.status, 303);
    let location = page.location();
    assert!(location.as_str().starts_with(CB));
    assert_eq!(param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        param(&location, "iss").as_deref(),
        Some(f.t.base.as_str()),
        "RFC 9207"
    );
    let code = param(&location, "code").unwrap();

    let (status, tokens) = f.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    assert!(tokens["refresh_token"].is_string());

    // The ID token: RS256 by default, for this client, with nonce, at_hash, sid.
    let keys = jwks(&f.t).await;
    let mut validation = Validation::access_token(&f.t.base, "site");
    validation.typ = None;
    let claims = keys
        .verify(id_token, &validation, admit_server::now())
        .unwrap();
    assert_eq!(
        UnverifiedJwt::parse(id_token).unwrap().alg(),
        admit_jose::Algorithm::RS256
    );
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["azp"], "site");
    assert_eq!(
        claims["at_hash"],
        admit_oauth::id_token::at_hash(access, admit_jose::Algorithm::RS256)
    );
    for claim in ["sid", "auth_time", "iat", "exp", "sub"] {
        assert!(claims.contains_key(claim), "{claim}");
    }

    // UserInfo gives what the scopes allow.
    let info: Value =
        f.t.bearer_json(format!("{}/oauth2/userinfo", f.t.base), access)
            .await;
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "a@example.com");
    assert!(info.get("email_verified").is_some());
    let posted =
        f.t.http
            .post(format!("{}/oauth2/userinfo", f.t.base))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
    assert_eq!(posted.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_across_two_clients_and_remembered_consent() {
    let mut f = setup().await;
    f.code("").await;
    let other_secret = f.t.add_client(
        "other",
        &["--redirect-uri", CB, "--scope", "openid", "--skip-consent"],
    );
    // The session cookie logs the user in to the second client with no login page,
    // and a first-party client skips consent: straight back with a code.
    let page = f
        .browser
        .get(
            &authorize_url(&f.t.base, "other", "")
                .replace("scope=openid%20profile%20email", "scope=openid"),
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = param(&page.location(), "code").unwrap();
    let (status, _, body) =
        f.t.token(
            Some(("other", &other_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The first client's consent is remembered: prompt=none now works.
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&prompt=none"))
        .await;
    assert!(param(&page.location(), "code").is_some());
    // prompt=login forces the login page even with a session; prompt=consent the consent page.
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&prompt=login"))
        .await;
    assert!(page.body.contains("name=\"password\""));
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&prompt=consent"))
        .await;
    assert!(page.body.contains("decision"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let mut f = setup().await;
    let code = f.code("").await;
    let (status, first) = f.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200);
    let (status, again) = f.exchange(&code, VERIFIER).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) =
        f.t.token(
            Some(("site", &f.secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "RFC 6749 §4.1.2: tokens from a replayed code are revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_and_its_refresh_tokens() {
    let mut f = setup().await;
    let code = f.code("").await;
    let (_, tokens) = f.exchange(&code, VERIFIER).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let page = f
        .browser
        .get(&format!(
            "{}/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye1",
            f.t.base,
            urlencode("https://site.example/bye")
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().as_str(),
        "https://site.example/bye?state=bye1"
    );
    assert!(!f.browser.has_cookie("admit_session"));
    let (status, _, _) =
        f.t.token(
            Some(("site", &f.secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, 400, "the session's refresh tokens are revoked");
    // Logged out: the next authorization asks for the password again.
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    assert!(page.body.contains("name=\"password\""));
    // An unregistered post-logout URI is refused on admit's page.
    let page = f
        .browser
        .get(&format!(
            "{}/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            f.t.base,
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(page.status, 400);
    // Without a hint, the user is asked to confirm.
    let page = f.browser.get(&format!("{}/oauth2/logout", f.t.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("confirm-logout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_remembered_until_withdrawn() {
    let mut f = setup().await;
    f.code("").await;
    let list = f.t.admit_ok(&["consent", "list", "alice"], None);
    assert!(
        list.contains("site") && list.contains("email openid profile"),
        "{list}"
    );
    // Remembered: no consent page.
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    assert_eq!(page.status, 303);
    f.t.admit_ok(&["consent", "revoke", "alice", "site"], None);
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    assert!(
        page.body.contains("name=\"decision\""),
        "asked again after withdrawal"
    );
    let out = f.t.admit(&["consent", "revoke", "alice", "site"], None);
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_asks_for_the_password_again() {
    let mut f = setup().await;
    f.code("").await;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&max_age=0"))
        .await;
    assert!(
        page.body.contains("name=\"password\""),
        "the session is older than max_age=0"
    );
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&max_age=3600"))
        .await;
    assert_eq!(page.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_by_form_post_with_login_hint_and_a_client_chosen_id_token_algorithm() {
    let mut f = setup().await;
    let es_secret = f.t.add_client(
        "es",
        &[
            "--redirect-uri",
            CB,
            "--scope",
            "openid",
            "--id-token-alg",
            "ES256",
            "--skip-consent",
        ],
    );
    // OpenID Connect Core §3.1.2.1: the authorization request may be a form post.
    let query = authorize_url(&f.t.base, "es", "&login_hint=alice")
        .split_once('?')
        .unwrap()
        .1
        .replace("scope=openid%20profile%20email", "scope=openid");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = f
        .browser
        .post(&format!("{}/oauth2/authorize", f.t.base), &form)
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"alice\""),
        "login_hint fills in the username"
    );
    let page = f.login(&page, "alice", PASSWORD).await;
    let code = param(&page.location(), "code").unwrap();
    let (status, _, tokens) =
        f.t.token(
            Some(("es", &es_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        UnverifiedJwt::parse(id_token).unwrap().alg(),
        admit_jose::Algorithm::ES256
    );
    let mut validation = Validation::access_token(&f.t.base, "es");
    validation.typ = None;
    let claims = jwks(&f.t)
        .await
        .verify(id_token, &validation, admit_server::now())
        .unwrap();
    assert_eq!(
        claims["at_hash"],
        admit_oauth::id_token::at_hash(
            tokens["access_token"].as_str().unwrap(),
            admit_jose::Algorithm::ES256
        )
    );
    // With only `openid`, UserInfo gives `sub` and nothing else.
    let info: Value =
        f.t.bearer_json(
            format!("{}/oauth2/userinfo", f.t.base),
            tokens["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        info.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["sub"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_errors_follow_rfc_6750() {
    let f = setup().await;
    let url = format!("{}/oauth2/userinfo", f.t.base);
    let none = f.t.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"admit\"",
        "no error code without a token (§3.1)"
    );
    let bad =
        f.t.http
            .get(&url)
            .bearer_auth("not.a.token")
            .send()
            .await
            .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(
        bad.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let basic =
        f.t.http
            .get(&url)
            .basic_auth("a", Some("b"))
            .send()
            .await
            .unwrap();
    // Another scheme carries no Bearer token: 401 without an error code (RFC 6750 §3.1).
    assert_eq!(basic.status(), 401);
    assert_eq!(
        basic.headers()["www-authenticate"],
        "Bearer realm=\"admit\""
    );
    let two =
        f.t.http
            .get(&url)
            .header("authorization", "Bearer a b")
            .send()
            .await
            .unwrap();
    assert_eq!(two.status(), 400);
    // A token without `openid` (client credentials) is not enough.
    let secret =
        f.t.add_client("svc", &["--grant", "client_credentials", "--scope", "read"]);
    let (_, _, body) =
        f.t.token(
            Some(("svc", &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let forbidden =
        f.t.http
            .get(&url)
            .bearer_auth(body["access_token"].as_str().unwrap())
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_asks_first_unless_the_hint_is_this_sessions_id_token() {
    // Bob's ID token.
    let mut f = setup().await;
    f.t.add_user("bob", PASSWORD);
    let page = f.browser.get(&authorize_url(&f.t.base, "site", "")).await;
    let page = f.login(&page, "bob", PASSWORD).await;
    let page = f.consent(&page, "approve").await;
    let (_, bobs) = f
        .exchange(&param(&page.location(), "code").unwrap(), VERIFIER)
        .await;
    // Alice, in another browser, is logged in.
    let mut alice = crate::browser::Browser::new();
    std::mem::swap(&mut f.browser, &mut alice);
    f.code("").await;
    std::mem::swap(&mut f.browser, &mut alice);
    let logout = |hint: &str| {
        format!(
            "{}/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            f.t.base,
            urlencode("https://site.example/bye")
        )
    };
    // Neither Bob's ID token nor an access token ends Alice's session silently.
    for hint in [
        bobs["id_token"].as_str().unwrap(),
        bobs["access_token"].as_str().unwrap(),
    ] {
        let page = alice.get(&logout(hint)).await;
        assert!(
            page.headers.get("location").is_none(),
            "not logged out and sent away"
        );
        assert!(alice.has_cookie("admit_session"));
    }
    assert_eq!(
        alice
            .get(&authorize_url(&f.t.base, "site", "&prompt=none"))
            .await
            .status,
        303
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_and_session_lifetimes_per_client() {
    let mut f = setup().await;
    let quick = f.t.add_client(
        "quick",
        &[
            "--redirect-uri",
            CB,
            "--scope",
            "openid",
            "--skip-consent",
            "--code-ttl",
            "1",
            "--session-ttl",
            "1",
        ],
    );
    let url = authorize_url(&f.t.base, "quick", "")
        .replace("scope=openid%20profile%20email", "scope=openid");
    let page = f.browser.get(&url).await;
    let page = f.login(&page, "alice", PASSWORD).await;
    let code = param(&page.location(), "code").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // The client's one-second code has expired...
    let (status, _, body) =
        f.t.token(
            Some(("quick", &quick)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // ...and a login older than its session lifetime means logging in again,
    let page = f.browser.get(&url).await;
    assert!(page.body.contains("name=\"password\""));
    // while the same session still serves a client without such a limit.
    assert_eq!(
        f.browser
            .get(&authorize_url(&f.t.base, "site", ""))
            .await
            .status,
        200,
        "consent page, no login"
    );
    assert!(
        !f.browser
            .get(&authorize_url(&f.t.base, "site", ""))
            .await
            .body
            .contains("name=\"password\"")
    );
    let out =
        f.t.admit(&["client", "add", "bad", "--code-ttl", "601"], None);
    assert!(!out.status.success());
}
