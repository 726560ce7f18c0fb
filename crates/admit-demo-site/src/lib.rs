//! "Our website" from the seed's "log in with Google" story: a small, separate web
//! app that logs its visitors in with admit exactly as a site logs in with Google.
//!
//! It uses the mainstream `openidconnect` crate and nothing of admit's own code:
//! discovery, the authorization code flow with PKCE, ID-token verification,
//! UserInfo, a call to the demo API, refresh and RP-initiated logout. Every
//! back-channel exchange goes through a recording HTTP client, so the page can show
//! a newcomer each step as it happened, with its secrets masked.
//!
//! Modules: `config` (what the caller passes), `provider` (discovery and the
//! openidconnect client), `flow` (the protocol steps, no HTTP framework),
//! `handlers` (axum routes), `session` (the site's own in-memory sessions),
//! `recorder` (the recording client and masking), `timeline` (the numbered steps),
//! `explain` (JWT splitting and claim notes), `pages` (HTML).
//!
//! *Invariant:* no dependency on any `admit-*` crate; admit is reached only over
//! HTTP, through its published metadata.

mod config;
mod explain;
mod flow;
mod handlers;
mod pages;
mod provider;
mod recorder;
mod session;
mod timeline;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

pub use config::SiteConfig;

use config::Settings;
use provider::Provider;
use session::SessionStore;

/// What every handler shares.
struct Site {
    settings: Settings,
    provider: Provider,
    http: reqwest::Client,
    sessions: SessionStore,
}

/// Discovers admit at `config.issuer` and returns the site's routes. The caller
/// binds the listener on the origin of `config.redirect_uri`.
///
/// Fails when the configuration is malformed or discovery fails (admit not
/// reachable, or its metadata lacks a token or UserInfo endpoint).
pub async fn router(config: SiteConfig) -> anyhow::Result<Router> {
    let settings = Settings::parse(&config)?;
    let http = recorder::http_client()?;
    let provider = Provider::discover(&settings, &http).await?;
    let csp = content_security_policy(&settings)?;
    let site = Arc::new(Site {
        settings,
        provider,
        http,
        sessions: SessionStore::default(),
    });
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    Ok(handlers::routes(site.clone())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        // Pages show tokens; only the stylesheet sets its own caching.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(site))
}

/// No script, no inline style, no framing; forms may post here and the logout
/// form's redirect may go on to admit.
fn content_security_policy(settings: &Settings) -> anyhow::Result<HeaderValue> {
    let issuer_origin = settings.issuer.url().origin().ascii_serialization();
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'self'; form-action 'self' {issuer_origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    ))
    .context("the issuer's origin cannot go in a header")
}
