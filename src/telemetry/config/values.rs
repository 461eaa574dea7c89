//! The value types a configuration is made of: the exporter, protocol,
//! compression and sampler choices, the redacting [`Headers`] and the batch
//! settings, with their mappings to the SDK.

use std::fmt;
use std::time::Duration;

#[cfg(doc)]
use super::vars::{
    OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_EXPORTER,
    OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG,
};
use super::vars::{
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_GRPC_DEFAULT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_HTTP_DEFAULT,
};

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
    /// use buildtrace::telemetry::config::SamplerConfig;
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
/// use buildtrace::telemetry::config::Headers;
/// let headers: Headers = [("authorization", "Bearer s3cret")].into_iter().collect();
/// assert_eq!(format!("{headers:?}"), r#"{"authorization": "<redacted>"}"#);
/// assert_eq!(headers.pairs()[0].1, "Bearer s3cret");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(pub(super) Vec<(String, String)>);

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
