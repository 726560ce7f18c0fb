//! admit-store's storage suite: every case is written once, as
//! `async fn case_xxx(store: Store)`, and run against both backends by
//! `storage_tests!`, which makes `NAME::sqlite` and `NAME::postgres` tests.
//!
//! SQLite gets a fresh temp directory per test. PostgreSQL runs only when
//! `ADMIT_TEST_POSTGRES_URL` is set (a server URL whose user may create
//! databases); each test then gets its own database, dropped afterwards.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};

use admit_store::{Client, RefreshFamily, RefreshToken, Session, Store, User};
use sqlx::{Connection, Executor, PgConnection};

mod batch;
mod clients;
mod codes;
mod connect;
mod consents;
mod direct;
mod keys;
mod refresh;
mod revocations;
mod security;
mod sessions;
mod users;

/// Runs `case` on a store over a new SQLite file in a fresh temp directory.
/// The file sits in a not-yet-existing subdirectory, so every test also
/// checks that `connect` creates it.
async fn with_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("data/admit.db").display());
    let store = Store::connect(&url).await.expect("connect sqlite");
    assert_eq!(store.backend(), "sqlite");
    case(store.clone(), url).await;
    store.close().await;
}

/// Runs `case` on a store over a new PostgreSQL database, then drops it, even
/// when the case panics (the panic is re-raised afterwards).
async fn with_postgres<F, Fut>(test: &str, case: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let base = match std::env::var("ADMIT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!(
                "skipped: ADMIT_TEST_POSTGRES_URL is unset, PostgreSQL storage test {test} not run"
            );
            return;
        }
    };
    let db = format!("admit_test_{}", random_hex());
    let mut admin = PgConnection::connect(&base)
        .await
        .expect("connect to ADMIT_TEST_POSTGRES_URL");
    admin
        .execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&base).expect("ADMIT_TEST_POSTGRES_URL is a URL");
    url.set_path(&db);
    let url = url.to_string();

    let store = Store::connect(&url).await.expect("connect postgres");
    assert_eq!(store.backend(), "postgres");
    // A spawned task turns a panic into a JoinError, so cleanup still runs.
    let outcome = tokio::spawn(case(store.clone(), url)).await;
    store.close().await;
    admin
        .execute(format!("DROP DATABASE {db} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    admin.close().await.ok();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// 64 random bits as hex, from std's per-process random hash keys.
fn random_hex() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{:016x}", h.finish())
}

/// `name => case_fn` runs `case_fn(store)`; `name(url) => case_fn` runs
/// `case_fn(store, url)`, for cases that open a second connection.
macro_rules! storage_tests {
    ($($name:ident $(($url:ident))? => $case:path),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                with_sqlite(storage_tests!(@call $($url)? $case)).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                with_postgres(
                    concat!(stringify!($name), "::postgres"),
                    storage_tests!(@call $($url)? $case),
                )
                .await
            }
        }
    )*};
    (@call url $case:path) => { $case };
    (@call $case:path) => { |store: Store, _url: String| $case(store) };
}

storage_tests! {
    ping_and_backend => connect::case_ping,
    migrations_rerun_is_noop(url) => connect::case_migrations_rerun,
    rows_from_0001_read(url) => connect::case_rows_from_0001_read,
    user_crud => users::case_user_crud,
    user_conflicts => users::case_user_conflicts,
    set_password_revokes_families => users::case_set_password_revokes,
    delete_user_revokes_families => users::case_delete_user_revokes,
    user_email_verified => users::case_email_verified,
    client_round_trip => clients::case_client_round_trip,
    delete_client_revokes_families => clients::case_delete_client_revokes,
    signing_keys => keys::case_keys,
    key_rotate => keys::case_rotate,
    key_rotate_without_next => keys::case_rotate_without_next,
    key_rotate_refusals_change_nothing => keys::case_rotate_refusals,
    key_rotate_race => keys::case_rotate_race,
    key_delete_retired_before => keys::case_delete_retired_before,
    key_delete_unused => keys::case_delete_unused_key,
    refresh_insert_and_lookup => refresh::case_insert_and_lookup,
    refresh_insert_is_atomic => refresh::case_insert_is_atomic,
    refresh_rotate => refresh::case_rotate,
    refresh_rotation_keeps_the_successor => refresh::case_rotation_keeps_the_successor,
    refresh_live_families_and_forgotten_successors => refresh::case_live_families_and_forgotten_successors,
    refresh_rotate_race => refresh::case_rotate_race,
    refresh_revoke_family => refresh::case_revoke_family,
    refresh_purge_expired => refresh::case_purge_expired,
    refresh_purge_in_batches => refresh::case_purge_in_batches,
    refresh_family_lookup => refresh::case_family_lookup,
    refresh_revoke_families_of_client => refresh::case_revoke_families_of_client,
    revocation_feed => revocations::case_feed,
    revocation_feed_order_under_concurrency => revocations::case_feed_order,
    revocation_is_revoked => revocations::case_is_revoked,
    revocation_purge_expired => revocations::case_purge_expired,
    session_insert_lookup_revoke => sessions::case_insert_lookup_revoke,
    session_revoke_revokes_families => sessions::case_revoke_revokes_families,
    session_revoke_user_sessions => sessions::case_revoke_user_sessions,
    session_list => sessions::case_list,
    session_purge_expired => sessions::case_purge_expired,
    code_consume => codes::case_consume,
    code_consume_race => codes::case_consume_race,
    code_set_family => codes::case_set_family,
    code_replay_during_redemption => codes::case_replay_during_redemption,
    code_purge_expired => codes::case_purge_expired,
    consent_upsert_keeps_granted_at => consents::case_upsert,
    consent_revoke_and_list => consents::case_revoke_and_list,
    consents_follow_deletes => consents::case_follow_deletes,
    login_failures => security::case_login_failures,
    login_failures_concurrent => security::case_login_failures_concurrent,
    audit_chain => security::case_audit_chain,
    audit_chain_concurrent => security::case_audit_chain_concurrent,
    batch_every_write => batch::case_every_write,
    batch_failure_writes_nothing => batch::case_failure_writes_nothing,
}

// Fixtures shared by the cases.

fn user(id: &str, username: &str) -> User {
    User {
        id: id.into(),
        username: username.into(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${username}"),
        email: Some(format!("{username}@example.com")),
        email_verified: false,
        name: None,
        created_at: 1_000,
        updated_at: 1_000,
    }
}

fn family(id: &str, client_id: &str, user_id: Option<&str>) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        client_id: client_id.into(),
        user_id: user_id.map(Into::into),
        scope: "openid profile offline_access".into(),
        auth_time: Some(900),
        session_id: None,
        created_at: 1_000,
        revoked_at: None,
        expires_at: None,
    }
}

/// A minimal confidential client.
fn client(client_id: &str) -> Client {
    Client {
        client_id: client_id.into(),
        secret_hash: Some(vec![7; 32]),
        public: false,
        name: None,
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![format!("https://{client_id}.example/cb")],
        post_logout_redirect_uris: vec![],
        scopes: vec!["openid".into()],
        skip_consent: false,
        require_pkce: true,
        id_token_alg: None,
        access_token_ttl: None,
        refresh_token_ttl: None,
        refresh_idle_ttl: None,
        may_introspect: false,
        code_ttl: None,
        session_ttl: None,
        created_at: 1_000,
    }
}

/// A live session of `user_id`, its cookie hash derived from its id.
fn session(id: &str, user_id: &str, created_at: i64, expires_at: i64) -> Session {
    Session {
        id: id.into(),
        secret_hash: format!("cookie of {id}").into_bytes(),
        user_id: user_id.into(),
        auth_time: created_at,
        created_at,
        expires_at,
        revoked_at: None,
    }
}

fn token(hash: &[u8], family_id: &str, created_at: i64, expires_at: i64) -> RefreshToken {
    RefreshToken {
        token_hash: hash.to_vec(),
        family_id: family_id.into(),
        created_at,
        expires_at,
        rotated_at: None,
    }
}

/// The revocation time of a family, found through one of its tokens.
async fn revoked_at(store: &Store, token_hash: &[u8]) -> Option<i64> {
    store
        .refresh_token(token_hash)
        .await
        .unwrap()
        .expect("token exists")
        .family
        .revoked_at
}
