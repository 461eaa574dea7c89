//! The telemetry side, in one call in `main`: provenance as resource, OTLP
//! export, the `tracing` stack, the hand-over from the pre-init capture and
//! the startup span.
//!
//! ```no_run
//! let _guard = buildtrace::init();
//! tracing::info_span!("work").in_scope(|| tracing::info!("traced"));
//! // dropping the guard flushes, within its shutdown bound
//! ```
//!
//! Configuration comes from the environment as the OpenTelemetry
//! specification defines it (see [`config`]), with code set
//! through [`Builder`] taking precedence.

pub mod config;
mod diagnostics;
mod export;
#[cfg(feature = "otlp-http")]
mod http_client;
mod otlp;
pub mod propagation;
mod signals;
mod tls;

pub use tls::TlsError;

use crate::startup::span::EndAt;
use config::{Config, ExporterKind, Protocol};
use export::{ExportRuntime, Policy, Resilient, State};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_subscriber::Layer as _;

/// Default bound on how long dropping the [`Guard`] may take.
pub const SHUTDOWN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(2);
/// Default time a batch is retried while the collector is unreachable.
pub const RETRY_WINDOW_DEFAULT: Duration = Duration::from_secs(60);

/// Why [`try_init`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// The export thread could not be started.
    Runtime(std::io::Error),
    /// The OTLP exporter could not be built from the configuration.
    Exporter(String),
    /// OTLP export was asked for but no transport is compiled in (neither
    /// `otlp-grpc` nor `otlp-http`); the feature named is the asked
    /// protocol's. (With one transport compiled in, a protocol the build
    /// leaves out falls back to it, with a warning.)
    TransportDisabled(&'static str),
    /// A certificate or key file the configuration names cannot be used.
    Tls(TlsError),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Runtime(e) => write!(f, "cannot start the export thread: {e}"),
            InitError::Exporter(e) => write!(
                f,
                "cannot build the OTLP exporter: {e}; check OTEL_EXPORTER_OTLP_* settings"
            ),
            InitError::TransportDisabled(feature) => write!(
                f,
                "no OTLP transport is compiled in; enable buildtrace's `{feature}` feature \
                 (buildtrace = {{ version = \"…\", features = [\"{feature}\"] }}), \
                 or set the exporter to console or none"
            ),
            InitError::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InitError {}

/// Configures [`init`]; every setting overrides the environment.
#[derive(Debug, Clone)]
pub struct Builder {
    overrides: config::Overrides,
    attributes: Vec<KeyValue>,
    console_logs: bool,
    end_at: EndAt,
    shutdown_timeout: Duration,
    retry_window: Duration,
    filter: Option<String>,
    process_context: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            overrides: config::Overrides::default(),
            attributes: Vec::new(),
            console_logs: false,
            end_at: EndAt::Init,
            shutdown_timeout: SHUTDOWN_TIMEOUT_DEFAULT,
            retry_window: RETRY_WINDOW_DEFAULT,
            filter: None,
            process_context: true,
        }
    }
}

impl Builder {
    /// `service.name`, over `OTEL_SERVICE_NAME` and the package name.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.overrides.service_name = Some(name.into());
        self
    }

    /// The traces endpoint, over `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`. Used
    /// as given (for HTTP, the full URL of the traces path); logs and metrics
    /// keep their own (`OTEL_EXPORTER_OTLP_[LOGS_|METRICS_]ENDPOINT`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.overrides.endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP protocol, over `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.overrides.protocol = Some(protocol);
        self
    }

    /// Where one signal goes, over `OTEL_TRACES_EXPORTER`,
    /// `OTEL_LOGS_EXPORTER` or `OTEL_METRICS_EXPORTER`: each signal can be
    /// turned off alone with [`ExporterKind::None`].
    ///
    /// [`ExporterKind::None`]: config::ExporterKind::None
    pub fn with_exporter(mut self, signal: config::Signal, kind: ExporterKind) -> Self {
        match signal {
            config::Signal::Traces => self.overrides.traces_exporter = Some(kind),
            config::Signal::Logs => self.overrides.logs_exporter = Some(kind),
            config::Signal::Metrics => self.overrides.metrics_exporter = Some(kind),
        }
        self
    }

    /// A resource attribute, over `OTEL_RESOURCE_ATTRIBUTES` and provenance.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<opentelemetry::Key>,
        value: impl Into<opentelemetry::Value>,
    ) -> Self {
        self.attributes.push(KeyValue::new(key, value));
        self
    }

    /// Also print `tracing` events to standard error, for people.
    pub fn with_console_logs(mut self, on: bool) -> Self {
        self.console_logs = on;
        self
    }

    /// Keep the startup span open until [`ready`](crate::ready) is called.
    pub fn with_ready_signal(mut self) -> Self {
        self.end_at = EndAt::Ready;
        self
    }

    /// The most dropping the [`Guard`] may take (default 2 s).
    pub fn with_shutdown_timeout(mut self, bound: Duration) -> Self {
        self.shutdown_timeout = bound;
        self
    }

    /// How long a batch is retried while the collector is unreachable
    /// (default 60 s).
    pub fn with_retry_window(mut self, window: Duration) -> Self {
        self.retry_window = window;
        self
    }

    /// A PEM file of CA certificates that verify the collector, instead of
    /// the system's roots; over `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`.
    pub fn with_certificate(mut self, ca_pem: impl Into<std::path::PathBuf>) -> Self {
        self.overrides.tls.certificate = Some(ca_pem.into());
        self
    }

    /// The client's certificate chain and private key (PEM files), for mTLS;
    /// over `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE` and `…_CLIENT_KEY`.
    pub fn with_client_identity(
        mut self,
        certificate_pem: impl Into<std::path::PathBuf>,
        key_pem: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.overrides.tls.client_certificate = Some(certificate_pem.into());
        self.overrides.tls.client_key = Some(key_pem.into());
        self
    }

    /// Whether a gRPC endpoint without a scheme is plaintext; over
    /// `OTEL_EXPORTER_OTLP_[TRACES_]INSECURE`.
    pub fn with_insecure(mut self, insecure: bool) -> Self {
        self.overrides.tls.insecure = Some(insecure);
        self
    }

    /// The text-map propagators, in order (empty: none); over
    /// `OTEL_PROPAGATORS`.
    pub fn with_propagators(
        mut self,
        propagators: impl IntoIterator<Item = config::Propagator>,
    ) -> Self {
        self.overrides.propagators = Some(propagators.into_iter().collect());
        self
    }

    /// `tracing` filter directives, over `RUST_LOG` (default `info`).
    pub fn with_filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// Whether `init` publishes the resource as an OpenTelemetry process
    /// context for profilers (default `true`; Linux with the
    /// `process-context` feature, see [`process_context`](crate::process_context)).
    /// Nothing is published when telemetry is disabled either way.
    pub fn with_process_context(mut self, publish: bool) -> Self {
        self.process_context = publish;
        self
    }

    /// Initialises telemetry.
    ///
    /// # Errors
    /// See [`InitError`]. A collector that is down is not an error: spans
    /// wait in a bounded queue and are retried.
    pub fn try_init(self) -> Result<Guard, InitError> {
        let started = Instant::now();
        let (config, warnings) = config::from_env(&self.overrides);
        for w in &warnings {
            diagnostics::warn(&w.to_string());
        }
        if !config.disabled {
            propagation::install(&config.propagators);
        }
        let none = |s: config::Signal| config.signal(s).exporter == ExporterKind::None;
        if config.disabled || config::Signal::ALL.into_iter().all(none) {
            return Ok(self.inert(started));
        }

        // The export thread builds its runtime while this one builds the
        // resource.
        let starting = ExportRuntime::spawn().map_err(InitError::Runtime)?;
        let resource = self.resource(&config);
        let runtime = starting.wait().map_err(InitError::Runtime)?;
        // The process context is published on the export thread while this
        // one builds the exporters, and is in place when init returns.
        #[cfg(feature = "process-context")]
        let publishing = self.process_context.then(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let resource = resource.clone();
            runtime.handle().spawn(async move {
                let _ = tx.send(crate::process_context::publish(&resource));
            });
            rx
        });
        let policy = self.policy();
        // Each signal reads the TLS files its own settings name.
        let tls_for = |s: config::Signal| {
            let tls = config.signal(s).tls;
            move || tls::load(&tls).map_err(InitError::Tls)
        };
        let warned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state_of = |s: config::Signal| Arc::new(State::for_items(s.items(), warned.clone()));
        let state = state_of(config::Signal::Traces);
        let logs_state = state_of(config::Signal::Logs);
        let metrics_state = state_of(config::Signal::Metrics);
        let tracer_provider = if none(config::Signal::Traces) {
            None
        } else {
            let processor = self.span_processor(&config, &runtime, &state, policy)?;
            Some(
                SdkTracerProvider::builder()
                    .with_span_processor(processor)
                    .with_resource(resource.clone())
                    .with_sampler(config.sampler.to_sdk())
                    // The startup span carries every record of the ring.
                    .with_max_events_per_span((crate::startup::capacity() as u32 + 16).max(128))
                    .build(),
            )
        };
        let logger_provider = signals::logger_provider(
            &config,
            &resource,
            tls_for(config::Signal::Logs),
            &runtime,
            policy,
            &logs_state,
        )?;
        let meter_provider = signals::meter_provider(
            &config,
            &resource,
            tls_for(config::Signal::Metrics),
            &runtime,
            policy,
            &metrics_state,
        )?;
        #[cfg(feature = "process-context")]
        let process_context = publishing
            .and_then(|rx| rx.recv().ok())
            .and_then(|published| {
                published
                    .map_err(|e| diagnostics::warn(&e.to_string()))
                    .ok()
            });
        crate::startup::span::set_hooks(signals::startup_hooks(
            logger_provider.as_ref(),
            meter_provider.as_ref(),
            tracer_provider.is_some(),
        ));
        if let Some(meters) = &meter_provider {
            opentelemetry::global::set_meter_provider(meters.clone());
        }
        self.install(tracer_provider.as_ref(), logger_provider.as_ref());
        Ok(Guard {
            provider: tracer_provider,
            logger_provider,
            meter_provider,
            runtime: Some(runtime),
            state,
            other_states: vec![logs_state, metrics_state],
            shutdown_timeout: self.shutdown_timeout,
            init_took: started.elapsed(),
            #[cfg(feature = "process-context")]
            process_context,
        })
    }

    fn policy(&self) -> Policy {
        Policy {
            retry_window: self.retry_window,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(10),
        }
    }

    /// The batch processor: to the console, or to OTLP through the
    /// resilient exporter on the export runtime.
    fn span_processor(
        &self,
        config: &Config,
        runtime: &ExportRuntime,
        state: &Arc<State>,
        policy: Policy,
    ) -> Result<BatchSpanProcessor, InitError> {
        let batch = config.batch.to_sdk();
        if config.exporter == ExporterKind::Console {
            return Ok(
                BatchSpanProcessor::builder(opentelemetry_stdout::SpanExporter::default())
                    .with_batch_config(batch)
                    .build(),
            );
        }
        let policy = Policy {
            // The spec's per-export bound applies to each attempt; the retry
            // window is buildtrace's own, so a late collector still gets
            // the startup span.
            attempt_timeout: config.timeout.min(config.batch.export_timeout),
            ..policy
        };
        let tls = tls::load(&config.tls).map_err(InitError::Tls)?;
        let (exporter, noted) = otlp::span_exporter(
            &config.signal(config::Signal::Traces),
            &tls,
            runtime.handle(),
        )?;
        let target = format!("{} ({})", config.redacted_endpoint(), config.protocol);
        let resilient = Resilient::new(
            exporter,
            runtime.handle().clone(),
            policy,
            state.clone(),
            target,
            noted,
        );
        Ok(BatchSpanProcessor::builder(resilient)
            .with_batch_config(batch)
            .build())
    }

    /// Hands `tracing` over to OpenTelemetry (spans to the tracer, events
    /// to the logger), makes `tracer` the global one and begins the startup
    /// span.
    fn install(&self, tracer: Option<&SdkTracerProvider>, logger: Option<&SdkLoggerProvider>) {
        let scope = opentelemetry::InstrumentationScope::builder("buildtrace")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let spans: Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync> =
            match tracer {
                Some(provider) => Box::new(
                    tracing_opentelemetry::layer()
                        .with_tracer(provider.tracer_with_scope(scope.clone())),
                ),
                None => Box::new(tracing_subscriber::layer::Identity::new()),
            };
        let events: Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync> =
            match logger {
                Some(provider) => Box::new(
                    opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(
                        provider,
                    ),
                ),
                None => Box::new(tracing_subscriber::layer::Identity::new()),
            };
        install_layer(
            spans.and_then(events).and_then(self.human_layer()),
            &self.filter,
        );
        // After the handover: the SDK logs this, and its logs stay out.
        let startup_tracer = match tracer {
            Some(provider) => {
                opentelemetry::global::set_tracer_provider(provider.clone());
                provider.tracer_with_scope(scope)
            }
            // Traces are off: the startup records still reach logs and
            // metrics, through a span nobody exports.
            None => SdkTracerProvider::builder()
                .build()
                .tracer_with_scope(scope),
        };
        crate::startup::span::begin(&startup_tracer, self.end_at);
    }

    /// Initialises telemetry; never fails and never panics.
    ///
    /// What [`try_init`](Self::try_init) would return as an error (a
    /// certificate file that cannot be used, a transport that is not
    /// compiled in, no thread for the export) is one warning on standard
    /// error, and the application runs on without export: `tracing` still
    /// reaches the console layer, the pre-init capture is handed over, and
    /// the returned [`Guard`] is inert.
    pub fn init(self) -> Guard {
        let started = Instant::now();
        let fallback = self.clone();
        match self.try_init() {
            Ok(guard) => guard,
            Err(e) => {
                diagnostics::warn(&format!("{e}; telemetry export is off"));
                fallback.inert(started)
            }
        }
    }

    /// No export: the `tracing` stack without OpenTelemetry, the startup
    /// ring closed and emptied.
    fn inert(&self, started: Instant) -> Guard {
        install_layer(self.human_layer(), &self.filter);
        crate::startup::close();
        drop(crate::startup::drain());
        Guard::inert(self.shutdown_timeout, started)
    }

    /// The human-readable layer, or a layer that does nothing. (Not an
    /// `Option`: `tracing-subscriber` treats a `None` layer specially, which
    /// a layer installed after the subscriber was built must not trigger.)
    fn human_layer<S>(&self) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
    where
        S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        if self.console_logs {
            Box::new(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        } else {
            Box::new(tracing_subscriber::layer::Identity::new())
        }
    }

    fn resource(&self, config: &Config) -> Resource {
        let default_name = crate::provenance()
            .and_then(|r| r.get_str(crate::names::SERVICE_NAME))
            .map(str::to_owned)
            .or_else(|| {
                std::env::current_exe()
                    .ok()?
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "unknown_service".to_owned());
        let service_name = config.service_name.clone().unwrap_or(default_name);
        Resource::builder_empty()
            .with_detector(Box::new(
                opentelemetry_sdk::resource::TelemetryResourceDetector,
            ))
            .with_detector(Box::new(crate::ProvenanceDetector::new()))
            .with_attributes(
                config
                    .resource_attributes
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .with_attributes(self.attributes.iter().cloned())
            .with_attribute(KeyValue::new(
                crate::names::SERVICE_INSTANCE_ID,
                uuid::Uuid::new_v4().to_string(),
            ))
            .with_service_name(service_name)
            .build()
    }
}

/// Hands the pre-init capture over to `layer` (behind the filter), or
/// installs the global subscriber when no capture was installed.
fn install_layer<L>(layer: L, filter: &Option<String>)
where
    L: tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    let layer = env_filter(filter).and_then(layer);
    match crate::startup::layer::take_installed() {
        Some(handover) => {
            if handover.complete(layer).is_err() {
                diagnostics::warn(
                    "the pre-init tracing capture was already handed over; keeping that layer",
                );
            }
        }
        None => {
            use tracing_subscriber::layer::SubscriberExt as _;
            let subscriber = tracing_subscriber::registry().with(layer);
            if tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(subscriber))
                .is_err()
            {
                diagnostics::warn(
                    "a global tracing subscriber is already set: `tracing` events will not reach OpenTelemetry; \
                     add buildtrace's layer to that subscriber, or let buildtrace install it",
                );
            }
        }
    }
}

fn env_filter(filter: &Option<String>) -> tracing_subscriber::EnvFilter {
    let directives = filter
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_default();
    let mut f = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_core::LevelFilter::INFO.into())
        .parse_lossy(directives);
    for target in crate::startup::layer::EXCLUDED_TARGETS {
        if let Ok(d) = format!("{target}=off").parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// Owns telemetry: dropping it flushes what is queued and stops export,
/// within the shutdown bound, whatever the collector does.
#[must_use = "dropping the guard at once shuts telemetry down; keep it until the end of main"]
pub struct Guard {
    provider: Option<SdkTracerProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    runtime: Option<ExportRuntime>,
    state: Arc<State>,
    other_states: Vec<Arc<State>>,
    shutdown_timeout: Duration,
    init_took: Duration,
    /// The published process context, removed when the guard drops (held
    /// for its `Drop` only).
    #[cfg(feature = "process-context")]
    #[allow(dead_code)]
    process_context: Option<crate::process_context::Publication>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("exporting", &self.runtime.is_some())
            .field("traces", &self.provider.is_some())
            .field("logs", &self.logger_provider.is_some())
            .field("metrics", &self.meter_provider.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl Guard {
    fn inert(shutdown_timeout: Duration, started: Instant) -> Guard {
        Guard {
            provider: None,
            logger_provider: None,
            meter_provider: None,
            runtime: None,
            state: Arc::new(State::default()),
            other_states: Vec::new(),
            shutdown_timeout,
            init_took: started.elapsed(),
            #[cfg(feature = "process-context")]
            process_context: None,
        }
    }

    /// The tracer provider, when exporting traces.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// The logger provider `tracing` events go to, when exporting logs.
    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.logger_provider.as_ref()
    }

    /// The meter provider (also the global one), when exporting metrics.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// How long `init` took.
    pub fn init_duration(&self) -> Duration {
        self.init_took
    }

    /// Spans given up on so far (collector unreachable past the retry window,
    /// or at shutdown).
    pub fn lost_spans(&self) -> u64 {
        self.state.lost()
    }

    /// Flushes and stops, within the shutdown bound. Dropping does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(mut runtime) = self.runtime.take() else {
            return;
        };
        let deadline = Instant::now() + self.shutdown_timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        // A startup span still waiting for `ready()` ends now.
        crate::startup::span::ready();
        let states = std::iter::once(&self.state).chain(&self.other_states);
        for state in states.clone() {
            state.begin_shutdown(deadline);
        }
        // Spans first, then the log records about them, then metrics (whose
        // last collection sees the ready milestone).
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown_with_timeout(left());
        }
        if let Some(provider) = self.logger_provider.take() {
            let _ = provider.shutdown_with_timeout(left());
        }
        if let Some(provider) = self.meter_provider.take() {
            let _ = provider.shutdown_with_timeout(left());
        }
        // A metrics export runs on the reader's thread against the runtime:
        // the runtime stays up until it ends (each attempt ends by the
        // deadline).
        let grace = deadline + Duration::from_millis(50);
        while self.other_states.iter().any(|s| s.exporting()) && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(1));
        }
        runtime.shutdown(left().max(Duration::from_millis(10)));
        let states: Vec<&State> = states.map(|s| &**s).collect();
        if let Some(report) = State::shutdown_report(&states) {
            diagnostics::warn(&report);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Initialises telemetry from the environment: see [`Builder::try_init`].
///
/// # Errors
/// See [`InitError`].
pub fn try_init() -> Result<Guard, InitError> {
    Builder::default().try_init()
}

/// Initialises telemetry from the environment; never panics (see
/// [`Builder::init`]).
pub fn init() -> Guard {
    Builder::default().init()
}
