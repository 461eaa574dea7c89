//! The environment variables this module reads, each with its `_DEFAULT`
//! sibling, and the limits and messages the resolvers share.

use std::time::Duration;

use super::propagators::Propagator;
use super::values::{Compression, ExporterKind, Protocol, SamplerConfig};

/// Disables the SDK for all signals when `true` (case-insensitive).
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// Default of [`OTEL_SDK_DISABLED`]: the SDK is enabled.
pub const OTEL_SDK_DISABLED_DEFAULT: bool = false;
/// The `service.name` resource attribute; wins over `service.name` in
/// [`OTEL_RESOURCE_ATTRIBUTES`].
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Resource attributes as a percent-encoded `key=value,…` list.
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// The traces exporter: `otlp`, `console` or `none`.
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// Default of [`OTEL_TRACES_EXPORTER`].
pub const OTEL_TRACES_EXPORTER_DEFAULT: ExporterKind = ExporterKind::Otlp;
/// The OTLP transport protocol for all signals.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The OTLP transport protocol for traces; wins over
/// [`OTEL_EXPORTER_OTLP_PROTOCOL`].
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// Default protocol, the one the specification recommends, used when the
/// `otlp-http` feature is compiled in; without it the default is
/// [`Protocol::Grpc`] (see [Transports](super#transports)).
pub const OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT: Protocol = Protocol::HttpProtobuf;
/// Base URL of the OTLP receiver for all signals; HTTP appends
/// [`OTLP_HTTP_TRACES_PATH`].
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Full URL of the OTLP receiver for traces, used as-is; wins over
/// [`OTEL_EXPORTER_OTLP_ENDPOINT`].
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Default traces endpoint over gRPC.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_GRPC_DEFAULT: &str = "http://localhost:4317";
/// Default traces endpoint over HTTP.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_HTTP_DEFAULT: &str = "http://localhost:4318/v1/traces";
/// Path appended to [`OTEL_EXPORTER_OTLP_ENDPOINT`] for traces over HTTP.
pub const OTLP_HTTP_TRACES_PATH: &str = "/v1/traces";
/// Request headers for all signals, as a percent-encoded `key=value,…` list.
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Request headers for traces; replaces [`OTEL_EXPORTER_OTLP_HEADERS`]
/// entirely.
pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// Time limit of one export request, in milliseconds, for all signals.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// Time limit of one traces export request, in milliseconds; wins over
/// [`OTEL_EXPORTER_OTLP_TIMEOUT`].
pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// Default export request timeout.
pub const OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_millis(10_000);
/// Compression of export requests for all signals: `gzip` or `none`.
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// Compression of traces export requests; wins over
/// [`OTEL_EXPORTER_OTLP_COMPRESSION`].
pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// Default compression.
pub const OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT: Compression = Compression::None;
/// A PEM file of the CA certificates that verify the collector's
/// certificate, instead of the system's roots (any signal).
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for traces; wins over the generic
/// variable.
pub const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// A PEM file of the client's private key, for mTLS (any signal).
pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// A PEM file of the client's certificate chain, for mTLS (any signal).
pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
/// Whether a gRPC endpoint given without a scheme is plaintext (`true`) or
/// TLS (`false`, the default); any signal.
pub const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// [`OTEL_EXPORTER_OTLP_INSECURE`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";
/// Default of [`OTEL_EXPORTER_OTLP_INSECURE`].
pub const OTEL_EXPORTER_OTLP_INSECURE_DEFAULT: bool = false;
/// The text-map propagators `init` installs, comma-separated.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Default of [`OTEL_PROPAGATORS`].
pub const OTEL_PROPAGATORS_DEFAULT: &[Propagator] =
    &[Propagator::TraceContext, Propagator::Baggage];

/// The traces sampler.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// Default of [`OTEL_TRACES_SAMPLER`].
pub const OTEL_TRACES_SAMPLER_DEFAULT: SamplerConfig = SamplerConfig::ParentBasedAlwaysOn;
/// The sampler's argument: the ratio of the two ratio-based samplers.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Default ratio of the ratio-based samplers.
pub const OTEL_TRACES_SAMPLER_ARG_DEFAULT: f64 = 1.0;
/// Delay between two exports of the batch span processor, in milliseconds.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Default of [`OTEL_BSP_SCHEDULE_DELAY`].
pub const OTEL_BSP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_millis(5_000);
/// Time limit of one batch export, in milliseconds.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Default of [`OTEL_BSP_EXPORT_TIMEOUT`].
pub const OTEL_BSP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_millis(30_000);
/// Capacity of the batch span processor's queue, in spans.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Default of [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub const OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT: usize = 2_048;
/// Largest [`OTEL_BSP_MAX_QUEUE_SIZE`] accepted from the environment: the SDK
/// allocates the whole queue up front, at about 360 bytes per span.
pub const OTEL_BSP_MAX_QUEUE_SIZE_LIMIT: usize = 1 << 18;
/// Most spans in one batch export; at most the queue size.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Default of [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;

/// Largest integer the specification asks SDKs to accept (2³¹ − 1).
pub(super) const ENV_INT_MAX: u64 = i32::MAX as u64;
/// [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] as parsed.
pub(super) const QUEUE_LIMIT: u64 = OTEL_BSP_MAX_QUEUE_SIZE_LIMIT as u64;
/// How much of an offending value a warning quotes.
pub(super) const QUOTE_LEN: usize = 64;
/// Why zero is refused, per setting.
pub(super) const ZERO_TIMEOUT: &str =
    "which the specification reads as no limit, but buildtrace keeps every export bounded";
pub(super) const ZERO_DELAY: &str = "which would make the batch processor export continuously";
pub(super) const ZERO_QUEUE: &str = "which would drop every span";
pub(super) const ZERO_BATCH: &str = "which would never export a span";

/// The logs exporter: `otlp`, `console` or `none`.
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// The metrics exporter: `otlp`, `console` or `none`.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// The OTLP transport protocol for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// The OTLP transport protocol for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// Full URL of the OTLP receiver for logs, used as-is.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// Full URL of the OTLP receiver for metrics, used as-is.
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// Default logs endpoint over HTTP.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_HTTP_DEFAULT: &str = "http://localhost:4318/v1/logs";
/// Default metrics endpoint over HTTP.
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT_HTTP_DEFAULT: &str =
    "http://localhost:4318/v1/metrics";
/// Path appended to [`OTEL_EXPORTER_OTLP_ENDPOINT`] for logs over HTTP.
pub const OTLP_HTTP_LOGS_PATH: &str = "/v1/logs";
/// Path appended to [`OTEL_EXPORTER_OTLP_ENDPOINT`] for metrics over HTTP.
pub const OTLP_HTTP_METRICS_PATH: &str = "/v1/metrics";
/// Request headers for logs; replaces [`OTEL_EXPORTER_OTLP_HEADERS`].
pub const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
/// Request headers for metrics; replaces [`OTEL_EXPORTER_OTLP_HEADERS`].
pub const OTEL_EXPORTER_OTLP_METRICS_HEADERS: &str = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
/// Time limit of one logs export request, in milliseconds.
pub const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// Time limit of one metrics export request, in milliseconds.
pub const OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
/// Compression of logs export requests.
pub const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// Compression of metrics export requests.
pub const OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION";
/// [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
/// [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY";
/// [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_INSECURE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_INSECURE: &str = "OTEL_EXPORTER_OTLP_LOGS_INSECURE";
/// [`OTEL_EXPORTER_OTLP_INSECURE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_INSECURE: &str = "OTEL_EXPORTER_OTLP_METRICS_INSECURE";

/// Delay between two exports of the batch log record processor, in milliseconds.
pub const OTEL_BLRP_SCHEDULE_DELAY: &str = "OTEL_BLRP_SCHEDULE_DELAY";
/// Default of [`OTEL_BLRP_SCHEDULE_DELAY`].
pub const OTEL_BLRP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_millis(1_000);
/// Time limit of one log batch export, in milliseconds.
pub const OTEL_BLRP_EXPORT_TIMEOUT: &str = "OTEL_BLRP_EXPORT_TIMEOUT";
/// Default of [`OTEL_BLRP_EXPORT_TIMEOUT`].
pub const OTEL_BLRP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_millis(30_000);
/// Capacity of the batch log record processor's queue, in records.
pub const OTEL_BLRP_MAX_QUEUE_SIZE: &str = "OTEL_BLRP_MAX_QUEUE_SIZE";
/// Default of [`OTEL_BLRP_MAX_QUEUE_SIZE`].
pub const OTEL_BLRP_MAX_QUEUE_SIZE_DEFAULT: usize = 2_048;
/// Most log records in one batch export; at most the queue size.
pub const OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE";
/// Default of [`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BLRP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;

/// Time between two metric exports, in milliseconds.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// Default of [`OTEL_METRIC_EXPORT_INTERVAL`].
pub const OTEL_METRIC_EXPORT_INTERVAL_DEFAULT: Duration = Duration::from_millis(60_000);
/// Time limit of one metric export, in milliseconds.
pub const OTEL_METRIC_EXPORT_TIMEOUT: &str = "OTEL_METRIC_EXPORT_TIMEOUT";
/// Default of [`OTEL_METRIC_EXPORT_TIMEOUT`].
pub const OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_millis(30_000);
/// Aggregation temporality the OTLP metrics exporter asks for:
/// `cumulative`, `delta` or `lowmemory`.
pub const OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
