//! Signing keys: insert, ordered listing, state changes, rotation (and its
//! race), deletion of long-retired keys.

use admit_store::{SigningKey, Store, StoreError};

/// A key as it would stand in `state`: current and retired keys carry an
/// activation time, retired ones a retirement time too.
fn key(kid: &str, alg: &str, state: &str, created_at: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: alg.into(),
        state: state.into(),
        private_key_enc: format!("ciphertext of {kid}").into_bytes(),
        public_jwk: (alg != "HS256").then(|| format!(r#"{{"kid":"{kid}","kty":"OKP"}}"#)),
        created_at,
        activated_at: (state != "next").then_some(created_at + 10),
        retired_at: (state == "retired").then_some(created_at + 20),
    }
}

/// Every key as (kid, state, activated_at, retired_at), oldest first.
async fn lifecycle(store: &Store) -> Vec<(String, String, Option<i64>, Option<i64>)> {
    let keys = store.list_keys().await.unwrap();
    keys.into_iter()
        .map(|k| (k.kid, k.state, k.activated_at, k.retired_at))
        .collect()
}

fn row(
    kid: &str,
    state: &str,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
) -> (String, String, Option<i64>, Option<i64>) {
    (kid.into(), state.into(), activated_at, retired_at)
}

pub async fn case_keys(store: Store) {
    assert_eq!(store.list_keys().await.unwrap(), vec![]);
    let old = key("zz-old", "EdDSA", "retired", 100);
    let b = key("b", "ES256", "current", 200);
    let a = key("a", "HS256", "next", 200);
    for k in [&b, &old, &a] {
        store.insert_key(k).await.unwrap();
    }
    // By created_at, then kid.
    assert_eq!(
        store.list_keys().await.unwrap(),
        vec![old.clone(), a.clone(), b.clone()]
    );
    assert_eq!(store.list_keys().await.unwrap()[1].public_jwk, None);

    let dup = store.insert_key(&key("b", "RS256", "next", 300)).await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");

    assert!(store.set_key_state("b", "retired").await.unwrap());
    assert!(store.set_key_state("a", "current").await.unwrap());
    assert!(!store.set_key_state("missing", "current").await.unwrap());
    let states: Vec<_> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.state))
        .collect();
    assert_eq!(
        states,
        [("zz-old", "retired"), ("a", "current"), ("b", "retired")]
            .map(|(k, s)| (k.to_string(), s.to_string()))
    );

    let shown = format!("{b:?}");
    assert!(!shown.contains("ciphertext"), "{shown}");
}

pub async fn case_rotate(store: Store) {
    for k in [
        key("c1", "EdDSA", "current", 100),
        key("n1", "EdDSA", "next", 200),
        key("e1", "ES256", "current", 100),
        key("e2", "ES256", "next", 200),
    ] {
        store.insert_key(&k).await.unwrap();
    }
    // The new next key's state and times are not read: it goes in as `next`.
    let mut n2 = key("n2", "EdDSA", "current", 300);
    n2.retired_at = Some(1);
    assert!(store.rotate_keys("EdDSA", &n2, 1_000).await.unwrap());
    assert_eq!(
        lifecycle(&store).await,
        [
            row("c1", "retired", Some(110), Some(1_000)),
            row("e1", "current", Some(110), None),
            row("e2", "next", None, None),
            row("n1", "current", Some(1_000), None),
            row("n2", "next", None, None),
        ]
    );
    let stored_n2 = store.list_keys().await.unwrap().pop().unwrap();
    assert_eq!(stored_n2.private_key_enc, n2.private_key_enc);
    assert_eq!(stored_n2.public_jwk, n2.public_jwk);

    // Again: the key retired before keeps its retirement time.
    let n3 = key("n3", "EdDSA", "next", 400);
    assert!(store.rotate_keys("EdDSA", &n3, 2_000).await.unwrap());
    assert_eq!(
        lifecycle(&store).await,
        [
            row("c1", "retired", Some(110), Some(1_000)),
            row("e1", "current", Some(110), None),
            row("e2", "next", None, None),
            row("n1", "retired", Some(1_000), Some(2_000)),
            row("n2", "current", Some(2_000), None),
            row("n3", "next", None, None),
        ]
    );
}

/// With no next key there is nothing to promote: the current key stays (it
/// is the only one to sign with) and the new next key is only published.
pub async fn case_rotate_without_next(store: Store) {
    store
        .insert_key(&key("c1", "EdDSA", "current", 100))
        .await
        .unwrap();
    let n1 = key("n1", "EdDSA", "next", 200);
    assert!(!store.rotate_keys("EdDSA", &n1, 1_000).await.unwrap());
    assert_eq!(
        lifecycle(&store).await,
        [
            row("c1", "current", Some(110), None),
            row("n1", "next", None, None)
        ]
    );
    // The next call promotes it.
    let n2 = key("n2", "EdDSA", "next", 300);
    assert!(store.rotate_keys("EdDSA", &n2, 2_000).await.unwrap());
    assert_eq!(
        lifecycle(&store).await,
        [
            row("c1", "retired", Some(110), Some(2_000)),
            row("n1", "current", Some(2_000), None),
            row("n2", "next", None, None),
        ]
    );
}

/// A new next key that cannot go in undoes the whole rotation.
pub async fn case_rotate_refusals(store: Store) {
    for k in [
        key("c1", "EdDSA", "current", 100),
        key("n1", "EdDSA", "next", 200),
    ] {
        store.insert_key(&k).await.unwrap();
    }
    let before = lifecycle(&store).await;

    let taken = store
        .rotate_keys("EdDSA", &key("c1", "EdDSA", "next", 300), 1_000)
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
    assert_eq!(lifecycle(&store).await, before, "promotion rolled back");

    let other_alg = store
        .rotate_keys("EdDSA", &key("x1", "ES256", "next", 300), 1_000)
        .await;
    assert!(
        matches!(other_alg, Err(StoreError::Invalid(_))),
        "{other_alg:?}"
    );
    assert_eq!(lifecycle(&store).await, before);
}

/// Many rotations of one algorithm at once, each with its own new next key:
/// they run one after the other, so each promotes the key the previous one
/// published, and exactly one key is current at the end.
pub async fn case_rotate_race(store: Store) {
    for k in [
        key("c0", "EdDSA", "current", 100),
        key("n0", "EdDSA", "next", 200),
        key("e0", "ES256", "current", 100),
    ] {
        store.insert_key(&k).await.unwrap();
    }
    const N: usize = 10;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                // One created_at for all, so only the lock orders them.
                let next = key(&format!("n{}", i + 1), "EdDSA", "next", 500);
                store.rotate_keys("EdDSA", &next, 1_000).await
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().expect("rotation must not error"));
    }
    let keys = store.list_keys().await.unwrap();
    let eddsa = |state: &str| {
        keys.iter()
            .filter(|k| k.alg == "EdDSA" && k.state == state)
            .collect::<Vec<_>>()
    };
    assert_eq!(eddsa("current").len(), 1, "{keys:?}");
    assert_eq!(eddsa("next").len(), 1, "{keys:?}");
    assert_eq!(eddsa("retired").len(), N, "{keys:?}");
    assert_eq!(eddsa("current")[0].activated_at, Some(1_000));
    assert!(eddsa("retired").iter().all(|k| k.retired_at == Some(1_000)));
    assert_eq!(
        keys.iter().find(|k| k.kid == "e0").unwrap().state,
        "current"
    );
}

pub async fn case_delete_retired_before(store: Store) {
    let mut unstamped = key("r3", "ES256", "retired", 0);
    unstamped.retired_at = None;
    for k in [
        key("r1", "EdDSA", "retired", 80),  // retired at 100
        key("r2", "ES256", "retired", 180), // retired at 200
        unstamped,
        key("c1", "EdDSA", "current", 0),
        key("n1", "EdDSA", "next", 0),
    ] {
        store.insert_key(&k).await.unwrap();
    }
    // Strictly before the cutoff, of any algorithm; never a key in use, nor
    // one with no retirement time.
    assert_eq!(store.delete_keys_retired_before(200).await.unwrap(), 1);
    assert_eq!(store.delete_keys_retired_before(201).await.unwrap(), 1);
    assert_eq!(store.delete_keys_retired_before(i64::MAX).await.unwrap(), 0);
    let kids: Vec<_> = lifecycle(&store).await.into_iter().map(|r| r.0).collect();
    assert_eq!(kids, ["c1", "n1", "r3"]);
}

pub async fn case_delete_unused_key(store: Store) {
    store
        .insert_key(&key("n", "EdDSA", "next", 100))
        .await
        .unwrap();
    store
        .insert_key(&key("c", "EdDSA", "current", 100))
        .await
        .unwrap();
    // Only a key that never signed (a next key) can be deleted this way.
    assert!(!store.delete_unused_key("c").await.unwrap());
    assert!(store.delete_unused_key("n").await.unwrap());
    assert!(!store.delete_unused_key("n").await.unwrap());
    assert_eq!(lifecycle(&store).await.len(), 1);
}
