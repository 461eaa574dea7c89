//! Traces as Jaeger's query API returns them, and their decoding.
//!
//! A trace is its spans (operation name, start and duration in
//! microseconds, tags, logs, the id of the process that emitted it) and its
//! processes (service name and tags: the OpenTelemetry resource, so
//! buildtrace's provenance). Only what buildtrace shows is decoded; every
//! string came over the network and must be escaped before it reaches a
//! terminal.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::names;

/// The log field in which Jaeger keeps the name of a span event.
pub(crate) const EVENT_FIELD: &str = "event";

/// A trace as Jaeger returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The trace id, in hexadecimal, as Jaeger spells it.
    pub id: String,
    /// The spans, in Jaeger's order.
    pub spans: Vec<Span>,
    /// Process id (`p1` …) to process.
    pub processes: BTreeMap<String, Process>,
}

/// One span of a [`Trace`].
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The span id, in hexadecimal.
    pub span_id: String,
    /// The span's name.
    pub operation: String,
    /// Microseconds since the Unix epoch.
    pub start_us: u64,
    /// Microseconds.
    pub duration_us: u64,
    /// The key of its process in [`Trace::processes`].
    pub process_id: String,
    /// The span ids this span references (its parent, for `CHILD_OF`).
    pub references: Vec<String>,
    /// The span's attributes.
    pub tags: Vec<Tag>,
    /// The span's events.
    pub logs: Vec<Log>,
}

/// The process that emitted spans: the OpenTelemetry resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    /// `service.name`, which Jaeger keeps out of the tags.
    pub service: String,
    /// The other resource attributes.
    pub tags: Vec<Tag>,
}

/// A span event: a timestamp and fields, the name in the `event` field.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// Microseconds since the Unix epoch.
    pub timestamp_us: u64,
    /// The event's name and attributes.
    pub fields: Vec<Tag>,
}

/// A key and its typed value (string, bool, number).
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// The attribute name.
    pub key: String,
    /// The value, as Jaeger's JSON holds it.
    pub value: Value,
}

impl Tag {
    /// The value as text: strings as they are, anything else as JSON.
    pub fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// The value of `key` among `tags`.
pub fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a Value> {
    tags.iter().find(|t| t.key == key).map(|t| &t.value)
}

impl Trace {
    /// The process of `span`, if the trace lists it.
    pub fn process_of(&self, span: &Span) -> Option<&Process> {
        self.processes.get(&span.process_id)
    }

    /// The root span: the earliest span whose parent is not in the trace.
    pub fn root(&self) -> Option<&Span> {
        let ids: BTreeSet<&str> = self.spans.iter().map(|s| s.span_id.as_str()).collect();
        let is_root = |s: &&Span| !s.references.iter().any(|r| ids.contains(r.as_str()));
        let earliest = |s: &&Span| (s.start_us, s.span_id.clone());
        // A trace whose every span has a parent in it is broken; show its
        // earliest span rather than nothing.
        (self.spans.iter().filter(is_root).min_by_key(earliest))
            .or_else(|| self.spans.iter().min_by_key(earliest))
    }

    /// The earliest start and the latest end of its spans, in microseconds.
    pub fn extent(&self) -> (u64, u64) {
        let start = self.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let end = (self.spans.iter())
            .map(|s| s.start_us.saturating_add(s.duration_us))
            .max()
            .unwrap_or(start);
        (start, end)
    }
}

/// Whether a process of `trace` reports the build `id` (its
/// [`buildtrace.id`](names::ID)).
pub fn emitted_by(trace: &Trace, id: &str) -> bool {
    (trace.processes.values()).any(|p| tag(&p.tags, names::ID).and_then(|v| v.as_str()) == Some(id))
}

/// Whether `id` can be a trace id: 1 to 32 hexadecimal digits.
pub fn is_trace_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Decodes one element of an answer's `data` list; the error says what is
/// missing or misshapen.
pub(crate) fn decode_trace(trace: &Value) -> Result<Trace, &'static str> {
    let id = trace["traceID"]
        .as_str()
        .ok_or("a trace without `traceID`")?;
    let spans = trace["spans"]
        .as_array()
        .ok_or("a trace without `spans`")?
        .iter()
        .map(decode_span)
        .collect::<Result<_, _>>()?;
    let processes = match &trace["processes"] {
        Value::Object(map) => map
            .iter()
            .map(|(id, p)| {
                let process = Process {
                    service: p["serviceName"].as_str().unwrap_or_default().to_owned(),
                    tags: decode_tags(&p["tags"])?,
                };
                Ok((id.clone(), process))
            })
            .collect::<Result<_, &'static str>>()?,
        Value::Null => BTreeMap::new(),
        _ => return Err("`processes` is not an object"),
    };
    Ok(Trace {
        id: id.to_owned(),
        spans,
        processes,
    })
}

fn decode_span(span: &Value) -> Result<Span, &'static str> {
    let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
    let references = span["references"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["spanID"].as_str().map(str::to_owned))
        .collect();
    let logs = span["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            Ok(Log {
                timestamp_us: l["timestamp"].as_u64().ok_or("a log without `timestamp`")?,
                fields: decode_tags(&l["fields"])?,
            })
        })
        .collect::<Result<_, &'static str>>()?;
    Ok(Span {
        span_id: text("spanID"),
        operation: text("operationName"),
        start_us: span["startTime"]
            .as_u64()
            .ok_or("a span without `startTime`")?,
        duration_us: span["duration"]
            .as_u64()
            .ok_or("a span without `duration`")?,
        process_id: text("processID"),
        references,
        tags: decode_tags(&span["tags"])?,
        logs,
    })
}

fn decode_tags(tags: &Value) -> Result<Vec<Tag>, &'static str> {
    match tags {
        Value::Null => Ok(Vec::new()),
        Value::Array(list) => list
            .iter()
            .map(|t| {
                Ok(Tag {
                    key: t["key"].as_str().ok_or("a tag without `key`")?.to_owned(),
                    value: t["value"].clone(),
                })
            })
            .collect(),
        _ => Err("tags that are not a list"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"data": [{
            "traceID": "b53b",
            "spans": [
                {"traceID": "b53b", "spanID": "c", "operationName": "child",
                 "references": [{"refType": "CHILD_OF", "traceID": "b53b", "spanID": "r"}],
                 "startTime": 1_000_500, "duration": 100, "processID": "p1"},
                {"traceID": "b53b", "spanID": "r", "operationName": "startup",
                 "references": [], "startTime": 1_000_000, "duration": 23_622,
                 "tags": [{"key": "buildtrace.startup.to_ready_ms", "type": "float64", "value": 23.6}],
                 "logs": [{"timestamp": 1_003_100, "fields": [
                     {"key": "event", "type": "string", "value": "config.loaded"},
                     {"key": "path", "type": "string", "value": "app.toml"}]}],
                 "processID": "p1"}
            ],
            "processes": {"p1": {"serviceName": "app", "tags": [
                {"key": "buildtrace.id", "type": "string", "value": "104b"},
                {"key": "buildtrace.git.dirty", "type": "bool", "value": false}]}}
        }]})
    }

    #[test]
    fn decodes_spans_processes_and_logs() {
        let traces: Vec<Trace> = sample()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| decode_trace(t).unwrap())
            .collect();
        let trace = &traces[0];
        assert_eq!(trace.id, "b53b");
        let root = trace.root().unwrap();
        assert_eq!(root.operation, "startup");
        assert_eq!(root.logs[0].timestamp_us, 1_003_100);
        assert_eq!(trace.extent(), (1_000_000, 1_023_622));
        let process = trace.process_of(root).unwrap();
        assert_eq!(process.service, "app");
        assert_eq!(tag(&process.tags, "buildtrace.id"), Some(&json!("104b")));
        assert_eq!(process.tags[1].text(), "false");
    }

    #[test]
    fn a_span_whose_parent_is_elsewhere_is_a_root() {
        let mut trace = decode_trace(&sample()["data"][0]).unwrap();
        trace.spans.retain(|s| s.span_id == "c");
        assert_eq!(trace.root().unwrap().operation, "child");
    }

    #[test]
    fn rejects_what_is_not_a_jaeger_trace() {
        for bad in [
            json!({"spans": []}),
            json!({"traceID": "a"}),
            json!({"traceID": "a", "spans": [{"duration": 1}]}),
            json!({"traceID": "a", "spans": [], "processes": []}),
            json!({"traceID": "a", "spans": [], "processes": {"p": {"tags": [{"value": 1}]}}}),
        ] {
            assert!(decode_trace(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trace_ids_are_hex_only() {
        assert!(is_trace_id("b53b700e22407350458c18d9ee48d3e0"));
        assert!(is_trace_id("1"));
        for bad in ["", "xyz", "../api/services", &"a".repeat(33), "a b"] {
            assert!(!is_trace_id(bad), "{bad}");
        }
    }
}
