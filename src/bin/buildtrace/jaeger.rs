//! A client for Jaeger's HTTP query API, the one its UI uses.
//!
//! Three calls: `/api/traces?service=…&tags=…` (search), `/api/traces/<id>`
//! (one trace) and `/api/services`. Answers are JSON: a trace is its spans
//! (operation name, start and duration in microseconds, tags, logs, the id
//! of the process that emitted it) and its processes (service name and
//! tags: the OpenTelemetry resource, so buildtrace's provenance). Only what
//! the CLI shows is decoded; every string in it came over the network and
//! must be escaped before it reaches a terminal.
//!
//! Every request is bounded: [`TIMEOUT`] to resolve, to connect and for
//! each read, [`TOTAL_TIMEOUT`] overall, [`MAX_ANSWER`] bytes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// How long to wait for name resolution, for the connection, and for each
/// read of the answer.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take in all, answer included.
pub(crate) const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read: some thousand traces of a hundred spans.
pub(crate) const MAX_ANSWER: u64 = 64 << 20;

const NOT_A_BASE_URL: &str =
    "not the base URL of a query API; pass one such as http://localhost:16686";

/// Why Jaeger could not be asked, or its answer not understood. Each message
/// ends with a remedy.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JaegerError {
    /// The URL given with `--jaeger`, or a trace id, cannot be used; the
    /// reason ends with its remedy.
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: &'static str },
    /// No HTTP answer: refused, unresolvable, timed out.
    #[error("cannot reach Jaeger at {url}: {reason}; is Jaeger's query API at {base}?")]
    Unreachable {
        url: String,
        base: String,
        reason: String,
    },
    /// An answer that is not JSON: something else listens there.
    #[error("{url} answered {what}, not Jaeger's JSON; is Jaeger's query API at {base}?")]
    NotJson {
        url: String,
        base: String,
        what: String,
    },
    /// JSON, but not shaped like Jaeger's answers.
    #[error("{url} answered JSON that is not a Jaeger answer ({what}); is Jaeger's query API at {base}?")]
    Shape {
        url: String,
        base: String,
        what: &'static str,
    },
    /// Jaeger refused the query.
    #[error(
        "Jaeger at {base} answered HTTP {status}: {message}; check the query and Jaeger's log"
    )]
    Refused {
        base: String,
        status: u16,
        message: String,
    },
}

/// A trace as Jaeger returns it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Trace {
    pub(crate) id: String,
    pub(crate) spans: Vec<Span>,
    /// Process id (`p1` …) to process.
    pub(crate) processes: BTreeMap<String, Process>,
}

/// One span of a [`Trace`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Span {
    pub(crate) span_id: String,
    pub(crate) operation: String,
    /// Microseconds since the Unix epoch.
    pub(crate) start_us: u64,
    pub(crate) duration_us: u64,
    pub(crate) process_id: String,
    /// The span ids this span references (its parent, for `CHILD_OF`).
    pub(crate) references: Vec<String>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) logs: Vec<Log>,
}

/// The process that emitted spans: the OpenTelemetry resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Process {
    /// `service.name`, which Jaeger keeps out of the tags.
    pub(crate) service: String,
    pub(crate) tags: Vec<Tag>,
}

/// A span event: a timestamp and fields, the name in the `event` field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Log {
    /// Microseconds since the Unix epoch.
    pub(crate) timestamp_us: u64,
    pub(crate) fields: Vec<Tag>,
}

/// A key and its typed value (string, bool, number).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tag {
    pub(crate) key: String,
    pub(crate) value: Value,
}

impl Tag {
    /// The value as text: strings as they are, anything else as JSON.
    pub(crate) fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// The value of `key` among `tags`.
pub(crate) fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a Value> {
    tags.iter().find(|t| t.key == key).map(|t| &t.value)
}

impl Trace {
    /// The process of `span`, if the trace lists it.
    pub(crate) fn process_of(&self, span: &Span) -> Option<&Process> {
        self.processes.get(&span.process_id)
    }

    /// The root span: the earliest span whose parent is not in the trace.
    pub(crate) fn root(&self) -> Option<&Span> {
        let ids: std::collections::BTreeSet<&str> =
            self.spans.iter().map(|s| s.span_id.as_str()).collect();
        let is_root = |s: &&Span| !s.references.iter().any(|r| ids.contains(r.as_str()));
        let earliest = |s: &&Span| (s.start_us, s.span_id.clone());
        // A trace whose every span has a parent in it is broken; show its
        // earliest span rather than nothing.
        (self.spans.iter().filter(is_root).min_by_key(earliest))
            .or_else(|| self.spans.iter().min_by_key(earliest))
    }

    /// The earliest start and the latest end of its spans, in microseconds.
    pub(crate) fn extent(&self) -> (u64, u64) {
        let start = self.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let end = (self.spans.iter())
            .map(|s| s.start_us.saturating_add(s.duration_us))
            .max()
            .unwrap_or(start);
        (start, end)
    }
}

/// Whether `id` can be a trace id: 1 to 32 hexadecimal digits.
pub(crate) fn is_trace_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A search: the traces of `service` in a time window that carry `tags`
/// (Jaeger matches span tags and process tags).
#[derive(Debug, Clone)]
pub(crate) struct Search<'a> {
    pub(crate) service: &'a str,
    pub(crate) tags: &'a [(&'a str, &'a str)],
    pub(crate) limit: u32,
    /// Microseconds since the Unix epoch.
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
}

/// A connection to one Jaeger query API.
#[derive(Debug)]
pub(crate) struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the query API at `url` (`http://host:16686`); no request
    /// is made yet.
    ///
    /// # Errors
    /// [`JaegerError::BadUrl`] when `url` is not a plain `http://` URL.
    pub(crate) fn new(url: &str) -> Result<Client, JaegerError> {
        let bad = |reason| JaegerError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let base = url.trim_end_matches('/');
        let rest = match base.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                // Built without TLS, on purpose: the API is usually reached
                // on loopback or through a port-forward.
                return Err(bad("this buildtrace speaks plain http only; reach Jaeger's query API over http, e.g. through `kubectl port-forward` or an SSH tunnel"));
            }
            Some(_) => return Err(bad(NOT_A_BASE_URL)),
            None => {
                return Err(bad(
                    "no scheme; write http://HOST:PORT, such as http://localhost:16686",
                ))
            }
        };
        if rest.is_empty() || rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(bad(NOT_A_BASE_URL));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_resolve(Some(TIMEOUT))
            .timeout_connect(Some(TIMEOUT))
            .timeout_per_read(Some(TIMEOUT))
            .timeout_global(Some(TOTAL_TIMEOUT))
            // Jaeger explains its refusals in a JSON body; read it.
            .http_status_as_error(false)
            .user_agent(concat!("buildtrace/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            base: base.to_owned(),
            agent,
        })
    }

    /// The base URL, without a trailing `/`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The traces matching `search`, in Jaeger's order.
    ///
    /// # Errors
    /// [`JaegerError`]: unreachable, not JSON, not Jaeger's shape, refused.
    pub(crate) fn search(&self, search: &Search<'_>) -> Result<Vec<Trace>, JaegerError> {
        let tags: serde_json::Map<String, Value> = (search.tags.iter())
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        let (limit, start, end) = (
            search.limit.to_string(),
            search.start_us.to_string(),
            search.end_us.to_string(),
        );
        // `lookback` is the UI's; the API reads the window from start and end.
        let query = [
            ("service", search.service),
            ("limit", &limit),
            ("start", &start),
            ("end", &end),
            ("tags", &Value::Object(tags).to_string()),
        ];
        let (url, answer) = self.get("/api/traces", &query)?;
        self.traces(&url, &answer)
    }

    /// The trace `id`, or `None` when Jaeger does not have it.
    ///
    /// # Errors
    /// As [`search`](Client::search); [`JaegerError::BadUrl`] when `id` is not
    /// a trace id (see [`is_trace_id`]).
    pub(crate) fn trace(&self, id: &str) -> Result<Option<Trace>, JaegerError> {
        if !is_trace_id(id) {
            return Err(JaegerError::BadUrl {
                url: id.to_owned(),
                reason: "not a trace id; pass 1 to 32 hexadecimal digits",
            });
        }
        match self.get(&format!("/api/traces/{id}"), &[]) {
            Err(JaegerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
            Ok((url, answer)) => Ok(self.traces(&url, &answer)?.into_iter().next()),
        }
    }

    /// The services Jaeger has traces of.
    ///
    /// # Errors
    /// As [`search`](Client::search).
    pub(crate) fn services(&self) -> Result<Vec<String>, JaegerError> {
        let (url, answer) = self.get("/api/services", &[])?;
        let data = answer["data"]
            .as_array()
            .ok_or_else(|| self.shape(&url, "no `data` list"))?;
        Ok(data
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect())
    }

    /// GETs `path` with `query`; returns the URL asked and the JSON answer of
    /// a 2xx. A JSON answer of another status is [`JaegerError::Refused`].
    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(String, Value), JaegerError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.get(&url);
        for (key, value) in query {
            request = request.query(key, value);
        }
        let unreachable = |reason: String| JaegerError::Unreachable {
            url: url.clone(),
            base: self.base.clone(),
            reason,
        };
        let mut response = request.call().map_err(|e| unreachable(describe(&e)))?;
        let status = response.status().as_u16();
        let content_type = (response.headers().get("content-type"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        let body = (response.body_mut().with_config())
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| unreachable(describe(&e)))?;
        // Jaeger labels some JSON answers text/plain: trust the bytes.
        let Ok(answer) = serde_json::from_slice::<Value>(&body) else {
            return Err(JaegerError::NotJson {
                url,
                base: self.base.clone(),
                what: format!("HTTP {status} with {}", first_word(&content_type)),
            });
        };
        if (200..300).contains(&status) {
            return Ok((url, answer));
        }
        let message = answer["errors"][0]["msg"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        Err(JaegerError::Refused {
            base: self.base.clone(),
            status,
            message,
        })
    }

    fn traces(&self, url: &str, answer: &Value) -> Result<Vec<Trace>, JaegerError> {
        let data = answer["data"]
            .as_array()
            .ok_or_else(|| self.shape(url, "no `data` list"))?;
        data.iter()
            .map(decode_trace)
            .collect::<Result<_, _>>()
            .map_err(|what| self.shape(url, what))
    }

    fn shape(&self, url: &str, what: &'static str) -> JaegerError {
        JaegerError::Shape {
            url: url.to_owned(),
            base: self.base.clone(),
            what,
        }
    }
}

/// A transport error in a few words.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::Timeout(_) => format!("no answer within {} s ({error})", TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::BodyExceedsLimit(_) => {
            format!(
                "the answer exceeds {} MiB; ask for fewer traces",
                MAX_ANSWER >> 20
            )
        }
        other => other.to_string(),
    }
}

fn first_word(text: &str) -> &str {
    text.split(';').next().unwrap_or(text).trim()
}

fn decode_trace(trace: &Value) -> Result<Trace, &'static str> {
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

    #[test]
    fn refuses_urls_it_cannot_use() {
        assert!(Client::new("http://127.0.0.1:16686/").is_ok());
        assert_eq!(
            Client::new("http://127.0.0.1:16686/").unwrap().base(),
            "http://127.0.0.1:16686"
        );
        for bad in [
            "https://jaeger.example",
            "127.0.0.1:16686",
            "ftp://x",
            "http://",
            "http://x?y",
        ] {
            let error = Client::new(bad).unwrap_err().to_string();
            assert!(error.contains("; "), "{bad}: no remedy in {error}");
        }
    }
}
