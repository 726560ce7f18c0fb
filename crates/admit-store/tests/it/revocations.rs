//! Revocation events: the feed (append, follow by seq, latest seq, order
//! under concurrent appends), the one-query revocation check, purge.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use admit_store::{RevocationEvent, Store, StoreError};

pub async fn case_feed(store: Store) {
    assert_eq!(store.latest_revocation_seq().await.unwrap(), 0);
    assert_eq!(store.revocations_after(0, 0, 100).await.unwrap(), vec![]);

    let a = store
        .add_revocation("jti", "j1", 1_000, 5_000)
        .await
        .unwrap();
    let b = store.add_revocation("sid", "s1", 1_100, 900).await.unwrap();
    let c = store
        .add_revocation("sub", "u1", 1_200, 6_000)
        .await
        .unwrap();
    assert_eq!(
        a,
        RevocationEvent {
            seq: a.seq,
            kind: "jti".into(),
            value: "j1".into(),
            revoked_at: 1_000,
            expires_at: 5_000,
        }
    );
    assert!(
        a.seq > 0 && a.seq < b.seq && b.seq < c.seq,
        "{a:?} {b:?} {c:?}"
    );
    assert_eq!(store.latest_revocation_seq().await.unwrap(), c.seq);

    // Everything still live at `now`, after the given seq, by seq.
    let live = |now| store.revocations_after(0, now, 100);
    assert_eq!(live(900).await.unwrap(), [a.clone(), b.clone(), c.clone()]);
    assert_eq!(live(901).await.unwrap(), [a.clone(), c.clone()]);
    assert_eq!(
        store.revocations_after(a.seq, 0, 100).await.unwrap(),
        [b.clone(), c.clone()]
    );
    assert_eq!(
        store.revocations_after(0, 0, 2).await.unwrap(),
        [a.clone(), b.clone()]
    );
    assert_eq!(store.revocations_after(c.seq, 0, 100).await.unwrap(), []);
    assert_eq!(store.revocations_after(0, 0, -1).await.unwrap(), []);

    // A misspelt kind would never match a token: the schema refuses it.
    let typo = store.add_revocation("JTI", "j2", 1_000, 5_000).await;
    assert!(matches!(typo, Err(StoreError::Database(_))), "{typo:?}");
    assert_eq!(store.latest_revocation_seq().await.unwrap(), c.seq);
}

/// A follower polling while several writers append sees every event: seq
/// order is commit order, so nothing commits behind a seq already read.
pub async fn case_feed_order(store: Store) {
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..EACH {
                    let jti = format!("w{w}-{i}");
                    let event = store.add_revocation("jti", &jti, 1_000, 9_000).await;
                    seqs.push(event.unwrap().seq);
                }
                seqs
            })
        })
        .collect();
    let follower = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let (mut after, mut seen) = (0, Vec::new());
            loop {
                // Read `done` before the batch: once set, this batch is final.
                let finished = done.load(Ordering::SeqCst);
                let batch = store.revocations_after(after, 1_000, 7).await.unwrap();
                match batch.last() {
                    Some(last) => after = last.seq,
                    None if finished => return seen,
                    None => tokio::task::yield_now().await,
                }
                seen.extend(batch.iter().map(|e| e.seq));
            }
        })
    };
    let mut written = BTreeSet::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let seen = follower.await.unwrap();
    assert_eq!(written.len(), WRITERS * EACH);
    assert_eq!(seen, written.into_iter().collect::<Vec<_>>());
}

/// The claims of one access token, as `is_revoked` takes them.
#[derive(Clone, Copy)]
struct Token {
    jti: &'static str,
    sid: Option<&'static str>,
    grant: Option<&'static str>,
    client_id: &'static str,
    sub: &'static str,
    iat: i64,
}

const TOKEN: Token = Token {
    jti: "j1",
    sid: Some("s1"),
    grant: Some("g1"),
    client_id: "app",
    sub: "u1",
    iat: 2_000,
};

async fn check(store: &Store, t: Token, now: i64, expected: bool) {
    let revoked = store
        .is_revoked(t.jti, t.sid, t.grant, t.client_id, t.sub, t.iat, now)
        .await
        .unwrap();
    assert_eq!(
        revoked, expected,
        "jti {} sid {:?} grant {:?} client {} sub {} iat {} at {now}",
        t.jti, t.sid, t.grant, t.client_id, t.sub, t.iat
    );
}

pub async fn case_is_revoked(store: Store) {
    check(&store, TOKEN, 2_500, false).await;
    // Events naming other tokens, sessions, grants, clients and subjects.
    for kind in ["jti", "sid", "grant", "client", "sub"] {
        store
            .add_revocation(kind, "other", 3_000, 9_000)
            .await
            .unwrap();
    }
    // A value matching the token under another kind does not count.
    store
        .add_revocation("jti", "app", 3_000, 9_000)
        .await
        .unwrap();
    check(&store, TOKEN, 2_500, false).await;

    // jti, sid and grant match whatever the token's iat; each lives until
    // its expires_at, inclusive.
    for (kind, value, hit) in [
        (
            "jti",
            "j-revoked",
            Token {
                jti: "j-revoked",
                ..TOKEN
            },
        ),
        (
            "sid",
            "s-revoked",
            Token {
                sid: Some("s-revoked"),
                ..TOKEN
            },
        ),
        (
            "grant",
            "g-revoked",
            Token {
                grant: Some("g-revoked"),
                ..TOKEN
            },
        ),
    ] {
        store
            .add_revocation(kind, value, 1_000, 5_000)
            .await
            .unwrap();
        check(&store, hit, 2_500, true).await;
        check(&store, Token { iat: 4_000, ..hit }, 2_500, true).await;
        check(&store, hit, 5_000, true).await;
        check(&store, hit, 5_001, false).await;
    }
    // A token with no sid or grant matches no sid or grant event.
    let bare = Token {
        sid: None,
        grant: None,
        ..TOKEN
    };
    check(&store, bare, 2_500, false).await;

    // client and sub match tokens issued at or before the revocation only.
    for (kind, value, hit) in [
        (
            "client",
            "app-revoked",
            Token {
                client_id: "app-revoked",
                ..TOKEN
            },
        ),
        (
            "sub",
            "u-revoked",
            Token {
                sub: "u-revoked",
                ..TOKEN
            },
        ),
    ] {
        store
            .add_revocation(kind, value, 3_000, 5_000)
            .await
            .unwrap();
        check(&store, Token { iat: 2_999, ..hit }, 3_500, true).await;
        check(&store, Token { iat: 3_000, ..hit }, 3_500, true).await;
        check(&store, Token { iat: 3_001, ..hit }, 3_500, false).await;
        check(&store, Token { iat: 2_999, ..hit }, 5_001, false).await;
    }
    check(&store, TOKEN, 2_500, false).await;
}

pub async fn case_purge_expired(store: Store) {
    let now = 10_000;
    let gone = store
        .add_revocation("jti", "a", 1_000, now - 1)
        .await
        .unwrap();
    let at_now = store.add_revocation("jti", "b", 1_000, now).await.unwrap();
    let live = store
        .add_revocation("sub", "c", 1_000, 20_000)
        .await
        .unwrap();
    assert_eq!(store.purge_expired(now).await.unwrap(), 1);
    assert_eq!(
        store.revocations_after(0, 0, 100).await.unwrap(),
        [at_now.clone(), live.clone()]
    );
    assert!(
        !store
            .is_revoked(&gone.value, None, None, "x", "y", 0, 0)
            .await
            .unwrap()
    );

    // The newest event stays even once expired, so the latest seq holds...
    assert_eq!(store.purge_expired(30_000).await.unwrap(), 1);
    assert_eq!(store.latest_revocation_seq().await.unwrap(), live.seq);
    assert_eq!(store.revocations_after(0, 30_000, 100).await.unwrap(), []);
    // ...and goes once a newer one exists; seqs are never handed out again.
    let next = store
        .add_revocation("jti", "d", 30_000, 40_000)
        .await
        .unwrap();
    assert!(next.seq > live.seq, "{next:?} after {live:?}");
    assert_eq!(store.purge_expired(30_000).await.unwrap(), 1);
    assert_eq!(store.revocations_after(0, 0, 100).await.unwrap(), [next]);
}
