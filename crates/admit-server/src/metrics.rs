//! Prometheus metrics (`GET /metrics`, OpenMetrics text): requests and latency per
//! route and outcome, tokens per grant and algorithm, logins per outcome, and gauges
//! read at scrape time (password-check queue and memory, database pool,
//! revocation-stream subscribers). Counters are per server, not process-wide, except
//! database errors.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Store errors that reached a handler, in this process.
pub static DATABASE_ERRORS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern (`/oauth2/token`), never the raw path: bounded cardinality.
    pub route: &'static str,
    /// A standard method's name, else `other`.
    pub method: &'static str,
    /// `1xx` to `5xx` (`other` past 599, which admit never sends).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub grant_type: &'static str,
    pub alg: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pub tokens: Family<TokenLabels, Counter>,
    pub logins: Family<OutcomeLabels, Counter>,
    pub jwks_fetches: Counter,
    pub stream_subscribers: Gauge,
    password_checks: Gauge,
    password_memory: Gauge,
    pool: Family<PoolLabels, Gauge>,
    database_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("admit");
        let requests = Family::<RequestLabels, Counter>::default();
        // 0.5 ms to ~4 s: a token takes well under a millisecond, a login tens.
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0005, 2.0, 14,
            ))
        });
        let m = Metrics {
            requests,
            latency,
            tokens: Default::default(),
            logins: Default::default(),
            jwks_fetches: Default::default(),
            stream_subscribers: Default::default(),
            password_checks: Default::default(),
            password_memory: Default::default(),
            pool: Default::default(),
            database_errors: Default::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route, method and outcome",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route, method and outcome",
            m.latency.clone(),
        );
        registry.register(
            "tokens_issued",
            "Access tokens issued, by grant type and algorithm",
            m.tokens.clone(),
        );
        registry.register(
            "logins",
            "Password checks by outcome: success, failure, throttled",
            m.logins.clone(),
        );
        registry.register(
            "jwks_fetches",
            "JWKS documents served",
            m.jwks_fetches.clone(),
        );
        registry.register(
            "revocation_stream_subscribers",
            "Resource servers following the revocation stream now",
            m.stream_subscribers.clone(),
        );
        registry.register(
            "password_checks_in_flight",
            "Password checks running or queued (the Argon2id queue)",
            m.password_checks.clone(),
        );
        registry.register(
            "password_memory_bytes",
            "Argon2id memory kept between password checks (given back after a second without one)",
            m.password_memory.clone(),
        );
        registry.register(
            "database_connections",
            "Database pool connections by state",
            m.pool.clone(),
        );
        registry.register(
            "database_errors",
            "Database errors met by requests",
            m.database_errors.clone(),
        );
        registry.register(
            "build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics { registry, ..m }
    }
}

/// `GET /metrics`.
pub async fn serve(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> impl axum::response::IntoResponse {
    let (size, idle) = state.store.pool_stats();
    let passwords = &state.passwords;
    let text = state
        .metrics
        .encode(passwords.in_flight(), passwords.kept_bytes(), size, idle);
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(axum::http::header::CONTENT_TYPE, content_type)], text)
}

/// Holds a gauge one higher for as long as it lives (a stream's subscriber).
pub struct Held(Gauge);

impl Held {
    pub fn new(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// The OpenMetrics text, with the gauges read now.
    pub fn encode(
        &self,
        password_checks: usize,
        password_memory: usize,
        pool_size: u32,
        pool_idle: usize,
    ) -> String {
        self.password_checks.set(password_checks as i64);
        self.password_memory.set(password_memory as i64);
        let idle = pool_idle as i64;
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(pool_size) - idle);
        let errors = DATABASE_ERRORS.load(Ordering::Relaxed);
        self.database_errors
            .inc_by(errors.saturating_sub(self.database_errors.get()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    pub fn token(&self, grant_type: &'static str, alg: &'static str) {
        let labels = TokenLabels { grant_type, alg };
        self.tokens.get_or_create(&labels).inc();
    }

    pub fn login(&self, outcome: &'static str) {
        let labels = OutcomeLabels { outcome };
        self.logins.get_or_create(&labels).inc();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn gauges_are_read_when_encoded() {
        let text = super::Metrics::default().encode(3, 19 * 1024 * 1024, 1, 1);
        assert!(
            text.contains("admit_password_checks_in_flight 3\n"),
            "{text}"
        );
        assert!(
            text.contains("admit_password_memory_bytes 19922944\n"),
            "{text}"
        );
    }
}
