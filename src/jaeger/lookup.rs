//! From a trace to the build that emitted it: what `buildtrace lookup`
//! prints.
//!
//! Jaeger keeps a process's OpenTelemetry resource as its process tags, and
//! buildtrace puts the build's provenance there. So one trace names the
//! exact commit, compiler, target, settings and CI run of the binary that
//! sent it; and when the trace holds the `startup` span, how that process's
//! startup went.

use std::io::{self, Write};

use crate::inspect::render::escape_terminal;
use crate::names;

use super::{tag, timeline, Process, Span, Tag, Trace};

/// The span whose process to show, and that process. Candidates, in order:
/// the `startup` span, the root, every span by start time; the first whose
/// process reports a build wins, else the first that has a process. `None`
/// when no span's process is in the trace.
pub fn emitter(trace: &Trace) -> Option<(&Span, &Process)> {
    let mut by_start: Vec<&Span> = trace.spans.iter().collect();
    by_start.sort_by_key(|s| s.start_us);
    let candidates: Vec<&Span> = (startup_span(trace).into_iter().chain(trace.root()))
        .chain(by_start)
        .collect();
    let with_process = || (candidates.iter()).filter_map(|s| Some((*s, trace.process_of(s)?)));
    (with_process().find(|(_, p)| tag(&p.tags, names::ID).is_some()))
        .or_else(|| with_process().next())
}

/// Writes, for a person, what `process` reports about its build: a line on
/// the trace, the process tags under their group titles (build, compiler,
/// target, build settings, CI, executable, service, other), and, when the
/// trace holds the `startup` span, its [timeline]. `span`
/// and `process` are those [`emitter`] chose. Text from Jaeger is escaped
/// for the terminal.
///
/// # Errors
/// Any error from `out`.
pub fn write_human(
    out: &mut impl Write,
    trace: &Trace,
    span: &Span,
    process: &Process,
) -> io::Result<()> {
    write_header(out, trace, span)?;
    write_groups(out, &with_service_name(process))?;
    if trace.processes.len() > 1 {
        writeln!(out)?;
        write_hops(out, trace)?;
    }
    if let Some(startup) = startup_span(trace) {
        writeln!(out)?;
        timeline::write(out, startup)?;
    }
    Ok(())
}

/// Writes `process`'s tags, and `service.name`, as one JSON object of
/// typed values, then a newline.
///
/// # Errors
/// Any error from `out`.
pub fn write_json(out: &mut impl Write, process: &Process) -> io::Result<()> {
    let object: serde_json::Map<String, serde_json::Value> = (with_service_name(process)
        .into_iter())
    .map(|t| (t.key, t.value))
    .collect();
    serde_json::to_writer(&mut *out, &object)?;
    writeln!(out)
}

/// Each process of the trace with its first span, by start time: the hops
/// a request took, each with the build that served it.
pub fn hops(trace: &Trace) -> Vec<(&Span, &Process)> {
    let mut by_start: Vec<&Span> = trace.spans.iter().collect();
    by_start.sort_by_key(|s| s.start_us);
    let mut seen = Vec::new();
    let mut hops = Vec::new();
    for span in by_start {
        if let Some(process) = trace.process_of(span) {
            if !seen.contains(&std::ptr::from_ref(process)) {
                seen.push(std::ptr::from_ref(process));
                hops.push((span, process));
            }
        }
    }
    hops
}

/// One line per hop: its first span, its service, its build and commit.
fn write_hops(out: &mut impl Write, trace: &Trace) -> io::Result<()> {
    writeln!(out, "hops (each process's first span, by start time):")?;
    for (span, process) in hops(trace) {
        let text = |key: &str| {
            tag(&process.tags, key).map_or("unknown".to_owned(), |v| {
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            })
        };
        writeln!(
            out,
            "  {}  service {}  build {}  commit {}",
            escape_terminal(&span.operation),
            escape_terminal(&process.service),
            escape_terminal(&text(names::ID)),
            escape_terminal(&text(names::VCS_REF_HEAD_REVISION)),
        )?;
    }
    Ok(())
}

fn startup_span(trace: &Trace) -> Option<&Span> {
    (trace.spans.iter()).find(|s| s.operation == names::startup::SPAN_NAME)
}

/// The process tags, plus `service.name`, which Jaeger keeps apart.
fn with_service_name(process: &Process) -> Vec<Tag> {
    let mut tags = process.tags.clone();
    if !tags.iter().any(|t| t.key == names::SERVICE_NAME) {
        tags.push(Tag {
            key: names::SERVICE_NAME.into(),
            value: process.service.clone().into(),
        });
    }
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

fn write_header(out: &mut impl Write, trace: &Trace, span: &Span) -> io::Result<()> {
    let spans = trace.spans.len();
    let root = trace.root().map_or("", |r| r.operation.as_str());
    write!(
        out,
        "trace {}: {spans} span{}, root span {}",
        escape_terminal(&trace.id),
        if spans == 1 { "" } else { "s" },
        escape_terminal(root)
    )?;
    if trace.processes.len() > 1 {
        write!(
            out,
            "; {} processes, showing the one of span {}",
            trace.processes.len(),
            escape_terminal(&span.operation)
        )?;
    }
    writeln!(out)
}

/// The tags under their group titles, values aligned across groups.
fn write_groups(out: &mut impl Write, tags: &[Tag]) -> io::Result<()> {
    let group_of = |key: &str| {
        (names::GROUPS.iter())
            .position(|(_, prefixes)| prefixes.iter().any(|p| key.starts_with(p)))
            .unwrap_or(names::GROUPS.len())
    };
    let width = (tags.iter())
        .map(|t| escape_terminal(&t.key).chars().count())
        .max()
        .unwrap_or(0);
    let titles = names::GROUPS
        .iter()
        .map(|(title, _)| *title)
        .chain(["other"]);
    if tag(tags, names::ID).is_none() {
        writeln!(
            out,
            "this process reports no {}: it was not built with buildtrace::embed!(), or its provenance was not exported",
            names::ID
        )?;
    }
    for (index, title) in titles.enumerate() {
        let mut members = tags.iter().filter(|t| group_of(&t.key) == index).peekable();
        if members.peek().is_none() {
            continue;
        }
        writeln!(out, "{title}")?;
        for t in members {
            writeln!(
                out,
                "  {:width$}  {}",
                escape_terminal(&t.key),
                escape_terminal(&t.text())
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kv(key: &str, value: serde_json::Value) -> Tag {
        Tag {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn groups_follow_the_key_prefixes() {
        let process = Process {
            service: "app".into(),
            tags: vec![
                kv("telemetry.sdk.name", json!("opentelemetry")),
                kv("buildtrace.build.profile", json!("dev")),
                kv("buildtrace.build.time", json!("2026-11-26T08:14:42Z")),
                kv("vcs.ref.head.revision", json!("337e3c3")),
                kv("buildtrace.id", json!("104b")),
                kv("buildtrace.git.dirty", json!(false)),
                kv("process.runtime.version", json!("1.95.0")),
                kv("host.arch", json!("amd64")),
                kv("cicd.pipeline.run.id", json!("42")),
                kv("process.executable.name", json!("app\x1b]0;x\x07")),
                kv("custom.thing", json!(1.5)),
            ],
        };
        let mut out = Vec::new();
        write_groups(&mut out, &with_service_name(&process)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "build\n\
             \x20 buildtrace.build.time     2026-11-26T08:14:42Z\n\
             \x20 buildtrace.git.dirty      false\n\
             \x20 buildtrace.id             104b\n\
             \x20 vcs.ref.head.revision     337e3c3\n\
             compiler\n\
             \x20 process.runtime.version   1.95.0\n\
             target\n\
             \x20 host.arch                 amd64\n\
             build settings\n\
             \x20 buildtrace.build.profile  dev\n\
             CI\n\
             \x20 cicd.pipeline.run.id      42\n\
             executable\n\
             \x20 process.executable.name   app\\u{1b}]0;x\\u{7}\n\
             service\n\
             \x20 service.name              app\n\
             \x20 telemetry.sdk.name        opentelemetry\n\
             other\n\
             \x20 custom.thing              1.5\n"
        );
    }

    #[test]
    fn the_process_with_provenance_is_preferred() {
        let span = |id: &str, op: &str, process: &str, start: u64| Span {
            span_id: id.into(),
            operation: op.into(),
            start_us: start,
            duration_us: 1,
            process_id: process.into(),
            references: if id == "r" { vec![] } else { vec!["r".into()] },
            tags: vec![],
            logs: vec![],
        };
        let plain = Process {
            service: "gateway".into(),
            tags: vec![],
        };
        let built = Process {
            service: "app".into(),
            tags: vec![kv(names::ID, json!("104b"))],
        };
        let trace = Trace {
            id: "t".into(),
            spans: vec![span("r", "GET /", "p1", 1), span("c", "handle", "p2", 2)],
            processes: [("p1".to_owned(), plain), ("p2".to_owned(), built)].into(),
        };
        let (span, process) = emitter(&trace).unwrap();
        assert_eq!(
            (span.operation.as_str(), process.service.as_str()),
            ("handle", "app")
        );
    }
}
