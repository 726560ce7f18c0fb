//! The CLI refuses bad arguments with a one-line reason and a non-zero exit, and
//! never leaves a half-created record.

use crate::harness::{PASSWORD, eventually, provisioned, run_admit, start};

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
            "redirect URI",
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
            "scopes",
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
    eventually("a removed client cannot authenticate", || async {
        p.login("read").await.0 == 401
    })
    .await;
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

#[test]
fn calibrate_measures_and_never_proposes_below_owasp() {
    // calibrate opens no database; the URL is only what the harness always passes.
    let out = run_admit("sqlite::memory:", &["calibrate", "--quick", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let positive = |v: &serde_json::Value, what: &str| {
        let x = v
            .as_f64()
            .unwrap_or_else(|| panic!("{what} is not a number: {report}"));
        assert!(x > 0.0 && x.is_finite(), "{what} = {x}");
        x
    };
    positive(&report["cores"], "cores");
    let argon2 = &report["argon2id"];
    let floor = &argon2["floor"];
    assert_eq!(
        (
            &floor["memory_kib"],
            &floor["iterations"],
            &floor["parallelism"]
        ),
        (&19456.into(), &2.into(), &1.into())
    );
    positive(&floor["ms"], "the floor's time");
    let measured = argon2["measured"].as_array().unwrap();
    assert!(
        measured.len() >= 2,
        "the floor and a stronger setting: {argon2}"
    );
    for s in measured {
        positive(&s["ms"], "a measured time");
    }
    let proposed = &argon2["proposed"];
    let m = proposed["memory_kib"].as_u64().unwrap();
    let t = proposed["iterations"].as_u64().unwrap();
    assert!(m >= 19456 && t >= 2, "below OWASP's minimum: {proposed}");
    assert_eq!(proposed["parallelism"], 1);
    positive(&proposed["ms"], "the proposal's time");
    positive(&argon2["logins_per_second_per_core"], "logins per second");
    positive(&argon2["peak_memory_mib"], "peak memory");
    let algs: Vec<&str> = report["jwt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            for field in [
                "sign_us",
                "verify_us",
                "signed_per_second_per_core",
                "verified_per_second_per_core",
            ] {
                positive(&c[field], field);
            }
            c["alg"].as_str().unwrap()
        })
        .collect();
    for alg in ["EdDSA", "ES256", "RS256"] {
        assert!(algs.contains(&alg), "{algs:?}");
    }
    // The proposal is printed as settings admit takes.
    let flags = report["config"]["flags"].as_str().unwrap();
    assert_eq!(
        flags,
        format!("--password-hash-memory-kib {m} --password-hash-iterations {t}")
    );
    assert!(
        report["config"]["toml"]
            .as_str()
            .unwrap()
            .contains(&format!("password_hash_memory_kib = {m}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_password_hashes_use_the_configured_cost_and_never_less_than_owasp() {
    let t = start().await;
    let secret = t.add_client("app", &["--grant", "password", "--scope", "read"]);
    let store = admit_store::Store::connect(&t.database_url())
        .await
        .unwrap();
    let stored = async |username: &str| {
        store
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    };
    let login = async |username: &str| {
        t.token(
            Some(("app", &secret)),
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", PASSWORD),
                ("scope", "read"),
            ],
        )
        .await
        .0
    };

    // The default is OWASP's minimum.
    t.add_user("alice", PASSWORD);
    assert!(
        stored("alice")
            .await
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    // A flag.
    t.admit_ok(
        &[
            "user",
            "add",
            "bob",
            "--password-stdin",
            "--password-hash-memory-kib",
            "24576",
            "--password-hash-iterations",
            "3",
        ],
        Some(PASSWORD),
    );
    assert!(
        stored("bob")
            .await
            .starts_with("$argon2id$v=19$m=24576,t=3,p=1$")
    );
    // The config file; the server verifies each hash at its own parameters.
    let config = t.dir.path().join("admit.toml");
    std::fs::write(
        &config,
        "password_hash_memory_kib = 20480\npassword_hash_iterations = 2\n",
    )
    .unwrap();
    t.admit_ok(
        &[
            "user",
            "passwd",
            "alice",
            "--password-stdin",
            "--config",
            config.to_str().unwrap(),
        ],
        Some(PASSWORD),
    );
    assert!(
        stored("alice")
            .await
            .starts_with("$argon2id$v=19$m=20480,t=2,p=1$")
    );
    assert_eq!(login("alice").await, 200);
    assert_eq!(login("bob").await, 200);

    // Below the floor is refused before anything is written.
    for (flag, value) in [
        ("--password-hash-memory-kib", "8192"),
        ("--password-hash-iterations", "1"),
    ] {
        let out = t.admit(
            &["user", "add", "carol", "--password-stdin", flag, value],
            Some(PASSWORD),
        );
        assert!(!out.status.success());
        assert!(stderr(&out).contains("OWASP"), "{}", stderr(&out));
    }
    assert!(store.user_by_username("carol").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_safe_deployment_and_fails_an_unsafe_one() {
    let t = start().await;
    t.add_client("site", &["--redirect-uri", "https://site.example/cb"]);
    let safe = t.admit(
        &["doctor", "--issuer", "https://auth.example", "--json"],
        None,
    );
    assert!(safe.status.success(), "{}", stderr(&safe));
    let findings: serde_json::Value = serde_json::from_slice(&safe.stdout).unwrap();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "high"),
        "{findings}"
    );

    // A plain-http issuer, a public client with the password grant and an http
    // redirect URI off loopback, a master key file others can read.
    t.admit_ok(
        &[
            "client",
            "add",
            "spa",
            "--public",
            "--grant",
            "password",
            "--redirect-uri",
            "http://spa.example/cb",
        ],
        None,
    );
    let master_key = t.dir.path().join("master.key");
    let mut permissions = std::fs::metadata(&master_key).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(&master_key, permissions).unwrap();
    let unsafe_ = t.admit(&["doctor", "--issuer", "http://auth.example"], None);
    assert_eq!(unsafe_.status.code(), Some(1), "{}", stderr(&unsafe_));
    let report = String::from_utf8_lossy(&unsafe_.stdout);
    for expected in [
        "HIGH    issuer: http://auth.example is not https",
        "HIGH    client spa: may use the password grant",
        "HIGH    client spa: redirect URI http://spa.example/cb is http off loopback",
        "HIGH    master key:",
    ] {
        assert!(report.contains(expected), "{expected:?} in:\n{report}");
    }
    assert!(!report.contains("client site"), "{report}");
}
