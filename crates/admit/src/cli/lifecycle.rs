//! What `admit serve` does between start and exit: logging whose filter a reload can
//! change, and signals. SIGTERM or SIGINT drains and stops; SIGHUP re-reads the
//! configuration file and applies what can change without a restart.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use admit_server::Server;
use anyhow::bail;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

use super::log_fields::PlainFields;
use super::log_output::BatchedStdout;
use crate::config::FileConfig;

/// Changes the log filter of the running process, and ends trace export at exit.
/// Dropping it writes out the log lines still buffered.
pub struct LogFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    output: BatchedStdout,
    #[cfg(feature = "otel")]
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for LogFilter {
    fn drop(&mut self) {
        self.write_buffered();
    }
}

impl LogFilter {
    /// Writes out the log lines still waiting in the buffer.
    pub fn write_buffered(&self) {
        self.output.write_now();
    }

    /// Sends the spans still buffered (they are exported in batches).
    pub fn finish(&self) {
        #[cfg(feature = "otel")]
        if let Some(traces) = &self.traces
            && let Err(e) = traces.shutdown()
        {
            tracing::warn!(error = %e, "exporting the last traces failed");
        }
    }
}

/// `ADMIT_LOG` wins over the file's `log`, which wins over `info`.
fn filter(file: &FileConfig) -> anyhow::Result<EnvFilter> {
    let env = std::env::var("ADMIT_LOG").ok().filter(|v| !v.is_empty());
    let text = env.as_deref().or(file.log.as_deref()).unwrap_or("info");
    EnvFilter::try_new(text).map_err(|e| anyhow::anyhow!("log filter {text:?}: {e}"))
}

/// Logs in `format` to standard output, and exports spans (each request's) over
/// OTLP/HTTP to `otlp_endpoint` when given (builds with `--features otel` only).
pub fn init_logging(
    format: &str,
    file: &FileConfig,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<LogFilter> {
    let (filter, handle) = reload::Layer::new(filter(file)?);
    let output = BatchedStdout::start()?;
    // Colours only for a terminal: in a file or a collector they are noise.
    let colours = std::io::stdout().is_terminal();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(output.clone())
        .with_ansi(colours);
    let fmt = match format {
        "json" => fmt.json().boxed(),
        "text" if colours => fmt.boxed(),
        "text" => fmt.fmt_fields(PlainFields).boxed(),
        other => bail!("unknown log format {other:?} (text or json)"),
    };
    #[cfg(feature = "otel")]
    {
        let traces = otlp_endpoint.map(otel::provider).transpose()?;
        let layer = traces.as_ref().map(otel::layer);
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .with(layer)
            .init();
        Ok(LogFilter {
            handle,
            output,
            traces,
        })
    }
    #[cfg(not(feature = "otel"))]
    {
        if otlp_endpoint.is_some() {
            bail!("this admit was built without OpenTelemetry: build it with `--features otel`");
        }
        tracing_subscriber::registry().with(filter).with(fmt).init();
        Ok(LogFilter { handle, output })
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TracerProvider;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    /// Batches spans to `endpoint` (an OTLP/HTTP base URL such as
    /// `http://collector:4318`) as service `admit`.
    pub fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("admit").build())
            .build())
    }

    pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(provider.tracer("admit"))
    }
}

/// Everything a reload needs to resolve the settings as start-up did.
pub struct Reload<'a> {
    pub args: &'a super::serve::Args,
    pub config: Option<&'a Path>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log: LogFilter,
}

/// The signals `serve` answers, caught from before it says it is serving: a
/// supervisor that sends SIGTERM as soon as it reads that line must not find the
/// default action (killing the process, its buffered log lines with it).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn catch() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }
}

/// Serves until SIGTERM or SIGINT; each SIGHUP reloads.
pub async fn run_until_stopped(server: &Server, reload: &Reload<'_>, mut signals: Signals) {
    #[cfg(unix)]
    loop {
        tokio::select! {
            _ = signals.interrupt.recv() => return,
            _ = signals.term.recv() => return,
            _ = signals.hup.recv() => reload.apply(server).await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        let _ = (server, reload, &mut signals);
    }
}

impl Reload<'_> {
    /// A file that no longer parses, or settings that no longer validate, change
    /// nothing: the server keeps running as it was, and says why.
    async fn apply(&self, server: &Server) {
        tracing::info!("SIGHUP: reloading the configuration");
        if let Err(e) = self.try_apply(server).await {
            tracing::warn!(error = %format!("{e:#}"), "reload failed: nothing changed");
        }
    }

    async fn try_apply(&self, server: &Server) -> anyhow::Result<()> {
        let file = FileConfig::load(self.config)?;
        let settings = super::serve::settings(
            self.args,
            &file,
            self.data_dir.clone(),
            self.database_url.clone(),
        )?;
        let filter = filter(&file)?;
        let declared =
            crate::declared::apply(server.store(), &file, settings.password_hash, "admit").await?;
        let ignored = server.reload(&settings);
        self.log.handle.reload(filter)?;
        if !declared.is_empty() {
            tracing::info!(
                changes = declared.changes.len(),
                "applied the clients and users the file declares"
            );
        }
        if !ignored.is_empty() {
            tracing::warn!(settings = ?ignored, "these changed settings take effect only after a restart");
        }
        tracing::info!("configuration reloaded");
        Ok(())
    }
}
