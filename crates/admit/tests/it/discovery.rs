//! RFC 8414 / OpenID Connect Discovery metadata and the JWKS.

use crate::harness::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_describes_what_is_implemented() {
    let t = start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let m = t.get_json(path).await;
        // RFC 8414 §3.3: the issuer in the metadata is exactly the issuer.
        assert_eq!(m["issuer"], t.base);
        assert_eq!(m["token_endpoint"], format!("{}/oauth2/token", t.base));
        assert_eq!(m["jwks_uri"], format!("{}/.well-known/jwks.json", t.base));
        assert_eq!(
            m["authorization_endpoint"],
            format!("{}/oauth2/authorize", t.base)
        );
        assert_eq!(
            m["userinfo_endpoint"],
            format!("{}/oauth2/userinfo", t.base)
        );
        assert_eq!(
            m["end_session_endpoint"],
            format!("{}/oauth2/logout", t.base)
        );
        assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            m["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        let sorted = |name: &str| {
            let mut v: Vec<String> = m[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap().to_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            sorted("grant_types_supported"),
            [
                "authorization_code",
                "client_credentials",
                "password",
                "refresh_token"
            ]
        );
        assert_eq!(
            sorted("id_token_signing_alg_values_supported"),
            ["ES256", "EdDSA", "RS256"]
        );
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
        );
        // Nothing that is not implemented is advertised.
        assert_eq!(m["request_parameter_supported"], false);
        assert_eq!(
            m["introspection_endpoint"],
            format!("{}/oauth2/introspect", t.base)
        );
        assert_eq!(
            m["revocation_endpoint"],
            format!("{}/oauth2/revoke", t.base)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_publishes_public_keys_only() {
    let t = start().await;
    let response = t
        .http
        .get(format!("{}/.well-known/jwks.json", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort();
    // A current and a next key for each algorithm: the next one is published before it signs.
    assert_eq!(algs, ["ES256", "ES256", "EdDSA", "EdDSA", "RS256", "RS256"]);
    for key in keys {
        for member in ["kid", "kty", "alg", "use"] {
            assert!(key.get(member).is_some(), "{member} missing in {key}");
        }
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
        // The kid is the RFC 7638 thumbprint of the key.
        let jwk: admit_jose::Jwk = serde_json::from_value(key.clone()).unwrap();
        assert_eq!(jwk.thumbprint().unwrap(), key["kid"].as_str().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_survive_a_restart_and_are_encrypted_at_rest() {
    let t = start().await;
    let before = t.get_json("/.well-known/jwks.json").await;
    let dir = t.dir;
    t.server.shutdown().await;
    let mut settings =
        admit_server::Settings::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    settings.password_hash_concurrency = 1;
    let again = admit_server::spawn(settings).await.unwrap();
    let after: serde_json::Value = reqwest::get(format!("{}/.well-known/jwks.json", again.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
    // The master key file is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    again.shutdown().await;
    // A wrong master key refuses to start instead of serving with unreadable keys.
    let mut wrong =
        admit_server::Settings::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    wrong.master_key = Some("A".repeat(43));
    let err = admit_server::spawn(wrong)
        .await
        .err()
        .expect("a wrong master key is refused");
    assert!(format!("{err:#}").contains("master key"), "{err:#}");
}
