//! Signing-key lifecycle: next keys are published before they sign, rotation happens
//! without a single failed verification at a resource server, retired keys stay
//! published, and keys can be imported and exported.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use crate::harness::{PASSWORD, start_with};

fn kid_of(token: &str) -> String {
    let jwt = admit_jose::UnverifiedJwt::parse(token).unwrap();
    jwt.header().kid.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_twice_under_load_without_a_failed_verification() {
    let t = start_with(|s| s.key_reload_interval = 1).await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client("svc", &["--grant", "client_credentials"]);
    let verifier = admit_resource::Verifier::builder(&t.base, &t.base)
        .discover()
        .build()
        .await
        .unwrap();

    // A resource server verifies freshly issued tokens all the while.
    let (stop, checked, failed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let load = {
        let (stop, checked, failed) = (stop.clone(), checked.clone(), failed.clone());
        let (http, base, secret, verifier) = (
            t.http.clone(),
            t.base.clone(),
            secret.clone(),
            verifier.clone(),
        );
        tokio::spawn(async move {
            let mut kids = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let body: Value = http
                    .post(format!("{base}/oauth2/token"))
                    .basic_auth("svc", Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let token = body["access_token"].as_str().unwrap();
                kids.insert(kid_of(token));
                if verifier.verify(token).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                checked.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            kids
        })
    };
    let eddsa_current = || {
        let out = t.admit_ok(&["keys", "list"], None);
        out.lines()
            .find(|l| l.starts_with("EdDSA") && l.contains(" current "))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let first = eddsa_current();
    for _ in 0..2 {
        let before = eddsa_current();
        // The next key has just been published: rotating now needs --force.
        let refused = t.admit(&["keys", "rotate", "--alg", "EdDSA"], None);
        assert!(
            !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("wait")
        );
        t.admit_ok(&["keys", "rotate", "--alg", "EdDSA", "--force"], None);
        assert_ne!(eddsa_current(), before);
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let kids = load.await.unwrap();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no verification failed through two rotations"
    );
    assert!(checked.load(Ordering::Relaxed) > 20);
    assert_eq!(
        kids.len(),
        3,
        "tokens were signed by three successive keys: {kids:?}"
    );

    // The retired keys stay published, the first one among them.
    let jwks = t.get_json("/.well-known/jwks.json").await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == first.as_str())
    );
    let listed = t.admit_ok(&["keys", "list"], None);
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.starts_with("EdDSA") && l.contains("retired"))
            .count(),
        2
    );
    let jwks_response = t
        .http
        .get(format!("{}/.well-known/jwks.json", t.base))
        .send()
        .await
        .unwrap();
    assert!(
        jwks_response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_import_export_and_bad_arguments() {
    let t = start_with(|_| {}).await;
    let exported: Value =
        serde_json::from_str(&t.admit_ok(&["keys", "export", "--public"], None)).unwrap();
    assert_eq!(exported, t.get_json("/.well-known/jwks.json").await);
    assert!(
        exported.to_string().find("\"d\"").is_none(),
        "public keys only"
    );

    // RFC 8037 A.1's Ed25519 key becomes the next EdDSA key, then current.
    let jwk = t.dir.path().join("key.json");
    std::fs::write(&jwk, r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).unwrap();
    let out = t.admit_ok(&["keys", "import", jwk.to_str().unwrap()], None);
    assert!(
        out.contains("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"),
        "{out}"
    );
    t.admit_ok(&["keys", "rotate", "--alg", "EdDSA", "--force"], None);
    assert!(t.admit_ok(&["keys", "list"], None).lines().any(|l| {
        l.contains("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k") && l.contains("current")
    }));

    for (args, reason) in [
        (vec!["keys", "rotate", "--alg", "HS256"], "HS256"),
        (vec!["keys", "rotate", "--alg", "none"], "unknown algorithm"),
        (vec!["keys", "import", "/nonexistent.json"], "reading"),
        (vec!["keys", "export"], "--public"),
    ] {
        let out = t.admit(&args, None);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(reason),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&jwk, r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap();
    assert!(
        !t.admit(&["keys", "import", jwk.to_str().unwrap()], None)
            .status
            .success()
    );
    // Without the master key, nothing can be rotated or imported.
    let out = crate::harness::run_admit(
        &t.database_url(),
        &["--data-dir", "/nonexistent", "keys", "rotate", "--force"],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no master key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_schedule() {
    use sqlx::Connection;
    let t = start_with(|s| {
        s.key_reload_interval = 1;
        s.key_rotation_interval = Some(3600);
    })
    .await;
    let current = |listing: &str| {
        listing
            .lines()
            .find(|l| l.starts_with("ES256") && l.contains(" current "))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let before = current(&t.admit_ok(&["keys", "list"], None));
    // Make the keys an interval old, as if a month had passed.
    let mut db = sqlx::SqliteConnection::connect(&t.database_url())
        .await
        .unwrap();
    sqlx::query("UPDATE signing_keys SET created_at = created_at - 7200, activated_at = activated_at - 7200").execute(&mut db).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = current(&t.admit_ok(&["keys", "list"], None));
        if now != before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled rotation within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // On an empty database there is nothing to rotate, and it says so.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("master.key"), "A".repeat(43)).unwrap();
    let db = format!("sqlite://{}", empty.path().join("admit.db").display());
    let out = crate::harness::run_admit(
        &db,
        &[
            "--data-dir",
            empty.path().to_str().unwrap(),
            "keys",
            "rotate",
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no next"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
