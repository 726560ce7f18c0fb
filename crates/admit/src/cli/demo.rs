//! `admit serve --demo`: the seed's story, running. The protected API (resource server)
//! and "our website" (the client) each on their own port, so each is its own origin
//! as in real life; the site is registered as a client and a demo user is created.

use std::net::SocketAddr;

use admit_oauth::secret;
use admit_server::{now, password, random_token};
use admit_store::{Client, Store, User};
use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const SITE_CLIENT_ID: &str = "demo-site";
const DEMO_USER: &str = "demo";

pub struct Demo {
    tasks: Vec<JoinHandle<()>>,
}

impl Demo {
    pub fn stop(self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

pub async fn start(
    issuer: &str,
    api_addr: SocketAddr,
    site_addr: SocketAddr,
    database_url: &str,
) -> anyhow::Result<Demo> {
    let api_listener = TcpListener::bind(api_addr)
        .await
        .with_context(|| format!("listening on {api_addr}"))?;
    let site_listener = TcpListener::bind(site_addr)
        .await
        .with_context(|| format!("listening on {site_addr}"))?;
    let api_url = format!("http://{}", api_listener.local_addr()?);
    let site_url = format!("http://{}", site_listener.local_addr()?);

    let store = Store::connect(database_url)
        .await
        .context("opening the database")?;
    let client_secret = register_site(&store, &site_url).await?;
    let user_password = ensure_user(&store).await?;
    store.close().await;

    let verifier = admit_resource::Verifier::builder(issuer, issuer)
        .discover()
        .build()
        .await
        .context("the demo API could not load admit's keys")?;
    let site = admit_demo_site::router(admit_demo_site::SiteConfig {
        issuer: issuer.to_owned(),
        client_id: SITE_CLIENT_ID.to_owned(),
        client_secret,
        redirect_uri: format!("{site_url}/callback"),
        post_logout_redirect_uri: format!("{site_url}/"),
        api_url: format!("{api_url}/api/me"),
        scopes: ["openid", "profile", "email", "read"]
            .map(str::to_owned)
            .to_vec(),
    })
    .await
    .context("starting the demo site")?;

    let api = tokio::spawn(async move {
        let _ = axum::serve(api_listener, admit_demo::router(verifier)).await;
    });
    let site = tokio::spawn(async move {
        let _ = axum::serve(site_listener, site).await;
    });
    println!("demo API (resource server): {api_url}/api/me");
    println!("demo site (log in with admit): {site_url}/");
    println!("  demo user: {DEMO_USER}  password: {user_password}");
    Ok(Demo {
        tasks: vec![api, site],
    })
}

/// Registers the site afresh on every start, so its secret is known to this process.
async fn register_site(store: &Store, site_url: &str) -> anyhow::Result<String> {
    let secret_value = random_token::<32>();
    let now = now();
    store.delete_client(SITE_CLIENT_ID, now).await?;
    store
        .insert_client(&Client {
            client_id: SITE_CLIENT_ID.to_owned(),
            secret_hash: Some(secret::hash(&secret_value)),
            public: false,
            name: Some("Demo site".to_owned()),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            redirect_uris: vec![format!("{site_url}/callback")],
            post_logout_redirect_uris: vec![format!("{site_url}/")],
            scopes: ["openid", "profile", "email", "read"]
                .map(str::to_owned)
                .to_vec(),
            skip_consent: false,
            require_pkce: true,
            id_token_alg: None,
            access_token_ttl: None,
            refresh_token_ttl: None,
            refresh_idle_ttl: None,
            may_introspect: false,
            code_ttl: None,
            session_ttl: None,
            created_at: now,
        })
        .await?;
    Ok(secret_value)
}

/// Creates the demo user, or gives it a new password, and returns the password.
async fn ensure_user(store: &Store) -> anyhow::Result<String> {
    let password_value = random_token::<12>();
    let hash = password::hash(&password_value);
    let now = now();
    if !store.set_password(DEMO_USER, &hash, now).await? {
        store
            .insert_user(&User {
                id: random_token::<16>(),
                username: DEMO_USER.to_owned(),
                password_hash: hash,
                email: Some("demo@example.com".to_owned()),
                name: Some("Demo User".to_owned()),
                email_verified: true,
                created_at: now,
                updated_at: now,
            })
            .await?;
    }
    Ok(password_value)
}
