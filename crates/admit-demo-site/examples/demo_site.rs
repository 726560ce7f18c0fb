//! Runs the demo site on its own, against an admit that is already serving.
//!
//! ```text
//! admit client add demo-site --redirect-uri http://127.0.0.1:8082/callback \
//!     --post-logout-redirect-uri http://127.0.0.1:8082/ --scope openid --scope profile --scope email
//! DEMO_SITE_CLIENT_SECRET=... cargo run -p admit-demo-site --example demo_site
//! ```
//!
//! Settings (environment): `DEMO_SITE_ISSUER` (default `http://127.0.0.1:8080`),
//! `DEMO_SITE_LISTEN` (`127.0.0.1:8082`), `DEMO_SITE_CLIENT_ID` (`demo-site`),
//! `DEMO_SITE_CLIENT_SECRET` (required), `DEMO_SITE_API_URL`
//! (`http://127.0.0.1:8081/api/me`), `DEMO_SITE_SCOPES` (`openid profile email`).
//! `admit serve --demo` does all of this for you.

use admit_demo_site::SiteConfig;
use anyhow::Context;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = setting("DEMO_SITE_LISTEN", "127.0.0.1:8082");
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let site = format!("http://{}", listener.local_addr()?);
    let config = SiteConfig {
        issuer: setting("DEMO_SITE_ISSUER", "http://127.0.0.1:8080"),
        client_id: setting("DEMO_SITE_CLIENT_ID", "demo-site"),
        client_secret: std::env::var("DEMO_SITE_CLIENT_SECRET")
            .context("set DEMO_SITE_CLIENT_SECRET to the client's secret")?,
        redirect_uri: format!("{site}/callback"),
        post_logout_redirect_uri: format!("{site}/"),
        api_url: setting("DEMO_SITE_API_URL", "http://127.0.0.1:8081/api/me"),
        scopes: setting("DEMO_SITE_SCOPES", "openid profile email")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    let app = admit_demo_site::router(config).await?;
    println!("demo site (log in with admit): {site}/");
    axum::serve(listener, app).await?;
    Ok(())
}
