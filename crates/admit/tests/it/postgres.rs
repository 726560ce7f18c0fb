//! The same server over PostgreSQL: the CLI and the token flow on a fresh database.

use sqlx::Connection;

use crate::harness::{PASSWORD, start_with};

/// A fresh database on the server named by `ADMIT_TEST_POSTGRES_URL`: its URL and name,
/// or `None` (the test then says it was skipped).
pub async fn fresh_database() -> Option<(String, String)> {
    let Ok(base) = std::env::var("ADMIT_TEST_POSTGRES_URL") else {
        eprintln!("skipped: ADMIT_TEST_POSTGRES_URL is unset, PostgreSQL end-to-end test not run");
        return None;
    };
    let name = format!(
        "admit_e2e_{}",
        admit_server::random_token::<6>()
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    Some((url.to_string(), name))
}

pub async fn drop_database(name: &str) {
    let base = std::env::var("ADMIT_TEST_POSTGRES_URL").unwrap();
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_and_refresh_over_postgres() {
    let Some((database_url, name)) = fresh_database().await else {
        return;
    };
    let t = start_with(|s| s.database_url = database_url.clone()).await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client(
        "app",
        &[
            "--grant",
            "password",
            "--grant",
            "refresh_token",
            "--scope",
            "read",
        ],
    );
    let (status, _, tokens) = t
        .token(
            Some(("app", &secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _, _) = t
        .token(
            Some(("app", &secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = t
        .token(
            Some(("app", &secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, 400, "reuse is detected on PostgreSQL too");
    assert!(
        !t.dir.path().join("admit.db").exists(),
        "nothing was written to SQLite"
    );
    t.server.shutdown().await;
    drop_database(&name).await;
}
