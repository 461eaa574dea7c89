//! `buildtrace traces`: the traces in Jaeger that one build emitted.
//!
//! Every process of a build reports the build's provenance id,
//! `buildtrace.id`, as a resource attribute, which Jaeger keeps as a process
//! tag. So the file's record names both what to ask for (its
//! `service.name`) and how to tell this build's traces from those of every
//! other build of the same service (its `buildtrace.id`). Jaeger's tag
//! filter matches process tags (checked against Jaeger v2's memory storage
//! in `tests/cli_jaeger.rs`); the answer is filtered again here, so a
//! storage that only matches span tags yields nothing rather than wrong
//! traces.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use buildtrace::inspect::{inspect_path, render::escape_terminal, Limits};
use buildtrace::names;
use clap::Args;

use crate::exit_codes::NotFound;
use crate::jaeger::{tag, Client, Search, Trace};
use crate::time;

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

/// One line of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) id: String,
    /// Microseconds since the Unix epoch.
    pub(crate) start_us: u64,
    /// The root span's operation name.
    pub(crate) root: String,
    pub(crate) spans: usize,
    pub(crate) duration_us: u64,
}

impl Summary {
    pub(crate) fn of(trace: &Trace) -> Summary {
        let (start, end) = trace.extent();
        Summary {
            id: trace.id.clone(),
            start_us: start,
            root: trace
                .root()
                .map(|s| s.operation.clone())
                .unwrap_or_default(),
            spans: trace.spans.len(),
            duration_us: end - start,
        }
    }
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
            anyhow::bail!("{shown}: the record has no service.name; pass --service NAME")
        }
    };

    let client = Client::new(&args.jaeger)?;
    let now = time::now_micros();
    let window = u64::try_from(args.lookback.as_micros()).unwrap_or(u64::MAX);
    let found = client.search(&Search {
        service,
        tags: &[(names::ID, build)],
        limit: args.limit,
        start_us: now.saturating_sub(window),
        end_us: now,
    })?;
    let mut summaries: Vec<Summary> = (found.iter())
        .filter(|t| emitted_by(t, build))
        .map(Summary::of)
        .collect();
    if summaries.is_empty() {
        return Err(nothing_found(&client, args, build, service)?.into());
    }
    summaries.sort_by(|a, b| (a.start_us, &a.id).cmp(&(b.start_us, &b.id)));
    if args.json {
        write_json(out, &summaries)?;
    } else {
        write_human(out, &summaries)?;
    }
    out.flush()?;
    Ok(())
}

/// Whether a process of `trace` reports the build `id`.
fn emitted_by(trace: &Trace, id: &str) -> bool {
    (trace.processes.values()).any(|p| tag(&p.tags, names::ID).and_then(|v| v.as_str()) == Some(id))
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
                "Jaeger at {base} has no service \"{service}\" (the file's service.name); if the program set OTEL_SERVICE_NAME, pass --service NAME ({known})"
            ),
        }
    };
    Ok(NotFound(message))
}

/// One line per trace: id, start (UTC), root span, span count, duration.
///
/// ```text
/// b53b700e22407350458c18d9ee48d3e0  2026-11-26T08:14:43.274Z  startup  1 span   23.6 ms
/// ```
fn write_human(out: &mut impl Write, summaries: &[Summary]) -> std::io::Result<()> {
    let rows: Vec<[String; 4]> = (summaries.iter())
        .map(|s| {
            [
                escape_terminal(&s.id).into_owned(),
                escape_terminal(&s.root).into_owned(),
                format!("{} span{}", s.spans, if s.spans == 1 { "" } else { "s" }),
                time::human_duration(s.duration_us),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (id_w, root_w, spans_w, dur_w) = (width(0), width(1), width(2), width(3));
    for (summary, [id, root, spans, duration]) in summaries.iter().zip(&rows) {
        writeln!(
            out,
            "{id:id_w$}  {}  {root:root_w$}  {spans:spans_w$}  {duration:>dur_w$}",
            time::rfc3339_millis(summary.start_us)
        )?;
    }
    Ok(())
}

/// One JSON array of objects, then a newline.
fn write_json(out: &mut impl Write, summaries: &[Summary]) -> std::io::Result<()> {
    let list: Vec<serde_json::Value> = (summaries.iter())
        .map(|s| {
            serde_json::json!({
                "traceID": s.id,
                "start": time::rfc3339_millis(s.start_us),
                "startTimeUs": s.start_us,
                "root": s.root,
                "spans": s.spans,
                "durationUs": s.duration_us,
            })
        })
        .collect();
    serde_json::to_writer(&mut *out, &list)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaeger::{Process, Span, Tag};

    fn trace(id: &str, build: &str, spans: &[(&str, &str, u64, u64)]) -> Trace {
        let spans = (spans.iter())
            .map(|&(span_id, operation, start_us, duration_us)| Span {
                span_id: span_id.into(),
                operation: operation.into(),
                start_us,
                duration_us,
                process_id: "p1".into(),
                references: if span_id == "root" {
                    vec![]
                } else {
                    vec!["root".into()]
                },
                tags: vec![],
                logs: vec![],
            })
            .collect();
        let process = Process {
            service: "app".into(),
            tags: vec![Tag {
                key: names::ID.into(),
                value: build.into(),
            }],
        };
        Trace {
            id: id.into(),
            spans,
            processes: [("p1".to_owned(), process)].into(),
        }
    }

    #[test]
    fn a_summary_spans_the_whole_trace_and_names_its_root() {
        let t = trace(
            "ab",
            "b1",
            &[
                ("c", "query", 1_500, 5_000),
                ("root", "request", 1_000, 2_000),
            ],
        );
        assert_eq!(
            Summary::of(&t),
            Summary {
                id: "ab".into(),
                start_us: 1_000,
                root: "request".into(),
                spans: 2,
                duration_us: 5_500,
            }
        );
        assert!(emitted_by(&t, "b1"));
        assert!(!emitted_by(&t, "b2"));
    }

    #[test]
    fn human_listing_is_aligned_and_escaped() {
        let summaries = [
            Summary {
                id: "b53b700e22407350458c18d9ee48d3e0".into(),
                start_us: 1_795_680_883_274_061,
                root: "startup".into(),
                spans: 1,
                duration_us: 23_622,
            },
            Summary {
                id: "1446f710cd2e40ba0aac944ca3a985f7".into(),
                start_us: 1_795_680_883_291_151,
                root: "req\x1b[2J".into(),
                spans: 12,
                duration_us: 1_250_000,
            },
        ];
        let mut out = Vec::new();
        write_human(&mut out, &summaries).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "b53b700e22407350458c18d9ee48d3e0  2026-11-26T08:14:43.274Z  startup       1 span    23.6 ms\n\
             1446f710cd2e40ba0aac944ca3a985f7  2026-11-26T08:14:43.291Z  req\\u{1b}[2J  12 spans   1.25 s\n"
        );
        let mut out = Vec::new();
        write_json(&mut out, &summaries[..1]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[{\"durationUs\":23622,\"root\":\"startup\",\"spans\":1,\
             \"start\":\"2026-11-26T08:14:43.274Z\",\"startTimeUs\":1795680883274061,\
             \"traceID\":\"b53b700e22407350458c18d9ee48d3e0\"}]\n"
        );
    }
}
