//! Clients: every field round-trips, including empty lists, no secret, no
//! ID-token algorithm and no per-client lifetimes.

use admit_store::{Client, Store, StoreError};

use crate::{family, revoked_at, token};

fn confidential() -> Client {
    Client {
        client_id: "web".into(),
        secret_hash: Some((0u8..32).collect()),
        public: false,
        name: Some("Web app ✓".into()),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "https://app.example/cb?x=a b&y=\"q\"".into(),
            "http://127.0.0.1:8080/callback".into(),
        ],
        post_logout_redirect_uris: vec!["https://app.example/bye".into()],
        scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
        skip_consent: true,
        require_pkce: false,
        id_token_alg: Some("ES256".into()),
        access_token_ttl: Some(300),
        refresh_token_ttl: Some(86_400),
        refresh_idle_ttl: Some(3_600),
        may_introspect: true,
        code_ttl: Some(30),
        session_ttl: Some(3600),
        created_at: 1_700_000_000,
    }
}

fn public_empty() -> Client {
    Client {
        client_id: "cli".into(),
        secret_hash: None,
        public: true,
        name: None,
        grant_types: vec![],
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        scopes: vec![],
        skip_consent: false,
        require_pkce: true,
        id_token_alg: None,
        access_token_ttl: None,
        refresh_token_ttl: None,
        refresh_idle_ttl: None,
        may_introspect: false,
        code_ttl: None,
        session_ttl: None,
        created_at: 0,
    }
}

pub async fn case_client_round_trip(store: Store) {
    store.insert_client(&confidential()).await.unwrap();
    store.insert_client(&public_empty()).await.unwrap();

    assert_eq!(store.client("web").await.unwrap(), Some(confidential()));
    assert_eq!(store.client("cli").await.unwrap(), Some(public_empty()));
    assert_eq!(store.client("nope").await.unwrap(), None);
    assert_eq!(
        store.list_clients().await.unwrap(),
        vec![public_empty(), confidential()]
    );

    let again = store.insert_client(&confidential()).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");

    let shown = format!("{:?}", confidential());
    assert!(
        shown.contains("<redacted>") && !shown.contains("[0, 1, 2"),
        "{shown}"
    );
}

pub async fn case_delete_client_revokes(store: Store) {
    store.insert_client(&confidential()).await.unwrap();
    store.insert_client(&public_empty()).await.unwrap();
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
    assert!(store.delete_client("web", 2_000).await.unwrap());
    assert!(!store.delete_client("web", 2_500).await.unwrap());
    assert_eq!(store.client("web").await.unwrap(), None);
    assert_eq!(revoked_at(&store, b"t1").await, Some(2_000));
    assert_eq!(revoked_at(&store, b"t2").await, Some(2_000));
    assert_eq!(revoked_at(&store, b"t3").await, None);
}
