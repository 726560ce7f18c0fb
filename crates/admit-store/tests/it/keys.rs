//! Signing keys: insert, ordered listing, state changes.

use admit_store::{SigningKey, Store, StoreError};

fn key(kid: &str, alg: &str, state: &str, created_at: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: alg.into(),
        state: state.into(),
        private_key_enc: format!("ciphertext of {kid}").into_bytes(),
        public_jwk: (alg != "HS256").then(|| format!(r#"{{"kid":"{kid}","kty":"OKP"}}"#)),
        created_at,
    }
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
