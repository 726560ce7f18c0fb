//! Authorization codes: single use (and its race), the family issued from a
//! code, purge.

use admit_store::{AuthorizationCode, CodeRedemption, Store, StoreError};

fn code(hash: &[u8], expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: hash.to_vec(),
        client_id: "web".into(),
        user_id: "u1".into(),
        session_id: "s1".into(),
        redirect_uri: "https://web.example/cb?x=1".into(),
        scope: "openid profile".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        auth_time: 900,
        created_at: 1_000,
        expires_at,
        used_at: None,
        family_id: None,
    }
}

fn used(mut code: AuthorizationCode, at: i64) -> AuthorizationCode {
    code.used_at = Some(at);
    code
}

pub async fn case_consume(store: Store) {
    let c = code(&[0xc0, 0xde, 0x00], 1_060);
    store.insert_code(&c).await.unwrap();
    let dup = store.insert_code(&c).await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");

    // A code with no nonce and no PKCE round-trips too.
    let mut bare = code(b"bare", 1_060);
    (bare.nonce, bare.code_challenge, bare.code_challenge_method) = (None, None, None);
    store.insert_code(&bare).await.unwrap();

    assert_eq!(
        store.consume_code(&c.code_hash, 1_010).await.unwrap(),
        CodeRedemption::Redeemed(used(c.clone(), 1_010))
    );
    // The second presentation finds the first use time.
    assert_eq!(
        store.consume_code(&c.code_hash, 1_020).await.unwrap(),
        CodeRedemption::Replayed(used(c.clone(), 1_010))
    );
    assert_eq!(
        store.consume_code(b"unknown", 1_020).await.unwrap(),
        CodeRedemption::Unknown
    );
    // Expiry is the caller's to judge: an expired code is still redeemed.
    assert_eq!(
        store.consume_code(b"bare", 5_000).await.unwrap(),
        CodeRedemption::Redeemed(used(bare, 5_000))
    );

    let shown = format!("{c:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains("192, 222"), "{shown}");
}

/// Many requests redeem the same code at once: exactly one gets `Redeemed`,
/// every other one `Replayed`.
pub async fn case_consume_race(store: Store) {
    store.insert_code(&code(b"c", 1_060)).await.unwrap();
    const N: usize = 20;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.consume_code(b"c", 1_000 + i as i64).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut replays = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap().expect("redemption must not error") {
            CodeRedemption::Redeemed(c) => {
                assert_eq!(c.used_at, Some(1_000 + i as i64));
                winners.push(i);
            }
            CodeRedemption::Replayed(_) => replays += 1,
            CodeRedemption::Unknown => panic!("task {i}: the code exists"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(replays, N - 1);
    // The winner's time is the one stored.
    let CodeRedemption::Replayed(c) = store.consume_code(b"c", 9_000).await.unwrap() else {
        panic!("the code was used");
    };
    assert_eq!(c.used_at, Some(1_000 + winners[0] as i64));
}

pub async fn case_set_family(store: Store) {
    store.insert_code(&code(b"c", 1_060)).await.unwrap();
    assert!(matches!(
        store.consume_code(b"c", 1_010).await.unwrap(),
        CodeRedemption::Redeemed(c) if c.family_id.is_none()
    ));
    assert!(
        !store.set_code_family(b"c", "f1").await.unwrap(),
        "not replayed"
    );
    assert!(!store.set_code_family(b"unknown", "f1").await.unwrap());
    // A replay finds the family to revoke.
    let CodeRedemption::Replayed(c) = store.consume_code(b"c", 1_020).await.unwrap() else {
        panic!("the code was used");
    };
    assert_eq!(c.family_id.as_deref(), Some("f1"));
}

/// Codes that expired before `now` go, used or not; the rest stay.
pub async fn case_purge_expired(store: Store) {
    let now = 10_000;
    for (hash, expires_at) in [
        (&b"expired"[..], 9_999),
        (b"expired-used", 5_000),
        (b"expires-now", now),
        (b"live-used", 20_000),
    ] {
        store.insert_code(&code(hash, expires_at)).await.unwrap();
    }
    for hash in [&b"expired-used"[..], b"live-used"] {
        let redeemed = store.consume_code(hash, 2_000).await.unwrap();
        assert!(matches!(redeemed, CodeRedemption::Redeemed(_)));
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 2);
    for gone in [&b"expired"[..], b"expired-used"] {
        assert_eq!(
            store.consume_code(gone, now).await.unwrap(),
            CodeRedemption::Unknown
        );
    }
    assert!(matches!(
        store.consume_code(b"expires-now", now).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    assert!(matches!(
        store.consume_code(b"live-used", now).await.unwrap(),
        CodeRedemption::Replayed(_)
    ));
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
}

pub async fn case_replay_during_redemption(store: Store) {
    store.insert_code(&code(b"c", 1_060)).await.unwrap();
    assert!(matches!(
        store.consume_code(b"c", 1_010).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    // A replay arrives before the redeemer recorded its family: it finds none...
    assert!(matches!(
        store.consume_code(b"c", 1_011).await.unwrap(),
        CodeRedemption::Replayed(c) if c.family_id.is_none()
    ));
    // ...so the redeemer learns of it when recording the family, and revokes it.
    assert!(store.set_code_family(b"c", "f1").await.unwrap());
}
