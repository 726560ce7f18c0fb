//! Every request, observed once: a request id (taken from a well-formed incoming
//! `X-Request-Id`, else made here) returned in the response header, carried by the
//! request's span (see [`observe`]) and its warnings, and shown on error pages; one
//! structured log line when the answer goes out; and the request metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::RequestLabels;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request this task serves, if any.
pub fn request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The route pattern, left in the response by [`route`] for [`observe`].
#[derive(Clone)]
struct Route(String);

/// The client a handler authenticated, left in the response for the log line.
#[derive(Clone)]
pub struct LoggedClient(pub String);

/// Inner layer (after routing, where the matched pattern is known).
pub async fn route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Outer layer: sees every request, routed or not.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map_or_else(|| crate::random_token(12), str::to_owned);
    let method = request.method().clone();
    // A span per request costs about a tenth of a token's CPU (BENCHMARKS.md): it is
    // made at INFO only where traces are exported, at DEBUG otherwise. Warnings and
    // errors within a request carry its id themselves (`request_id`).
    let span = match state.settings().request_spans {
        true => tracing::info_span!("request", id = %id),
        false => tracing::debug_span!("request", id = %id),
    };
    let mut response = CURRENT
        .scope(id.clone(), next.run(request).instrument(span))
        .await;

    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_owned();
    let client_id = response
        .extensions()
        .get::<LoggedClient>()
        .map(|c| c.0.clone());
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        target: "admit::request",
        request_id = %id,
        method = %method,
        route = %route,
        status,
        latency_ms = (seconds * 1e6).round() / 1e3,
        client_id = client_id.as_deref(),
    );
    let labels = RequestLabels {
        route,
        method: method.to_string(),
        outcome: format!("{}xx", status / 100),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(seconds);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// An incoming id is kept only if it cannot disturb a log line or a header: 1 to 64
/// characters of letters, digits, `-`, `_` and `.`.
fn well_formed(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(super::well_formed("3f1c-9a_b.2"));
        for bad in ["", "a b", "a\nb", "ä", "<script>", &"a".repeat(65)] {
            assert!(!super::well_formed(bad), "{bad:?}");
        }
    }
}
