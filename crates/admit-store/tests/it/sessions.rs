//! SSO sessions: lookup by cookie hash and by id, revocation (with the refresh
//! families issued under a session), listing, purge.

use admit_store::{Store, StoreError};

use crate::{family, revoked_at, session, token};

pub async fn case_insert_lookup_revoke(store: Store) {
    let s1 = session("s1", "u1", 1_000, 9_000);
    store.insert_session(&s1).await.unwrap();

    assert_eq!(
        store.session_by_secret(b"cookie of s1").await.unwrap(),
        Some(s1.clone())
    );
    assert_eq!(
        store.session_by_secret(b"cookie of s2").await.unwrap(),
        None
    );
    assert_eq!(store.session("s1").await.unwrap(), Some(s1.clone()));
    assert_eq!(store.session("s2").await.unwrap(), None);

    // The id and the cookie hash are each unique.
    let mut same_id = session("s1", "u2", 1_000, 9_000);
    same_id.secret_hash = b"other cookie".to_vec();
    let dup = store.insert_session(&same_id).await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
    let mut same_secret = session("s2", "u2", 1_000, 9_000);
    same_secret.secret_hash = s1.secret_hash.clone();
    let dup = store.insert_session(&same_secret).await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");

    assert!(store.revoke_session("s1", 2_000).await.unwrap());
    assert!(!store.revoke_session("s1", 3_000).await.unwrap());
    assert!(!store.revoke_session("missing", 3_000).await.unwrap());
    let found = store.session_by_secret(b"cookie of s1").await.unwrap();
    assert_eq!(
        found.unwrap().revoked_at,
        Some(2_000),
        "first revocation kept"
    );

    let shown = format!("{s1:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(&format!("{:?}", s1.secret_hash)), "{shown}");
}

/// Revoking a session revokes the families carrying its id, and only those.
pub async fn case_revoke_revokes_families(store: Store) {
    for s in ["s1", "s2"] {
        store
            .insert_session(&session(s, "u1", 1_000, 9_000))
            .await
            .unwrap();
    }
    for (f, sid, t) in [
        ("f1", Some("s1"), b"t1"),
        ("f2", Some("s1"), b"t2"),
        ("f3", Some("s2"), b"t3"),
        ("f4", None, b"t4"),
    ] {
        let mut fam = family(f, "app", Some("u1"));
        fam.session_id = sid.map(Into::into);
        store
            .insert_refresh_family(&fam, &token(t, f, 1_000, 9_000))
            .await
            .unwrap();
    }
    assert!(store.revoke_refresh_family("f2", 1_500).await.unwrap());

    assert!(store.revoke_session("s1", 2_000).await.unwrap());
    assert_eq!(revoked_at(&store, b"t1").await, Some(2_000));
    assert_eq!(revoked_at(&store, b"t2").await, Some(1_500));
    assert_eq!(revoked_at(&store, b"t3").await, None, "other session");
    assert_eq!(revoked_at(&store, b"t4").await, None, "no session");
    let found = store.refresh_token(b"t1").await.unwrap().unwrap();
    assert_eq!(found.family.session_id.as_deref(), Some("s1"));
}

pub async fn case_revoke_user_sessions(store: Store) {
    for (s, u) in [("s1", "u1"), ("s2", "u1"), ("s3", "u1"), ("s4", "u2")] {
        store
            .insert_session(&session(s, u, 1_000, 9_000))
            .await
            .unwrap();
        let mut fam = family(&format!("f-{s}"), "app", Some(u));
        fam.session_id = Some(s.into());
        store
            .insert_refresh_family(&fam, &token(s.as_bytes(), &fam.id, 1_000, 9_000))
            .await
            .unwrap();
    }
    assert!(store.revoke_session("s3", 1_500).await.unwrap());

    assert_eq!(store.revoke_user_sessions("u1", 2_000).await.unwrap(), 2);
    assert_eq!(store.revoke_user_sessions("u1", 3_000).await.unwrap(), 0);
    assert_eq!(
        store.revoke_user_sessions("nobody", 3_000).await.unwrap(),
        0
    );
    for (s, expected) in [
        ("s1", Some(2_000)),
        ("s2", Some(2_000)),
        ("s3", Some(1_500)),
        ("s4", None),
    ] {
        let found = store.session(s).await.unwrap().unwrap();
        assert_eq!(found.revoked_at, expected, "session {s}");
        assert_eq!(
            revoked_at(&store, s.as_bytes()).await,
            expected,
            "family of {s}"
        );
    }
}

pub async fn case_list(store: Store) {
    assert_eq!(store.list_sessions(None).await.unwrap(), vec![]);
    let b = session("b", "u1", 2_000, 9_000);
    let a = session("a", "u2", 2_000, 9_000);
    let old = session("z-old", "u1", 1_000, 9_000);
    for s in [&b, &a, &old] {
        store.insert_session(s).await.unwrap();
    }
    assert!(store.revoke_session("z-old", 1_500).await.unwrap());
    let mut old = old;
    old.revoked_at = Some(1_500);

    // By created_at, then id; revoked sessions are listed too.
    assert_eq!(
        store.list_sessions(None).await.unwrap(),
        vec![old.clone(), a.clone(), b.clone()]
    );
    assert_eq!(store.list_sessions(Some("u1")).await.unwrap(), vec![old, b]);
    assert_eq!(store.list_sessions(Some("u2")).await.unwrap(), vec![a]);
    assert_eq!(store.list_sessions(Some("nobody")).await.unwrap(), vec![]);
}

/// Sessions that expired before `now` go, revoked or not; the rest stay,
/// revoked ones included, until they expire.
pub async fn case_purge_expired(store: Store) {
    let now = 10_000;
    for (s, expires_at, revoked) in [
        ("expired", 9_999, false),
        ("expired-revoked", 5_000, true),
        ("live-revoked", 20_000, true),
        ("live", 20_000, false),
        ("expires-now", now, false),
    ] {
        store
            .insert_session(&session(s, "u1", 1_000, expires_at))
            .await
            .unwrap();
        if revoked {
            assert!(store.revoke_session(s, 2_000).await.unwrap());
        }
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 2);
    for gone in ["expired", "expired-revoked"] {
        assert_eq!(store.session(gone).await.unwrap(), None, "{gone}");
    }
    for kept in ["live-revoked", "live", "expires-now"] {
        assert!(store.session(kept).await.unwrap().is_some(), "{kept}");
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
}
