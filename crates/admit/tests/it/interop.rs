//! A token admit issues verifies in PyJWT, a mainstream JWT library of another
//! language, against admit's live JWKS, for every signing algorithm admit offers.

use std::process::Command;

use crate::harness::{PASSWORD, start_with};

fn pyjwt_available() -> bool {
    Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyjwt_verifies_admit_tokens() {
    if !pyjwt_available() {
        // .ci/run installs PyJWT and sets ADMIT_REQUIRE_INTEROP, so CI never skips this.
        assert!(
            std::env::var_os("ADMIT_REQUIRE_INTEROP").is_none(),
            "PyJWT is required but not installed"
        );
        eprintln!(
            "skipped: PyJWT is not installed (pip install 'pyjwt[crypto]'), interop test not run"
        );
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/pyjwt_verify.py"
    );
    for alg in [
        admit_jose::Algorithm::EdDSA,
        admit_jose::Algorithm::ES256,
        admit_jose::Algorithm::RS256,
    ] {
        let t = start_with(|s| s.access_token_alg = alg).await;
        t.add_user("alice", PASSWORD);
        let secret = t.add_client("app", &["--grant", "password", "--scope", "read"]);
        let (status, _, body) = t
            .token(
                Some(("app", &secret)),
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, 200);
        let token = body["access_token"].as_str().unwrap().to_owned();
        let base = t.base.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("python3")
                .args([script, &base, &token])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{alg}: PyJWT refused the token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let claims: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(claims["client_id"], "app", "{alg}");
        assert_eq!(claims["scope"], "read");
    }
}
