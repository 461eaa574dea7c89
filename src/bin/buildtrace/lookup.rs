//! `buildtrace lookup`: from a trace id to the build that emitted it.
//!
//! [`buildtrace::jaeger`] fetches the trace, picks the process that reports
//! a build and renders its provenance; what is left here: the arguments,
//! and what to say when there is nothing to show.

use std::io::Write;

use buildtrace::jaeger::{is_trace_id, lookup, Client};
use clap::Args;

use crate::exit_codes::NotFound;

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// The trace id, as `buildtrace traces` or Jaeger prints it.
    trace_id: String,
    /// Jaeger's query API, such as http://localhost:16686.
    #[arg(long, value_name = "URL")]
    jaeger: String,
    /// Print the process tags, and service.name, as one JSON object (no
    /// timeline).
    #[arg(long)]
    json: bool,
}

/// Prints the provenance of the process that emitted trace `args.trace_id`.
///
/// # Errors
/// [`NotFound`] when Jaeger does not have the trace; Jaeger's errors.
pub(crate) fn run(args: &LookupArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let id = args.trace_id.as_str();
    if !is_trace_id(id) {
        anyhow::bail!(
            "{id}: not a trace id (1 to 32 hexadecimal digits); pass one as `buildtrace traces` prints it"
        );
    }
    let client = Client::new(&args.jaeger)?;
    let Some(trace) = client.trace(id)? else {
        return Err(NotFound(format!(
            "Jaeger at {} has no trace {id}; it may not have arrived yet, or be older than Jaeger keeps traces",
            client.base()
        ))
        .into());
    };
    let Some((span, process)) = lookup::emitter(&trace) else {
        anyhow::bail!(
            "trace {id} in Jaeger at {} has no span with a process; check the trace id",
            client.base()
        );
    };
    if args.json {
        lookup::write_json(out, process)?;
    } else {
        lookup::write_human(out, &trace, span, process)?;
    }
    out.flush()?;
    Ok(())
}
