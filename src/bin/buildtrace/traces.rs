//! `buildtrace traces`: the traces in Jaeger that one build emitted.
//!
//! The file's record names both what to ask for (its `service.name`) and
//! how to tell this build's traces from those of every other build of the
//! same service (its `buildtrace.id`); [`buildtrace::jaeger`] asks and
//! renders. What is left here: the arguments, and why nothing was found.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use buildtrace::inspect::{inspect_path, Limits};
use buildtrace::jaeger::listing::{self, Summary};
use buildtrace::jaeger::{time, Client};
use buildtrace::names;
use clap::Args;

use crate::exit_codes::NotFound;

#[derive(Debug, Args)]
pub(crate) struct TracesArgs {
    /// The executable whose build to look for.
    file: PathBuf,
    /// Jaeger's query API, such as http://localhost:16686.
    #[arg(long, value_name = "URL")]
    jaeger: String,
    /// The service name the processes reported, when it is not the file's
    /// `service.name` (a process can set OTEL_SERVICE_NAME).
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// List at most N traces (Jaeger picks which when there are more).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
    /// How far back to look: a number and s, m, h or d.
    #[arg(long, value_name = "WINDOW", default_value = "2d", value_parser = time::parse_lookback)]
    lookback: Duration,
    /// Print one JSON array: traceID, start, startTimeUs, root, spans,
    /// durationUs for each trace.
    #[arg(long)]
    json: bool,
}

/// Lists the traces of the build of `args.file`.
///
/// # Errors
/// [`NotFound`] when Jaeger has none; the file's and Jaeger's errors.
pub(crate) fn run(args: &TracesArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let shown = args.file.display().to_string();
    let inspection = inspect_path(&args.file, &Limits::default()).context(shown.clone())?;
    let record = inspection.record();
    let build = record.id().with_context(|| {
        format!(
            "{shown}: the record has no {}; rebuild it with this buildtrace",
            names::ID
        )
    })?;
    let service = match (&args.service, record.get_str(names::SERVICE_NAME)) {
        (Some(name), _) => name.as_str(),
        (None, Some(name)) => name,
        (None, None) => {
            anyhow::bail!(
                "{shown}: the record has no {}; pass --service NAME",
                names::SERVICE_NAME
            )
        }
    };

    let client = Client::new(&args.jaeger)?;
    let found = client.traces_of_build(service, build, args.limit, args.lookback)?;
    if found.is_empty() {
        return Err(nothing_found(&client, args, build, service)?.into());
    }
    let summaries: Vec<Summary> = found.iter().map(Summary::of).collect();
    if args.json {
        listing::write_json(out, &summaries)?;
    } else {
        listing::write_human(out, &summaries)?;
    }
    out.flush()?;
    Ok(())
}

/// Says why nothing was found, as precisely as Jaeger's service list allows.
fn nothing_found(
    client: &Client,
    args: &TracesArgs,
    build: &str,
    service: &str,
) -> anyhow::Result<NotFound> {
    let services = client.services()?;
    let base = client.base();
    let message = if services.iter().any(|s| s == service) {
        let remedy = match args.service {
            Some(_) => "run this build against the Collector that feeds Jaeger, or widen --lookback",
            None => "run this build against the Collector that feeds Jaeger; if it set OTEL_SERVICE_NAME, pass --service NAME",
        };
        format!(
            "no trace of build {build} among the traces of service \"{service}\" in the last {} in Jaeger at {base}; {remedy}",
            time::window(args.lookback)
        )
    } else {
        let known = match services.len() {
            0 => "Jaeger has no services yet".to_owned(),
            n if n <= 10 => format!("Jaeger has: {}", services.join(", ")),
            n => format!("Jaeger has {n}, among them: {}", services[..10].join(", ")),
        };
        match args.service {
            Some(_) => format!(
                "Jaeger at {base} has no service \"{service}\"; check --service ({known})"
            ),
            None => format!(
                "Jaeger at {base} has no service \"{service}\" (the file's {}); if the program set OTEL_SERVICE_NAME, pass --service NAME ({known})",
                names::SERVICE_NAME
            ),
        }
    };
    Ok(NotFound(message))
}
