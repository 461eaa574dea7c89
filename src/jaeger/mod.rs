//! Follow a build into Jaeger: a client for Jaeger's HTTP query API, the
//! traces it returns, and how `buildtrace traces` and `buildtrace lookup`
//! show them.
//!
//! Every process of a build reports the build's provenance as its
//! OpenTelemetry resource, and Jaeger keeps the resource as the process's
//! tags. So the build's provenance id, [`buildtrace.id`](crate::names::ID),
//! finds the traces that exactly this build emitted
//! ([`Client::traces_of_build`]), and one trace, fetched by id
//! ([`Client::trace`]), names the commit, compiler, target, settings and CI
//! run of the binary that sent it ([`lookup`]).
//!
//! # What it reads
//!
//! The JSON API that Jaeger's UI uses, three GETs:
//!
//! - `/api/traces?service=…&tags=…&start=…&end=…&limit=…`: a search
//!   ([`Client::search`]);
//! - `/api/traces/<id>`: one trace ([`Client::trace`]), `None` on 404;
//! - `/api/services`: the service names ([`Client::services`]).
//!
//! An answer is `{"data": …}`: a list of traces, each its spans (operation
//! name, start and duration in microseconds, references, tags, logs, process
//! id) and its processes (service name and tags), decoded into [`Trace`];
//! or a list of service names. A refusal is `{"errors": [{"msg": …}]}`.
//!
//! # A hostile server
//!
//! Whatever listens at the URL may be something else than Jaeger, or lie.
//! The client
//!
//! - bounds every request with its [`Limits`]: a timeout for name
//!   resolution, the connection and each read (5 s), one for the whole
//!   request (30 s), and a largest answer (64 MiB), past which it stops
//!   reading ([`JaegerError::Timeout`], [`JaegerError::TooLarge`]);
//! - speaks plain `http` to a base URL without query or fragment, and puts
//!   a trace id in a path only after checking it is 1 to 32 hexadecimal
//!   digits ([`is_trace_id`]);
//! - reads the bytes as JSON whatever the content type says (nesting is
//!   bounded by `serde_json`), and turns an answer of another shape into
//!   [`JaegerError::NotJson`] or [`JaegerError::Shape`], never a panic;
//! - filters a search's answer again ([`Client::traces_of_build`]), so a
//!   server that ignores the tag filter cannot pass off another build's
//!   traces.
//!
//! Every string decoded came over the network: the renderers here
//! ([`listing`], [`lookup`], [`timeline`]) escape it for the terminal, and
//! so must anyone else who prints it, errors included
//! ([`escape_terminal`](crate::inspect::render::escape_terminal)).
//!
//! # Examples
//!
//! ```no_run
//! use std::time::Duration;
//! use buildtrace::jaeger::{listing, Client};
//!
//! let jaeger = Client::new("http://localhost:16686")?;
//! let traces = jaeger.traces_of_build("app", "104b…", 20, Duration::from_secs(86_400))?;
//! let summaries: Vec<_> = traces.iter().map(listing::Summary::of).collect();
//! listing::write_human(&mut std::io::stdout(), &summaries)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod error;
pub mod listing;
pub mod lookup;
mod model;
pub mod time;
pub mod timeline;

pub use client::{Client, Limits, Search};
pub use error::JaegerError;
pub use model::{emitted_by, is_trace_id, tag, Log, Process, Span, Tag, Trace};
