//! The three signals and the variables each one reads: one table per signal,
//! so that every resolver is written once and serves traces, logs and
//! metrics alike.

use std::time::Duration;

use super::vars::*;

/// An OpenTelemetry signal buildtrace exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Log records (`tracing` events).
    Logs,
    /// Metrics.
    Metrics,
}

impl Signal {
    /// Every signal, in the order `init` sets them up.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Logs, Signal::Metrics];

    /// The signal's name as the specification writes it (`traces`, `logs`,
    /// `metrics`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }

    /// What one exported item is called in messages.
    pub(crate) const fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
            Signal::Metrics => "metric exports",
        }
    }

    pub(super) const fn vars(self) -> &'static SignalVars {
        match self {
            Signal::Traces => &TRACES,
            Signal::Logs => &LOGS,
            Signal::Metrics => &METRICS,
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The variables one signal reads: its own, then the generic one.
#[derive(Debug)]
pub(super) struct SignalVars {
    pub(super) exporter: &'static str,
    pub(super) protocol: &'static str,
    pub(super) endpoint: &'static str,
    pub(super) headers: &'static str,
    pub(super) timeout: &'static str,
    pub(super) compression: &'static str,
    pub(super) certificate: &'static str,
    pub(super) client_certificate: &'static str,
    pub(super) client_key: &'static str,
    pub(super) insecure: &'static str,
    /// The path HTTP appends to the generic endpoint.
    pub(super) http_path: &'static str,
    /// The endpoint over HTTP when none is configured.
    pub(super) http_default: &'static str,
}

impl SignalVars {
    /// The endpoint when none is configured.
    pub(super) fn default_endpoint(&self, protocol: super::Protocol) -> &'static str {
        match protocol {
            super::Protocol::Grpc => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_GRPC_DEFAULT,
            super::Protocol::HttpProtobuf => self.http_default,
        }
    }
}

pub(super) static TRACES: SignalVars = SignalVars {
    exporter: OTEL_TRACES_EXPORTER,
    protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    certificate: OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
    insecure: OTEL_EXPORTER_OTLP_TRACES_INSECURE,
    http_path: OTLP_HTTP_TRACES_PATH,
    http_default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_HTTP_DEFAULT,
};

pub(super) static LOGS: SignalVars = SignalVars {
    exporter: OTEL_LOGS_EXPORTER,
    protocol: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
    certificate: OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
    insecure: OTEL_EXPORTER_OTLP_LOGS_INSECURE,
    http_path: OTLP_HTTP_LOGS_PATH,
    http_default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_HTTP_DEFAULT,
};

pub(super) static METRICS: SignalVars = SignalVars {
    exporter: OTEL_METRICS_EXPORTER,
    protocol: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION,
    certificate: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY,
    insecure: OTEL_EXPORTER_OTLP_METRICS_INSECURE,
    http_path: OTLP_HTTP_METRICS_PATH,
    http_default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT_HTTP_DEFAULT,
};

/// The variables of a batch processor (`OTEL_BSP_*` for spans,
/// `OTEL_BLRP_*` for log records).
#[derive(Debug)]
pub(super) struct BatchVars {
    pub(super) schedule_delay: (&'static str, Duration),
    pub(super) export_timeout: (&'static str, Duration),
    pub(super) max_queue_size: (&'static str, usize),
    pub(super) max_export_batch_size: (&'static str, usize),
    /// What the queue holds, for messages.
    pub(super) items: &'static str,
}

pub(super) static BSP: BatchVars = BatchVars {
    schedule_delay: (OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_DEFAULT),
    export_timeout: (OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_EXPORT_TIMEOUT_DEFAULT),
    max_queue_size: (OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT),
    max_export_batch_size: (
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    ),
    items: "spans",
};

pub(super) static BLRP: BatchVars = BatchVars {
    schedule_delay: (OTEL_BLRP_SCHEDULE_DELAY, OTEL_BLRP_SCHEDULE_DELAY_DEFAULT),
    export_timeout: (OTEL_BLRP_EXPORT_TIMEOUT, OTEL_BLRP_EXPORT_TIMEOUT_DEFAULT),
    max_queue_size: (OTEL_BLRP_MAX_QUEUE_SIZE, OTEL_BLRP_MAX_QUEUE_SIZE_DEFAULT),
    max_export_batch_size: (
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
        OTEL_BLRP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    ),
    items: "log records",
};
