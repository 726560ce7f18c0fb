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

/// Another connection (as the CLI's would be), holding SQLite's writer lock.
async fn hold_writer_lock(url: &str) -> SqliteConnection {
    let mut other = SqliteConnection::connect(url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    other
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
    let mut other = hold_writer_lock(&url).await;
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

/// A writer that holds SQLite's lock past the busy timeout (5 s) makes a rotation fail
/// as unavailable, with SQLite's own error, and changes nothing: it works once the lock
/// is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_gives_up_on_a_writer_that_keeps_the_lock() {
    let (_dir, url, store) = fresh("").await;
    start_family(&store).await;
    let mut other = hold_writer_lock(&url).await;
    let successor = token(b"t2", "f1", 2_000, 6_000);
    let refused = store.rotate_refresh(b"t1", &successor, b"", 2_000).await;
    assert!(
        matches!(&refused, Err(e @ StoreError::Sqlite(_)) if e.is_unavailable()),
        "{refused:?}"
    );
    other.execute("COMMIT").await.unwrap();
    assert!(
        store
            .rotate_refresh(b"t1", &successor, b"", 2_000)
            .await
            .unwrap()
    );
}

/// Rotations that arrive together share one commit (direct.rs: `write`): each still
/// gets its own answer, and one that fails undoes only its own changes. Another
/// writer holds SQLite's lock first, so the rotations queue up behind the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_committed_together_keep_their_own_outcomes() {
    let (_dir, url, store) = fresh("").await;
    let old = |i: usize| format!("old{i}").into_bytes();
    let new = |i: usize| format!("new{i}").into_bytes();
    for i in 0..8 {
        let f = format!("f{i}");
        store
            .insert_refresh_family(&family(&f, "app", None), &token(&old(i), &f, 1_000, 5_000))
            .await
            .unwrap();
    }
    let mut other = hold_writer_lock(&url).await;
    let rotate = |from: Vec<u8>, to: Vec<u8>| {
        let store = store.clone();
        tokio::spawn(async move {
            let successor = token(&to, "ignored", 2_000, 6_000);
            store.rotate_refresh(&from, &successor, b"", 2_000).await
        })
    };
    // 0..6 rotate; 6 is presented twice (one wins); 7's successor hash is taken.
    let mut rotations: Vec<_> = (0..7).map(|i| rotate(old(i), new(i))).collect();
    rotations.push(rotate(old(6), b"new6-again".to_vec()));
    rotations.push(rotate(old(7), old(0)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    other.execute("COMMIT").await.unwrap();

    let mut outcomes = Vec::new();
    for rotation in rotations {
        outcomes.push(rotation.await.unwrap());
    }
    let won: Vec<bool> = outcomes[..8].iter().map(|o| *o.as_ref().unwrap()).collect();
    assert!(won[..6].iter().all(|w| *w), "{won:?}");
    assert!(
        won[6] != won[7],
        "one of the two presentations of old6 wins: {won:?}"
    );
    assert!(
        matches!(outcomes[8], Err(StoreError::Conflict)),
        "{:?}",
        outcomes[8]
    );
    for i in 0..6 {
        let found = store
            .refresh_token(&new(i))
            .await
            .unwrap()
            .expect("committed");
        assert_eq!(found.family.id, format!("f{i}"));
    }
    let failed = store.refresh_token(&old(7)).await.unwrap().unwrap();
    assert_eq!(
        failed.token.rotated_at, None,
        "the failed rotation left no trace"
    );
}

/// Rotates the chain of refresh tokens `name`0, `name`1, ... `rotations` times, from
/// a family of its own.
async fn rotate_chain(store: Store, name: &str, rotations: usize) {
    let hash = |i: usize| format!("{name}{i}").into_bytes();
    store
        .insert_refresh_family(
            &family(name, "app", None),
            &token(&hash(0), name, 1_000, 9_000),
        )
        .await
        .unwrap();
    for i in 0..rotations {
        let successor = token(&hash(i + 1), name, 2_000, 9_000);
        assert!(
            store
                .rotate_refresh(&hash(i), &successor, b"", 2_000)
                .await
                .unwrap()
        );
    }
}

/// The direct connection never checkpoints when it commits: every few thousand rows
/// written, the checkpoint connection copies the WAL into the database file, and
/// the WAL starts over from its beginning even while writes go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_by_its_own_connection_and_starts_over() {
    let (dir, _, store) = fresh("").await;
    let file = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
    // A few rotations write to the WAL only.
    rotate_chain(store.clone(), "a", 100).await;
    let before = file("admit.db");
    // Writers that never pause: a checkpoint beside them never reaches the WAL's end.
    let writers: Vec<_> = (0..4)
        .map(|i| tokio::spawn(rotate_chain(store.clone(), ["b", "c", "d", "e"][i], 5_000)))
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while file("admit.db") <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint: {before} bytes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The WAL header's checkpoint sequence number counts its new beginnings (SQLite's
    // file format, "WAL File Format"). Without them the WAL grew past 200 MB here.
    let mut header = [0u8; 16];
    std::io::Read::read_exact(
        &mut std::fs::File::open(dir.path().join("admit.db-wal")).unwrap(),
        &mut header,
    )
    .unwrap();
    let restarts = u32::from_be_bytes(header[12..].try_into().unwrap());
    let wal = file("admit.db-wal");
    assert!(
        restarts >= 2,
        "the WAL started over {restarts} times, {wal} bytes"
    );
}

#[tokio::test]
async fn closed_store_refuses_hot_queries() {
    let (_dir, _, store) = fresh("").await;
    store.close().await;
    assert!(matches!(store.refresh_token(b"t1").await, Err(e) if e.is_unavailable()));
    let successor = token(b"t2", "f1", 2_000, 6_000);
    let rotation = store.rotate_refresh(b"t1", &successor, b"", 2_000).await;
    assert!(matches!(rotation, Err(e) if e.is_unavailable()));
}

#[tokio::test]
async fn in_memory_databases_are_refused() {
    assert!(matches!(
        Store::connect("sqlite::memory:").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}
