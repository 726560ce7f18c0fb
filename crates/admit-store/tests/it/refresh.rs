//! Refresh families and tokens: lookup, rotation (and its race), revocation,
//! purge (in batches).

use admit_store::{RefreshLookup, Store, StoreError};

use crate::{family, revoked_at, token};

pub async fn case_insert_and_lookup(store: Store) {
    let mut f = family("f1", "app", Some("u1"));
    f.expires_at = Some(90_000);
    let t = token(&[0xde, 0xad, 0x00, 0xff], "f1", 1_000, 5_000);
    store.insert_refresh_family(&f, &t).await.unwrap();

    let found = store.refresh_token(&t.token_hash).await.unwrap();
    assert_eq!(
        found,
        Some(RefreshLookup {
            token: t.clone(),
            family: f
        })
    );
    assert_eq!(store.refresh_token(b"unknown").await.unwrap(), None);

    // A family for a client credential grant: no user, no auth_time.
    let mut machine = family("f2", "svc", None);
    machine.auth_time = None;
    store
        .insert_refresh_family(&machine, &token(b"m", "f2", 1_000, 5_000))
        .await
        .unwrap();
    let found = store.refresh_token(b"m").await.unwrap().unwrap();
    assert_eq!(found.family, machine);
}

/// The family and its first token go in together or not at all.
pub async fn case_insert_is_atomic(store: Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", None),
            &token(b"t1", "f1", 1_000, 5_000),
        )
        .await
        .unwrap();
    // Same token hash: the token insert fails, so family f2 must not remain.
    let clash = store
        .insert_refresh_family(
            &family("f2", "app", None),
            &token(b"t1", "f2", 1_000, 5_000),
        )
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict)), "{clash:?}");
    store
        .insert_refresh_family(
            &family("f2", "app", None),
            &token(b"t2", "f2", 1_000, 5_000),
        )
        .await
        .expect("f2 was rolled back, so its id is free");
    // Same family id: Conflict too.
    let dup = store
        .insert_refresh_family(
            &family("f2", "app", None),
            &token(b"t3", "f2", 1_000, 5_000),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
}

pub async fn case_rotate(store: Store) {
    let f = family("f1", "app", Some("u1"));
    store
        .insert_refresh_family(&f, &token(b"t1", "f1", 1_000, 5_000))
        .await
        .unwrap();

    // `family_id` of the new token is ignored: it joins the old one's family.
    let t2 = token(b"t2", "ignored", 2_000, 6_000);
    assert!(store.rotate_refresh(b"t1", &t2, b"", 2_000).await.unwrap());
    let old = store.refresh_token(b"t1").await.unwrap().unwrap();
    assert_eq!(old.token.rotated_at, Some(2_000));
    let new = store.refresh_token(b"t2").await.unwrap().unwrap();
    assert_eq!(new.token, token(b"t2", "f1", 2_000, 6_000));
    assert_eq!(new.family, f);

    // Presenting t1 again loses, and its would-be successor is not stored.
    assert!(
        !store
            .rotate_refresh(b"t1", &token(b"t3", "f1", 2_100, 6_100), b"", 2_100)
            .await
            .unwrap()
    );
    assert_eq!(store.refresh_token(b"t3").await.unwrap(), None);
    assert_eq!(
        store
            .refresh_token(b"t1")
            .await
            .unwrap()
            .unwrap()
            .token
            .rotated_at,
        Some(2_000)
    );
    // Unknown tokens lose too.
    assert!(
        !store
            .rotate_refresh(b"nope", &token(b"t4", "f1", 2_100, 6_100), b"", 2_100)
            .await
            .unwrap()
    );
    assert_eq!(store.refresh_token(b"t4").await.unwrap(), None);

    // The chain goes on from the newest token.
    assert!(
        store
            .rotate_refresh(b"t2", &token(b"t5", "f1", 3_000, 7_000), b"", 3_000)
            .await
            .unwrap()
    );
}

/// Many requests rotate the same token at once: exactly one wins, and only
/// its successor exists.
pub async fn case_rotate_race(store: Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", Some("u1")),
            &token(b"old", "f1", 1_000, 5_000),
        )
        .await
        .unwrap();
    const N: u8 = 20;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N.into()));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let new = token(&[b'n', i], "f1", 2_000, 6_000);
                store.rotate_refresh(b"old", &new, b"", 2_000).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        if task.await.unwrap().expect("rotation must not error") {
            winners.push(i as u8);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    for i in 0..N {
        let exists = store.refresh_token(&[b'n', i]).await.unwrap().is_some();
        assert_eq!(exists, winners == [i], "successor n{i}");
    }
}

pub async fn case_revoke_family(store: Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", None),
            &token(b"t1", "f1", 1_000, 5_000),
        )
        .await
        .unwrap();
    assert!(
        store
            .rotate_refresh(b"t1", &token(b"t2", "f1", 1_500, 5_500), b"", 1_500)
            .await
            .unwrap()
    );
    assert!(store.revoke_refresh_family("f1", 2_000).await.unwrap());
    assert!(!store.revoke_refresh_family("f1", 3_000).await.unwrap());
    assert!(!store.revoke_refresh_family("missing", 3_000).await.unwrap());
    for t in [b"t1", b"t2"] {
        let found = store.refresh_token(t).await.unwrap().unwrap();
        assert_eq!(found.family.revoked_at, Some(2_000));
    }
}

pub async fn case_purge_expired(store: Store) {
    // f1: everything expired -> tokens and family go.
    // f2: one expired token, one live -> only the expired token goes.
    // f3: live, and expiring exactly at `now` -> kept (strictly before `now` goes).
    let now = 10_000;
    store
        .insert_refresh_family(
            &family("f1", "app", None),
            &token(b"a1", "f1", 1_000, 5_000),
        )
        .await
        .unwrap();
    assert!(
        store
            .rotate_refresh(b"a1", &token(b"a2", "f1", 2_000, 9_999), b"", 2_000)
            .await
            .unwrap()
    );
    store
        .insert_refresh_family(
            &family("f2", "app", None),
            &token(b"b1", "f2", 1_000, 5_000),
        )
        .await
        .unwrap();
    assert!(
        store
            .rotate_refresh(b"b1", &token(b"b2", "f2", 4_000, 20_000), b"", 4_000)
            .await
            .unwrap()
    );
    store
        .insert_refresh_family(&family("f3", "app", None), &token(b"c1", "f3", 1_000, now))
        .await
        .unwrap();

    // a1, a2, b1 and family f1.
    assert_eq!(store.purge_expired(now).await.unwrap(), 4);
    for gone in [&b"a1"[..], b"a2", b"b1"] {
        assert_eq!(store.refresh_token(gone).await.unwrap(), None);
    }
    for kept in [&b"b2"[..], b"c1"] {
        assert!(store.refresh_token(kept).await.unwrap().is_some());
    }
    // f1 is gone: its id can be used again.
    store
        .insert_refresh_family(&family("f1", "app", None), &token(b"a3", "f1", now, 20_000))
        .await
        .unwrap();
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
}

pub async fn case_family_lookup(store: Store) {
    let mut f = family("f1", "app", Some("u1"));
    f.session_id = Some("s1".into());
    f.expires_at = Some(90_000);
    store
        .insert_refresh_family(&f, &token(b"t1", "f1", 1_000, 5_000))
        .await
        .unwrap();
    assert_eq!(store.family("f1").await.unwrap(), Some(f));
    assert_eq!(store.family("f2").await.unwrap(), None);
}

pub async fn case_revoke_families_of_client(store: Store) {
    for (f, c, t) in [
        ("f1", "web", b"t1"),
        ("f2", "web", b"t2"),
        ("f3", "cli", b"t3"),
    ] {
        store
            .insert_refresh_family(&family(f, c, Some("u1")), &token(t, f, 1_000, 9_000))
            .await
            .unwrap();
    }
    assert!(store.revoke_refresh_family("f2", 1_500).await.unwrap());
    // f2 was already revoked: only f1 counts, and f2 keeps its first time.
    assert_eq!(
        store.revoke_families_of_client("web", 2_000).await.unwrap(),
        1
    );
    assert_eq!(revoked_at(&store, b"t1").await, Some(2_000));
    assert_eq!(revoked_at(&store, b"t2").await, Some(1_500));
    assert_eq!(revoked_at(&store, b"t3").await, None);
    assert_eq!(
        store.revoke_families_of_client("web", 3_000).await.unwrap(),
        0
    );
    // The client itself is not touched; there is none here, and that is fine.
    assert_eq!(store.client("web").await.unwrap(), None);
}

/// More expired rows than one purge batch holds (500): every expired token
/// and emptied family goes, over several statements, and nothing live does.
pub async fn case_purge_in_batches(store: Store) {
    const EXPIRED: usize = 1_200;
    const WRITERS: usize = 4;
    let now = 10_000;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in (w..EXPIRED).step_by(WRITERS) {
                    let id = format!("old{i}");
                    let t = token(id.as_bytes(), &id, 1_000, now - 1);
                    store
                        .insert_refresh_family(&family(&id, "app", None), &t)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    // Live: five families whose tokens expire exactly at `now` (kept), one
    // of them also holding an expired token (not kept).
    for i in 0..5 {
        let id = format!("live{i}");
        store
            .insert_refresh_family(
                &family(&id, "app", None),
                &token(id.as_bytes(), &id, 1_000, now),
            )
            .await
            .unwrap();
    }
    let next = token(b"live1-next", "", 2_000, 20_000);
    assert!(
        store
            .rotate_refresh(b"live1", &next, b"", 2_000)
            .await
            .unwrap()
    );
    let last = token(b"live1-last", "", 3_000, now - 1);
    assert!(
        store
            .rotate_refresh(b"live1-next", &last, b"", 3_000)
            .await
            .unwrap()
    );

    // 1200 tokens and their families, and live1-last.
    assert_eq!(
        store.purge_expired(now).await.unwrap(),
        2 * EXPIRED as u64 + 1
    );
    for gone in ["old0", "old499", "old500", "old1199", "live1-last"] {
        assert_eq!(store.refresh_token(gone.as_bytes()).await.unwrap(), None);
    }
    assert_eq!(store.family("old777").await.unwrap(), None);
    for kept in ["live0", "live1", "live1-next", "live2", "live3", "live4"] {
        assert!(
            store
                .refresh_token(kept.as_bytes())
                .await
                .unwrap()
                .is_some(),
            "{kept}"
        );
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
}

pub async fn case_rotation_keeps_the_successor(store: Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", Some("u1")),
            &token(b"t1", "f1", 1_000, 9_000),
        )
        .await
        .unwrap();
    assert_eq!(store.refresh_successor(b"t1").await.unwrap(), None);
    assert!(
        store
            .rotate_refresh(
                b"t1",
                &token(b"t2", "f1", 2_000, 9_000),
                b"sealed answer",
                2_000
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.refresh_successor(b"t1").await.unwrap().as_deref(),
        Some(&b"sealed answer"[..])
    );
    assert_eq!(store.refresh_successor(b"t2").await.unwrap(), None);
    assert_eq!(store.refresh_successor(b"unknown").await.unwrap(), None);
}

pub async fn case_live_families_and_forgotten_successors(store: Store) {
    store
        .insert_refresh_family(
            &family("f1", "app", Some("u1")),
            &token(b"a1", "f1", 1_000, 9_000),
        )
        .await
        .unwrap();
    store
        .insert_refresh_family(
            &family("f2", "app", Some("u1")),
            &token(b"b1", "f2", 1_000, 9_000),
        )
        .await
        .unwrap();
    store
        .insert_refresh_family(
            &family("f3", "other", Some("u1")),
            &token(b"c1", "f3", 1_000, 9_000),
        )
        .await
        .unwrap();
    store.revoke_refresh_family("f2", 1_500).await.unwrap();
    assert_eq!(store.live_families("u1", "app").await.unwrap(), ["f1"]);
    assert!(
        store
            .rotate_refresh(b"a1", &token(b"a2", "f1", 2_000, 9_000), b"kept", 2_000)
            .await
            .unwrap()
    );
    assert_eq!(
        store.forget_successors(2_000).await.unwrap(),
        0,
        "still inside the window"
    );
    assert_eq!(store.forget_successors(2_001).await.unwrap(), 1);
    assert_eq!(store.refresh_successor(b"a1").await.unwrap(), None);
}
