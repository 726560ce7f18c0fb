//! Batches (`admit config apply`): every kind of write lands, with the refresh
//! families, sessions, revocation events and audit records it implies; and a batch
//! that fails part-way writes nothing at all.

use admit_store::{AuditEvent, Batch, NewRevocation, Store, StoreError, Write};

use crate::{client, family, revoked_at, session, token, user};

fn audit(event: &str) -> AuditEvent {
    AuditEvent {
        at: 2_000,
        event: event.into(),
        actor: "cli:test".into(),
        subject: None,
        client_id: None,
        address: None,
        outcome: "success".into(),
        detail: "{}".into(),
    }
}

fn revocation(kind: &str, value: &str) -> NewRevocation {
    NewRevocation {
        kind: kind.into(),
        value: value.into(),
        revoked_at: 2_000,
        expires_at: 90_000,
    }
}

pub async fn case_every_write(store: Store) {
    for c in ["kept", "changed", "gone"] {
        store.insert_client(&client(c)).await.unwrap();
    }
    for (id, name) in [("u1", "stays"), ("u2", "rekeyed"), ("u3", "leaves")] {
        store.insert_user(&user(id, name)).await.unwrap();
    }
    for (f, c, u, t) in [
        ("f1", "gone", "u1", b"t1"),
        ("f2", "kept", "u2", b"t2"),
        ("f3", "kept", "u3", b"t3"),
        ("f4", "kept", "u1", b"t4"),
    ] {
        store
            .insert_refresh_family(&family(f, c, Some(u)), &token(t, f, 1_000, 9_000))
            .await
            .unwrap();
    }
    store
        .insert_session(&session("s2", "u2", 1_000, 9_000))
        .await
        .unwrap();
    let changed = admit_store::Client {
        redirect_uris: vec!["https://new.example/cb".into()],
        scopes: vec!["openid".into(), "api".into()],
        created_at: 5,
        ..client("changed")
    };
    let rekeyed = admit_store::User {
        password_hash: "$argon2id$new".into(),
        name: Some("R".into()),
        updated_at: 2_000,
        ..user("u2", "rekeyed")
    };
    let batch = Batch {
        writes: vec![
            Write::InsertClient(client("new")),
            Write::UpdateClient(changed.clone()),
            Write::DeleteClient("gone".into()),
            Write::InsertUser(user("u4", "arrives")),
            Write::UpdateUser {
                user: rekeyed.clone(),
                revoke: true,
            },
            Write::DeleteUser("u3".into()),
        ],
        revocations: vec![revocation("client", "gone"), revocation("sub", "u3")],
        audit: vec![audit("client.add"), audit("client.remove")],
        now: 2_000,
    };
    let head = store.audit_head().await.unwrap().map_or(0, |h| h.0);
    store.write_batch(&batch).await.unwrap();

    assert!(store.client("new").await.unwrap().is_some());
    assert!(store.client("gone").await.unwrap().is_none());
    let stored = store.client("changed").await.unwrap().unwrap();
    assert_eq!(
        stored,
        admit_store::Client {
            created_at: client("changed").created_at,
            ..changed
        },
        "everything but created_at is replaced"
    );
    assert_eq!(store.user_by_id("u2").await.unwrap(), Some(rekeyed));
    assert!(store.user_by_id("u3").await.unwrap().is_none());
    assert!(store.user_by_id("u4").await.unwrap().is_some());

    assert_eq!(
        revoked_at(&store, b"t1").await,
        Some(2_000),
        "removed client"
    );
    assert_eq!(revoked_at(&store, b"t2").await, Some(2_000), "new password");
    assert_eq!(revoked_at(&store, b"t4").await, None, "untouched");
    let s2 = store.session("s2").await.unwrap().unwrap();
    assert_eq!(s2.revoked_at, Some(2_000));

    let events = store.revocations_after(0, 0, 10).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(kinds, [("client", "gone"), ("sub", "u3")]);
    assert_eq!(store.audit_head().await.unwrap().unwrap().0, head + 2);
}

pub async fn case_failure_writes_nothing(store: Store) {
    store.insert_client(&client("taken")).await.unwrap();
    store.insert_user(&user("u1", "alice")).await.unwrap();
    store
        .insert_refresh_family(
            &family("f1", "taken", Some("u1")),
            &token(b"t1", "f1", 1_000, 9_000),
        )
        .await
        .unwrap();
    let before = (
        store.list_clients().await.unwrap(),
        store.list_users().await.unwrap(),
        store.audit_head().await.unwrap(),
    );
    // The third write of each batch fails: a taken client_id, then rows gone.
    for (third, expect_conflict) in [
        (Write::InsertClient(client("fresh")), true),
        (Write::UpdateClient(client("missing")), false),
        (Write::DeleteUser("nobody".into()), false),
    ] {
        let batch = Batch {
            writes: vec![
                Write::DeleteClient("taken".into()),
                Write::InsertClient(client("fresh")),
                third,
                Write::InsertUser(user("u9", "zed")),
            ],
            revocations: vec![revocation("client", "taken")],
            audit: vec![audit("client.remove")],
            now: 2_000,
        };
        let e = store.write_batch(&batch).await.unwrap_err();
        match expect_conflict {
            true => assert!(matches!(e, StoreError::Conflict), "{e:?}"),
            false => assert!(matches!(e, StoreError::Invalid(_)), "{e:?}"),
        }
        let after = (
            store.list_clients().await.unwrap(),
            store.list_users().await.unwrap(),
            store.audit_head().await.unwrap(),
        );
        assert_eq!(after, before);
        assert_eq!(revoked_at(&store, b"t1").await, None);
        assert_eq!(store.latest_revocation_seq().await.unwrap(), 0);
    }
    // An empty batch writes nothing, not even an audit record.
    store.write_batch(&Batch::default()).await.unwrap();
    assert_eq!(store.audit_head().await.unwrap(), before.2);
}
