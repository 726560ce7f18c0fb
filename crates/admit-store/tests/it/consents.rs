//! Consents: upsert keeps the first grant time, revocation, listing, and the
//! deletions that take consents with them.

use admit_store::{Consent, Store};

use crate::{client, user};

fn consent(user_id: &str, client_id: &str, scope: &str, at: i64) -> Consent {
    Consent {
        user_id: user_id.into(),
        client_id: client_id.into(),
        scope: scope.into(),
        granted_at: at,
        updated_at: at,
    }
}

pub async fn case_upsert(store: Store) {
    assert_eq!(store.consent("u1", "web").await.unwrap(), None);
    let first = consent("u1", "web", "openid", 1_000);
    store.upsert_consent(&first).await.unwrap();
    assert_eq!(store.consent("u1", "web").await.unwrap(), Some(first));

    // The caller passes its own granted_at; the stored one wins.
    store
        .upsert_consent(&consent("u1", "web", "openid profile email", 2_000))
        .await
        .unwrap();
    assert_eq!(
        store.consent("u1", "web").await.unwrap(),
        Some(Consent {
            granted_at: 1_000,
            ..consent("u1", "web", "openid profile email", 2_000)
        })
    );
    assert_eq!(store.consent("u1", "cli").await.unwrap(), None);
    assert_eq!(store.consent("u2", "web").await.unwrap(), None);
}

pub async fn case_revoke_and_list(store: Store) {
    assert_eq!(store.list_consents("u1").await.unwrap(), vec![]);
    let web = consent("u1", "web", "openid", 1_000);
    let cli = consent("u1", "cli", "openid offline_access", 1_500);
    let bobs = consent("u2", "web", "openid", 1_200);
    for c in [&web, &cli, &bobs] {
        store.upsert_consent(c).await.unwrap();
    }
    // Ordered by client_id.
    assert_eq!(
        store.list_consents("u1").await.unwrap(),
        vec![cli.clone(), web.clone()]
    );

    assert!(store.revoke_consent("u1", "web").await.unwrap());
    assert!(!store.revoke_consent("u1", "web").await.unwrap());
    assert!(!store.revoke_consent("u1", "nope").await.unwrap());
    assert_eq!(store.consent("u1", "web").await.unwrap(), None);
    assert_eq!(store.list_consents("u1").await.unwrap(), vec![cli]);
    assert_eq!(store.list_consents("u2").await.unwrap(), vec![bobs]);
}

pub async fn case_follow_deletes(store: Store) {
    store.insert_user(&user("u1", "alice")).await.unwrap();
    store.insert_user(&user("u2", "bob")).await.unwrap();
    store.insert_client(&client("web")).await.unwrap();
    store.insert_client(&client("cli")).await.unwrap();
    for (u, c) in [("u1", "web"), ("u1", "cli"), ("u2", "web"), ("u2", "cli")] {
        store
            .upsert_consent(&consent(u, c, "openid", 1_000))
            .await
            .unwrap();
    }

    assert!(store.delete_client("web", 2_000).await.unwrap());
    assert_eq!(
        store.list_consents("u1").await.unwrap(),
        vec![consent("u1", "cli", "openid", 1_000)]
    );
    assert_eq!(
        store.list_consents("u2").await.unwrap(),
        vec![consent("u2", "cli", "openid", 1_000)]
    );

    assert!(store.delete_user("alice", 3_000).await.unwrap());
    assert_eq!(store.list_consents("u1").await.unwrap(), vec![]);
    assert_eq!(
        store.list_consents("u2").await.unwrap(),
        vec![consent("u2", "cli", "openid", 1_000)]
    );
}
