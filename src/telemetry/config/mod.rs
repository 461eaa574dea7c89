//! Configuration from the environment, per the OpenTelemetry specification.
//!
//! An OpenTelemetry SDK takes its settings from four places at once: the
//! program itself, a *signal-specific* environment variable
//! (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`), the *generic* one
//! (`OTEL_EXPORTER_OTLP_TIMEOUT`), and the specification's default. This
//! module turns all of them into one [`Config`] for traces, following the
//! [environment variable specification] and the [OTLP exporter
//! specification], including the parts opentelemetry-rust does not implement
//! (`OTEL_SDK_DISABLED`, percent-decoded `OTEL_RESOURCE_ATTRIBUTES` discarded
//! whole when invalid, warnings for every value it ignores).
//!
//! Resolution is pure: [`resolve`] reads variables only through the lookup it
//! is given, keeps no global state and prints nothing. It returns the
//! [`Config`] together with a list of [`Warning`]s, one line each, naming the
//! variable, what was wrong and what is used instead; the caller prints each
//! once. [`from_env`] is [`resolve`] over the process environment. One small
//! function per setting does the work, so each rule can be read (and tested)
//! on its own.
//!
//! # Precedence
//!
//! For every setting: **code** ([`Overrides`]) **> signal-specific
//! environment variable > generic environment variable > default**.
//!
//! - An empty variable counts as unset (the specification says so); so does an
//!   empty string given in code for the service name or the endpoint.
//! - An invalid variable is ignored with a warning, that is, treated as unset:
//!   resolution falls through to the next level. A warning is only produced for
//!   a variable that was actually consulted, so nothing is said about an
//!   environment variable that a code setting overrides.
//! - Values set in code are used as given (the endpoint too: nothing is
//!   appended to it): they are the program's decision. The one exception is
//!   the batch size, which is always clamped to the queue size, as the SDK
//!   would do silently; a warning says so when the batch size was chosen (in
//!   code or in the environment) rather than left at its default.
//! - When the SDK is disabled, the configuration is still resolved in full but
//!   no warning is returned: nothing will use it. When the traces exporter is
//!   not `otlp`, warnings about the `OTEL_EXPORTER_OTLP_*` variables are
//!   dropped for the same reason.
//!
//! # Environment variables
//!
//! "Next level" means the generic variable, then the default.
//!
//! | variable | default | accepted values | on an invalid value |
//! |---|---|---|---|
//! | `OTEL_SDK_DISABLED` | `false` | `true` disables the SDK, `false` does not (any case) | warning; `false`, the SDK stays enabled |
//! | `OTEL_SERVICE_NAME` | none: `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else the caller's default | any text; over [`MAX_VALUE_LEN`] bytes it is cut (with a warning) | not Unicode: warning; ignored |
//! | `OTEL_RESOURCE_ATTRIBUTES` | none | `key=value,key=value`: split at the first `=`, spaces and tabs around keys and values trimmed, `%XX` escapes decoded in keys and values (UTF-8), empty members skipped, `k=` is an empty value, the last duplicate wins; values over [`MAX_VALUE_LEN`] bytes are cut (with one warning) | one warning; the **whole** variable is discarded |
//! | `OTEL_TRACES_EXPORTER` | `otlp` | `otlp`, `console`, `none`; of a list, the first entry is used (with a warning) | warning; `otlp` |
//! | `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` | `grpc`, `http/protobuf` (`http/json` is not supported) | warning; next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the generic variable's | an `http://` or `https://` URL with a host (and a numeric port, if any), used as-is | warning; next level |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318/v1/traces` (HTTP), `http://localhost:4317` (gRPC) | a base URL, checked the same way: HTTP appends `/v1/traces` to its path (one `/` between, before any query), gRPC uses it as-is. A base that already ends in `/v1/traces` still gets it appended, with a warning | warning; default |
//! | `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, then `OTEL_EXPORTER_OTLP_HEADERS` | none | a `key=value` list as for resource attributes; keys must be HTTP header names, values free of control characters; the signal-specific variable replaces the generic one entirely | warning naming the variable, **never** its value; the whole variable is ignored, next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, then `OTEL_EXPORTER_OTLP_TIMEOUT` | `10000` | whole milliseconds, 1 to 2³¹−1 | warning; next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, then `OTEL_EXPORTER_OTLP_COMPRESSION` | `none` | `gzip`, `none` | warning; next level |
//! | `OTEL_TRACES_SAMPLER` | `parentbased_always_on` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` | warning; default |
//! | `OTEL_TRACES_SAMPLER_ARG` | `1.0` | for the two ratio samplers only: a number from 0 to 1 | warning; `1.0`. Set with another sampler: warning; ignored |
//! | `OTEL_BSP_SCHEDULE_DELAY` | `5000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BSP_EXPORT_TIMEOUT` | `30000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BSP_MAX_QUEUE_SIZE` | `2048` | 1 to [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] spans | warning; default |
//! | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | `512` | 1 to 2³¹−1 spans, at most the queue size | warning; default. Larger than the queue size: warning; the queue size (the default 512 follows a smaller queue silently) |
//!
//! Enumerated values are matched case-insensitively, and whitespace around
//! enumerated, numeric and URL values is ignored. A variable whose value is not
//! valid Unicode is invalid.
//!
//! # Decisions beyond the specification
//!
//! - **Zero timeouts.** The specification reads a timeout of `0` as "no
//!   limit". buildtrace never lets an export run unbounded, so `0` is invalid
//!   for both timeouts (warning, next level); so is a zero delay or size.
//! - **Queue size limit.** The SDK allocates and touches the whole span
//!   queue up front (about 360 bytes per span), so `OTEL_BSP_MAX_QUEUE_SIZE`
//!   stops at [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] (about 90 MiB) rather than
//!   letting a typo such as `20480000` take gigabytes or abort the process.
//! - **`service.name`** is never left in [`Config::resource_attributes`]: the
//!   winning name is in [`Config::service_name`], whatever its source.
//! - **Secrets.** Header values never appear in a warning or in `Debug`
//!   output ([`Headers`] redacts them); endpoint URLs appear without their
//!   user information and query string, which may carry credentials.
//!
//! [environment variable specification]: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
//! [OTLP exporter specification]: https://opentelemetry.io/docs/specs/otel/protocol/exporter/

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::time::Duration;

use crate::provenance::{cap_value, MAX_VALUE_LEN};

// ---------------------------------------------------------------------------
// Variable names and defaults
// ---------------------------------------------------------------------------

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
/// Default protocol, the one the specification recommends.
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
const ENV_INT_MAX: u64 = i32::MAX as u64;
/// [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] as parsed.
const QUEUE_LIMIT: u64 = OTEL_BSP_MAX_QUEUE_SIZE_LIMIT as u64;
/// How much of an offending value a warning quotes.
const QUOTE_LEN: usize = 64;
/// Why zero is refused, per setting.
const ZERO_TIMEOUT: &str =
    "which the specification reads as no limit, but buildtrace keeps every export bounded";
const ZERO_DELAY: &str = "which would make the batch processor export continuously";
const ZERO_QUEUE: &str = "which would drop every span";
const ZERO_BATCH: &str = "which would never export a span";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// Where spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExporterKind {
    /// OTLP to a collector (`otlp`).
    Otlp,
    /// Printed to standard output (`console`).
    Console,
    /// Nowhere: no exporter is configured (`none`).
    None,
}

impl ExporterKind {
    /// The value's spelling in [`OTEL_TRACES_EXPORTER`].
    pub const fn as_str(self) -> &'static str {
        match self {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Console => "console",
            ExporterKind::None => "none",
        }
    }
}

impl fmt::Display for ExporterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Protobuf over gRPC (`grpc`).
    Grpc,
    /// Protobuf over HTTP (`http/protobuf`).
    HttpProtobuf,
}

impl Protocol {
    /// The value's spelling in [`OTEL_EXPORTER_OTLP_PROTOCOL`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }

    /// The traces endpoint used when none is configured.
    pub const fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_GRPC_DEFAULT,
            Protocol::HttpProtobuf => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_HTTP_DEFAULT,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compression of export requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Uncompressed (`none`).
    None,
    /// gzip (`gzip`).
    Gzip,
}

impl Compression {
    /// The value's spelling in [`OTEL_EXPORTER_OTLP_COMPRESSION`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sampler from [`OTEL_TRACES_SAMPLER`] and [`OTEL_TRACES_SAMPLER_ARG`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerConfig {
    /// Sample every trace (`always_on`).
    AlwaysOn,
    /// Sample no trace (`always_off`).
    AlwaysOff,
    /// Sample this fraction of traces by trace ID (`traceidratio`).
    TraceIdRatio(f64),
    /// Follow the parent; sample every root (`parentbased_always_on`).
    ParentBasedAlwaysOn,
    /// Follow the parent; sample no root (`parentbased_always_off`).
    ParentBasedAlwaysOff,
    /// Follow the parent; sample this fraction of roots
    /// (`parentbased_traceidratio`).
    ParentBasedTraceIdRatio(f64),
}

impl SamplerConfig {
    /// The sampler's spelling in [`OTEL_TRACES_SAMPLER`].
    pub const fn name(&self) -> &'static str {
        match self {
            SamplerConfig::AlwaysOn => "always_on",
            SamplerConfig::AlwaysOff => "always_off",
            SamplerConfig::TraceIdRatio(_) => "traceidratio",
            SamplerConfig::ParentBasedAlwaysOn => "parentbased_always_on",
            SamplerConfig::ParentBasedAlwaysOff => "parentbased_always_off",
            SamplerConfig::ParentBasedTraceIdRatio(_) => "parentbased_traceidratio",
        }
    }

    /// The equivalent SDK sampler.
    ///
    /// # Examples
    /// ```
    /// use buildtrace::config::SamplerConfig;
    /// let sampler = SamplerConfig::ParentBasedTraceIdRatio(0.25).to_sdk();
    /// assert!(matches!(sampler, buildtrace::opentelemetry_sdk::trace::Sampler::ParentBased(_)));
    /// ```
    pub fn to_sdk(&self) -> opentelemetry_sdk::trace::Sampler {
        use opentelemetry_sdk::trace::Sampler;
        match *self {
            SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
            SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
            SamplerConfig::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
            SamplerConfig::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            SamplerConfig::ParentBasedAlwaysOff => {
                Sampler::ParentBased(Box::new(Sampler::AlwaysOff))
            }
            SamplerConfig::ParentBasedTraceIdRatio(r) => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
            }
        }
    }
}

impl fmt::Display for SamplerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerConfig::TraceIdRatio(r) | SamplerConfig::ParentBasedTraceIdRatio(r) => {
                write!(f, "{} with ratio {r}", self.name())
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// Export request headers, whose values never appear in `Debug` output.
///
/// Header values commonly carry credentials (`authorization=Bearer …`), so
/// `{:?}` prints the keys with `"<redacted>"` values; [`Headers::pairs`]
/// gives the real ones to the exporter.
///
/// # Examples
/// ```
/// use buildtrace::config::Headers;
/// let headers: Headers = [("authorization", "Bearer s3cret")].into_iter().collect();
/// assert_eq!(format!("{headers:?}"), r#"{"authorization": "<redacted>"}"#);
/// assert_eq!(headers.pairs()[0].1, "Bearer s3cret");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The headers, keys and real values, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The headers, keys and real values, in order.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, _)| (k, "<redacted>")))
            .finish()
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Headers(pairs)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Headers(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Batch span processor settings set in code; `None` leaves a setting to the
/// environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOverrides {
    /// Delay between two exports.
    pub schedule_delay: Option<Duration>,
    /// Time limit of one batch export.
    pub export_timeout: Option<Duration>,
    /// Capacity of the queue, in spans.
    pub max_queue_size: Option<usize>,
    /// Most spans in one export.
    pub max_export_batch_size: Option<usize>,
}

/// Settings made in code, which win over every environment variable.
///
/// The default sets nothing, leaving everything to the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Disable (or force-enable) the SDK, whatever [`OTEL_SDK_DISABLED`] says.
    pub sdk_disabled: Option<bool>,
    /// The service name; an empty string counts as unset.
    pub service_name: Option<String>,
    /// The traces exporter.
    pub traces_exporter: Option<ExporterKind>,
    /// The OTLP protocol.
    pub protocol: Option<Protocol>,
    /// The endpoint, used exactly as given (nothing is appended); an empty
    /// string counts as unset.
    pub endpoint: Option<String>,
    /// Request headers, replacing those of the environment entirely.
    pub headers: Option<Headers>,
    /// Time limit of one export request.
    pub timeout: Option<Duration>,
    /// Compression of export requests.
    pub compression: Option<Compression>,
    /// The sampler.
    pub sampler: Option<SamplerConfig>,
    /// Batch span processor settings.
    pub batch: BatchOverrides,
}

/// Resolved batch span processor settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Delay between two exports.
    pub schedule_delay: Duration,
    /// Time limit of one batch export.
    pub export_timeout: Duration,
    /// Capacity of the queue, in spans.
    pub max_queue_size: usize,
    /// Most spans in one export; never more than `max_queue_size`.
    pub max_export_batch_size: usize,
}

impl BatchConfig {
    /// The SDK's batch configuration with the queue size, batch size and
    /// schedule delay set.
    ///
    /// `export_timeout` is *not* carried over: the SDK's thread-based
    /// `BatchSpanProcessor` ignores it and only offers a setter behind an
    /// experimental feature, so the caller must enforce it (for example by
    /// bounding each export). The SDK's builder also reads the `OTEL_BSP_*`
    /// variables of the process itself; every value it would read is
    /// overwritten here except the export timeout and
    /// `OTEL_BSP_MAX_CONCURRENT_EXPORTS`, which the thread-based processor
    /// ignores.
    pub fn to_sdk(&self) -> opentelemetry_sdk::trace::BatchConfig {
        opentelemetry_sdk::trace::BatchConfigBuilder::default()
            .with_max_queue_size(self.max_queue_size)
            .with_max_export_batch_size(self.max_export_batch_size)
            .with_scheduled_delay(self.schedule_delay)
            .build()
    }
}

/// The resolved configuration for traces.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Whether the SDK is disabled: no telemetry is produced at all.
    pub disabled: bool,
    /// `service.name`, or `None` for the caller's default.
    pub service_name: Option<String>,
    /// Resource attributes from [`OTEL_RESOURCE_ATTRIBUTES`], decoded, capped,
    /// without duplicates and without `service.name` (see
    /// [`Config::service_name`]).
    pub resource_attributes: Vec<(String, String)>,
    /// Where spans go.
    pub exporter: ExporterKind,
    /// The OTLP transport.
    pub protocol: Protocol,
    /// The final endpoint URL; over HTTP, the full traces URL.
    pub endpoint: String,
    /// Request headers.
    pub headers: Headers,
    /// Time limit of one export request.
    pub timeout: Duration,
    /// Compression of export requests.
    pub compression: Compression,
    /// The sampler.
    pub sampler: SamplerConfig,
    /// Batch span processor settings.
    pub batch: BatchConfig,
}

impl Config {
    /// [`Config::endpoint`] for messages and logs: any user information and
    /// query string, which may carry credentials, replaced by `<redacted>`.
    ///
    /// # Examples
    /// ```
    /// # use buildtrace::config::{resolve, Overrides};
    /// let overrides = Overrides {
    ///     endpoint: Some("https://user:token@collector:4318/v1/traces?key=k".into()),
    ///     ..Overrides::default()
    /// };
    /// let (config, _) = resolve(&|_| None, &overrides);
    /// assert_eq!(
    ///     config.redacted_endpoint(),
    ///     "https://<redacted>@collector:4318/v1/traces?<redacted>"
    /// );
    /// ```
    pub fn redacted_endpoint(&self) -> String {
        redact_url(&self.endpoint)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("disabled", &self.disabled)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("exporter", &self.exporter)
            .field("protocol", &self.protocol)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("sampler", &self.sampler)
            .field("batch", &self.batch)
            .finish()
    }
}

/// Something the environment asked for that is not used as written.
///
/// Its `Display` is one line: the variable, what was wrong and what is used
/// instead. It never contains a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    variable: &'static str,
    message: String,
}

impl Warning {
    fn new(variable: &'static str, message: String) -> Self {
        Warning { variable, message }
    }

    /// The environment variable the warning is about.
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// What was wrong and what is used instead, without the variable's name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

/// Which side of a `key=value` member an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberPart {
    /// The part before the first `=`.
    Key,
    /// The part after the first `=`.
    Value,
}

impl fmt::Display for MemberPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemberPart::Key => "key",
            MemberPart::Value => "value",
        })
    }
}

/// Why a `key=value,…` list ([`OTEL_RESOURCE_ATTRIBUTES`],
/// [`OTEL_EXPORTER_OTLP_HEADERS`]) was rejected.
///
/// `member` counts the comma-separated members from 1, empty ones included.
/// The message never quotes the list, which may hold credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyValueListError {
    /// The variable is not valid Unicode.
    NotUnicode,
    /// A member has no `=`.
    MissingEquals {
        /// Position of the member, from 1.
        member: usize,
    },
    /// A member's key is empty after trimming.
    EmptyKey {
        /// Position of the member, from 1.
        member: usize,
    },
    /// A `%` is not followed by two hexadecimal digits.
    InvalidPercentEscape {
        /// Position of the member, from 1.
        member: usize,
        /// Key or value.
        part: MemberPart,
    },
    /// The percent-decoded bytes are not UTF-8.
    NotUtf8 {
        /// Position of the member, from 1.
        member: usize,
        /// Key or value.
        part: MemberPart,
    },
    /// Headers only: the key is not an HTTP header name.
    InvalidHeaderName {
        /// Position of the member, from 1.
        member: usize,
    },
    /// Headers only: the decoded value contains control characters.
    InvalidHeaderValue {
        /// Position of the member, from 1.
        member: usize,
    },
}

impl fmt::Display for KeyValueListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValueListError::NotUnicode => f.write_str(
                "the value is not valid Unicode; write UTF-8 text and percent-encode other bytes",
            ),
            KeyValueListError::MissingEquals { member } => write!(
                f,
                "member {member} has no `=`; write key=value pairs separated by commas, \
                 with a literal comma encoded as %2C"
            ),
            KeyValueListError::EmptyKey { member } => write!(
                f,
                "member {member} has an empty key; write key=value pairs separated by commas"
            ),
            KeyValueListError::InvalidPercentEscape { member, part } => write!(
                f,
                "member {member} has an invalid percent escape in its {part}; \
                 write escapes as %XX with two hex digits and a literal % as %25"
            ),
            KeyValueListError::NotUtf8 { member, part } => write!(
                f,
                "member {member} has a {part} whose percent-decoded bytes are not UTF-8; \
                 percent-encode UTF-8 text only"
            ),
            KeyValueListError::InvalidHeaderName { member } => write!(
                f,
                "member {member} has a key that is not an HTTP header name; \
                 use letters, digits and !#$%&'*+-.^_`|~ only"
            ),
            KeyValueListError::InvalidHeaderValue { member } => write!(
                f,
                "member {member} has a value with control characters; remove them"
            ),
        }
    }
}

impl std::error::Error for KeyValueListError {}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Resolves the configuration from `env` (a variable lookup) and the code
/// settings in `overrides`, following the precedence and the table in the
/// [module documentation](self).
///
/// Nothing is read except through `env`, and nothing is printed: the
/// returned warnings are for the caller to report, once each.
///
/// # Examples
/// ```
/// use buildtrace::config::{resolve, Overrides, Protocol};
/// use std::ffi::OsString;
///
/// let env = |name: &str| match name {
///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(OsString::from("http://collector:4318")),
///     "OTEL_EXPORTER_OTLP_TIMEOUT" => Some(OsString::from("soon")),
///     _ => None,
/// };
/// let (config, warnings) = resolve(&env, &Overrides::default());
/// assert_eq!(config.protocol, Protocol::HttpProtobuf);
/// assert_eq!(config.endpoint, "http://collector:4318/v1/traces");
/// assert_eq!(warnings.len(), 1);
/// assert_eq!(warnings[0].variable(), "OTEL_EXPORTER_OTLP_TIMEOUT");
/// ```
pub fn resolve(
    env: &dyn Fn(&str) -> Option<OsString>,
    overrides: &Overrides,
) -> (Config, Vec<Warning>) {
    let mut warnings = Vec::new();
    let w = &mut warnings;

    let disabled = resolve_disabled(env, overrides.sdk_disabled, w);
    let mut resource_attributes = resolve_resource_attributes(env, w);
    let from_attributes = take_service_name(&mut resource_attributes);
    let service_name =
        resolve_service_name(env, overrides.service_name.as_deref(), from_attributes, w);
    let exporter = resolve_exporter(env, overrides.traces_exporter, w);

    // OTLP settings only matter to the OTLP exporter; their warnings are kept
    // apart so that they can be dropped for the others.
    let mut otlp = Vec::new();
    let protocol = resolve_protocol(env, overrides.protocol, &mut otlp);
    let endpoint = resolve_endpoint(env, overrides.endpoint.as_deref(), protocol, &mut otlp);
    let headers = resolve_headers(env, overrides.headers.clone(), &mut otlp);
    let timeout = resolve_timeout(env, overrides.timeout, &mut otlp);
    let compression = resolve_compression(env, overrides.compression, &mut otlp);
    if exporter == ExporterKind::Otlp {
        w.append(&mut otlp);
    }

    let sampler = resolve_sampler(env, overrides.sampler, w);
    let batch = resolve_batch(env, &overrides.batch, w);

    if disabled {
        // A disabled SDK uses none of it: say nothing.
        warnings.clear();
    }
    let config = Config {
        disabled,
        service_name,
        resource_attributes,
        exporter,
        protocol,
        endpoint,
        headers,
        timeout,
        compression,
        sampler,
        batch,
    };
    (config, warnings)
}

/// [`resolve`] over the process environment ([`std::env::var_os`]).
pub fn from_env(overrides: &Overrides) -> (Config, Vec<Warning>) {
    resolve(&|name| std::env::var_os(name), overrides)
}

/// Parses an [`OTEL_RESOURCE_ATTRIBUTES`] value: comma-separated
/// `key=value` members, each split at its first `=`, with spaces and tabs
/// around keys and values trimmed and `%XX` escapes decoded; empty members
/// are skipped and the last of duplicate keys wins. Values are *not* capped
/// here ([`resolve`] does that).
///
/// # Errors
/// The whole list is rejected if it is not Unicode or any member has no `=`,
/// an empty key, a bad percent escape or decodes to bytes that are not UTF-8.
///
/// # Examples
/// ```
/// use buildtrace::config::parse_resource_attributes;
/// use std::ffi::OsStr;
/// let attrs = parse_resource_attributes(OsStr::new("team=a%2Cb, region = eu ")).unwrap();
/// assert_eq!(attrs, [("team".into(), "a,b".into()), ("region".into(), "eu".into())]);
/// assert!(parse_resource_attributes(OsStr::new("team")).is_err());
/// ```
pub fn parse_resource_attributes(raw: &OsStr) -> Result<Vec<(String, String)>, KeyValueListError> {
    let raw = raw.to_str().ok_or(KeyValueListError::NotUnicode)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for (_, key, value) in parse_list(raw)? {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Reading variables
// ---------------------------------------------------------------------------

type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// A variable as read: empty counts as unset.
enum Raw {
    Unset,
    NotUnicode,
    Text(String),
}

fn read(env: Env<'_>, name: &str) -> Raw {
    match env(name) {
        None => Raw::Unset,
        Some(v) if v.is_empty() => Raw::Unset,
        Some(v) => match v.into_string() {
            Ok(s) => Raw::Text(s),
            Err(_) => Raw::NotUnicode,
        },
    }
}

/// Where a resolved value came from, as a warning says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Code,
    Env(&'static str),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Code => f.write_str("set in code"),
            Source::Env(var) => write!(f, "from {var}"),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// A variable and the parser of its value.
type Candidate<'p, T> = (&'static str, &'p dyn Fn(&str) -> Result<T, String>);

/// The one precedence rule: `code`, else the first candidate variable whose
/// value parses, else `default`. Each variable that was set but rejected gets
/// a warning saying what is used instead.
fn first_valid<T>(
    env: Env<'_>,
    code: Option<T>,
    candidates: &[Candidate<'_, T>],
    default: T,
    show: impl Fn(&T) -> String,
    w: &mut Vec<Warning>,
) -> (T, Source) {
    if let Some(value) = code {
        return (value, Source::Code);
    }
    let mut rejected = Vec::new();
    let mut found = None;
    for &(var, parse) in candidates {
        match read(env, var) {
            Raw::Unset => {}
            Raw::NotUnicode => rejected.push((var, "the value is not valid Unicode".to_owned())),
            Raw::Text(text) => match parse(&text) {
                Ok(value) => {
                    found = Some((value, Source::Env(var)));
                    break;
                }
                Err(why) => rejected.push((var, why)),
            },
        }
    }
    let (value, source) = found.unwrap_or((default, Source::Default));
    for (var, why) in rejected {
        w.push(Warning::new(
            var,
            format!("{why}; ignored, using {} ({source})", show(&value)),
        ));
    }
    (value, source)
}

/// A value quoted in a warning: escaped (one line, no control or bidi
/// characters) and shortened.
fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LEN) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

/// An endpoint as shown to people: without user information and query,
/// which may carry credentials.
fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_owned(),
    };
    let tail = match tail.find(['?', '#']) {
        Some(i) => format!("{}?<redacted>", &tail[..i]),
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A whole number of milliseconds or items, from 1 to `max`.
fn parse_positive(raw: &str, unit: &str, max: u64, zero: &str) -> Result<u64, String> {
    let t = raw.trim();
    match t.parse::<u64>() {
        Ok(0) => Err(format!("{} is zero, {zero}", quote(raw))),
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("{} is more than {max} {unit}", quote(raw))),
        Err(_)
            if t.strip_prefix('-')
                .is_some_and(|d| d.parse::<u64>().is_ok()) =>
        {
            Err(format!("{} is negative", quote(raw)))
        }
        Err(_) => Err(format!("{} is not a whole number of {unit}", quote(raw))),
    }
}

fn parse_millis(raw: &str, zero: &str) -> Result<Duration, String> {
    parse_positive(raw, "milliseconds", ENV_INT_MAX, zero).map(Duration::from_millis)
}

fn show_millis(d: &Duration) -> String {
    format!("{} ms", d.as_millis())
}

// ---------------------------------------------------------------------------
// Key-value lists
// ---------------------------------------------------------------------------

/// Splits and decodes a `key=value,…` list, in order, duplicates kept, each
/// pair with its member's position (from 1, empty members counted).
fn parse_list(raw: &str) -> Result<Vec<(usize, String, String)>, KeyValueListError> {
    let mut out = Vec::new();
    for (i, member) in raw.split(',').enumerate() {
        let member_no = i + 1;
        let member = member.trim_matches(is_blank);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member
            .split_once('=')
            .ok_or(KeyValueListError::MissingEquals { member: member_no })?;
        let key = key.trim_matches(is_blank);
        if key.is_empty() {
            return Err(KeyValueListError::EmptyKey { member: member_no });
        }
        let key = percent_decode(key, member_no, MemberPart::Key)?;
        let value = percent_decode(value.trim_matches(is_blank), member_no, MemberPart::Value)?;
        out.push((member_no, key, value));
    }
    Ok(out)
}

fn percent_decode(s: &str, member: usize, part: MemberPart) -> Result<String, KeyValueListError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(KeyValueListError::InvalidPercentEscape { member, part }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| KeyValueListError::NotUtf8 { member, part })
}

/// A header list: decoded, validated for HTTP, the last of keys equal but for
/// case wins.
fn parse_headers(raw: &str) -> Result<Headers, KeyValueListError> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut out: Vec<(String, String)> = Vec::new();
    for (member, key, value) in parse_list(raw)? {
        if !key.chars().all(is_tchar) {
            return Err(KeyValueListError::InvalidHeaderName { member });
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(KeyValueListError::InvalidHeaderValue { member });
        }
        match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            Some(slot) => *slot = (key, value),
            None => out.push((key, value)),
        }
    }
    Ok(Headers(out))
}

// ---------------------------------------------------------------------------
// One function per setting
// ---------------------------------------------------------------------------

fn resolve_disabled(env: Env<'_>, code: Option<bool>, w: &mut Vec<Warning>) -> bool {
    if let Some(disabled) = code {
        return disabled;
    }
    let why = match read(env, OTEL_SDK_DISABLED) {
        Raw::Unset => return OTEL_SDK_DISABLED_DEFAULT,
        Raw::Text(t) if t.eq_ignore_ascii_case("true") => return true,
        Raw::Text(t) if t.eq_ignore_ascii_case("false") => return false,
        Raw::Text(t) => format!("{} is neither true nor false", quote(&t)),
        Raw::NotUnicode => "the value is not valid Unicode".to_owned(),
    };
    w.push(Warning::new(
        OTEL_SDK_DISABLED,
        format!("{why}; using false, the SDK stays enabled (only `true` disables it)"),
    ));
    OTEL_SDK_DISABLED_DEFAULT
}

fn resolve_resource_attributes(env: Env<'_>, w: &mut Vec<Warning>) -> Vec<(String, String)> {
    let raw = match env(OTEL_RESOURCE_ATTRIBUTES) {
        Some(raw) if !raw.is_empty() => raw,
        _ => return Vec::new(),
    };
    let mut attributes = match parse_resource_attributes(&raw) {
        Ok(attributes) => attributes,
        Err(e) => {
            w.push(Warning::new(
                OTEL_RESOURCE_ATTRIBUTES,
                format!(
                    "{e}; the whole variable is discarded, no resource attribute is taken from it"
                ),
            ));
            return Vec::new();
        }
    };
    let mut capped = Vec::new();
    for (key, value) in &mut attributes {
        if value.len() > MAX_VALUE_LEN {
            *value = cap_value(value).into_owned();
            capped.push(quote(key));
        }
    }
    if !capped.is_empty() {
        w.push(Warning::new(
            OTEL_RESOURCE_ATTRIBUTES,
            format!(
                "the value of {} is longer than {MAX_VALUE_LEN} bytes; \
                 kept, cut to {MAX_VALUE_LEN} bytes",
                capped.join(", ")
            ),
        ));
    }
    attributes
}

/// Removes `service.name` from the attributes, returning its value if not
/// empty.
fn take_service_name(attributes: &mut Vec<(String, String)>) -> Option<String> {
    let i = attributes
        .iter()
        .position(|(k, _)| k == crate::names::SERVICE_NAME)?;
    Some(attributes.remove(i).1).filter(|v| !v.is_empty())
}

fn resolve_service_name(
    env: Env<'_>,
    code: Option<&str>,
    from_attributes: Option<String>,
    w: &mut Vec<Warning>,
) -> Option<String> {
    if let Some(name) = code.filter(|n| !n.is_empty()) {
        return Some(name.to_owned());
    }
    let fallback = |from_attributes: Option<String>| match from_attributes {
        Some(name) => format!(
            "using {} from service.name in {OTEL_RESOURCE_ATTRIBUTES}",
            quote(&name)
        ),
        None => "using the default service name".to_owned(),
    };
    match read(env, OTEL_SERVICE_NAME) {
        Raw::Unset => from_attributes,
        Raw::NotUnicode => {
            let instead = fallback(from_attributes.clone());
            w.push(Warning::new(
                OTEL_SERVICE_NAME,
                format!("the value is not valid Unicode; ignored, {instead}"),
            ));
            from_attributes
        }
        Raw::Text(name) => {
            if name.len() > MAX_VALUE_LEN {
                w.push(Warning::new(
                    OTEL_SERVICE_NAME,
                    format!(
                        "the value is longer than {MAX_VALUE_LEN} bytes; \
                         kept, cut to {MAX_VALUE_LEN} bytes"
                    ),
                ));
                return Some(cap_value(&name).into_owned());
            }
            Some(name)
        }
    }
}

fn resolve_exporter(
    env: Env<'_>,
    code: Option<ExporterKind>,
    w: &mut Vec<Warning>,
) -> ExporterKind {
    if let Some(kind) = code {
        return kind;
    }
    let default = OTEL_TRACES_EXPORTER_DEFAULT;
    let text = match read(env, OTEL_TRACES_EXPORTER) {
        Raw::Unset => return default,
        Raw::NotUnicode => {
            w.push(Warning::new(
                OTEL_TRACES_EXPORTER,
                format!("the value is not valid Unicode; ignored, using {default} (the default)"),
            ));
            return default;
        }
        Raw::Text(text) => text,
    };
    let names: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let Some(&first) = names.first() else {
        return default;
    };
    let kind = [
        ExporterKind::Otlp,
        ExporterKind::Console,
        ExporterKind::None,
    ]
    .into_iter()
    .find(|k| first.eq_ignore_ascii_case(k.as_str()));
    match kind {
        None => {
            w.push(Warning::new(
                OTEL_TRACES_EXPORTER,
                format!(
                    "unknown exporter {} (expected otlp, console or none); \
                     ignored, using {default} (the default)",
                    quote(first)
                ),
            ));
            default
        }
        Some(kind) => {
            if names.len() > 1 {
                w.push(Warning::new(
                    OTEL_TRACES_EXPORTER,
                    format!(
                        "lists {} exporters but buildtrace configures one; using the first, {kind}",
                        names.len()
                    ),
                ));
            }
            kind
        }
    }
}

fn resolve_protocol(env: Env<'_>, code: Option<Protocol>, w: &mut Vec<Warning>) -> Protocol {
    let parse = |raw: &str| {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("grpc") {
            Ok(Protocol::Grpc)
        } else if t.eq_ignore_ascii_case("http/protobuf") {
            Ok(Protocol::HttpProtobuf)
        } else if t.eq_ignore_ascii_case("http/json") {
            Err("http/json is not supported by buildtrace (use http/protobuf or grpc)".to_owned())
        } else {
            Err(format!(
                "unknown protocol {} (expected grpc or http/protobuf)",
                quote(raw)
            ))
        }
    };
    first_valid(
        env,
        code,
        &[
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, &parse),
            (OTEL_EXPORTER_OTLP_PROTOCOL, &parse),
        ],
        OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT,
        |p| p.to_string(),
        w,
    )
    .0
}

/// Checks that `url` is an `http` or `https` URL with a host (and, if any, a
/// numeric port). The reason never quotes the URL.
fn check_url(url: &str) -> Result<(), &'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains whitespace or control characters");
    }
    let (scheme, rest) = url.split_once("://").ok_or("it has no scheme")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("its scheme is neither http nor https");
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let port = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("its IPv6 host has no closing ]")?;
        let is_address = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
        if host.is_empty() || !host.chars().all(is_address) {
            return Err("its IPv6 host is not an address");
        }
        match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("it has text after its IPv6 host")?,
            ),
        }
    } else {
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        if host.is_empty() {
            return Err("it has no host");
        }
        if host.contains(['[', ']', ':', '\\', '"', '<', '>', '^', '`', '{', '|', '}']) {
            return Err("its host has characters a host name cannot have (IPv6 needs [brackets])");
        }
        port
    };
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        if !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p > 65_535)
        {
            return Err("its port is not a number from 0 to 65535");
        }
    }
    Ok(())
}

/// Appends the traces path to a base URL, before any query, with one `/`.
fn append_traces_path(base: &str) -> String {
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let split = base[after_scheme..]
        .find(['?', '#'])
        .map_or(base.len(), |i| after_scheme + i);
    let (head, tail) = base.split_at(split);
    format!(
        "{}{OTLP_HTTP_TRACES_PATH}{tail}",
        head.trim_end_matches('/')
    )
}

fn resolve_endpoint(
    env: Env<'_>,
    code: Option<&str>,
    protocol: Protocol,
    w: &mut Vec<Warning>,
) -> String {
    let checked = |raw: &str| -> Result<String, String> {
        let t = raw.trim();
        check_url(t).map_err(|reason| {
            format!(
                "the value is not a usable URL: {reason} \
                 (expected http://host:port or https://host:port, with an optional path)"
            )
        })?;
        Ok(t.to_owned())
    };
    let generic = |raw: &str| -> Result<String, String> {
        let url = checked(raw)?;
        Ok(match protocol {
            Protocol::Grpc => url,
            Protocol::HttpProtobuf => append_traces_path(&url),
        })
    };
    let (endpoint, source) = first_valid(
        env,
        code.filter(|e| !e.is_empty()).map(str::to_owned),
        &[
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, &checked),
            (OTEL_EXPORTER_OTLP_ENDPOINT, &generic),
        ],
        protocol.default_endpoint().to_owned(),
        |e| redact_url(e),
        w,
    );
    let doubled = format!("{OTLP_HTTP_TRACES_PATH}{OTLP_HTTP_TRACES_PATH}");
    if source == Source::Env(OTEL_EXPORTER_OTLP_ENDPOINT) && endpoint.contains(&doubled) {
        w.push(Warning::new(
            OTEL_EXPORTER_OTLP_ENDPOINT,
            format!(
                "the value already ends in {OTLP_HTTP_TRACES_PATH}, but this variable takes \
                 a base URL and gets {OTLP_HTTP_TRACES_PATH} appended (set \
                 {OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} for a full URL); using {}",
                redact_url(&endpoint)
            ),
        ));
    }
    endpoint
}

fn resolve_headers(env: Env<'_>, code: Option<Headers>, w: &mut Vec<Warning>) -> Headers {
    // The reason names the member and the rule broken, never the text.
    let parse = |raw: &str| parse_headers(raw).map_err(|e| format!("the value is invalid: {e}"));
    first_valid(
        env,
        code,
        &[
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, &parse),
            (OTEL_EXPORTER_OTLP_HEADERS, &parse),
        ],
        Headers::default(),
        |h| match h.len() {
            0 => "no headers".to_owned(),
            1 => "1 header".to_owned(),
            n => format!("{n} headers"),
        },
        w,
    )
    .0
}

fn resolve_timeout(env: Env<'_>, code: Option<Duration>, w: &mut Vec<Warning>) -> Duration {
    let parse = |raw: &str| parse_millis(raw, ZERO_TIMEOUT);
    first_valid(
        env,
        code,
        &[
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, &parse),
            (OTEL_EXPORTER_OTLP_TIMEOUT, &parse),
        ],
        OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT,
        show_millis,
        w,
    )
    .0
}

fn resolve_compression(
    env: Env<'_>,
    code: Option<Compression>,
    w: &mut Vec<Warning>,
) -> Compression {
    let parse = |raw: &str| {
        let t = raw.trim();
        [Compression::None, Compression::Gzip]
            .into_iter()
            .find(|c| t.eq_ignore_ascii_case(c.as_str()))
            .ok_or_else(|| format!("unknown compression {} (expected gzip or none)", quote(raw)))
    };
    first_valid(
        env,
        code,
        &[
            (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, &parse),
            (OTEL_EXPORTER_OTLP_COMPRESSION, &parse),
        ],
        OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT,
        |c| c.to_string(),
        w,
    )
    .0
}

fn resolve_sampler(
    env: Env<'_>,
    code: Option<SamplerConfig>,
    w: &mut Vec<Warning>,
) -> SamplerConfig {
    if let Some(sampler) = code {
        return sampler;
    }
    let default = OTEL_TRACES_SAMPLER_DEFAULT;
    // Ratio samplers carry a placeholder ratio until the argument is read.
    let known = [
        SamplerConfig::AlwaysOn,
        SamplerConfig::AlwaysOff,
        SamplerConfig::TraceIdRatio(OTEL_TRACES_SAMPLER_ARG_DEFAULT),
        SamplerConfig::ParentBasedAlwaysOn,
        SamplerConfig::ParentBasedAlwaysOff,
        SamplerConfig::ParentBasedTraceIdRatio(OTEL_TRACES_SAMPLER_ARG_DEFAULT),
    ];
    let unsupported = ["jaeger_remote", "parentbased_jaeger_remote", "xray"];
    let sampler = match read(env, OTEL_TRACES_SAMPLER) {
        Raw::Unset => default,
        Raw::NotUnicode => {
            w.push(Warning::new(
                OTEL_TRACES_SAMPLER,
                format!("the value is not valid Unicode; ignored, using {default} (the default)"),
            ));
            default
        }
        Raw::Text(raw) => {
            let t = raw.trim();
            match known.into_iter().find(|s| t.eq_ignore_ascii_case(s.name())) {
                Some(sampler) => sampler,
                None => {
                    let why = if unsupported.iter().any(|u| t.eq_ignore_ascii_case(u)) {
                        format!("sampler {} is not supported by buildtrace", quote(&raw))
                    } else {
                        format!(
                            "unknown sampler {} (expected always_on, always_off, \
                             traceidratio, parentbased_always_on, parentbased_always_off \
                             or parentbased_traceidratio)",
                            quote(&raw)
                        )
                    };
                    w.push(Warning::new(
                        OTEL_TRACES_SAMPLER,
                        format!("{why}; ignored, using {default} (the default)"),
                    ));
                    default
                }
            }
        }
    };
    let arg = read(env, OTEL_TRACES_SAMPLER_ARG);
    let ratio = |w: &mut Vec<Warning>| -> f64 {
        let ratio_default = OTEL_TRACES_SAMPLER_ARG_DEFAULT;
        let why = match &arg {
            Raw::Unset => return ratio_default,
            Raw::NotUnicode => "the value is not valid Unicode".to_owned(),
            Raw::Text(raw) => match raw.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => return r,
                Ok(_) => format!("{} is not a ratio from 0 to 1", quote(raw)),
                Err(_) => format!("{} is not a number", quote(raw)),
            },
        };
        w.push(Warning::new(
            OTEL_TRACES_SAMPLER_ARG,
            format!("{why}; ignored, using ratio {ratio_default} (the default)"),
        ));
        ratio_default
    };
    match sampler {
        SamplerConfig::TraceIdRatio(_) => SamplerConfig::TraceIdRatio(ratio(w)),
        SamplerConfig::ParentBasedTraceIdRatio(_) => {
            SamplerConfig::ParentBasedTraceIdRatio(ratio(w))
        }
        other => {
            if !matches!(arg, Raw::Unset) {
                w.push(Warning::new(
                    OTEL_TRACES_SAMPLER_ARG,
                    format!(
                        "is set, but sampler {other} takes no argument (only traceidratio and \
                         parentbased_traceidratio do, chosen with {OTEL_TRACES_SAMPLER}); ignored"
                    ),
                ));
            }
            other
        }
    }
}

fn resolve_schedule_delay(env: Env<'_>, code: Option<Duration>, w: &mut Vec<Warning>) -> Duration {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_SCHEDULE_DELAY, &|raw| {
            parse_millis(raw, ZERO_DELAY)
        })],
        OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
        show_millis,
        w,
    )
    .0
}

fn resolve_export_timeout(env: Env<'_>, code: Option<Duration>, w: &mut Vec<Warning>) -> Duration {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_EXPORT_TIMEOUT, &|raw| {
            parse_millis(raw, ZERO_TIMEOUT)
        })],
        OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
        show_millis,
        w,
    )
    .0
}

fn resolve_max_queue_size(
    env: Env<'_>,
    code: Option<usize>,
    w: &mut Vec<Warning>,
) -> (usize, Source) {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_MAX_QUEUE_SIZE, &|raw| {
            parse_positive(raw, "spans", QUEUE_LIMIT, ZERO_QUEUE).map(|n| n as usize)
        })],
        OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
        |n| format!("{n} spans"),
        w,
    )
}

fn resolve_max_export_batch_size(
    env: Env<'_>,
    code: Option<usize>,
    w: &mut Vec<Warning>,
) -> (usize, Source) {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, &|raw| {
            parse_positive(raw, "spans", ENV_INT_MAX, ZERO_BATCH).map(|n| n as usize)
        })],
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        |n| format!("{n} spans"),
        w,
    )
}

fn resolve_batch(env: Env<'_>, code: &BatchOverrides, w: &mut Vec<Warning>) -> BatchConfig {
    let schedule_delay = resolve_schedule_delay(env, code.schedule_delay, w);
    let export_timeout = resolve_export_timeout(env, code.export_timeout, w);
    let (max_queue_size, queue_source) = resolve_max_queue_size(env, code.max_queue_size, w);
    let (mut max_export_batch_size, batch_source) =
        resolve_max_export_batch_size(env, code.max_export_batch_size, w);
    if max_export_batch_size > max_queue_size {
        // The default batch size silently follows a smaller queue, as in the
        // SDK; only a batch size someone chose deserves a warning.
        if batch_source != Source::Default {
            w.push(Warning::new(
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                format!(
                    "the batch size {max_export_batch_size} ({batch_source}) is larger than \
                     the queue size {max_queue_size} ({queue_source}); using {max_queue_size}"
                ),
            ));
        }
        max_export_batch_size = max_queue_size;
    }
    BatchConfig {
        schedule_delay,
        export_timeout,
        max_queue_size,
        max_export_batch_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::TRUNCATION_MARK;
    use std::collections::HashMap;

    /// An injected environment holding exactly `pairs`.
    fn env_os(pairs: Vec<(&str, OsString)>) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> =
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        move |name| map.get(name).cloned()
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        env_os(pairs.iter().map(|&(k, v)| (k, OsString::from(v))).collect())
    }

    fn run(pairs: &[(&str, &str)], overrides: &Overrides) -> (Config, Vec<Warning>) {
        resolve(&env_of(pairs), overrides)
    }

    /// Environment entries of a table row.
    type Pairs = &'static [(&'static str, &'static str)];
    /// The variables a table row expects warnings about, in order.
    type Warned = &'static [&'static str];
    /// An optional value in a table row.
    type Text = Option<&'static str>;

    fn vars(warnings: &[Warning]) -> Vec<&'static str> {
        warnings.iter().map(Warning::variable).collect()
    }

    #[cfg(unix)]
    fn not_unicode(prefix: &str) -> OsString {
        use std::os::unix::ffi::OsStrExt;
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.extend_from_slice(b"\xff\xfe");
        OsStr::from_bytes(&bytes).to_os_string()
    }

    // --- OTEL_RESOURCE_ATTRIBUTES -------------------------------------------

    #[derive(Debug, PartialEq)]
    enum Attrs {
        Kept(Vec<(String, String)>),
        Discarded,
    }

    fn kept(pairs: &[(&str, &str)]) -> Attrs {
        Attrs::Kept(
            pairs
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn resource_attributes_table() {
        let megabyte = "x".repeat(1 << 20);
        let capped = cap_value(&megabyte).into_owned();
        // (input, expected attributes, expected warning: a word of its message)
        #[allow(unused_mut)]
        let mut cases: Vec<(OsString, Attrs, Option<&str>)> = vec![
            ("a=b".into(), kept(&[("a", "b")]), None),
            ("a=b%2Cc".into(), kept(&[("a", "b,c")]), None),
            ("a%3Dk=v".into(), kept(&[("a=k", "v")]), None),
            ("a=%C3%A9".into(), kept(&[("a", "é")]), None),
            ("a=b=c".into(), kept(&[("a", "b=c")]), None),
            ("a=%ZZ".into(), Attrs::Discarded, Some("discarded")),
            (",,".into(), kept(&[]), None),
            ("=v".into(), Attrs::Discarded, Some("discarded")),
            ("k=".into(), kept(&[("k", "")]), None),
            (" k = v ".into(), kept(&[("k", "v")]), None),
            (
                format!("big={megabyte}").into(),
                Attrs::Kept(vec![("big".into(), capped)]),
                Some("cut"),
            ),
            // Beyond the required inputs.
            ("a=%4".into(), Attrs::Discarded, Some("discarded")),
            ("a=%FF".into(), Attrs::Discarded, Some("discarded")),
            ("a".into(), Attrs::Discarded, Some("discarded")),
            ("x=1,a".into(), Attrs::Discarded, Some("discarded")),
            ("a=1,a=2".into(), kept(&[("a", "2")]), None),
            (
                "\tk\t=\tv\t, ,j=%20".into(),
                kept(&[("k", "v"), ("j", " ")]),
                None,
            ),
            ("k=a+b".into(), kept(&[("k", "a+b")]), None),
            ("".into(), kept(&[]), None),
        ];
        #[cfg(unix)]
        cases.push((not_unicode("a=b"), Attrs::Discarded, Some("Unicode")));

        for (input, want, warning) in cases {
            let shown = format!("{:.40?}", input);
            let env = env_os(vec![(OTEL_RESOURCE_ATTRIBUTES, input)]);
            let mut w = Vec::new();
            let got = resolve_resource_attributes(&env, &mut w);
            match &want {
                Attrs::Kept(pairs) => assert_eq!(&got, pairs, "input {shown}"),
                Attrs::Discarded => assert!(got.is_empty(), "input {shown}: {got:?}"),
            }
            match warning {
                None => assert!(w.is_empty(), "input {shown}: {w:?}"),
                Some(word) => {
                    assert_eq!(vars(&w), [OTEL_RESOURCE_ATTRIBUTES], "input {shown}");
                    assert!(w[0].message().contains(word), "input {shown}: {}", w[0]);
                }
            }
        }
    }

    #[test]
    fn capped_value_keeps_its_start_and_is_marked() {
        let long = format!("k={}", "é".repeat(MAX_VALUE_LEN));
        let env = env_of(&[(OTEL_RESOURCE_ATTRIBUTES, &long)]);
        let mut w = Vec::new();
        let got = resolve_resource_attributes(&env, &mut w);
        assert!(got[0].1.len() <= MAX_VALUE_LEN);
        assert!(got[0].1.starts_with("éé"));
        assert!(got[0].1.ends_with(TRUNCATION_MARK));
        assert_eq!(w.len(), 1);
        assert!(w[0].message().contains("\"k\""), "{}", w[0]);
    }

    #[test]
    fn resource_attribute_errors_name_the_member_and_part() {
        use KeyValueListError as E;
        let cases: &[(&str, KeyValueListError)] = &[
            ("a", E::MissingEquals { member: 1 }),
            ("x=1,,a", E::MissingEquals { member: 3 }),
            (" = v", E::EmptyKey { member: 1 }),
            (
                "a=%ZZ",
                E::InvalidPercentEscape {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
            (
                "a=1,%4=v",
                E::InvalidPercentEscape {
                    member: 2,
                    part: MemberPart::Key,
                },
            ),
            (
                "a=%",
                E::InvalidPercentEscape {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
            (
                "a=%C3",
                E::NotUtf8 {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_resource_attributes(OsStr::new(input)),
                Err(*want),
                "input {input:?}"
            );
        }
        #[cfg(unix)]
        assert_eq!(
            parse_resource_attributes(&not_unicode("a=")),
            Err(E::NotUnicode)
        );
    }

    // --- service.name --------------------------------------------------------

    #[test]
    fn service_name_precedence() {
        // (code, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, expected)
        let cases: &[(Text, Text, &str, Text)] = &[
            (Some("code"), Some("env"), "service.name=attr", Some("code")),
            (None, Some("env"), "service.name=attr", Some("env")),
            (None, None, "service.name=attr", Some("attr")),
            (None, None, "", None),
            (None, None, "other=1", None),
            (Some(""), Some("env"), "service.name=attr", Some("env")),
            (None, Some(""), "service.name=attr", Some("attr")),
            (None, None, "service.name=", None),
            (None, None, "service.name=a%20b,service.name=c", Some("c")),
            (Some("code"), None, "service.name=attr", Some("code")),
        ];
        for &(code, env_name, attrs, want) in cases {
            let mut pairs = vec![(OTEL_RESOURCE_ATTRIBUTES, attrs)];
            if let Some(name) = env_name {
                pairs.push((OTEL_SERVICE_NAME, name));
            }
            let overrides = Overrides {
                service_name: code.map(str::to_owned),
                ..Overrides::default()
            };
            let (config, warnings) = run(&pairs, &overrides);
            assert_eq!(
                config.service_name.as_deref(),
                want,
                "code {code:?}, env {env_name:?}, attributes {attrs:?}"
            );
            assert!(warnings.is_empty(), "{warnings:?}");
            assert!(
                config
                    .resource_attributes
                    .iter()
                    .all(|(k, _)| k != "service.name"),
                "{:?}",
                config.resource_attributes
            );
        }
    }

    #[test]
    fn service_name_is_capped_and_non_unicode_falls_back() {
        let long = "s".repeat(MAX_VALUE_LEN + 1);
        let (config, warnings) = run(&[(OTEL_SERVICE_NAME, &long)], &Overrides::default());
        let name = config.service_name.unwrap();
        assert!(name.len() <= MAX_VALUE_LEN && name.ends_with(TRUNCATION_MARK));
        assert_eq!(vars(&warnings), [OTEL_SERVICE_NAME]);

        #[cfg(unix)]
        {
            let env = env_os(vec![
                (OTEL_SERVICE_NAME, not_unicode("svc")),
                (OTEL_RESOURCE_ATTRIBUTES, "service.name=attr".into()),
            ]);
            let (config, warnings) = resolve(&env, &Overrides::default());
            assert_eq!(config.service_name.as_deref(), Some("attr"));
            assert_eq!(vars(&warnings), [OTEL_SERVICE_NAME]);
            assert!(
                warnings[0].message().contains("\"attr\""),
                "{}",
                warnings[0]
            );
        }
    }

    // --- OTEL_SDK_DISABLED ---------------------------------------------------

    #[test]
    fn sdk_disabled_table() {
        // (env value, code, expected, warns)
        let cases: &[(Text, Option<bool>, bool, bool)] = &[
            (None, None, false, false),
            (Some(""), None, false, false),
            (Some("true"), None, true, false),
            (Some("TRUE"), None, true, false),
            (Some("True"), None, true, false),
            (Some("false"), None, false, false),
            (Some("FaLsE"), None, false, false),
            (Some("1"), None, false, true),
            (Some("yes"), None, false, true),
            (Some(" true"), None, false, true),
            (Some("true"), Some(false), false, false),
            (Some("1"), Some(false), false, false),
            (None, Some(true), true, false),
        ];
        for &(value, code, want, warns) in cases {
            let pairs: Vec<_> = value.map(|v| (OTEL_SDK_DISABLED, v)).into_iter().collect();
            let mut w = Vec::new();
            let got = resolve_disabled(&env_of(&pairs), code, &mut w);
            assert_eq!(got, want, "value {value:?}, code {code:?}");
            assert_eq!(
                !w.is_empty(),
                warns,
                "value {value:?}, code {code:?}: {w:?}"
            );
            if warns {
                assert_eq!(vars(&w), [OTEL_SDK_DISABLED]);
                assert!(w[0].message().contains("using false"), "{}", w[0]);
            }
        }
    }

    #[test]
    fn disabled_sdk_reports_no_warnings() {
        let invalid = [
            (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
            (OTEL_BSP_MAX_QUEUE_SIZE, "lots"),
        ];
        let (config, warnings) = run(&invalid, &Overrides::default());
        assert!(!config.disabled);
        assert_eq!(warnings.len(), 2, "{warnings:?}");

        let mut pairs = invalid.to_vec();
        pairs.push((OTEL_SDK_DISABLED, "true"));
        let (config, warnings) = run(&pairs, &Overrides::default());
        assert!(config.disabled);
        assert!(warnings.is_empty(), "{warnings:?}");
        // Still resolved in full.
        assert_eq!(config.timeout, OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT);
    }

    // --- OTEL_TRACES_EXPORTER ------------------------------------------------

    #[test]
    fn exporter_table() {
        use ExporterKind as E;
        // (env value, code, expected, expected warning word)
        let cases: &[(Text, Option<ExporterKind>, ExporterKind, Text)] = &[
            (None, None, E::Otlp, None),
            (Some("otlp"), None, E::Otlp, None),
            (Some("console"), None, E::Console, None),
            (Some("CONSOLE"), None, E::Console, None),
            (Some("none"), None, E::None, None),
            (Some(" console , "), None, E::Console, None),
            (Some(","), None, E::Otlp, None),
            (
                Some("zipkin"),
                None,
                E::Otlp,
                Some("unknown exporter \"zipkin\""),
            ),
            (
                Some("console,otlp"),
                None,
                E::Console,
                Some("using the first, console"),
            ),
            (Some("foo,console"), None, E::Otlp, Some("unknown")),
            (Some("console"), Some(E::None), E::None, None),
            (Some("zipkin"), Some(E::Console), E::Console, None),
        ];
        for &(value, code, want, warning) in cases {
            let pairs: Vec<_> = value
                .map(|v| (OTEL_TRACES_EXPORTER, v))
                .into_iter()
                .collect();
            let mut w = Vec::new();
            let got = resolve_exporter(&env_of(&pairs), code, &mut w);
            assert_eq!(got, want, "value {value:?}, code {code:?}");
            match warning {
                None => assert!(w.is_empty(), "value {value:?}: {w:?}"),
                Some(word) => {
                    assert_eq!(vars(&w), [OTEL_TRACES_EXPORTER], "value {value:?}");
                    assert!(w[0].message().contains(word), "{}", w[0]);
                }
            }
        }
    }

    #[test]
    fn otlp_warnings_are_dropped_for_other_exporters() {
        let pairs = [
            (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "carrier-pigeon"),
            (OTEL_TRACES_SAMPLER, "sometimes"),
        ];
        let (_, warnings) = run(&pairs, &Overrides::default());
        assert_eq!(
            vars(&warnings),
            [
                OTEL_EXPORTER_OTLP_PROTOCOL,
                OTEL_EXPORTER_OTLP_TIMEOUT,
                OTEL_TRACES_SAMPLER
            ]
        );
        let mut with_console = pairs.to_vec();
        with_console.push((OTEL_TRACES_EXPORTER, "console"));
        let (config, warnings) = run(&with_console, &Overrides::default());
        assert_eq!(config.exporter, ExporterKind::Console);
        assert_eq!(vars(&warnings), [OTEL_TRACES_SAMPLER]);
    }

    // --- protocol -------------------------------------------------------------

    #[test]
    fn protocol_table() {
        use Protocol::*;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
        const GEN: &str = OTEL_EXPORTER_OTLP_PROTOCOL;
        // (env, code, expected, warned variables, word of the first warning)
        let cases: &[(Pairs, Option<Protocol>, Protocol, Warned, &str)] = &[
            (&[], None, HttpProtobuf, &[], ""),
            (&[(GEN, "grpc")], None, Grpc, &[], ""),
            (&[(GEN, "GRPC")], None, Grpc, &[], ""),
            (
                &[(SIG, "http/protobuf"), (GEN, "grpc")],
                None,
                HttpProtobuf,
                &[],
                "",
            ),
            (
                &[(SIG, "grpc"), (GEN, "http/protobuf")],
                None,
                Grpc,
                &[],
                "",
            ),
            (&[(SIG, " grpc ")], None, Grpc, &[], ""),
            (
                &[(SIG, "http/json"), (GEN, "grpc")],
                None,
                Grpc,
                &[SIG],
                "using grpc (from OTEL_EXPORTER_OTLP_PROTOCOL)",
            ),
            (
                &[(GEN, "http/json")],
                None,
                HttpProtobuf,
                &[GEN],
                "http/json is not supported",
            ),
            (&[(GEN, "udp")], None, HttpProtobuf, &[GEN], "the default"),
            (
                &[(SIG, "x"), (GEN, "y")],
                None,
                HttpProtobuf,
                &[SIG, GEN],
                "unknown",
            ),
            (&[(SIG, "http/protobuf")], Some(Grpc), Grpc, &[], ""),
            (&[(SIG, "nonsense")], Some(Grpc), Grpc, &[], ""),
        ];
        for &(pairs, code, want, warned, word) in cases {
            let mut w = Vec::new();
            let got = resolve_protocol(&env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}, code {code:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}");
            if let Some(first) = w.first() {
                assert!(first.message().contains(word), "{first}");
            }
        }
    }

    // --- endpoint -------------------------------------------------------------

    #[test]
    fn endpoint_table() {
        use Protocol::*;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
        const GEN: &str = OTEL_EXPORTER_OTLP_ENDPOINT;
        // (protocol, env, code, expected, warned variables)
        let cases: &[(Protocol, Pairs, Text, &str, Warned)] = &[
            (
                HttpProtobuf,
                &[],
                None,
                "http://localhost:4318/v1/traces",
                &[],
            ),
            (Grpc, &[], None, "http://localhost:4317", &[]),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318/")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "https://c/base/")],
                None,
                "https://c/base/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "https://c/base?x=1")],
                None,
                "https://c/base/v1/traces?x=1",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, " http://c:4318 ")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://[::1]:4318")],
                None,
                "http://[::1]:4318/v1/traces",
                &[],
            ),
            (Grpc, &[(GEN, "http://c:4317")], None, "http://c:4317", &[]),
            (
                Grpc,
                &[(GEN, "https://c:4317/")],
                None,
                "https://c:4317/",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://c:4318/custom")],
                None,
                "http://c:4318/custom",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://c:4318")],
                None,
                "http://c:4318",
                &[],
            ),
            (Grpc, &[(SIG, "http://s:4317")], None, "http://s:4317", &[]),
            (
                HttpProtobuf,
                &[(SIG, "http://s/t"), (GEN, "http://g")],
                None,
                "http://s/t",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "s:4318"), (GEN, "http://g:4318")],
                None,
                "http://g:4318/v1/traces",
                &[SIG],
            ),
            (
                HttpProtobuf,
                &[(SIG, "ftp://s"), (GEN, "http://")],
                None,
                "http://localhost:4318/v1/traces",
                &[SIG, GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "ftp://c")],
                None,
                "http://localhost:4318/v1/traces",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:99999")],
                None,
                "http://localhost:4318/v1/traces",
                &[GEN],
            ),
            (
                Grpc,
                &[(GEN, "localhost:4317")],
                None,
                "http://localhost:4317",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318/v1/traces")],
                None,
                "http://c:4318/v1/traces/v1/traces",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://s"), (GEN, "http://g")],
                Some("http://code:1"),
                "http://code:1",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "not a url")],
                Some("code-as-given"),
                "code-as-given",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://s")],
                Some(""),
                "http://s",
                &[],
            ),
        ];
        for &(protocol, pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let got = resolve_endpoint(&env_of(pairs), code, protocol, &mut w);
            assert_eq!(got, want, "{protocol}, env {pairs:?}, code {code:?}");
            assert_eq!(vars(&w), warned, "{protocol}, env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn endpoint_warning_says_what_is_used_without_credentials() {
        let pairs = [
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "collector:4318"),
            (
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "https://user:pw@g:4318?token=t",
            ),
        ];
        let mut w = Vec::new();
        let got = resolve_endpoint(&env_of(&pairs), None, Protocol::HttpProtobuf, &mut w);
        assert_eq!(got, "https://user:pw@g:4318/v1/traces?token=t");
        let line = w[0].to_string();
        assert!(
            line.contains(
                "using https://<redacted>@g:4318/v1/traces?<redacted> (from OTEL_EXPORTER_OTLP_ENDPOINT)"
            ),
            "{line}"
        );
        assert!(!line.contains("pw") && !line.contains("token=t"), "{line}");
        assert!(
            !line.contains("collector"),
            "the rejected value is not echoed: {line}"
        );
    }

    #[test]
    fn url_check_table() {
        let ok = [
            "http://c",
            "https://c:4318",
            "HTTP://C:4318/path?q#f",
            "http://user:pw@c:1/",
            "http://[::1]:4317",
            "http://[2001:db8::1]",
            "http://c:",
            "http://10.0.0.1:65535",
        ];
        let bad = [
            "c:4318",
            "ftp://c",
            "http://",
            "http:///path",
            "http://:4318",
            "http://c:port",
            "http://c:65536",
            "http://c :1",
            "http://c\n",
            "http://[::1",
            "http://[::1]x",
            "http://[zz]",
            "http://::1:4317",
            "http://user@",
        ];
        for url in ok {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
        for url in bad {
            assert!(check_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn redact_url_table() {
        let cases = [
            ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
            ("https://u:p@c/x", "https://<redacted>@c/x"),
            ("https://c/x?api_key=k", "https://c/x?<redacted>"),
            ("https://c#frag", "https://c?<redacted>"),
            ("u:p@c:1", "<redacted>@c:1"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    // --- headers --------------------------------------------------------------

    #[test]
    fn headers_table() {
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_HEADERS;
        const GEN: &str = OTEL_EXPORTER_OTLP_HEADERS;
        // (env, code, expected, warned variables)
        let cases: &[(Pairs, Option<Pairs>, Pairs, Warned)] = &[
            (&[], None, &[], &[]),
            (&[(GEN, "a=1,b=2")], None, &[("a", "1"), ("b", "2")], &[]),
            (&[(SIG, "x=9"), (GEN, "a=1")], None, &[("x", "9")], &[]),
            (
                &[(GEN, "Authorization=Bearer%20tok")],
                None,
                &[("Authorization", "Bearer tok")],
                &[],
            ),
            (&[(GEN, " k = v , ,")], None, &[("k", "v")], &[]),
            (&[(GEN, "k=")], None, &[("k", "")], &[]),
            (&[(GEN, "a=1,A=2")], None, &[("A", "2")], &[]),
            (
                &[(SIG, "novalue"), (GEN, "a=1")],
                None,
                &[("a", "1")],
                &[SIG],
            ),
            (&[(GEN, "a b=1")], None, &[], &[GEN]),
            (&[(GEN, "a=%0A")], None, &[], &[GEN]),
            (&[(GEN, "a=%ZZ")], None, &[], &[GEN]),
            (&[(GEN, "=1")], None, &[], &[GEN]),
            (&[(SIG, "a=1,x"), (GEN, "a=%")], None, &[], &[SIG, GEN]),
            (&[(GEN, "a=1")], Some(&[("c", "3")]), &[("c", "3")], &[]),
            (&[(GEN, "broken")], Some(&[]), &[], &[]),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let code = code.map(|c| c.iter().copied().collect::<Headers>());
            let got = resolve_headers(&env_of(pairs), code, &mut w);
            let want: Headers = want.iter().copied().collect();
            assert_eq!(got.pairs(), want.pairs(), "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn header_warning_names_member_and_fallback() {
        let pairs = [
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "a=1,,x"),
            (OTEL_EXPORTER_OTLP_HEADERS, "k=v"),
        ];
        let mut w = Vec::new();
        resolve_headers(&env_of(&pairs), None, &mut w);
        assert_eq!(
            w[0].to_string(),
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS: the value is invalid: member 3 has no `=`; \
             write key=value pairs separated by commas, with a literal comma encoded as %2C; \
             ignored, using 1 header (from OTEL_EXPORTER_OTLP_HEADERS)"
        );
    }

    #[test]
    fn headers_debug_redacts_values() {
        let headers: Headers = [("authorization", "Bearer abc"), ("x-team", "t")]
            .into_iter()
            .collect();
        assert_eq!(
            format!("{headers:?}"),
            r#"{"authorization": "<redacted>", "x-team": "<redacted>"}"#
        );
        assert_eq!(headers.len(), 2);
        assert_eq!(headers.pairs()[0].1, "Bearer abc");
    }

    #[test]
    fn header_values_never_leak() {
        const CANARY: &str = "s3cr3t-CANARY";
        // Valid and invalid spellings, each holding the canary somewhere.
        #[allow(unused_mut)]
        let mut values: Vec<OsString> = [
            format!("authorization=Bearer%20{CANARY}"),
            format!("authorization={CANARY}"),
            CANARY.to_owned(),
            format!("a={CANARY}%ZZ"),
            format!("{CANARY} key=v"),
            format!("k={CANARY}%0A"),
            format!("k=%FF{CANARY}"),
            format!("x={CANARY},={CANARY}"),
            format!("{CANARY}=%"),
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        #[cfg(unix)]
        values.push(not_unicode(&format!("k={CANARY}")));

        let mut saw_warning = false;
        let mut saw_value = false;
        for value in &values {
            for var in [
                OTEL_EXPORTER_OTLP_HEADERS,
                OTEL_EXPORTER_OTLP_TRACES_HEADERS,
            ] {
                let env = env_os(vec![(var, value.clone())]);
                let (config, warnings) = resolve(&env, &Overrides::default());
                saw_value |= config
                    .headers
                    .pairs()
                    .iter()
                    .any(|(_, v)| v.contains(CANARY));
                saw_warning |= !warnings.is_empty();
                let debug = format!("{config:?}");
                assert!(!debug.contains(CANARY), "{debug}");
                for warning in &warnings {
                    for text in [warning.to_string(), format!("{warning:?}")] {
                        assert!(!text.contains(CANARY), "{text}");
                    }
                }
            }
        }
        // The canary was really there to leak.
        assert!(saw_value && saw_warning);

        let overrides = Overrides {
            headers: Some([("authorization", CANARY)].into_iter().collect()),
            ..Overrides::default()
        };
        let (config, _) = resolve(&|_| None, &overrides);
        assert_eq!(config.headers.pairs()[0].1, CANARY);
        assert!(!format!("{config:?}").contains(CANARY));
        assert!(!format!("{overrides:?}").contains(CANARY));
    }

    // --- timeout and compression ----------------------------------------------

    #[test]
    fn timeout_table() {
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
        const GEN: &str = OTEL_EXPORTER_OTLP_TIMEOUT;
        // (env, code, expected ms, warned variables, word of the first warning)
        let cases: &[(Pairs, Option<u64>, u64, Warned, &str)] = &[
            (&[], None, 10_000, &[], ""),
            (&[(GEN, "2000")], None, 2_000, &[], ""),
            (&[(SIG, "3000"), (GEN, "2000")], None, 3_000, &[], ""),
            (&[(GEN, " 250 ")], None, 250, &[], ""),
            (&[(GEN, "2147483647")], None, 2_147_483_647, &[], ""),
            (
                &[(SIG, "abc"), (GEN, "2000")],
                None,
                2_000,
                &[SIG],
                "\"abc\" is not a whole number of milliseconds; ignored, using 2000 ms (from OTEL_EXPORTER_OTLP_TIMEOUT)",
            ),
            (&[(GEN, "-5")], None, 10_000, &[GEN], "negative"),
            (&[(GEN, "0")], None, 10_000, &[GEN], "zero"),
            (&[(GEN, "1.5")], None, 10_000, &[GEN], "whole number"),
            (&[(GEN, "10s")], None, 10_000, &[GEN], "whole number"),
            (&[(GEN, "2147483648")], None, 10_000, &[GEN], "more than"),
            (&[(SIG, "x"), (GEN, "y")], None, 10_000, &[SIG, GEN], "10000 ms (the default)"),
            (&[(SIG, "2000")], Some(1_000), 1_000, &[], ""),
            (&[(SIG, "x")], Some(1_000), 1_000, &[], ""),
        ];
        for &(pairs, code, want, warned, word) in cases {
            let mut w = Vec::new();
            let got = resolve_timeout(&env_of(pairs), code.map(Duration::from_millis), &mut w);
            assert_eq!(got, Duration::from_millis(want), "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
            if let Some(first) = w.first() {
                assert!(first.message().contains(word), "{first}");
            }
        }
    }

    #[test]
    fn compression_table() {
        use Compression as C;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_COMPRESSION;
        const GEN: &str = OTEL_EXPORTER_OTLP_COMPRESSION;
        let cases: &[(Pairs, Option<Compression>, Compression, Warned)] = &[
            (&[], None, C::None, &[]),
            (&[(GEN, "gzip")], None, C::Gzip, &[]),
            (&[(GEN, "GZIP")], None, C::Gzip, &[]),
            (&[(GEN, "none")], None, C::None, &[]),
            (&[(SIG, "none"), (GEN, "gzip")], None, C::None, &[]),
            (&[(SIG, "gzip"), (GEN, "none")], None, C::Gzip, &[]),
            (&[(SIG, "zstd"), (GEN, "gzip")], None, C::Gzip, &[SIG]),
            (&[(GEN, "br")], None, C::None, &[GEN]),
            (&[(GEN, "br")], Some(C::Gzip), C::Gzip, &[]),
            (&[(GEN, "gzip")], Some(C::None), C::None, &[]),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let got = resolve_compression(&env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    // --- sampler --------------------------------------------------------------

    #[test]
    fn sampler_table() {
        use SamplerConfig::*;
        const S: &str = OTEL_TRACES_SAMPLER;
        const A: &str = OTEL_TRACES_SAMPLER_ARG;
        let cases: &[(Pairs, Option<SamplerConfig>, SamplerConfig, Warned)] = &[
            (&[], None, ParentBasedAlwaysOn, &[]),
            (&[(S, "always_on")], None, AlwaysOn, &[]),
            (&[(S, "ALWAYS_OFF")], None, AlwaysOff, &[]),
            (
                &[(S, "parentbased_always_off")],
                None,
                ParentBasedAlwaysOff,
                &[],
            ),
            (
                &[(S, "parentbased_always_on")],
                None,
                ParentBasedAlwaysOn,
                &[],
            ),
            (
                &[(S, "traceidratio"), (A, "0.25")],
                None,
                TraceIdRatio(0.25),
                &[],
            ),
            (&[(S, "traceidratio")], None, TraceIdRatio(1.0), &[]),
            (
                &[(S, "parentbased_traceidratio"), (A, "0")],
                None,
                ParentBasedTraceIdRatio(0.0),
                &[],
            ),
            (
                &[(S, "parentbased_traceidratio"), (A, " 1 ")],
                None,
                ParentBasedTraceIdRatio(1.0),
                &[],
            ),
            (
                &[(S, "traceidratio"), (A, "1.5")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "-0.1")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "NaN")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "half")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (&[(S, "jaeger_remote")], None, ParentBasedAlwaysOn, &[S]),
            (&[(S, "sometimes")], None, ParentBasedAlwaysOn, &[S]),
            (&[(S, "always_on"), (A, "0.5")], None, AlwaysOn, &[A]),
            (&[(A, "0.5")], None, ParentBasedAlwaysOn, &[A]),
            (
                &[(S, "always_on"), (A, "x")],
                Some(AlwaysOff),
                AlwaysOff,
                &[],
            ),
            (
                &[(S, "nonsense")],
                Some(TraceIdRatio(0.5)),
                TraceIdRatio(0.5),
                &[],
            ),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let got = resolve_sampler(&env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn sampler_warnings_say_what_is_used() {
        let mut w = Vec::new();
        resolve_sampler(
            &env_of(&[(OTEL_TRACES_SAMPLER, "jaeger_remote")]),
            None,
            &mut w,
        );
        assert!(
            w[0].message()
                .contains("not supported by buildtrace; ignored, using parentbased_always_on"),
            "{}",
            w[0]
        );
        let mut w = Vec::new();
        resolve_sampler(
            &env_of(&[
                (OTEL_TRACES_SAMPLER, "traceidratio"),
                (OTEL_TRACES_SAMPLER_ARG, "2"),
            ]),
            None,
            &mut w,
        );
        assert!(w[0].message().contains("using ratio 1"), "{}", w[0]);
    }

    #[test]
    fn sampler_maps_to_the_sdk() {
        let cases = [
            (SamplerConfig::AlwaysOn, "AlwaysOn"),
            (SamplerConfig::AlwaysOff, "AlwaysOff"),
            (SamplerConfig::TraceIdRatio(0.25), "TraceIdRatioBased(0.25)"),
            (SamplerConfig::ParentBasedAlwaysOn, "ParentBased(AlwaysOn)"),
            (
                SamplerConfig::ParentBasedAlwaysOff,
                "ParentBased(AlwaysOff)",
            ),
            (
                SamplerConfig::ParentBasedTraceIdRatio(0.5),
                "ParentBased(TraceIdRatioBased(0.5))",
            ),
        ];
        for (sampler, want) in cases {
            assert_eq!(format!("{:?}", sampler.to_sdk()), want);
        }
    }

    // --- batch span processor -------------------------------------------------

    #[test]
    fn batch_table() {
        const D: &str = OTEL_BSP_SCHEDULE_DELAY;
        const T: &str = OTEL_BSP_EXPORT_TIMEOUT;
        const Q: &str = OTEL_BSP_MAX_QUEUE_SIZE;
        const B: &str = OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
        let none = BatchOverrides::default();
        // (env, code, (delay ms, timeout ms, queue, batch), warned variables)
        // (delay ms, timeout ms, queue size, batch size)
        type Want = (u64, u64, usize, usize);
        let cases: &[(Pairs, BatchOverrides, Want, Warned)] = &[
            (&[], none.clone(), (5_000, 30_000, 2_048, 512), &[]),
            (
                &[(D, "100"), (T, "200"), (Q, "300"), (B, "40")],
                none.clone(),
                (100, 200, 300, 40),
                &[],
            ),
            (&[(D, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[D]),
            (&[(T, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[T]),
            (&[(Q, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[Q]),
            (&[(B, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[B]),
            (
                &[(D, "-1"), (T, "x")],
                none.clone(),
                (5_000, 30_000, 2_048, 512),
                &[D, T],
            ),
            (
                &[(Q, "1000000")],
                none.clone(),
                (5_000, 30_000, 2_048, 512),
                &[Q],
            ),
            (
                &[(Q, "262144")],
                none.clone(),
                (5_000, 30_000, 262_144, 512),
                &[],
            ),
            (
                &[(B, "4096")],
                none.clone(),
                (5_000, 30_000, 2_048, 2_048),
                &[B],
            ),
            // The default batch size follows a smaller queue silently.
            (&[(Q, "100")], none.clone(), (5_000, 30_000, 100, 100), &[]),
            (
                &[(D, "1"), (T, "2"), (Q, "3"), (B, "x")],
                BatchOverrides {
                    schedule_delay: Some(Duration::from_millis(7)),
                    export_timeout: Some(Duration::from_millis(8)),
                    max_queue_size: Some(90),
                    max_export_batch_size: Some(9),
                },
                (7, 8, 90, 9),
                &[],
            ),
            (
                &[],
                BatchOverrides {
                    max_queue_size: Some(10),
                    max_export_batch_size: Some(20),
                    ..BatchOverrides::default()
                },
                (5_000, 30_000, 10, 10),
                &[B],
            ),
        ];
        for (pairs, code, (delay, timeout, queue, batch), warned) in cases {
            let mut w = Vec::new();
            let got = resolve_batch(&env_of(pairs), code, &mut w);
            let want = BatchConfig {
                schedule_delay: Duration::from_millis(*delay),
                export_timeout: Duration::from_millis(*timeout),
                max_queue_size: *queue,
                max_export_batch_size: *batch,
            };
            assert_eq!(got, want, "env {pairs:?}, code {code:?}");
            assert_eq!(&vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn batch_clamp_warning_names_both_sources() {
        let mut w = Vec::new();
        resolve_batch(
            &env_of(&[(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "4096")]),
            &BatchOverrides::default(),
            &mut w,
        );
        assert_eq!(
            w[0].message(),
            "the batch size 4096 (from OTEL_BSP_MAX_EXPORT_BATCH_SIZE) is larger than the queue \
             size 2048 (the default); using 2048"
        );
    }

    #[test]
    fn batch_config_maps_to_the_sdk() {
        let batch = BatchConfig {
            schedule_delay: Duration::from_millis(123),
            export_timeout: Duration::from_millis(456),
            max_queue_size: 789,
            max_export_batch_size: 10,
        };
        let debug = format!("{:?}", batch.to_sdk());
        for want in [
            "max_queue_size: 789",
            "scheduled_delay: 123ms",
            "max_export_batch_size: 10",
        ] {
            assert!(debug.contains(want), "{want} in {debug}");
        }
    }

    // --- all together -----------------------------------------------------------

    #[test]
    fn defaults_with_an_empty_environment() {
        let (config, warnings) = resolve(&|_| None, &Overrides::default());
        assert!(warnings.is_empty());
        let want = Config {
            disabled: false,
            service_name: None,
            resource_attributes: Vec::new(),
            exporter: ExporterKind::Otlp,
            protocol: Protocol::HttpProtobuf,
            endpoint: "http://localhost:4318/v1/traces".into(),
            headers: Headers::default(),
            timeout: Duration::from_secs(10),
            compression: Compression::None,
            sampler: SamplerConfig::ParentBasedAlwaysOn,
            batch: BatchConfig {
                schedule_delay: Duration::from_secs(5),
                export_timeout: Duration::from_secs(30),
                max_queue_size: 2_048,
                max_export_batch_size: 512,
            },
        };
        assert_eq!(config, want);
    }

    #[test]
    fn code_overrides_win_everywhere() {
        let env = [
            (OTEL_SDK_DISABLED, "true"),
            (OTEL_SERVICE_NAME, "env"),
            (OTEL_TRACES_EXPORTER, "console"),
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "http/protobuf"),
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "http://env:1"),
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "e=1"),
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "1"),
            (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, "gzip"),
            (OTEL_TRACES_SAMPLER, "always_off"),
            (OTEL_BSP_MAX_QUEUE_SIZE, "5"),
        ];
        let overrides = Overrides {
            sdk_disabled: Some(false),
            service_name: Some("code".into()),
            traces_exporter: Some(ExporterKind::Otlp),
            protocol: Some(Protocol::Grpc),
            endpoint: Some("http://code:2".into()),
            headers: Some([("c", "2")].into_iter().collect()),
            timeout: Some(Duration::from_millis(2)),
            compression: Some(Compression::None),
            sampler: Some(SamplerConfig::AlwaysOn),
            batch: BatchOverrides {
                max_queue_size: Some(6),
                ..BatchOverrides::default()
            },
        };
        let (config, warnings) = run(&env, &overrides);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!config.disabled);
        assert_eq!(config.service_name.as_deref(), Some("code"));
        assert_eq!(config.exporter, ExporterKind::Otlp);
        assert_eq!(config.protocol, Protocol::Grpc);
        assert_eq!(config.endpoint, "http://code:2");
        assert_eq!(config.headers.pairs(), [("c".into(), "2".into())]);
        assert_eq!(config.timeout, Duration::from_millis(2));
        assert_eq!(config.compression, Compression::None);
        assert_eq!(config.sampler, SamplerConfig::AlwaysOn);
        assert_eq!(config.batch.max_queue_size, 6);
    }

    #[test]
    fn every_warning_is_one_line_naming_its_variable_and_the_replacement() {
        let hostile = "bad\nvalue\u{202e}\u{7}";
        let pairs = [
            (OTEL_SDK_DISABLED, hostile),
            (OTEL_RESOURCE_ATTRIBUTES, hostile),
            (OTEL_TRACES_EXPORTER, hostile),
            (OTEL_EXPORTER_OTLP_PROTOCOL, hostile),
            (OTEL_EXPORTER_OTLP_ENDPOINT, hostile),
            (OTEL_EXPORTER_OTLP_HEADERS, hostile),
            (OTEL_EXPORTER_OTLP_TIMEOUT, hostile),
            (OTEL_EXPORTER_OTLP_COMPRESSION, hostile),
            (OTEL_TRACES_SAMPLER, hostile),
            (OTEL_TRACES_SAMPLER_ARG, hostile),
            (OTEL_BSP_SCHEDULE_DELAY, hostile),
            (OTEL_BSP_EXPORT_TIMEOUT, hostile),
            (OTEL_BSP_MAX_QUEUE_SIZE, hostile),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, hostile),
        ];
        let (_, warnings) = run(&pairs, &Overrides::default());
        let mut warned = vars(&warnings);
        warned.sort_unstable();
        let mut want: Vec<_> = pairs.iter().map(|(k, _)| *k).collect();
        want.sort_unstable();
        assert_eq!(warned, want);
        for warning in &warnings {
            let line = warning.to_string();
            assert!(line.starts_with(warning.variable()), "{line}");
            assert!(
                !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{line:?}"
            );
            assert!(
                ["using", "discarded", "ignored"]
                    .iter()
                    .any(|w| line.contains(w)),
                "{line}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_values_are_ignored_with_a_warning() {
        let names = [
            OTEL_SDK_DISABLED,
            OTEL_TRACES_EXPORTER,
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
            OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
            OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
            OTEL_TRACES_SAMPLER,
            OTEL_BSP_SCHEDULE_DELAY,
        ];
        let env = env_os(names.iter().map(|&n| (n, not_unicode("1"))).collect());
        let (config, warnings) = resolve(&env, &Overrides::default());
        assert_eq!(vars(&warnings).len(), names.len(), "{warnings:?}");
        assert!(warnings.iter().all(|w| w.message().contains("Unicode")));
        let (defaults, _) = resolve(&|_| None, &Overrides::default());
        assert_eq!(config, defaults);
    }

    #[test]
    fn quote_escapes_and_shortens() {
        assert_eq!(quote("a\nb"), r#""a\nb""#);
        let long = quote(&"x".repeat(1000));
        assert!(long.len() < 80 && long.ends_with('…'), "{long}");
    }
}
