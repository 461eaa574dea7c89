//! Every binary knows how it was built, and says so in its traces.
//!
//! buildtrace records a build's provenance in the application's build script
//! (commit, dirty state, remote, compiler, target, profile, features,
//! `Cargo.lock` digest, CI run, source and build time), embeds it in a
//! dedicated linker section of the binary with a reproducible *provenance ID*,
//! and gives it back at run time for free — as OpenTelemetry resource
//! attributes with semantic-convention names — and offline, from the file,
//! with `buildtrace inspect`.
//!
//! # Quickstart
//!
//! ```toml
//! [dependencies]
//! buildtrace = "0.1"
//! [build-dependencies]
//! buildtrace = { version = "0.1", default-features = false, features = ["build"] }
//! ```
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     buildtrace::build::capture();
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs
//! buildtrace::embed!();
//!
//! fn main() {
//!     let p = buildtrace::provenance().expect("built with buildtrace::build::capture()");
//!     let commit = p.get_str(buildtrace::names::VCS_REF_HEAD_REVISION);
//!     println!("commit {}", commit.unwrap_or("unknown"));
//! }
//! ```
//!
//! Offline: `buildtrace inspect ./target/release/app` (or `--json`, `--env`).
//!
//! # Startup events
//!
//! [`startup!`] records a milestone into a static, lock-free ring in a few
//! nanoseconds, from any thread, before any exporter exists;
//! [`startup::layer::install`] captures pre-init `tracing` events into the
//! same ring and hands over to the final layer exactly once. At init,
//! [`startup::span::begin`] turns the ring into a `startup` span that starts
//! when the process started. See [the `startup` module](mod@startup).
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `otel` | yes | [`ProvenanceDetector`] (an OpenTelemetry `ResourceDetector`), the startup span, re-exports of the pinned OpenTelemetry and `tracing` crates |
//! | `init` | yes | [`telemetry`]: [`init`], [`Builder`], [`Guard`] and the [configuration](telemetry::config): traces, logs (`tracing` events through the OpenTelemetry appender) and metrics (the global meter provider), each with the same resource; pick a transport below |
//! | `otlp-grpc` | yes | OTLP over gRPC (tonic) for `init`; the default protocol when `otlp-http` is off |
//! | `otlp-http` | no | OTLP over HTTP/protobuf (hyper) for `init`, and then the default protocol, as the specification recommends; without it, `http/protobuf` asked for in the environment or in code is one warning naming the feature, and the export uses gRPC |
//! | `process-context` | yes | on Linux, `init` publishes the resource as an OpenTelemetry [process context](process_context) (OTEP 4719) for profilers; off alone with [`Builder::with_process_context`] |
//! | `internal-logs` | no | the OpenTelemetry SDK's own diagnostics as `tracing` events (targets `opentelemetry*`), for an application with a subscriber of its own; the subscriber [`init`] installs turns those targets off |
//! | `build` | no | [`build::capture`], for `build.rs` |
//! | `build-sign` | no | the build script signs the record with the key `BUILDTRACE_SIGNING_KEY` names (ECDSA P-256); without it a set key fails the build, naming this feature; implies `build` |
//! | `inspect` | no | [`inspect`], the offline reader of ELF, Mach-O and PE files |
//! | `seal` | no | [`seal`] (seal, verify, attest) and [`signing`], ECDSA P-256; implies `inspect` |
//! | `jaeger` | no | [`jaeger`], a client of Jaeger's query API: a build's traces, the build behind a trace, the startup timeline; implies `inspect` |
//! | `cli` | no | the `buildtrace` command (`cargo install buildtrace --features cli`); implies `seal` and `jaeger` |
//!
//! With no feature at all the crate still gives [`embed!`], [`provenance()`],
//! [`startup!`] and [`names`]: what a binary needs to carry and read its own
//! record.
//!
//! # Where things are
//!
//! `ARCHITECTURE.md` in the repository maps the modules (the rooms), what
//! flows between them and which may import which; a test keeps the imports
//! to that map.
//!
//! # Telemetry in one call
//!
//! [`init`] (or [`Builder`]) builds the resource, an OTLP exporter (gRPC;
//! HTTP/protobuf with the `otlp-http` feature), a batching tracer provider
//! and the `tracing` stack, hands over from the pre-init capture and sends
//! the startup span; the [`Guard`] it returns flushes within a bound. It
//! reads the OpenTelemetry environment variables as the specification defines
//! them — the table, defaults and precedence (code > signal-specific variable
//! > generic variable > default) are in [`telemetry::config`].
//!
//! # Build-script environment
//!
//! | variable | effect |
//! |---|---|
//! | `SOURCE_DATE_EPOCH` | source time and build time, for reproducible builds; an invalid value warns and is recorded as invalid |
//! | `BUILDTRACE_GIT` | the `git` executable to run (default `git`) |
//! | `BUILDTRACE_VCS_REVISION`, `BUILDTRACE_VCS_REF_NAME`, `BUILDTRACE_VCS_REF_TYPE`, `BUILDTRACE_VCS_URL` | last-resort values when neither git, `.cargo_vcs_info.json` nor the CI environment answers |
//!
//! No other environment variable is read, except the CI variables listed in
//! `FORMAT.md`; nothing that could hold a secret reaches the binary.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::undocumented_unsafe_blocks
)]

pub mod attributes;
mod build_id;
#[doc(hidden)]
pub mod embed;
pub mod names;
pub mod provenance;
mod ring;
pub mod slot;
mod sync;

#[cfg(feature = "build")]
pub mod build;
#[cfg(feature = "inspect")]
pub mod inspect;
#[cfg(feature = "jaeger")]
pub mod jaeger;
#[cfg(all(any(feature = "process-context", feature = "cli"), not(loom)))]
pub mod process_context;
#[cfg(feature = "otel")]
mod resource;
#[cfg(any(feature = "build", feature = "seal"))]
mod scrub;
#[cfg(feature = "seal")]
pub mod seal;
#[cfg(any(feature = "build-sign", feature = "seal"))]
pub mod signing;

// Under `--cfg loom` only the ring and its atomics facade are built: the
// static ring needs `const` atomics that loom does not have.
#[cfg(not(loom))]
pub mod startup;
#[cfg(all(feature = "init", not(loom)))]
pub mod telemetry;

pub use build_id::{gnu_build_id, read_gnu_build_id};
#[cfg(any(feature = "otel", feature = "inspect"))]
pub use build_id::{htlhash, htlhash_of_file};
pub use provenance::{Record, Value};
#[cfg(feature = "otel")]
pub use resource::ProvenanceDetector;
#[cfg(all(feature = "otel", not(loom)))]
pub use startup::span::ready;
#[cfg(all(feature = "init", not(loom)))]
pub use telemetry::{init, try_init, Builder, Guard, InitError};

// The pinned versions buildtrace is built with: use these re-exports, and no
// second copy of a crate can sneak into the application.
#[cfg(feature = "otel")]
pub use opentelemetry;
#[cfg(feature = "init")]
pub use opentelemetry_otlp;
#[cfg(feature = "otel")]
pub use opentelemetry_sdk;
#[cfg(feature = "otel")]
pub use tracing_opentelemetry;
#[cfg(feature = "otel")]
pub use tracing_subscriber;

use std::sync::OnceLock;

/// The provenance record of the running binary, or `None` when the binary
/// did not use [`embed!`].
///
/// The first call validates the record in place and indexes its entries (a
/// few microseconds, one allocation); every later call is one atomic load,
/// and a lookup with [`Record::get`] is a binary search. Nothing is ever read
/// from the file system.
pub fn provenance() -> Option<&'static Record<'static>> {
    static RECORD: OnceLock<Option<Record<'static>>> = OnceLock::new();
    RECORD
        .get_or_init(|| embed::registered().and_then(|bytes| Record::parse(bytes).ok()))
        .as_ref()
}
