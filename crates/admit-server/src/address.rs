//! The client's network address, for login limits and the audit log: the TCP peer,
//! or behind a trusted proxy (`trust_proxy`) the last `X-Forwarded-For` entry, the
//! one the proxy itself appended (earlier entries are the client's to forge).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

/// `None` only when the server runs without connection info (never in `admit serve`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if !state.settings().trust_proxy {
            return Ok(ClientAddress(peer));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        Ok(ClientAddress(forwarded.or(peer)))
    }
}
