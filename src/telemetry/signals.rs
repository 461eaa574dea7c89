//! Logs and metrics beside traces: the logger provider `tracing` events
//! reach through the OpenTelemetry appender, the meter provider installed as
//! the global one, and the startup records they carry (pre-init `tracing`
//! events as log records with their original timestamps, start-up
//! milestones as histograms).

use super::config::{Config, ExporterKind, Signal};
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use super::export::Resilient;
use super::export::{ExportRuntime, Policy, State};
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use super::otlp;
use super::tls::Loaded;
use super::InitError;
use crate::names::startup::{INIT_DURATION, READY_DURATION, SCOPE, THREAD_ID};
use crate::startup::span::{Hooks, Milestone};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;
use std::sync::Arc;

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// The logger provider `tracing` events go to, or `None` when the logs
/// exporter is `none`.
pub(super) fn logger_provider(
    config: &Config,
    resource: &Resource,
    tls: impl FnOnce() -> Result<Loaded, InitError>,
    runtime: &ExportRuntime,
    policy: Policy,
    state: &Arc<State>,
) -> Result<Option<SdkLoggerProvider>, InitError> {
    let batch = opentelemetry_sdk::logs::BatchConfigBuilder::default()
        .with_max_queue_size(config.logs_batch.max_queue_size)
        .with_max_export_batch_size(config.logs_batch.max_export_batch_size)
        .with_scheduled_delay(config.logs_batch.schedule_delay)
        .build();
    let processor = match config.logs.exporter {
        ExporterKind::None => return Ok(None),
        ExporterKind::Console => {
            BatchLogProcessor::builder(opentelemetry_stdout::LogExporter::default())
                .with_batch_config(batch)
                .build()
        }
        ExporterKind::Otlp => {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            {
                let tls = tls()?;
                let (exporter, noted) = otlp::log_exporter(&config.logs, &tls, runtime.handle())?;
                let target = format!(
                    "{} ({})",
                    config.logs.redacted_endpoint(),
                    config.logs.protocol
                );
                let policy = Policy {
                    attempt_timeout: config.logs.timeout.min(config.logs_batch.export_timeout),
                    ..policy
                };
                let resilient = Resilient::new(
                    exporter,
                    runtime.handle().clone(),
                    policy,
                    state.clone(),
                    target,
                    noted,
                );
                BatchLogProcessor::builder(resilient)
                    .with_batch_config(batch)
                    .build()
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            {
                let _ = (tls, runtime, policy, state);
                return Err(super::otlp::disabled(&config.logs));
            }
        }
    };
    Ok(Some(
        SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_log_processor(processor)
            .build(),
    ))
}

/// The meter provider, or `None` when the metrics exporter is `none`.
pub(super) fn meter_provider(
    config: &Config,
    resource: &Resource,
    tls: impl FnOnce() -> Result<Loaded, InitError>,
    runtime: &ExportRuntime,
    policy: Policy,
    state: &Arc<State>,
) -> Result<Option<SdkMeterProvider>, InitError> {
    let interval = config.metric_reader.interval;
    let provider = SdkMeterProvider::builder().with_resource(resource.clone());
    let provider = match config.metrics.exporter {
        ExporterKind::None => return Ok(None),
        ExporterKind::Console => provider.with_reader(
            PeriodicReader::builder(opentelemetry_stdout::MetricExporter::default())
                .with_interval(interval)
                .build(),
        ),
        ExporterKind::Otlp => {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            {
                let tls = tls()?;
                let (exporter, noted) = otlp::metric_exporter(
                    &config.metrics,
                    config.metric_reader.temporality,
                    &tls,
                    runtime.handle(),
                )?;
                let target = format!(
                    "{} ({})",
                    config.metrics.redacted_endpoint(),
                    config.metrics.protocol
                );
                // One export is retried until the next one would start.
                let policy = Policy {
                    attempt_timeout: config.metrics.timeout.min(config.metric_reader.timeout),
                    retry_window: interval.min(policy.retry_window),
                    ..policy
                };
                let resilient = Resilient::new(
                    exporter,
                    runtime.handle().clone(),
                    policy,
                    state.clone(),
                    target,
                    noted,
                );
                provider.with_reader(
                    PeriodicReader::builder(resilient)
                        .with_interval(interval)
                        .build(),
                )
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            {
                let _ = (tls, runtime, policy, state);
                return Err(super::otlp::disabled(&config.metrics));
            }
        }
    };
    Ok(Some(provider.build()))
}

/// The startup records' way into logs and metrics. `traced`: whether the
/// startup span is exported (otherwise log records carry no span context).
pub(super) fn startup_hooks(
    logs: Option<&SdkLoggerProvider>,
    metrics: Option<&SdkMeterProvider>,
    traced: bool,
) -> Hooks {
    let log = logs.map(|provider| {
        let logger = provider.logger_with_scope(scope());
        Box::new(
            move |d: &crate::startup::Drained, cx: &opentelemetry::trace::SpanContext| {
                let crate::startup::Origin::Tracing(metadata) = d.event.origin else {
                    return;
                };
                let mut record = logger.create_log_record();
                record.set_timestamp(d.time);
                record.set_observed_timestamp(std::time::SystemTime::now());
                record.set_severity_number(severity(metadata.level()));
                record.set_severity_text(metadata.level().as_str());
                record.set_target(metadata.target().to_owned());
                record.set_event_name(metadata.name());
                record.set_body(AnyValue::from(d.event.message.to_string()));
                for (key, value) in d.event.attrs() {
                    record.add_attribute(*key, any_value(value));
                }
                record.add_attribute(THREAD_ID, i64::from(d.event.thread));
                if traced && cx.is_valid() {
                    record.set_trace_context(cx.trace_id(), cx.span_id(), Some(cx.trace_flags()));
                }
                logger.emit(record);
            },
        )
            as Box<dyn Fn(&crate::startup::Drained, &opentelemetry::trace::SpanContext) + Send>
    });
    let milestone = metrics.map(|provider| {
        let meter = provider.meter_with_scope(scope());
        // Start-up takes milliseconds to seconds: boundaries to match.
        let boundaries = vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let init = meter
            .f64_histogram(INIT_DURATION)
            .with_unit("s")
            .with_description("Time from the process start to telemetry init")
            .with_boundaries(boundaries.clone())
            .build();
        let ready = meter
            .f64_histogram(READY_DURATION)
            .with_unit("s")
            .with_description("Time from the process start to the application's ready signal")
            .with_boundaries(boundaries)
            .build();
        Box::new(move |m: Milestone, took: std::time::Duration| {
            let h = match m {
                Milestone::Init => &init,
                Milestone::Ready => &ready,
            };
            h.record(took.as_secs_f64(), &[]);
        }) as crate::startup::span::MilestoneHook
    });
    Hooks { log, milestone }
}

fn severity(level: &tracing_core::Level) -> Severity {
    match *level {
        tracing_core::Level::TRACE => Severity::Trace,
        tracing_core::Level::DEBUG => Severity::Debug,
        tracing_core::Level::INFO => Severity::Info,
        tracing_core::Level::WARN => Severity::Warn,
        tracing_core::Level::ERROR => Severity::Error,
    }
}

fn any_value(v: &crate::startup::EventValue) -> AnyValue {
    use crate::startup::EventValue;
    match *v {
        EventValue::I64(i) => AnyValue::Int(i),
        EventValue::U64(u) => {
            i64::try_from(u).map_or_else(|_| AnyValue::from(u.to_string()), AnyValue::Int)
        }
        EventValue::F64(f) => AnyValue::Double(f),
        EventValue::Bool(b) => AnyValue::Boolean(b),
        EventValue::Static(s) => AnyValue::from(s),
        EventValue::Str(s) => AnyValue::from(s.to_string()),
        EventValue::Empty => AnyValue::from(""),
    }
}

/// The signals an init sets up, for messages.
#[allow(dead_code)]
pub(super) fn enabled(config: &Config) -> Vec<Signal> {
    Signal::ALL
        .into_iter()
        .filter(|s| config.signal(*s).exporter != ExporterKind::None)
        .collect()
}
