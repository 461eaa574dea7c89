//! The OTLP exporters, per transport, from the resolved configuration.
//!
//! What every transport shares (endpoint, per-attempt timeout, compression,
//! no retries of the exporter's own: retries are [`super::export`]'s,
//! bounded by the shutdown deadline) is set in one place per transport, by
//! functions generic over the exporter builder, so that every signal's
//! exporter is configured the same way.

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use super::config;
use std::sync::Arc;

use super::config::{Protocol, SignalConfig};
use super::export::LastFailure;
use super::tls::Loaded;
use super::InitError;

/// The span exporter of the compiled-in transports.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(super) type SpanExporter = opentelemetry_otlp::SpanExporter;

/// With no transport compiled in there is no exporter to build: every
/// protocol is [`InitError::TransportDisabled`].
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(super) type SpanExporter = NoTransport;

/// An exporter that cannot exist (no transport is compiled in).
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
#[derive(Debug)]
pub(super) enum NoTransport {}

#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
impl opentelemetry_sdk::trace::SpanExporter for NoTransport {
    async fn export(
        &self,
        _: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        match *self {}
    }
}

/// Builds an OTLP exporter of one signal (`$builder` is the exporter type's
/// `builder()`, `$extra` what that signal adds) in the export runtime's
/// context (tonic spawns its connection task there), with what its transport
/// notes of failures (HTTP only; the gRPC exporter's error carries the
/// status code).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
macro_rules! otlp_exporter {
    ($builder:expr, $config:expr, $tls:expr, $runtime:expr, $extra:expr) => {{
        let config: &SignalConfig = $config;
        let tls: &Loaded = $tls;
        let _enter = $runtime.enter();
        let _ = tls;
        match config.protocol {
            Protocol::Grpc => {
                #[cfg(feature = "otlp-grpc")]
                let built = grpc(($extra)($builder.with_tonic()), config, tls)
                    .build()
                    .map(|exporter| (exporter, None))
                    .map_err(|e| InitError::Exporter(e.to_string()));
                #[cfg(not(feature = "otlp-grpc"))]
                let built = Err(InitError::TransportDisabled("otlp-grpc"));
                built
            }
            Protocol::HttpProtobuf => {
                #[cfg(feature = "otlp-http")]
                let built = {
                    let noted = Arc::new(LastFailure::default());
                    http(($extra)($builder.with_http()), config, tls, noted.clone())
                        .and_then(|b| b.build().map_err(|e| InitError::Exporter(e.to_string())))
                        .map(|exporter| (exporter, Some(noted)))
                };
                #[cfg(not(feature = "otlp-http"))]
                let built = Err(InitError::TransportDisabled("otlp-http"));
                built
            }
        }
    }};
}

/// The span exporter.
pub(super) fn span_exporter(
    config: &SignalConfig,
    tls: &Loaded,
    runtime: &tokio::runtime::Handle,
) -> Result<(SpanExporter, Option<Arc<LastFailure>>), InitError> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    return otlp_exporter!(
        opentelemetry_otlp::SpanExporter::builder(),
        config,
        tls,
        runtime,
        |b| b
    );
    #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
    {
        let _ = (tls, runtime);
        Err(disabled(config))
    }
}

/// With no transport compiled in: the error naming the feature that
/// `config`'s protocol needs.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(super) fn disabled(config: &SignalConfig) -> InitError {
    InitError::TransportDisabled(match config.protocol {
        Protocol::Grpc => "otlp-grpc",
        Protocol::HttpProtobuf => "otlp-http",
    })
}

/// The log record exporter.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(super) fn log_exporter(
    config: &SignalConfig,
    tls: &Loaded,
    runtime: &tokio::runtime::Handle,
) -> Result<(opentelemetry_otlp::LogExporter, Option<Arc<LastFailure>>), InitError> {
    otlp_exporter!(
        opentelemetry_otlp::LogExporter::builder(),
        config,
        tls,
        runtime,
        |b| b
    )
}

/// The metrics exporter, with the temporality it reports.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(super) fn metric_exporter(
    config: &SignalConfig,
    temporality: config::Temporality,
    tls: &Loaded,
    runtime: &tokio::runtime::Handle,
) -> Result<(opentelemetry_otlp::MetricExporter, Option<Arc<LastFailure>>), InitError> {
    otlp_exporter!(
        opentelemetry_otlp::MetricExporter::builder().with_temporality(temporality.to_sdk()),
        config,
        tls,
        runtime,
        |b| b
    )
}

/// Endpoint and timeout, as every transport takes them.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn common<B: opentelemetry_otlp::WithExportConfig>(builder: B, config: &SignalConfig) -> B {
    builder
        .with_endpoint(config.endpoint.clone())
        .with_timeout(config.timeout)
}

/// gRPC (tonic): headers as metadata, TLS for `https://`, gzip if asked, no
/// retries of its own.
#[cfg(feature = "otlp-grpc")]
fn grpc<B>(builder: B, config: &SignalConfig, tls: &Loaded) -> B
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithTonicConfig,
{
    use tonic::metadata::{Ascii, MetadataKey, MetadataMap, MetadataValue};
    let mut metadata = MetadataMap::new();
    for (k, v) in config.headers.pairs() {
        // The configuration checked every name and value already.
        if let (Ok(k), Ok(v)) = (
            k.parse::<MetadataKey<Ascii>>(),
            v.parse::<MetadataValue<Ascii>>(),
        ) {
            metadata.insert(k, v);
        }
    }
    let mut b = common(builder, config)
        .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
        .with_metadata(metadata);
    if is_https(&config.endpoint) {
        b = b.with_tls_config(tls.tonic());
    }
    if config.compression == config::Compression::Gzip {
        b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    b
}

/// HTTP/protobuf (hyper over rustls): headers, TLS for `https://`, gzip if
/// asked, no retries of its own; failures noted in `noted`.
#[cfg(feature = "otlp-http")]
fn http<B>(
    builder: B,
    config: &SignalConfig,
    tls: &Loaded,
    noted: Arc<LastFailure>,
) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithHttpConfig,
{
    let client =
        super::http_client::ObservedClient::new(tls, &config.endpoint, config.timeout, noted)
            .map_err(InitError::Exporter)?;
    let mut b = common(builder, config)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
        .with_http_client(client)
        .with_headers(config.headers.pairs().iter().cloned().collect());
    if config.compression == config::Compression::Gzip {
        b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    Ok(b)
}

#[cfg(feature = "otlp-grpc")]
fn is_https(endpoint: &str) -> bool {
    endpoint
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}
