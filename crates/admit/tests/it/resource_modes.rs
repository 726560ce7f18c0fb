//! `admit-resource`'s revocation modes against the real server: push (the revocation
//! stream, including catch-up after admit restarts) and introspection.

use std::time::{Duration, Instant};

use admit_resource::{BearerError, Verifier};
use admit_server::Settings;

use crate::harness::{PASSWORD, printed_secret, run_admit};

/// Polls `verify` until it refuses the token; fails the test after 5 s.
async fn refused_within(verifier: &Verifier, token: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if verifier.verify(token).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the revoked token was still accepted after 5 s");
}

struct Admit {
    dir: tempfile::TempDir,
    server: admit_server::Server,
}

impl Admit {
    async fn start(dir: tempfile::TempDir, listen: std::net::SocketAddr) -> Admit {
        let mut settings = Settings::new(listen, dir.path().to_path_buf());
        settings.password_hash_concurrency = 1;
        let server = admit_server::spawn(settings).await.unwrap();
        Admit { dir, server }
    }

    /// A fresh admit with alice, a password-grant client `app` and a resource server
    /// `api` allowed to introspect; returns it with the two secrets.
    async fn provisioned() -> (Admit, String, String) {
        let admit =
            Admit::start(tempfile::tempdir().unwrap(), "127.0.0.1:0".parse().unwrap()).await;
        admit.cli(
            &["user", "add", "alice", "--password-stdin"],
            Some(PASSWORD),
        );
        let app = admit.cli(
            &[
                "client",
                "add",
                "app",
                "--grant",
                "password",
                "--grant",
                "refresh_token",
            ],
            None,
        );
        let api = admit.cli(
            &[
                "client",
                "add",
                "api",
                "--grant",
                "client_credentials",
                "--introspect",
            ],
            None,
        );
        (admit, printed_secret(&app), printed_secret(&api))
    }

    fn db(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("admit.db").display())
    }

    fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = run_admit(&self.db(), args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    async fn login(&self, secret: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.server.issuer))
            .basic_auth("app", Some(secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mode_follows_revocations_across_an_admit_restart() {
    let (admit, app, api) = Admit::provisioned().await;
    let issuer = admit.server.issuer.clone();
    let verifier = Verifier::builder(&issuer, &issuer)
        .discover()
        .revocation_stream("api", &api)
        .build()
        .await
        .unwrap();

    // A token revoked now is refused within moments, with every check still local.
    let first = admit.login(&app).await;
    let token = first["access_token"].as_str().unwrap();
    verifier.verify(token).await.unwrap();
    reqwest::Client::new()
        .post(format!("{issuer}/oauth2/revoke"))
        .basic_auth("app", Some(&app))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    refused_within(&verifier, token).await;
    assert!(matches!(
        verifier.verify(token).await,
        Err(BearerError::Revoked)
    ));

    // admit stops; meanwhile the user's password changes (through the CLI, in the
    // database). When admit is back, the verifier resumes the stream and catches up.
    let second = admit.login(&app).await;
    let token = second["access_token"].as_str().unwrap().to_owned();
    verifier.verify(&token).await.unwrap();
    let addr = admit.server.addr;
    admit.server.shutdown().await;
    let dir = admit.dir;
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    let out = run_admit(
        &db,
        &["user", "passwd", "alice", "--password-stdin"],
        Some("a new strong password"),
    );
    assert!(out.status.success());
    let admit = Admit::start(dir, addr).await;
    refused_within(&verifier, &token).await;
    assert!(verifier.revocation_status().unwrap().connected);
    admit.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_mode_sees_revocations_at_once() {
    let (admit, app, api) = Admit::provisioned().await;
    let issuer = admit.server.issuer.clone();
    let verifier = Verifier::builder(&issuer, &issuer)
        .discover()
        .introspection("api", &api, Duration::ZERO)
        .build()
        .await
        .unwrap();
    let tokens = admit.login(&app).await;
    let token = tokens["access_token"].as_str().unwrap();
    verifier.verify(token).await.unwrap();
    // Revoking the refresh token ends the access tokens issued from it (their `gid`).
    reqwest::Client::new()
        .post(format!("{issuer}/oauth2/revoke"))
        .basic_auth("app", Some(&app))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert!(matches!(
        verifier.verify(token).await,
        Err(BearerError::Revoked)
    ));
    // Wrong credentials fail at start-up, not at the first request.
    assert!(
        Verifier::builder(&issuer, &issuer)
            .discover()
            .introspection("api", "wrong", Duration::ZERO)
            .build()
            .await
            .is_err()
    );
    admit.server.shutdown().await;
}
