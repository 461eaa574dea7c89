//! A list of traces, one line each, for a person or a program: what
//! `buildtrace traces` prints.
//!
//! ```text
//! b53b700e22407350458c18d9ee48d3e0  2026-11-26T08:14:43.274Z  startup  1 span   23.6 ms
//! ```

use std::io::{self, Write};

use crate::inspect::render::escape_terminal;

use super::{time, Trace};

/// One line of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The trace id.
    pub id: String,
    /// Microseconds since the Unix epoch.
    pub start_us: u64,
    /// The root span's operation name.
    pub root: String,
    /// How many spans the trace has.
    pub spans: usize,
    /// From the earliest start to the latest end of its spans, in
    /// microseconds.
    pub duration_us: u64,
}

impl Summary {
    /// The summary of `trace`.
    pub fn of(trace: &Trace) -> Summary {
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

/// One line per trace: id, start (UTC), root span, span count, duration,
/// in columns; text from Jaeger is escaped for the terminal.
///
/// ```text
/// b53b700e22407350458c18d9ee48d3e0  2026-11-26T08:14:43.274Z  startup  1 span   23.6 ms
/// ```
///
/// # Errors
/// Any error from `out`.
pub fn write_human(out: &mut impl Write, summaries: &[Summary]) -> io::Result<()> {
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

/// One JSON array, then a newline: `traceID`, `start`, `startTimeUs`,
/// `root`, `spans`, `durationUs` for each trace.
///
/// # Errors
/// Any error from `out`.
pub fn write_json(out: &mut impl Write, summaries: &[Summary]) -> io::Result<()> {
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
    use crate::jaeger::{emitted_by, Process, Span, Tag};
    use crate::names;

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
