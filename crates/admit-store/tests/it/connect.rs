//! Connecting: URL schemes, migrations on a second connect, ping.

use admit_store::{Store, StoreError};

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
