//! SQLite's direct connection (direct.rs): hot queries on the caller's thread, taking
//! turns with sqlx's connection, waiting for another process's writer, and with fsync
//! on under either kind of runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use admit_store::{Store, StoreError};
use sqlx::{Connection, Executor, SqliteConnection};

use crate::{family, token};

async fn start_family(store: &Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", None),
            &token(b"t1", "f1", 1_000, 5_000),
        )
        .await
        .unwrap();
}

/// Rotates the token of [`start_family`], then tries the same again.
async fn rotate_twice(store: &Store) {
    assert!(
        store
            .rotate_refresh(b"t1", &token(b"t2", "f1", 2_000, 6_000), b"answer", 2_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate_refresh(b"t1", &token(b"t3", "f1", 2_000, 6_000), b"", 2_000)
            .await
            .unwrap()
    );
    let t2 = store
        .refresh_token(b"t2")
        .await
        .unwrap()
        .expect("the successor");
    assert_eq!(t2.family.id, "f1");
    assert_eq!(
        store.refresh_successor(b"t1").await.unwrap(),
        Some(b"answer".to_vec())
    );
}

async fn fresh(query: &str) -> (tempfile::TempDir, String, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("admit.db").display());
    let store = Store::connect(&format!("{url}{query}")).await.unwrap();
    (dir, url, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsync_on_a_multi_thread_runtime() {
    let (_dir, _, store) = fresh("?synchronous=full").await;
    start_family(&store).await;
    rotate_twice(&store).await;
}

#[tokio::test(flavor = "current_thread")]
async fn fsync_on_a_current_thread_runtime() {
    let (_dir, _, store) = fresh("?synchronous=full").await;
    start_family(&store).await;
    rotate_twice(&store).await;
}

/// Another process (the CLI) holding SQLite's writer lock delays a rotation; it
/// does not fail it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_waits_for_another_writer() {
    let (_dir, url, store) = fresh("").await;
    start_family(&store).await;
    let mut other = SqliteConnection::connect(&url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let release = tokio::spawn({
        let released = released.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            released.store(true, Ordering::SeqCst);
            other.execute("COMMIT").await.unwrap();
            other.close().await.unwrap();
        }
    });
    rotate_twice(&store).await;
    assert!(
        released.load(Ordering::SeqCst),
        "the rotation waited for the lock"
    );
    release.await.unwrap();
}

#[tokio::test]
async fn closed_store_refuses_hot_queries() {
    let (_dir, _, store) = fresh("").await;
    store.close().await;
    assert!(matches!(store.refresh_token(b"t1").await, Err(e) if e.is_unavailable()));
}

#[tokio::test]
async fn in_memory_databases_are_refused() {
    assert!(matches!(
        Store::connect("sqlite::memory:").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}
