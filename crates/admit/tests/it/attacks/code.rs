//! Attacks on authorization codes and refresh tokens: PKCE downgrade, code injection,
//! code replay and refresh-token replay.

use crate::browser::param;
use crate::code_flow::{CB, CHALLENGE, VERIFIER, authorize_url, setup};
use crate::harness::TestServer;

use super::{assert_oauth_error, code_for, grant, redeem};

/// A verifier of the right form that is not the one behind `CHALLENGE`: the attacker's.
const ATTACKER_VERIFIER: &str = "attacker-verifier-attacker-verifier-attacker-0";

/// UserInfo's answer to an access token: status and challenge.
async fn userinfo(t: &TestServer, token: &str) -> (u16, String) {
    super::present(&t.http, &format!("{}/oauth2/userinfo", t.base), token).await
}

/// PKCE downgrade (RFC 9700 §4.8, §2.1.1; RFC 7636 §4.6): only S256 is accepted, a
/// code issued with a challenge needs its verifier (one guess per code), and a code
/// issued without one refuses any verifier, so PKCE cannot be switched off or weakened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_cannot_be_downgraded() {
    let mut f = setup().await;
    let base = f.t.base.clone();
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    // At the authorization endpoint: the error goes back to the client, with no code.
    for (name, url) in [
        (
            "plain",
            authorize_url(&base, "site", "").replace("method=S256", "method=plain"),
        ),
        (
            "challenge without a method (plain by default)",
            authorize_url(&base, "site", "").replace("&code_challenge_method=S256", ""),
        ),
        (
            "no PKCE for a client that must use it",
            authorize_url(&base, "site", "").replace(&pkce, ""),
        ),
        (
            "a method in lower case",
            authorize_url(&base, "site", "").replace("method=S256", "method=s256"),
        ),
    ] {
        let page = f.browser.get(&url).await;
        assert_eq!(page.status, 303, "{name}: {}", page.body);
        assert_eq!(
            param(&page.location(), "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
        assert!(param(&page.location(), "code").is_none(), "{name}");
    }
    // At the token endpoint, each with a fresh code.
    for (name, verifier) in [
        ("no verifier", None),
        ("a wrong verifier", Some(ATTACKER_VERIFIER)),
        ("the challenge as verifier (plain)", Some(CHALLENGE)),
        (
            "the verifier in upper case",
            Some(&*VERIFIER.to_uppercase()),
        ),
    ] {
        let code = f.code("").await;
        let site = ("site", Some(f.secret.as_str()));
        assert_oauth_error(
            redeem(&f.t, site, &code, verifier).await,
            (400, "invalid_grant"),
            name,
        );
        // One guess per code: the right verifier now fails too.
        assert_oauth_error(
            redeem(&f.t, site, &code, Some(VERIFIER)).await,
            (400, "invalid_grant"),
            name,
        );
    }
    // A client allowed to omit PKCE: its code issued without a challenge refuses a verifier.
    let legacy = f.t.add_client(
        "legacy",
        &[
            "--allow-no-pkce",
            "--redirect-uri",
            CB,
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "email",
            "--skip-consent",
        ],
    );
    let without_pkce = authorize_url(&base, "legacy", "").replace(&pkce, "");
    let page = f.browser.get(&without_pkce).await;
    let code = param(&page.location(), "code").expect("a code without PKCE");
    let legacy = ("legacy", Some(legacy.as_str()));
    assert_oauth_error(
        redeem(&f.t, legacy, &code, Some(VERIFIER)).await,
        (400, "invalid_grant"),
        "a verifier for a code without a challenge",
    );
    // The control: such a code without a verifier is redeemed.
    let page = f.browser.get(&without_pkce).await;
    let code = param(&page.location(), "code").unwrap();
    assert_eq!(redeem(&f.t, legacy, &code, None).await.0, 200);
}

/// Authorization-code injection (RFC 9700 §4.5): a code is bound to its client and PKCE
/// challenge: `invalid_grant` for another client or another verifier, `invalid_client`
/// without authentication (the redirect-URI binding is in code_flow_errors.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_code_cannot_be_injected() {
    let mut f = setup().await;
    let other =
        f.t.add_client("other", &["--redirect-uri", CB, "--scope", "openid"]);
    let code = f.code("").await;
    assert_oauth_error(
        redeem(&f.t, ("other", Some(&other)), &code, Some(VERIFIER)).await,
        (400, "invalid_grant"),
        "client B with its own credentials",
    );
    let code = f.code("").await;
    assert_oauth_error(
        redeem(
            &f.t,
            ("site", Some(&f.secret)),
            &code,
            Some(ATTACKER_VERIFIER),
        )
        .await,
        (400, "invalid_grant"),
        "the attacker's session, with its own verifier",
    );
    let code = f.code("").await;
    assert_oauth_error(
        redeem(&f.t, ("site", None), &code, Some(VERIFIER)).await,
        (401, "invalid_client"),
        "no client authentication",
    );
}

/// Code replay (RFC 6749 §4.1.2, RFC 9700 §4.5): a second redemption is `invalid_grant`
/// and revokes what the first issued: its refresh token, and its access token at once
/// (UserInfo refuses it with `invalid_token`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_code_revokes_the_first_redemptions_tokens() {
    let mut f = setup().await;
    let code = f.code("").await;
    let (status, first) = f.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&f.t, access).await.0, 200);
    let site = ("site", Some(f.secret.as_str()));
    assert_oauth_error(
        redeem(&f.t, site, &code, Some(VERIFIER)).await,
        (400, "invalid_grant"),
        "replay",
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        grant(
            &f.t,
            site,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await,
        (400, "invalid_grant"),
        "the first redemption's refresh token",
    );
    super::assert_invalid_token(
        userinfo(&f.t, access).await,
        "the first redemption's access token",
    );
}

/// Refresh-token replay (RFC 9700 §4.14.2), for a public client: refresh tokens rotate,
/// and a rotated one presented again is `invalid_grant` and revokes its whole family,
/// so the newest refresh token and the access tokens issued from the family die too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_refresh_token_revokes_its_family() {
    let mut f = setup().await;
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
            "--scope",
            "profile",
            "--scope",
            "email",
        ],
        None,
    );
    let spa = ("spa", None);
    let code = code_for(&mut f, "spa").await;
    let (status, first) = redeem(&f.t, spa, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{first}");
    let refresh = async |token: &str| {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
        grant(&f.t, spa, &form).await
    };
    let r1 = first["refresh_token"].as_str().unwrap();
    // RFC 9700 §4.14.2: bound to its client; another one presenting it gets nothing.
    let other =
        f.t.add_client("other", &["--redirect-uri", CB, "--scope", "openid"]);
    let form = [("grant_type", "refresh_token"), ("refresh_token", r1)];
    let stolen = grant(&f.t, ("other", Some(&other)), &form).await;
    assert_oauth_error(stolen, (400, "invalid_grant"), "another client");
    let (status, second) = refresh(r1).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    let a2 = second["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&f.t, a2).await.0, 200);

    assert_oauth_error(
        refresh(r1).await,
        (400, "invalid_grant"),
        "the rotated token again",
    );
    assert_oauth_error(
        refresh(r2).await,
        (400, "invalid_grant"),
        "the newest token after reuse",
    );
    for (name, access) in [
        ("first", first["access_token"].as_str().unwrap()),
        ("second", a2),
    ] {
        super::assert_invalid_token(userinfo(&f.t, access).await, name);
    }
}
