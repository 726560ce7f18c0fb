use super::*;

fn client(public: bool) -> Client {
    Client {
        client_id: "site".into(),
        secret_hash: (!public).then(|| vec![0; 32]),
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: Scope::parse("openid profile email").unwrap(),
        redirect_uris: vec![
            "https://site.example/cb".into(),
            "http://127.0.0.1:9000/cb".into(),
        ],
    }
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params(query: &str) -> Params {
    Params::parse(query.as_bytes()).unwrap()
}

fn base() -> String {
    format!(
        "response_type=code&client_id=site&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&scope=openid&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256"
    )
}

#[test]
fn redirect_uris_match_exactly() {
    let c = client(false);
    let check = |uri: &str| {
        target(
            &params(&format!("redirect_uri={}", urlencode(uri))),
            Some(&c),
        )
    };
    assert!(check("https://site.example/cb").is_ok());
    for bad in [
        "https://site.example/cb/",
        "https://site.example/CB",
        "https://SITE.example/cb",
        "https://site.example/cb?x=1",
        "https://site.example/cb#f",
        "https://site.example:443/cb",
        "http://site.example/cb",
        "https://site.example.evil/cb",
        "https://evil@site.example/cb",
        "https://site.example/cb%2F..",
        "http://127.0.0.1:9001/cb",
    ] {
        assert!(check(bad).is_err(), "{bad}");
    }
    assert!(
        target(&params(""), Some(&c)).is_err(),
        "missing redirect_uri"
    );
    assert!(
        target(
            &params("redirect_uri=https%3A%2F%2Fsite.example%2Fcb"),
            None
        )
        .is_err()
    );
}

#[test]
fn loopback_ports_vary_only_for_public_clients() {
    let public = client(true);
    let ok = |c: &Client, uri: &str| {
        target(
            &params(&format!("redirect_uri={}", urlencode(uri))),
            Some(c),
        )
        .is_ok()
    };
    assert!(ok(&public, "http://127.0.0.1:9001/cb"));
    assert!(!ok(&public, "http://127.0.0.1:9001/other"));
    assert!(!ok(&public, "http://localhost:9001/cb"));
    assert!(!ok(&client(false), "http://127.0.0.1:9001/cb"));
    // Only the port may differ: spellings a URL parser would normalise are not the
    // registered string (RFC 9700 §2.1 asks for exact matching).
    for other in [
        "HTTP://127.0.0.1:9001/cb",
        "http://0x7f.0.0.1:9001/cb",
        "http://127.1:9001/cb",
        "http://127.0.0.1:09001/cb",
        "http://127.0.0.1:9001/./cb",
        "http://user@127.0.0.1:9001/cb",
        "http://127.0.0.1:9001/cb#frag",
    ] {
        assert!(!ok(&public, other), "{other}");
    }
}

#[test]
fn valid_request() {
    let r = validate(&params(&base()), &client(false), true).unwrap();
    assert_eq!(r.scope, "openid");
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(r.state.as_deref(), Some("s"));
}

#[test]
fn errors_for_the_client() {
    let c = client(false);
    let code = |extra: &str, drop: &str| {
        let query: String = base()
            .split('&')
            .filter(|kv| drop.is_empty() || !kv.starts_with(drop))
            .chain(extra.split('&').filter(|kv| !kv.is_empty()))
            .collect::<Vec<_>>()
            .join("&");
        validate(&params(&query), &c, true).unwrap_err().error
    };
    assert_eq!(
        code("response_type=token", "response_type"),
        ErrorCode::UnsupportedResponseType
    );
    assert_eq!(code("", "response_type"), ErrorCode::InvalidRequest);
    assert_eq!(
        code("scope=openid%20admin", "scope"),
        ErrorCode::InvalidScope
    );
    assert_eq!(code("", "code_challenge"), ErrorCode::InvalidRequest);
    assert_eq!(
        code("code_challenge_method=plain", "code_challenge_method"),
        ErrorCode::InvalidRequest
    );
    assert_eq!(code("", "code_challenge_method"), ErrorCode::InvalidRequest);
    assert_eq!(
        code(
            "code_challenge=short&code_challenge_method=S256",
            "code_challenge"
        ),
        ErrorCode::InvalidRequest
    );
    assert_eq!(code("prompt=none%20login", ""), ErrorCode::InvalidRequest);
    assert_eq!(code("prompt=bogus", ""), ErrorCode::InvalidRequest);
    assert_eq!(code("max_age=-1", ""), ErrorCode::InvalidRequest);
    assert_eq!(code("request=eyJ", ""), ErrorCode::RequestNotSupported);
    assert_eq!(
        code("response_mode=fragment", ""),
        ErrorCode::InvalidRequest
    );
    // A confidential client may be allowed to skip PKCE; a public one never.
    let no_pkce = "response_type=code&client_id=site&redirect_uri=x&scope=openid";
    assert!(validate(&params(no_pkce), &c, false).is_ok());
    assert!(validate(&params(no_pkce), &client(true), false).is_err());
}

#[test]
fn prompt_and_max_age_decide_the_next_step() {
    let mut r = validate(&params(&base()), &client(false), true).unwrap();
    let s = SessionView {
        user_id: "u",
        auth_time: 1000,
    };
    let granted = Scope::parse("openid profile").unwrap();
    assert_eq!(
        next(&r, None, false, None, false, 2000).unwrap(),
        Next::Login
    );
    assert_eq!(
        next(&r, Some(&s), false, None, false, 2000).unwrap(),
        Next::Consent
    );
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), false, 2000).unwrap(),
        Next::Issue
    );
    assert_eq!(
        next(&r, Some(&s), false, None, true, 2000).unwrap(),
        Next::Issue,
        "first-party skips consent"
    );
    r.prompt.consent = true;
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), true, 2000).unwrap(),
        Next::Consent
    );
    r.prompt = Prompt {
        login: true,
        ..Prompt::default()
    };
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), false, 2000).unwrap(),
        Next::Login
    );
    assert_eq!(
        next(&r, Some(&s), true, Some(&granted), false, 2000).unwrap(),
        Next::Issue
    );
    r.prompt = Prompt::default();
    r.max_age = Some(500);
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), false, 2000).unwrap(),
        Next::Login
    );
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), false, 1400).unwrap(),
        Next::Issue
    );
    r.prompt = Prompt {
        none: true,
        ..Prompt::default()
    };
    assert_eq!(
        next(&r, None, false, None, false, 1400).unwrap_err().error,
        ErrorCode::LoginRequired
    );
    assert_eq!(
        next(&r, Some(&s), false, None, false, 1400)
            .unwrap_err()
            .error,
        ErrorCode::ConsentRequired
    );
    assert_eq!(
        next(&r, Some(&s), false, Some(&granted), false, 1400).unwrap(),
        Next::Issue
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
