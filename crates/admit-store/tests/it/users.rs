//! Users: CRUD, conflicts, and the revocations tied to password and deletion.

use admit_store::{Store, StoreError};

use crate::{family, revoked_at, session, token, user};

pub async fn case_user_crud(store: Store) {
    let bob = user("u2", "bob");
    let mut alice = user("u1", "alice");
    alice.name = Some("Alice Liddell".into());
    alice.email = None;
    store.insert_user(&bob).await.unwrap();
    store.insert_user(&alice).await.unwrap();

    assert_eq!(
        store.user_by_username("alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.user_by_id("u2").await.unwrap(), Some(bob.clone()));
    assert_eq!(store.user_by_username("carol").await.unwrap(), None);
    assert_eq!(store.user_by_id("alice").await.unwrap(), None);
    // Ordered by username, not by insertion or id.
    assert_eq!(
        store.list_users().await.unwrap(),
        vec![alice.clone(), bob.clone()]
    );

    assert!(
        store
            .set_password("alice", "$argon2id$new", 2_000)
            .await
            .unwrap()
    );
    let changed = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(changed.updated_at, 2_000);
    assert_eq!(changed.created_at, alice.created_at);
    assert!(
        !store
            .set_password("carol", "$argon2id$x", 2_000)
            .await
            .unwrap()
    );

    assert!(store.delete_user("alice", 3_000).await.unwrap());
    assert!(!store.delete_user("alice", 3_000).await.unwrap());
    assert_eq!(store.user_by_id("u1").await.unwrap(), None);
    assert_eq!(store.list_users().await.unwrap(), vec![bob]);

    // Debug never shows the hash.
    let shown = format!("{changed:?}");
    assert!(!shown.contains("argon2id"), "{shown}");
}

pub async fn case_user_conflicts(store: Store) {
    store.insert_user(&user("u1", "alice")).await.unwrap();
    let same_name = store.insert_user(&user("u2", "alice")).await;
    assert!(
        matches!(same_name, Err(StoreError::Conflict)),
        "{same_name:?}"
    );
    let same_id = store.insert_user(&user("u1", "bob")).await;
    assert!(matches!(same_id, Err(StoreError::Conflict)), "{same_id:?}");
    assert_eq!(store.list_users().await.unwrap(), vec![user("u1", "alice")]);
}

/// Two families and two SSO sessions of alice (one of each already revoked),
/// and one family and one session of bob.
async fn seed_sessions(store: &Store) {
    store.insert_user(&user("u1", "alice")).await.unwrap();
    store.insert_user(&user("u2", "bob")).await.unwrap();
    for (f, u, t) in [
        ("f1", "u1", b"t1"),
        ("f2", "u1", b"t2"),
        ("f3", "u2", b"t3"),
    ] {
        store
            .insert_refresh_family(&family(f, "app", Some(u)), &token(t, f, 1_000, 9_000))
            .await
            .unwrap();
    }
    assert!(store.revoke_refresh_family("f2", 1_500).await.unwrap());
    for (s, u) in [("s1", "u1"), ("s2", "u1"), ("s3", "u2")] {
        store
            .insert_session(&session(s, u, 1_000, 9_000))
            .await
            .unwrap();
    }
    assert!(store.revoke_session("s2", 1_500).await.unwrap());
}

/// The revocation times of sessions s1, s2 and s3.
async fn sessions_revoked_at(store: &Store) -> Vec<Option<i64>> {
    let mut times = Vec::new();
    for id in ["s1", "s2", "s3"] {
        times.push(store.session(id).await.unwrap().unwrap().revoked_at);
    }
    times
}

pub async fn case_set_password_revokes(store: Store) {
    seed_sessions(&store).await;
    assert!(
        store
            .set_password("alice", "$argon2id$new", 2_000)
            .await
            .unwrap()
    );
    assert_eq!(revoked_at(&store, b"t1").await, Some(2_000));
    assert_eq!(
        revoked_at(&store, b"t2").await,
        Some(1_500),
        "first revocation kept"
    );
    assert_eq!(
        revoked_at(&store, b"t3").await,
        None,
        "other users untouched"
    );
    assert_eq!(
        sessions_revoked_at(&store).await,
        [Some(2_000), Some(1_500), None]
    );
}

pub async fn case_delete_user_revokes(store: Store) {
    seed_sessions(&store).await;
    assert!(store.delete_user("alice", 2_000).await.unwrap());
    assert_eq!(revoked_at(&store, b"t1").await, Some(2_000));
    assert_eq!(revoked_at(&store, b"t2").await, Some(1_500));
    assert_eq!(revoked_at(&store, b"t3").await, None);
    assert_eq!(
        sessions_revoked_at(&store).await,
        [Some(2_000), Some(1_500), None]
    );
    // Deleting a user that does not exist revokes nothing.
    assert!(!store.delete_user("carol", 2_500).await.unwrap());
    assert_eq!(revoked_at(&store, b"t3").await, None);
    assert_eq!(store.session("s3").await.unwrap().unwrap().revoked_at, None);
}

pub async fn case_email_verified(store: Store) {
    let mut alice = user("u1", "alice");
    alice.email_verified = true;
    let bob = user("u2", "bob");
    store.insert_user(&alice).await.unwrap();
    store.insert_user(&bob).await.unwrap();
    let found = store.user_by_id("u1").await.unwrap().unwrap();
    assert!(found.email_verified);
    assert!(
        !store
            .user_by_username("bob")
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    assert_eq!(store.list_users().await.unwrap(), vec![alice, bob]);
}
