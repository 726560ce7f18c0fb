//! Connecting: URL schemes, migrations on a second connect, ping, and rows
//! written before a migration added columns.

use admit_store::{Store, StoreError};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::user;

pub async fn case_ping(store: Store) {
    store.ping().await.unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}

/// A second connect runs the migrator again; it must find everything applied
/// and leave the data alone.
pub async fn case_migrations_rerun(store: Store, url: String) {
    store.insert_user(&user("u1", "alice")).await.unwrap();
    let again = Store::connect(&url).await.expect("second connect");
    assert_eq!(again.backend(), store.backend());
    assert_eq!(again.list_users().await.unwrap(), vec![user("u1", "alice")]);
    again.insert_user(&user("u2", "bob")).await.unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 2);
    again.close().await;
}

/// Rows inserted naming only the columns of 0001, as an older admit wrote
/// them, read with the defaults of 0002 and 0003.
pub async fn case_rows_from_0001_read(store: Store, url: String) {
    let statements = [
        "INSERT INTO users (id, username, password_hash, email, name, created_at, updated_at) \
         VALUES ('u1', 'alice', 'old-hash', NULL, NULL, 1, 1)",
        "INSERT INTO clients (client_id, secret_hash, public, name, grant_types, redirect_uris, \
         post_logout_redirect_uris, scopes, skip_consent, require_pkce, created_at) \
         VALUES ('old', NULL, TRUE, NULL, 'authorization_code', '[]', '[]', 'openid', \
         FALSE, TRUE, 1)",
        // 'sealed' is text to SQLite and, assigned to BYTEA, bytes to PostgreSQL.
        "INSERT INTO signing_keys (kid, alg, state, private_key_enc, public_jwk, created_at) \
         VALUES ('k1', 'EdDSA', 'current', 'sealed', NULL, 1)",
        "INSERT INTO refresh_families (id, client_id, user_id, scope, auth_time, created_at, \
         revoked_at) VALUES ('f1', 'old', NULL, 'openid', NULL, 1, NULL)",
    ];
    match store.backend() {
        "sqlite" => {
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            for sql in statements {
                conn.execute(sql).await.unwrap();
            }
            conn.close().await.unwrap();
        }
        _ => {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            for sql in statements {
                conn.execute(sql).await.unwrap();
            }
            conn.close().await.unwrap();
        }
    }
    let alice = store.user_by_id("u1").await.unwrap().unwrap();
    assert!(!alice.email_verified);
    let old = store.client("old").await.unwrap().unwrap();
    assert_eq!(old.id_token_alg, None);
    assert_eq!(
        (
            old.access_token_ttl,
            old.refresh_token_ttl,
            old.refresh_idle_ttl
        ),
        (None, None, None)
    );
    assert!(!old.may_introspect);
    let k1 = &store.list_keys().await.unwrap()[0];
    assert_eq!((k1.activated_at, k1.retired_at), (None, None));
    let f1 = store.family("f1").await.unwrap().unwrap();
    assert_eq!((f1.session_id, f1.expires_at), (None, None));
}

#[tokio::test]
async fn unsupported_url_is_refused_without_echoing_it() {
    for url in [
        "mysql://admin:hunter2@db.example/admit",
        "admit.db",
        "",
        "http://example.com",
    ] {
        match Store::connect(url).await {
            Err(e @ StoreError::UnsupportedUrl(_)) => {
                let msg = e.to_string();
                assert!(msg.starts_with("unsupported database URL"), "{msg}");
                assert!(!msg.contains("hunter2"), "{msg}");
            }
            other => panic!("{url:?}: expected UnsupportedUrl, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn sqlite_accepts_both_url_forms_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/admit.db");
    for url in [
        format!("sqlite://{}", nested.display()),
        format!("sqlite:{}?synchronous=full", nested.display()),
    ] {
        let store = Store::connect(&url).await.unwrap();
        store.insert_user(&user(&url, &url)).await.unwrap();
        // The -wal file exists while a WAL-mode database is open and written.
        assert!(dir.path().join("a/b/admit.db-wal").exists());
        store.close().await;
    }
    assert!(
        Store::connect(&format!("sqlite:{}?synchronous=off", nested.display()))
            .await
            .is_err()
    );
}
