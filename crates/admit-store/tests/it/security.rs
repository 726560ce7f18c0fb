//! Login-failure counts and the audit chain.

use admit_store::{AuditAnchor, AuditEvent, AuditFilter, GENESIS, Store, chain_hash};

pub async fn case_login_failures(store: Store) {
    assert!(store.login_failures(&["user:a"]).await.unwrap().is_empty());
    for (n, now) in [(1, 100), (2, 110), (3, 120)] {
        let f = store.count_login_failure("user:a", now, 60).await.unwrap();
        assert_eq!((f.failures, f.last_at), (n, now));
    }
    store
        .count_login_failure("addr:192.0.2.1", 120, 60)
        .await
        .unwrap();
    let mut found = store
        .login_failures(&["user:a", "addr:192.0.2.1", "user:b"])
        .await
        .unwrap();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let counts: Vec<_> = found
        .iter()
        .map(|(k, f)| (k.as_str(), f.failures))
        .collect();
    assert_eq!(counts, [("addr:192.0.2.1", 1), ("user:a", 3)]);

    // A count whose latest failure is older than the window starts again at one.
    let f = store.count_login_failure("user:a", 181, 60).await.unwrap();
    assert_eq!(f.failures, 1);

    assert!(store.clear_login_failures("user:a").await.unwrap());
    assert!(!store.clear_login_failures("user:a").await.unwrap());
    assert_eq!(store.purge_login_failures(121).await.unwrap(), 1);
    assert!(
        store
            .login_failures(&["addr:192.0.2.1"])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Failures counted at once on many connections are all counted.
pub async fn case_login_failures_concurrent(store: Store) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_login_failure("user:x", 10, 60).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let found = store.login_failures(&["user:x"]).await.unwrap();
    assert_eq!(found[0].1.failures, 20);
}

fn event(name: &str, subject: Option<&str>, client: Option<&str>, at: i64) -> AuditEvent {
    AuditEvent {
        at,
        event: name.into(),
        actor: subject.map_or("admit".into(), |s| format!("user:{s}")),
        subject: subject.map(Into::into),
        client_id: client.map(Into::into),
        address: Some("192.0.2.1".into()),
        outcome: "success".into(),
        detail: "{}".into(),
    }
}

pub async fn case_audit_chain(store: Store) {
    assert_eq!(store.audit_head().await.unwrap(), None);
    assert_eq!(store.append_audit(&[]).await.unwrap(), 0);
    let first = [
        event("login", Some("u1"), Some("app"), 10),
        event("token", Some("u1"), Some("app"), 11),
    ];
    assert_eq!(store.append_audit(&first).await.unwrap(), 2);
    assert_eq!(
        store
            .append_audit(&[event("client.add", None, Some("svc"), 12)])
            .await
            .unwrap(),
        3
    );

    let records = store.audit_after(0, 10).await.unwrap();
    let mut prev = GENESIS.to_owned();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as i64 + 1);
        assert_eq!(r.prev_hash, prev);
        assert_eq!(r.hash, chain_hash(&prev, r.seq, &r.event()));
        prev = r.hash.clone();
    }
    assert_eq!(store.audit_head().await.unwrap(), Some((3, prev)));
    assert_eq!(store.audit_after(2, 10).await.unwrap().len(), 1);

    let seqs =
        |records: Vec<admit_store::AuditRecord>| records.iter().map(|r| r.seq).collect::<Vec<_>>();
    let by =
        |user: Option<&str>, client: Option<&str>, event: Option<&str>, since, until| AuditFilter {
            user: user.map(Into::into),
            client_id: client.map(Into::into),
            event: event.map(Into::into),
            since,
            until,
        };
    assert_eq!(
        seqs(
            store
                .audit_search(&AuditFilter::default(), 10)
                .await
                .unwrap()
        ),
        [3, 2, 1]
    );
    assert_eq!(
        seqs(
            store
                .audit_search(&AuditFilter::default(), 2)
                .await
                .unwrap()
        ),
        [3, 2]
    );
    assert_eq!(
        seqs(
            store
                .audit_search(&by(Some("u1"), None, None, None, None), 10)
                .await
                .unwrap()
        ),
        [2, 1]
    );
    assert_eq!(
        seqs(
            store
                .audit_search(&by(None, Some("svc"), None, None, None), 10)
                .await
                .unwrap()
        ),
        [3]
    );
    assert_eq!(
        seqs(
            store
                .audit_search(&by(None, None, Some("token"), None, None), 10)
                .await
                .unwrap()
        ),
        [2]
    );
    assert_eq!(
        seqs(
            store
                .audit_search(&by(None, None, None, Some(11), Some(11)), 10)
                .await
                .unwrap()
        ),
        [2]
    );

    assert_eq!(store.latest_audit_anchor().await.unwrap(), 0);
    let anchor = AuditAnchor {
        seq: 2,
        hash: records[1].hash.clone(),
        signed_at: 20,
        jws: "a.b.c".into(),
    };
    store.insert_audit_anchor(&anchor).await.unwrap();
    store
        .insert_audit_anchor(&AuditAnchor {
            jws: "other".into(),
            ..anchor.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.audit_anchors().await.unwrap(), [anchor]);
    assert_eq!(store.latest_audit_anchor().await.unwrap(), 2);
}

/// Appends from many connections at once still make one chain with no gap.
pub async fn case_audit_chain_concurrent(store: Store) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let batch = [event("a", None, None, i), event("b", None, None, i)];
                store.append_audit(&batch).await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let records = store.audit_after(0, 100).await.unwrap();
    assert_eq!(records.len(), 20);
    let mut prev = GENESIS.to_owned();
    for (i, r) in records.iter().enumerate() {
        assert_eq!((r.seq, &r.prev_hash), (i as i64 + 1, &prev));
        prev = r.hash.clone();
    }
}
