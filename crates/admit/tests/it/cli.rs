//! The CLI refuses bad arguments with a one-line reason and a non-zero exit, and
//! never leaves a half-created record.

use crate::harness::{PASSWORD, provisioned, run_admit, start};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_refused_with_a_reason() {
    let t = start().await;
    t.add_user("alice", PASSWORD);
    let refusals: &[(&[&str], Option<&str>, &str)] = &[
        (&["user", "add", "bob"], None, "--password-stdin"),
        (
            &["user", "add", "alice", "--password-stdin"],
            Some(PASSWORD),
            "already exists",
        ),
        (
            &["user", "add", "bob", "--password-stdin"],
            Some("short"),
            "8 to 1024",
        ),
        (
            &["user", "add", "bob smith", "--password-stdin"],
            Some(PASSWORD),
            "may not contain",
        ),
        (
            &["user", "add", "bob", "--password-stdin", "--email", "nope"],
            Some(PASSWORD),
            "not an email",
        ),
        (&["user", "remove", "nobody"], None, "no user"),
        (
            &["user", "passwd", "nobody", "--password-stdin"],
            Some(PASSWORD),
            "no user",
        ),
        (
            &["client", "add", "x", "--grant", "implicit"],
            None,
            "unknown grant type",
        ),
        (
            &[
                "client",
                "add",
                "x",
                "--public",
                "--grant",
                "client_credentials",
            ],
            None,
            "public client",
        ),
        (
            &["client", "add", "x", "--redirect-uri", "/relative"],
            None,
            "--redirect-uri",
        ),
        (
            &[
                "client",
                "add",
                "x",
                "--redirect-uri",
                "https://a.example/cb#frag",
            ],
            None,
            "fragment",
        ),
        (
            &["client", "add", "x", "--scope", "bad\"scope"],
            None,
            "--scope",
        ),
        (
            &["client", "add", "x", "--secret-stdin"],
            Some("too-short"),
            "at least 32",
        ),
        (&["client", "show", "nobody"], None, "no client"),
        (&["client", "remove", "nobody"], None, "no client"),
        (&["token", "decode", "not-a-jwt"], None, "three"),
    ];
    for (args, stdin, reason) in refusals {
        let out = t.admit(args, *stdin);
        assert!(!out.status.success(), "admit {args:?} should fail");
        let err = stderr(&out);
        assert!(
            err.contains(reason),
            "admit {args:?}: {err:?} does not say {reason:?}"
        );
        assert!(!err.contains("panicked"), "admit {args:?} panicked");
    }
    // Nothing half-created: only alice exists, and no client "x".
    let users = t.admit_ok(&["user", "list"], None);
    assert_eq!(users.lines().count(), 2, "{users}");
    assert!(!t.admit_ok(&["client", "list"], None).contains("\nx "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_show_describe_what_exists() {
    let p = provisioned().await;
    let users = p.t.admit_ok(&["user", "list"], None);
    assert!(users.contains("alice") && users.contains("a@example.com"));
    let show: serde_json::Value =
        serde_json::from_str(&p.t.admit_ok(&["client", "show", "app"], None)).unwrap();
    assert_eq!(show["type"], "confidential");
    assert!(show.get("secret_hash").is_none());
    let keys = p.t.admit_ok(&["keys", "list"], None);
    for alg in ["EdDSA", "ES256", "RS256"] {
        assert!(keys.contains(alg), "{keys}");
    }
    p.t.admit_ok(&["client", "remove", "app"], None);
    assert_eq!(
        p.login("read").await.0,
        401,
        "a removed client cannot authenticate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_decode_and_verify() {
    let p = provisioned().await;
    let (_, body) = p.login("read").await;
    let token = body["access_token"].as_str().unwrap();
    let decoded = p.t.admit_ok(&["token", "decode", token], None);
    assert!(
        decoded.contains("\"typ\": \"at+jwt\"") && decoded.contains("\"client_id\": \"app\""),
        "{decoded}"
    );

    let verified =
        p.t.admit_ok(&["token", "verify", token, "--issuer", &p.t.base], None);
    assert!(verified.starts_with("valid"), "{verified}");

    // Change one character in the middle of the signature.
    let mut tampered = token.to_owned().into_bytes();
    let i = tampered.len() - 20;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let out =
        p.t.admit(&["token", "verify", &tampered, "--issuer", &p.t.base], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature does not verify"));

    let out = p.t.admit(
        &[
            "token",
            "verify",
            token,
            "--issuer",
            &p.t.base,
            "--audience",
            "https://other.example",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("not meant for this audience"));

    // With a JWKS file instead of discovery.
    let jwks = p.t.dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        p.t.get_json("/.well-known/jwks.json").await.to_string(),
    )
    .unwrap();
    let out = run_admit(
        &p.t.database_url(),
        &["token", "verify", token, "--jwks", jwks.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_client_secrets_use_unreserved_characters_only() {
    let t = start().await;
    let out = t.admit(
        &["client", "add", "x", "--secret-stdin"],
        Some("a+b%2Fc/d e-0123456789012345678901234567890"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("only letters, digits"));
    t.admit_ok(
        &["client", "add", "y", "--secret-stdin"],
        Some("-interop.secret~with_unreserved-characters"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_starting_with_a_hyphen_are_accepted() {
    // Random base64url ids start with '-' one time in 64.
    let t = start().await;
    let out = t.admit(&["session", "revoke", "-k9KMK45O7qMUAdEFvP2Pg"], None);
    assert!(stderr(&out).contains("no session"), "{}", stderr(&out));
}
