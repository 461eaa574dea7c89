//! Configuration from the environment, per the OpenTelemetry specification.
