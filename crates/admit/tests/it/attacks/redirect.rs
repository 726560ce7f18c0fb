//! Where the browser is sent: redirect-URI manipulation, open redirection and mix-up.

use crate::browser::{Browser, param};
use crate::code_flow::{CB, CHALLENGE, VERIFIER, authorize_url, setup, urlencode};
use crate::harness::start;

const REGISTERED: &str = "https://client.example/cb";
const LOOPBACK: &str = "http://127.0.0.1/cb";

/// An authorization request for `client_id` with this exact `redirect_uri` value.
fn request(base: &str, client_id: &str, redirect_uri: &str) -> String {
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode(redirect_uri)
    )
}

/// Redirect-URI manipulation (RFC 9700 §4.1.1, §2.1; RFC 8252 §7.3 for loopback): the
/// URI must be a registered one as an exact string, so every variation is refused on
/// admit's own page (400) and never redirected to (RFC 6749 §4.1.2.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variation_of_a_registered_redirect_uri_is_refused_without_redirecting() {
    let t = start().await;
    t.add_client("web", &["--redirect-uri", REGISTERED, "--scope", "openid"]);
    t.admit_ok(
        &[
            "client",
            "add",
            "native",
            "--public",
            "--redirect-uri",
            LOOPBACK,
            "--scope",
            "openid",
        ],
        None,
    );
    let mut browser = Browser::new();
    // The controls: the registered URI, and a loopback URI on any port, get the login page.
    for (client, uri) in [("web", REGISTERED), ("native", "http://127.0.0.1:49152/cb")] {
        let page = browser.get(&request(&t.base, client, uri)).await;
        assert_eq!(page.status, 200, "{uri}: {}", page.body);
        assert!(page.body.contains("name=\"password\""));
    }
    let web = [
        "https://client.example/cb/evil",
        "https://client.example/cbx",
        "https://client.example/c",
        "https://client.example/",
        "https://client.example:8443/cb",
        "https://client.example:443/cb",
        "http://client.example/cb",
        "HTTPS://client.example/cb",
        "https://client.example@evil.example/cb",
        "https://evil.example@client.example/cb",
        "https://client.example.evil.example/cb",
        "https://client.example./cb",
        "https://evil.example/cb",
        "https://evil.example/?https://client.example/cb",
        "//client.example/cb",
        "https://client.example/cb%2F..%2F..%2Fevil",
        "https://client.example/cb/%2e%2e/evil",
        "https://client.example/cb/../evil",
        "https://client.example/%63b",
        "https://client.example%2F@evil.example/cb",
        "https://client.example/cb%00",
        "https://client.example/cb ",
        "https://client.example/cb#x",
        "https://client.example/cb#",
        "https://client.example/cb/",
        "https://client.example/cb?",
        "https://client.example/cb?x=1",
        "https://CLIENT.EXAMPLE/cb",
        "https://client.example/CB",
        "",
    ];
    let native = [
        "http://localhost:49152/cb",
        "http://127.1:49152/cb",
        "http://0x7f000001:49152/cb",
        "http://[::1]:49152/cb",
        "https://127.0.0.1:49152/cb",
        "http://127.0.0.1:49152@evil.example/cb",
        "http://evil@127.0.0.1:49152/cb",
        "http://127.0.0.1.evil.example:49152/cb",
        "http://127.0.0.1:49152/cb/../evil",
        "http://127.0.0.1:49152/CB",
        "http://127.0.0.1:49152/cb/",
        "http://127.0.0.1:49152/cb?x=1",
        "http://127.0.0.1:49152/cb#x",
    ];
    let cases = web
        .iter()
        .map(|u| ("web", *u))
        .chain(native.iter().map(|u| ("native", *u)));
    for (client, uri) in cases {
        let page = browser.get(&request(&t.base, client, uri)).await;
        assert_eq!(page.status, 400, "{client} {uri:?}: {}", page.body);
        assert!(page.headers.get("location").is_none(), "{client} {uri:?}");
        assert!(
            page.body.contains("redirect_uri"),
            "{client} {uri:?}: says why"
        );
    }
    // Two redirect_uri parameters, the registered one first: refused too.
    let twice = format!(
        "{}&redirect_uri={}",
        request(&t.base, "web", REGISTERED),
        urlencode("https://evil.example/cb")
    );
    let page = browser.get(&twice).await;
    assert_eq!(page.status, 400);
    assert!(page.headers.get("location").is_none());
}

/// Open redirection at the authorization server (RFC 9700 §4.11.2, RFC 6749 §4.1.2.1):
/// until client and redirect URI match, every error stays on admit's page (400), and
/// logout returns only to a registered `post_logout_redirect_uri`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_never_redirect_to_an_unregistered_uri() {
    let mut f = setup().await;
    let evil = urlencode("https://evil.example/cb");
    let good = authorize_url(&f.t.base, "site", "");
    let with_evil = |u: &str| u.replace(&urlencode(CB), &evil);
    for (name, url) in [
        (
            "unknown client",
            with_evil(&authorize_url(&f.t.base, "ghost", "")),
        ),
        (
            "no client_id",
            with_evil(&good).replace("client_id=site&", ""),
        ),
        ("unregistered redirect_uri", with_evil(&good)),
        // Each of these would be an error redirect with the registered URI.
        (
            "unknown client, response_type=token",
            with_evil(&authorize_url(&f.t.base, "ghost", ""))
                .replace("response_type=code", "response_type=token"),
        ),
        (
            "unsupported response_type",
            with_evil(&good).replace("response_type=code", "response_type=token"),
        ),
        (
            "invalid scope",
            with_evil(&good).replace("scope=openid%20profile%20email", "scope=admin"),
        ),
        (
            "prompt=none without a session",
            with_evil(&authorize_url(&f.t.base, "site", "&prompt=none")),
        ),
        (
            "plain PKCE",
            with_evil(&good).replace("code_challenge_method=S256", "code_challenge_method=plain"),
        ),
    ] {
        let page = f.browser.get(&url).await;
        assert_eq!(page.status, 400, "{name}: {}", page.body);
        assert!(page.headers.get("location").is_none(), "{name}");
    }

    // Logout, with a genuine hint of this very session: an unregistered return address
    // (or the login redirect_uri, registered for another purpose) is refused, and the
    // session is not ended.
    let code = f.code("").await;
    let (_, tokens) = f.exchange(&code, VERIFIER).await;
    let hint = tokens["id_token"].as_str().unwrap();
    for (name, query) in [
        (
            "unregistered, with the hint",
            format!("id_token_hint={hint}&post_logout_redirect_uri={evil}"),
        ),
        (
            "unregistered, with client_id",
            format!("client_id=site&post_logout_redirect_uri={evil}"),
        ),
        (
            "no client at all",
            format!(
                "post_logout_redirect_uri={}",
                urlencode("https://site.example/bye")
            ),
        ),
        (
            "unknown client",
            format!("client_id=ghost&post_logout_redirect_uri={evil}"),
        ),
        (
            "the login redirect_uri",
            format!(
                "id_token_hint={hint}&post_logout_redirect_uri={}",
                urlencode(CB)
            ),
        ),
        (
            "a suffix of the registered one",
            format!(
                "id_token_hint={hint}&post_logout_redirect_uri={}",
                urlencode("https://site.example/bye/x")
            ),
        ),
    ] {
        let page = f
            .browser
            .get(&format!("{}/oauth2/logout?{query}", f.t.base))
            .await;
        assert_eq!(page.status, 400, "{name}: {}", page.body);
        assert!(page.headers.get("location").is_none(), "{name}");
        assert!(
            f.browser.has_cookie("admit_session"),
            "{name}: not logged out"
        );
    }
    let page = f
        .browser
        .get(&authorize_url(&f.t.base, "site", "&prompt=none"))
        .await;
    assert!(
        param(&page.location(), "code").is_some(),
        "the session is still alive"
    );
}

/// Mix-up (RFC 9700 §4.4, RFC 9207): every authorization response, success or error,
/// names admit as `iss` exactly once, and the metadata says so, so a client talking to
/// several servers can tell which one answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authorization_response_names_its_issuer() {
    let mut f = setup().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let metadata = f.t.get_json(path).await;
        assert_eq!(metadata["issuer"], f.t.base.as_str(), "{path}");
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"], true,
            "{path}"
        );
    }
    let iss = |location: &url::Url| -> Vec<String> {
        location
            .query_pairs()
            .filter(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    let base = f.t.base.clone();
    // Errors: before a login (invalid scope), and the user's refusal.
    let page = f
        .browser
        .get(
            &authorize_url(&base, "site", "")
                .replace("scope=openid%20profile%20email", "scope=admin"),
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        param(&page.location(), "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(iss(&page.location()), [base.as_str()]);
    let page = f.browser.get(&authorize_url(&base, "site", "")).await;
    let page = f.login(&page, "alice", crate::harness::PASSWORD).await;
    let page = f.consent(&page, "deny").await;
    assert_eq!(
        param(&page.location(), "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(iss(&page.location()), [base.as_str()]);
    // Success, with a `state` that tries to smuggle in a second `iss`.
    let smuggler = "xyz&iss=https://evil.example";
    let url = authorize_url(&base, "site", "")
        .replace("state=xyz", &format!("state={}", urlencode(smuggler)));
    let page = f.browser.get(&url).await;
    let page = f.consent(&page, "approve").await;
    assert!(param(&page.location(), "code").is_some());
    assert_eq!(iss(&page.location()), [base.as_str()]);
    assert_eq!(param(&page.location(), "state").as_deref(), Some(smuggler));
}
