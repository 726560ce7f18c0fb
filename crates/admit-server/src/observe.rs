//! Every request, observed once: a request id (taken from a well-formed incoming
//! `X-Request-Id`, else made here) returned in the response header, carried by the
//! request's span (see [`ObserveLayer`]) and its warnings, and shown on error pages;
//! one structured log line when the answer goes out; and the request metrics. Requests
//! whose headers are too large are refused here, before any handler runs.
//!
//! [`ObserveLayer`] runs on every request and [`RouteLayer`] on every routed one, so
//! they allocate little: the metric labels are `&'static str`, and both are written
//! out as tower services rather than made with `from_fn`, which boxes the inner
//! service and the future on each call.

use std::collections::HashSet;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

use crate::error::ApiError;
use crate::metrics::RequestLabels;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// All request headers together may not exceed this (bytes).
const MAX_HEADER_BYTES: usize = 16 * 1024;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request this task serves, if any.
pub fn request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The route pattern, left in the response by [`RouteLayer`] for [`observe`].
#[derive(Clone, Copy)]
struct Route(&'static str);

/// The client a handler authenticated, left in the response for the log line.
#[derive(Clone)]
pub struct LoggedClient(pub String);

/// Inner layer (after routing, where the matched pattern is known).
#[derive(Clone, Copy)]
pub struct RouteLayer;

impl<S> Layer<S> for RouteLayer {
    type Service = RouteService<S>;

    fn layer(&self, inner: S) -> RouteService<S> {
        RouteService(inner)
    }
}

#[derive(Clone)]
pub struct RouteService<S>(S);

impl<S: Service<Request, Response = Response>> Service<Request> for RouteService<S> {
    type Response = Response;
    type Error = S::Error;
    type Future = RouteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| intern(p.as_str()));
        RouteFuture {
            inner: self.0.call(request),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct RouteFuture<F> {
        #[pin]
        inner: F,
        route: Option<&'static str>,
    }
}

impl<F: Future<Output = Result<Response, E>>, E> Future for RouteFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(route) = *this.route {
            response.extensions_mut().insert(Route(route));
        }
        Poll::Ready(Ok(response))
    }
}

/// The router's patterns, each kept once for the life of the process: a few dozen,
/// since only matched patterns come here, never raw paths.
fn intern(pattern: &str) -> &'static str {
    static PATTERNS: LazyLock<RwLock<HashSet<&'static str>>> = LazyLock::new(Default::default);
    if let Some(&p) = PATTERNS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
    {
        return p;
    }
    let mut patterns = PATTERNS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(&p) = patterns.get(pattern) {
        return p;
    }
    let p: &'static str = Box::leak(pattern.into());
    patterns.insert(p);
    p
}

/// Outer layer: sees every request, routed or not.
#[derive(Clone)]
pub struct ObserveLayer(pub AppState);

impl<S> Layer<S> for ObserveLayer {
    type Service = ObserveService<S>;

    fn layer(&self, inner: S) -> ObserveService<S> {
        ObserveService {
            inner,
            state: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ObserveService<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for ObserveService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| well_formed(v))
            .map_or_else(crate::random_id::<12>, str::to_owned);
        // A span per request costs about a tenth of a token's CPU (BENCHMARKS.md): it
        // is made at INFO only where traces are exported, at DEBUG otherwise. Warnings
        // and errors within a request carry its id themselves (`request_id`).
        let span = match self.state.settings().request_spans {
            true => tracing::info_span!("request", id = %id),
            false => tracing::debug_span!("request", id = %id),
        };
        let method = request.method().clone();
        // The 431 is made when polled, inside the request's scope like any answer.
        let answer = match header_bytes(&request) > MAX_HEADER_BYTES {
            true => Answer::TooLarge,
            false => Answer::Inner {
                future: self.inner.call(request),
            },
        };
        ObserveFuture {
            answer: CURRENT.scope(id, answer.instrument(span)),
            seen: Some(Seen {
                state: self.state.clone(),
                method,
                started,
            }),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        answer: TaskLocalFuture<String, Instrumented<Answer<F>>>,
        seen: Option<Seen>,
    }
}

/// What the log line and the metrics need from the request.
struct Seen {
    state: AppState,
    method: Method,
    started: Instant,
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for ObserveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let response = ready!(this.answer.as_mut().poll(cx));
        let seen = this.seen.take().expect("polled after it was ready");
        let id = this
            .answer
            .take_value()
            .expect("the scope gives its value back");
        Poll::Ready(Ok(seen.answered(&id, response)))
    }
}

pin_project_lite::pin_project! {
    #[project = AnswerProjection]
    pub enum Answer<F> {
        TooLarge,
        Inner { #[pin] future: F },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Answer<F> {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            AnswerProjection::TooLarge => Poll::Ready(
                ApiError::TooLarge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).into_response(),
            ),
            AnswerProjection::Inner { future } => future.poll(cx).map(|answer| match answer {
                Ok(response) => response,
                Err(never) => match never {},
            }),
        }
    }
}

impl Seen {
    /// The log line and the metrics for an answered request, and its id in the answer.
    fn answered(self, id: &str, mut response: Response) -> Response {
        let status = response.status().as_u16();
        let route = response
            .extensions()
            .get::<Route>()
            .map_or("unmatched", |r| r.0);
        let client_id = response
            .extensions()
            .get::<LoggedClient>()
            .map(|c| c.0.as_str());
        let seconds = self.started.elapsed().as_secs_f64();
        tracing::info!(
            target: "admit::request",
            request_id = %id,
            method = %self.method,
            route = %route,
            status,
            latency_ms = (seconds * 1e6).round() / 1e3,
            client_id,
        );
        let labels = RequestLabels {
            route,
            method: method_label(&self.method),
            outcome: match status / 100 {
                1 => "1xx",
                2 => "2xx",
                3 => "3xx",
                4 => "4xx",
                5 => "5xx",
                _ => "other",
            },
        };
        let metrics = &self.state.metrics;
        metrics.requests.get_or_create(&labels).inc();
        metrics.latency.get_or_create(&labels).observe(seconds);
        if let Ok(value) = HeaderValue::from_str(id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    }
}

/// All request headers together, in bytes: past [`MAX_HEADER_BYTES`] the answer is 431.
fn header_bytes(request: &Request) -> usize {
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// Extension methods share one label, so that made-up methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
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
