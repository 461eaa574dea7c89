//! The OpenTelemetry process context (OTEP 4719): a running process's
//! resource, published in its own memory for profilers to read.
//!
//! A profiler such as the OpenTelemetry eBPF profiler sees a process from
//! outside: a PID, its memory, no network conversation. To tell which
//! service, build and instance a stack came from, it looks in
//! `/proc/PID/maps` for a mapping named `OTEL_CTX`, reads the 32-byte
//! [`header`] at its start and follows it to a protobuf payload holding the
//! process's `Resource`.
//!
//! - Publishing (Linux, feature `process-context`): [`init`](crate::init)
//!   publishes the whole resource it exports (provenance,
//!   `service.instance.id`, `OTEL_RESOURCE_ATTRIBUTES`, …) right after
//!   building it, unless telemetry is disabled (`OTEL_SDK_DISABLED=true`,
//!   or every exporter `none`) or
//!   [`Builder::with_process_context(false)`](crate::Builder::with_process_context)
//!   says not to. One context per process: a second `init` updates it in
//!   place; dropping the [`Guard`](crate::Guard) that published it removes
//!   it. A failure to publish is one warning; the application runs on.
//!   Forked children do not inherit the mapping.
//! - Reading (feature `cli`, or `process-context`): [`read::read_pid`],
//!   what `buildtrace inspect --pid PID` prints through [`render`]. The
//!   reader depends on no telemetry state.
//!
//! On other systems nothing is published and the reader says it needs
//! Linux.

pub mod header;
pub mod proto;
pub mod read;
#[cfg(feature = "cli")]
pub mod render;

#[cfg(all(feature = "process-context", target_os = "linux"))]
mod publish;

#[cfg(all(feature = "process-context", target_os = "linux"))]
pub use publish::{Publication, PublishError};

/// Publishes `resource` as this process's context, or updates the one
/// already published; the returned [`Publication`] removes it when dropped.
/// [`init`](crate::init) calls this; call it yourself only when you build
/// your own SDK pipeline.
///
/// # Errors
/// No memory could be mapped for it, it could not be kept out of forked
/// children, or the encoded resource is over
/// [`MAX_PAYLOAD`](header::MAX_PAYLOAD).
#[cfg(all(feature = "process-context", target_os = "linux"))]
pub fn publish(resource: &opentelemetry_sdk::Resource) -> Result<Publication, PublishError> {
    publish::publish_payload(&proto::encode(resource))
}

/// The published context: nothing on this system.
#[cfg(all(feature = "process-context", not(target_os = "linux")))]
#[derive(Debug)]
pub struct Publication(());

/// Why publishing failed: never, on this system.
#[cfg(all(feature = "process-context", not(target_os = "linux")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("process contexts are published on Linux only")]
pub struct PublishError(());

/// Publishes nothing: process contexts exist on Linux only.
///
/// # Errors
/// Never.
#[cfg(all(feature = "process-context", not(target_os = "linux")))]
pub fn publish(resource: &opentelemetry_sdk::Resource) -> Result<Publication, PublishError> {
    let _ = resource;
    Ok(Publication(()))
}
