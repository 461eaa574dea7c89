//! Configuration from the environment, per the OpenTelemetry specification.
//!
//! An OpenTelemetry SDK takes its settings from four places at once: the
//! program itself, a *signal-specific* environment variable
//! (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`), the *generic* one
//! (`OTEL_EXPORTER_OTLP_TIMEOUT`), and the specification's default. This
//! module turns all of them into one [`Config`] for traces, logs and metrics
//! (one table of variables per [`Signal`], one resolver per setting), following the
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
//! | `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` with the `otlp-http` feature, `grpc` without it (see [Transports](#transports)) | `grpc`, `http/protobuf` (`http/json` is not supported) | warning; next level. A protocol whose transport the build leaves out: one warning naming the feature; the other transport |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the generic variable's | an `http://` or `https://` URL with a host (and a numeric port, if any), used as-is | warning; next level |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318/v1/traces` (HTTP), `http://localhost:4317` (gRPC) | a base URL, checked the same way (for gRPC, `host:port` without a scheme too: TLS unless `OTEL_EXPORTER_OTLP_INSECURE` is `true`): HTTP appends `/v1/traces` to its path (one `/` between, before any query), gRPC uses it as-is. A base that already ends in `/v1/traces` still gets it appended, with a warning | warning; default |
//! | `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, then `OTEL_EXPORTER_OTLP_HEADERS` | none | a `key=value` list as for resource attributes; keys must be HTTP header names, values free of control characters; the signal-specific variable replaces the generic one entirely | warning naming the variable, **never** its value; the whole variable is ignored, next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, then `OTEL_EXPORTER_OTLP_TIMEOUT` | `10000` | whole milliseconds, 1 to 2³¹−1 | warning; next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, then `OTEL_EXPORTER_OTLP_COMPRESSION` | `none` | `gzip`, `none` | warning; next level |
//! | `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, then `OTEL_EXPORTER_OTLP_CERTIFICATE` | none: the system's root certificates | the path of a PEM file of CA certificates that verify the collector's certificate, instead of the system's roots | read when the exporter is built: missing, unreadable or not PEM is one warning naming the variable and the file, and the traces export is off (the application runs on). Set with an `http://` endpoint: warning; not used |
//! | `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`, then `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` | none | the path of a PEM file of the client's certificate chain, for mTLS; only with a client key | as for the certificate; set without a key: warning, no client certificate is sent |
//! | `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`, then `OTEL_EXPORTER_OTLP_CLIENT_KEY` | none | the path of a PEM file of the client's private key (PKCS#8, PKCS#1 or SEC1), for mTLS; only with a client certificate | as for the certificate; set without a certificate: warning, no client certificate is sent |
//! | `OTEL_EXPORTER_OTLP_TRACES_INSECURE`, then `OTEL_EXPORTER_OTLP_INSECURE` | `false` | `true` or `false`: whether a gRPC endpoint given without a scheme (`host:port`) is plaintext (`true`) or TLS (`false`) | warning; next level. `true` with an endpoint that has a scheme: warning; the scheme decides |
//! | `OTEL_TRACES_SAMPLER` | `parentbased_always_on` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` | warning; default |
//! | `OTEL_TRACES_SAMPLER_ARG` | `1.0` | for the two ratio samplers only: a number from 0 to 1 | warning; `1.0`. Set with another sampler: warning; ignored |
//! | `OTEL_PROPAGATORS` | `tracecontext,baggage` | a comma-separated list of `tracecontext`, `baggage`, `b3` (one header), `b3multi` (`X-B3-*`), or `none` alone; case-insensitive, duplicates count once | an entry that cannot be used (unknown, or `jaeger`, `xray`, `ottrace`, which no maintained crate implements for this OpenTelemetry version): one warning each, the others still apply; `none` with others: warning, none |
//! | `OTEL_BSP_SCHEDULE_DELAY` | `5000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BSP_EXPORT_TIMEOUT` | `30000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BSP_MAX_QUEUE_SIZE` | `2048` | 1 to [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] spans | warning; default |
//! | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | `512` | 1 to 2³¹−1 spans, at most the queue size | warning; default. Larger than the queue size: warning; the queue size (the default 512 follows a smaller queue silently) |
//! | `OTEL_LOGS_EXPORTER`, `OTEL_METRICS_EXPORTER` | `otlp` | as `OTEL_TRACES_EXPORTER`: `otlp`, `console`, `none` (`prometheus` is not built in) | warning; `otlp` |
//! | `OTEL_EXPORTER_OTLP_LOGS_*`, `OTEL_EXPORTER_OTLP_METRICS_*` (`PROTOCOL`, `ENDPOINT`, `HEADERS`, `TIMEOUT`, `COMPRESSION`, `CERTIFICATE`, `CLIENT_CERTIFICATE`, `CLIENT_KEY`, `INSECURE`) | the generic variable's, as for traces | as the `TRACES` variables; over HTTP the generic endpoint gets `/v1/logs` or `/v1/metrics` appended | as for traces. A generic variable that every signal reads is warned about once |
//! | `OTEL_BLRP_SCHEDULE_DELAY` | `1000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BLRP_EXPORT_TIMEOUT` | `30000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_BLRP_MAX_QUEUE_SIZE` | `2048` | 1 to [`OTEL_BSP_MAX_QUEUE_SIZE_LIMIT`] log records | warning; default |
//! | `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` | `512` | 1 to 2³¹−1 log records, at most the queue size | as `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` |
//! | `OTEL_METRIC_EXPORT_INTERVAL` | `60000` | whole milliseconds, 1 to 2³¹−1 | warning; default |
//! | `OTEL_METRIC_EXPORT_TIMEOUT` | `30000` | whole milliseconds, 1 to 2³¹−1, at most the interval | warning; default. Longer than the interval: warning; the interval (the default follows a shorter interval silently) |
//! | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative` | `cumulative`, `delta`, `lowmemory` (any case) | warning; `cumulative` |
//!
//! Enumerated values are matched case-insensitively, and whitespace around
//! enumerated, numeric and URL values is ignored. A variable whose value is not
//! valid Unicode is invalid.
//!
//! # Transports
//!
//! Each OTLP transport is a feature: `otlp-grpc` (on by default) and
//! `otlp-http` (opt-in). The specification's default protocol,
//! `http/protobuf`, is the default when `otlp-http` is compiled in; without
//! it the default is `grpc`, silently. A protocol asked for (in any
//! `*_PROTOCOL` variable, or with [`Overrides::protocol`]) whose transport
//! the build leaves out is one warning, however many signals ask, naming the
//! feature to enable; the signal uses the transport that is compiled in,
//! with that transport's default endpoint unless one is configured. With no
//! transport compiled in (`init` alone), initialisation reports that the
//! export is off.
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

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

#[cfg(doc)]
use crate::provenance::MAX_VALUE_LEN;

mod batch;
mod endpoint;
mod exporter;
mod kv_list;
mod metrics;
mod precedence;
mod propagators;
mod request;
mod resource;
mod sampler;
mod signal;
#[cfg(test)]
mod test_support;
mod tls;
mod transport;
mod url;
mod values;
mod vars;

pub use kv_list::{parse_resource_attributes, KeyValueListError, MemberPart};
pub use metrics::{MetricReaderConfig, MetricReaderOverrides, Temporality};
pub use propagators::Propagator;
pub use signal::Signal;
pub use tls::{TlsFile, TlsOverrides, TlsSettings};
pub use values::{BatchConfig, Compression, ExporterKind, Headers, Protocol, SamplerConfig};
pub use vars::*;

use batch::resolve_batch;
use endpoint::resolve_endpoint;
use exporter::{resolve_exporter, resolve_protocol};
use metrics::resolve_metric_reader;
use propagators::resolve_propagators;
use request::{resolve_compression, resolve_headers, resolve_timeout};
use resource::{
    resolve_disabled, resolve_resource_attributes, resolve_service_name, take_service_name,
};
use sampler::resolve_sampler;
use signal::SignalVars;
use tls::{resolve_insecure, resolve_tls};
use transport::Transports;
use url::redact_url;

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
    /// Transport security: CA bundle, client certificate and key, insecure.
    pub tls: TlsOverrides,
    /// The text-map propagators, in order; empty installs none.
    pub propagators: Option<Vec<Propagator>>,
    /// The logs exporter.
    pub logs_exporter: Option<ExporterKind>,
    /// The logs endpoint, used exactly as given.
    pub logs_endpoint: Option<String>,
    /// Batch log record processor settings.
    pub logs_batch: BatchOverrides,
    /// The metrics exporter.
    pub metrics_exporter: Option<ExporterKind>,
    /// The metrics endpoint, used exactly as given.
    pub metrics_endpoint: Option<String>,
    /// Periodic metric reader settings.
    pub metric_reader: MetricReaderOverrides,
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
    /// Transport security files (read when the exporter is built).
    pub tls: TlsSettings,
    /// The text-map propagators `init` installs, in order; empty: none.
    pub propagators: Vec<Propagator>,
    /// Where log records go, and how.
    pub logs: SignalConfig,
    /// Batch log record processor settings.
    pub logs_batch: BatchConfig,
    /// Where metrics go, and how.
    pub metrics: SignalConfig,
    /// Periodic metric reader settings.
    pub metric_reader: MetricReaderConfig,
}

/// One signal's exporter and OTLP transport settings.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SignalConfig {
    /// Where the signal goes.
    pub exporter: ExporterKind,
    /// The OTLP transport.
    pub protocol: Protocol,
    /// The final endpoint URL; over HTTP, the full URL of the signal's path.
    pub endpoint: String,
    /// Request headers.
    pub headers: Headers,
    /// Time limit of one export request.
    pub timeout: Duration,
    /// Compression of export requests.
    pub compression: Compression,
    /// Transport security files (read when the exporter is built).
    pub tls: TlsSettings,
}

impl SignalConfig {
    /// [`SignalConfig::endpoint`] without credentials, for messages.
    pub fn redacted_endpoint(&self) -> String {
        redact_url(&self.endpoint)
    }
}

impl fmt::Debug for SignalConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalConfig")
            .field("exporter", &self.exporter)
            .field("protocol", &self.protocol)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Config {
    /// [`Config::endpoint`] for messages and logs: any user information and
    /// query string, which may carry credentials, replaced by `<redacted>`.
    ///
    /// # Examples
    /// ```
    /// # use buildtrace::telemetry::config::{resolve, Overrides};
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

    /// One signal's exporter and transport; for traces, the fields above.
    pub fn signal(&self, signal: Signal) -> SignalConfig {
        match signal {
            Signal::Traces => SignalConfig {
                exporter: self.exporter,
                protocol: self.protocol,
                endpoint: self.endpoint.clone(),
                headers: self.headers.clone(),
                timeout: self.timeout,
                compression: self.compression,
                tls: self.tls.clone(),
            },
            Signal::Logs => self.logs.clone(),
            Signal::Metrics => self.metrics.clone(),
        }
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
            .field("tls", &self.tls)
            .field("propagators", &self.propagators)
            .field("logs", &self.logs)
            .field("logs_batch", &self.logs_batch)
            .field("metrics", &self.metrics)
            .field("metric_reader", &self.metric_reader)
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
    pub(super) fn new(variable: &'static str, message: String) -> Self {
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

/// Resolves the configuration from `env` (a variable lookup) and the code
/// settings in `overrides`, following the precedence and the table in the
/// [module documentation](self).
///
/// Nothing is read except through `env`, and nothing is printed: the
/// returned warnings are for the caller to report, once each.
///
/// # Examples
/// ```
/// use buildtrace::telemetry::config::{resolve, Overrides, Protocol};
/// use std::ffi::OsString;
///
/// let env = |name: &str| match name {
///     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some(OsString::from("grpc")),
///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(OsString::from("http://collector:4317")),
///     "OTEL_EXPORTER_OTLP_TIMEOUT" => Some(OsString::from("soon")),
///     _ => None,
/// };
/// let (config, warnings) = resolve(&env, &Overrides::default());
/// assert_eq!(config.protocol, Protocol::Grpc);
/// assert_eq!(config.endpoint, "http://collector:4317");
/// assert_eq!(warnings.len(), 1);
/// assert_eq!(warnings[0].variable(), "OTEL_EXPORTER_OTLP_TIMEOUT");
/// ```
pub fn resolve(
    env: &dyn Fn(&str) -> Option<OsString>,
    overrides: &Overrides,
) -> (Config, Vec<Warning>) {
    resolve_for(env, overrides, Transports::COMPILED)
}

/// [`resolve`] for a build that carries `transports`.
fn resolve_for(
    env: &dyn Fn(&str) -> Option<OsString>,
    overrides: &Overrides,
    transports: Transports,
) -> (Config, Vec<Warning>) {
    let mut warnings = Vec::new();
    let w = &mut warnings;

    let disabled = resolve_disabled(env, overrides.sdk_disabled, w);
    let mut resource_attributes = resolve_resource_attributes(env, w);
    let from_attributes = take_service_name(&mut resource_attributes);
    let service_name =
        resolve_service_name(env, overrides.service_name.as_deref(), from_attributes, w);
    let [traces, logs, metrics] = [
        (
            Signal::Traces,
            overrides.traces_exporter,
            &overrides.endpoint,
        ),
        (
            Signal::Logs,
            overrides.logs_exporter,
            &overrides.logs_endpoint,
        ),
        (
            Signal::Metrics,
            overrides.metrics_exporter,
            &overrides.metrics_endpoint,
        ),
    ]
    .map(|(signal, exporter, endpoint)| {
        resolve_signal(
            signal.vars(),
            env,
            overrides,
            exporter,
            endpoint.as_deref(),
            transports,
            w,
        )
    });

    let sampler = resolve_sampler(env, overrides.sampler, w);
    let propagators = resolve_propagators(env, overrides.propagators.as_deref(), w);
    let batch = resolve_batch(&signal::BSP, env, &overrides.batch, w);
    let logs_batch = resolve_batch(&signal::BLRP, env, &overrides.logs_batch, w);
    let metric_reader = resolve_metric_reader(env, &overrides.metric_reader, w);

    if disabled {
        // A disabled SDK uses none of it: say nothing.
        warnings.clear();
    }
    let config = Config {
        disabled,
        service_name,
        resource_attributes,
        exporter: traces.exporter,
        protocol: traces.protocol,
        endpoint: traces.endpoint,
        headers: traces.headers,
        timeout: traces.timeout,
        compression: traces.compression,
        sampler,
        batch,
        tls: traces.tls,
        propagators,
        logs,
        logs_batch,
        metrics,
        metric_reader,
    };
    (config, warnings)
}

/// [`resolve`] over the process environment ([`std::env::var_os`]).
pub fn from_env(overrides: &Overrides) -> (Config, Vec<Warning>) {
    resolve(&|name| std::env::var_os(name), overrides)
}

#[cfg(test)]
mod tests;

/// One signal's exporter and transport. The OTLP settings' warnings are
/// kept only when the signal's exporter is OTLP, and a variable another
/// signal already warned about (a generic one) is not warned about again;
/// nor is a transport left out of the build, whichever variable asked for it.
fn resolve_signal(
    v: &SignalVars,
    env: &dyn Fn(&str) -> Option<OsString>,
    overrides: &Overrides,
    exporter: Option<ExporterKind>,
    endpoint: Option<&str>,
    transports: Transports,
    w: &mut Vec<Warning>,
) -> SignalConfig {
    let exporter = resolve_exporter(v, env, exporter, w);

    // OTLP settings only matter to the OTLP exporter; their warnings are kept
    // apart so that they can be dropped for the others.
    let mut otlp = Vec::new();
    let (asked, source) = resolve_protocol(v, env, overrides.protocol, &mut otlp);
    // Before the endpoint: its default and path follow the protocol used.
    let (protocol, left_out) = transport::settle(asked, source, transports);
    let (insecure, insecure_var) = resolve_insecure(v, env, overrides.tls.insecure, &mut otlp);
    let (endpoint, bare) = resolve_endpoint(v, env, endpoint, protocol, insecure, &mut otlp);
    // Only `true` conflicts with a scheme: `false` asks for what it has; a
    // default endpoint is nobody's choice.
    let defaulted = endpoint == v.default_endpoint(protocol);
    if let Some(var) = insecure_var.filter(|_| insecure && !bare && !defaulted) {
        otlp.push(Warning::new(
            var,
            format!(
                "applies only to a gRPC endpoint given without a scheme (host:port); \
                 ignored, the scheme of {} decides",
                redact_url(&endpoint)
            ),
        ));
    }
    let tls = resolve_tls(v, env, &overrides.tls, &mut otlp);
    if endpoint
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
    {
        // Files set in code are the program's decision: nothing to warn about.
        let from_env = [&tls.certificate, &tls.client_certificate]
            .into_iter()
            .flatten()
            .filter(|f| f.from() != "code");
        for file in from_env {
            otlp.push(Warning::new(
                file.from(),
                format!(
                    "the endpoint {} is plaintext (http://): no TLS, the file is not used",
                    redact_url(&endpoint)
                ),
            ));
        }
    }
    let headers = resolve_headers(v, env, overrides.headers.clone(), &mut otlp);
    let timeout = resolve_timeout(v, env, overrides.timeout, &mut otlp);
    let compression = resolve_compression(v, env, overrides.compression, &mut otlp);
    if exporter == ExporterKind::Otlp {
        for warning in otlp {
            if !w.iter().any(|seen| seen.variable == warning.variable) {
                w.push(warning);
            }
        }
        if let Some(warning) = left_out {
            if !w.iter().any(|seen| seen.message == warning.message) {
                w.push(warning);
            }
        }
    }
    SignalConfig {
        exporter,
        protocol,
        endpoint,
        headers,
        timeout,
        compression,
        tls,
    }
}
