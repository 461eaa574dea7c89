//! Logs and metrics beside traces, through the real OpenTelemetry Collector
//! (its file exporter writes every request it receives as OTLP/JSON), over
//! gRPC and HTTP/protobuf: every signal carries the provenance resource and
//! one `service.instance.id`; a log emitted in a span carries that span's
//! trace; the pre-init `tracing` event is a log record at its original time;
//! the startup milestone is a histogram; the exporters' own logs stay out.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use common::{run, Build, Repo};
use pipeline::{otlp_attributes as attributes, Pipeline};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

/// The file exporter's requests of one service, by signal.
#[derive(Default, Debug)]
struct Received {
    /// (resource attributes, scope name, item) per span / log record / metric.
    spans: Vec<(BTreeMap<String, String>, String, Value)>,
    logs: Vec<(BTreeMap<String, String>, String, Value)>,
    metrics: Vec<(BTreeMap<String, String>, String, Value)>,
}

fn read(path: &str, service: &str) -> Received {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut got = Received::default();
    for line in text.lines() {
        let Ok(request) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for (resources, scopes, items, into) in [
            ("resourceSpans", "scopeSpans", "spans", &mut got.spans),
            ("resourceLogs", "scopeLogs", "logRecords", &mut got.logs),
            (
                "resourceMetrics",
                "scopeMetrics",
                "metrics",
                &mut got.metrics,
            ),
        ] {
            for r in request[resources].as_array().into_iter().flatten() {
                let attrs = attributes(&r["resource"]["attributes"]);
                if attrs.get("service.name").map(String::as_str) != Some(service) {
                    continue;
                }
                for s in r[scopes].as_array().into_iter().flatten() {
                    let scope = s["scope"]["name"].as_str().unwrap_or_default().to_owned();
                    for item in s[items].as_array().into_iter().flatten() {
                        into.push((attrs.clone(), scope.clone(), item.clone()));
                    }
                }
            }
        }
    }
    got
}

fn body(log: &Value) -> &str {
    log["body"]["stringValue"].as_str().unwrap_or_default()
}

fn nanos(v: &Value) -> u128 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn logs_and_metrics_reach_the_collector_with_the_provenance_resource() {
    let Some(pipeline) = Pipeline::start_with(&[("PIPELINE_FILE_EXPORT", "1")]) else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let head = run(Command::new("git")
        .arg("-C")
        .arg(&repo.dir)
        .args(["rev-parse", "HEAD"]))
    .trim()
    .to_owned();
    let path = pipeline.var("PIPELINE_FILE_EXPORT_PATH").to_owned();

    for protocol in ["grpc", "http/protobuf"] {
        let service = format!("{}-{}", repo.name, protocol.replace('/', "-"));
        let mut c = Command::new(&built.exe);
        c.arg("--export")
            .envs(pipeline.otlp_env(protocol))
            .env("OTEL_SERVICE_NAME", &service)
            // Everything is enabled, transport crates included: their events
            // must still stay out of the telemetry they carry.
            .env("RUST_LOG", "trace");
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{protocol}: {stderr}");
        assert!(!stderr.contains("warning"), "{protocol}: {stderr}");

        let deadline = Instant::now() + Duration::from_secs(15);
        let got = loop {
            let got = read(&path, &service);
            let complete = got.logs.iter().any(|(_, _, l)| body(l) == "handled")
                && got
                    .metrics
                    .iter()
                    .any(|(_, _, m)| m["name"] == "fixture.requests")
                && got.spans.iter().any(|(_, _, s)| s["name"] == "request");
            if complete || Instant::now() >= deadline {
                break got;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(!got.logs.is_empty(), "{protocol}: no log record arrived");
        assert!(!got.metrics.is_empty(), "{protocol}: no metric arrived");
        assert!(!got.spans.is_empty(), "{protocol}: no span arrived");

        // One resource for every signal: the commit is git's, one instance.
        let mut instances = BTreeSet::new();
        for (signal, items) in [
            ("spans", &got.spans),
            ("logs", &got.logs),
            ("metrics", &got.metrics),
        ] {
            for (attrs, _, _) in items.iter() {
                assert_eq!(
                    attrs.get("vcs.ref.head.revision"),
                    Some(&head),
                    "{protocol} {signal}: {attrs:?}"
                );
                instances.insert(attrs["service.instance.id"].clone());
            }
        }
        assert_eq!(instances.len(), 1, "{protocol}: {instances:?}");

        // A log in a span carries that span's trace and span ids.
        let span_of = |name: &str| {
            got.spans
                .iter()
                .map(|(_, _, s)| s)
                .find(|s| s["name"] == name)
                .unwrap_or_else(|| panic!("{protocol}: no span {name}"))
        };
        let request = span_of("request");
        let handled = got
            .logs
            .iter()
            .map(|(_, _, l)| l)
            .find(|l| body(l) == "handled")
            .unwrap_or_else(|| panic!("{protocol}: no `handled` log"));
        assert_eq!(handled["traceId"], request["traceId"], "{protocol}");
        assert_eq!(handled["spanId"], request["spanId"], "{protocol}");
        assert_eq!(handled["severityText"], "INFO");
        assert_eq!(handled["severityNumber"], 9);

        // The pre-init event: a log record at the time it happened (before
        // init, so before the startup span ends), in the startup span.
        let startup = span_of("startup");
        let pre = got
            .logs
            .iter()
            .map(|(_, _, l)| l)
            .find(|l| body(l) == "about to initialise telemetry")
            .unwrap_or_else(|| panic!("{protocol}: the pre-init event is no log record"));
        assert_eq!(pre["traceId"], startup["traceId"], "{protocol}");
        let at = nanos(&pre["timeUnixNano"]);
        assert!(
            at >= nanos(&startup["startTimeUnixNano"]) && at <= nanos(&startup["endTimeUnixNano"]),
            "{protocol}: pre-init log at {at} outside the startup span"
        );
        // (The appender leaves a live event's time to the observed time.)
        assert!(
            at < nanos(&handled["observedTimeUnixNano"]),
            "{protocol}: the pre-init log is not earlier than the later one: {pre} {handled}"
        );
        assert!(
            pre["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|kv| kv["key"] == "phase" && kv["value"]["stringValue"] == "pre-init"),
            "{protocol}: {pre}"
        );

        // The exporters' own logs never loop back.
        for (_, scope, log) in &got.logs {
            for crate_name in ["opentelemetry", "hyper", "tonic", "h2", "tower"] {
                assert!(
                    !scope.starts_with(crate_name),
                    "{protocol}: a log record of {scope}: {log}"
                );
            }
        }

        // Metrics: the application's counter, and the startup milestone.
        let metric = |name: &str| {
            got.metrics
                .iter()
                .map(|(_, _, m)| m)
                .find(|m| m["name"] == name)
                .unwrap_or_else(|| panic!("{protocol}: no metric {name}"))
                .clone()
        };
        let requests = metric("fixture.requests");
        assert_eq!(requests["sum"]["dataPoints"][0]["asInt"], "3", "{requests}");
        let init = metric("buildtrace.startup.init.duration");
        assert_eq!(init["unit"], "s");
        let point = &init["histogram"]["dataPoints"][0];
        assert_eq!(point["count"], "1", "{init}");
        let took = point["sum"].as_f64().unwrap();
        let span_took = (nanos(&startup["endTimeUnixNano"]) - nanos(&startup["startTimeUnixNano"]))
            as f64
            / 1e9;
        assert!(
            (took - span_took).abs() < 1e-3,
            "{protocol}: init histogram {took} s, startup span {span_took} s"
        );
    }
}

/// One `service.instance.id` for the whole process: the traces, logs and
/// metrics a running program exports and the OTEP 4719 process context a
/// profiler reads from its memory (through `buildtrace inspect --pid`).
#[cfg(target_os = "linux")]
#[test]
fn the_process_context_names_the_instance_every_signal_carries() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let Some(pipeline) = Pipeline::start_with(&[("PIPELINE_FILE_EXPORT", "1")]) else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("context").run(&repo.dir);
    let path = pipeline.var("PIPELINE_FILE_EXPORT_PATH").to_owned();
    let service = format!("{}-held", repo.name);
    let mut child = Command::new(&built.exe)
        .arg("--hold")
        .envs(pipeline.otlp_env("grpc"))
        .env("OTEL_SERVICE_NAME", &service)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut pid = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.strip_prefix("pid\t") {
            pid = p.to_owned();
        }
        if line == "ready" {
            break;
        }
    }
    let json =
        run(Command::new(env!("CARGO_BIN_EXE_buildtrace"))
            .args(["inspect", "--pid", &pid, "--json"]));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    let context: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
    let instance = context["service.instance.id"].as_str().unwrap().to_owned();
    assert_eq!(context["service.name"], service.as_str());

    let deadline = Instant::now() + Duration::from_secs(15);
    let got = loop {
        let got = read(&path, &service);
        let complete = got.logs.iter().any(|(_, _, l)| body(l) == "holding")
            && !got.metrics.is_empty()
            && got.spans.iter().any(|(_, _, s)| s["name"] == "startup");
        if complete || Instant::now() >= deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for (signal, items) in [
        ("spans", &got.spans),
        ("logs", &got.logs),
        ("metrics", &got.metrics),
    ] {
        assert!(!items.is_empty(), "no {signal} arrived");
        for (attrs, _, _) in items.iter() {
            assert_eq!(attrs["service.instance.id"], instance, "{signal}");
            // Every exported resource attribute is in the context, as is.
            for (k, v) in attrs {
                let theirs = context
                    .get(k)
                    .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned));
                assert_eq!(theirs.as_deref(), Some(v.as_str()), "{signal}: {k}");
            }
        }
    }
}
