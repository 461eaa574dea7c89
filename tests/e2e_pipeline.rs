//! Program → the real OpenTelemetry Collector (the repository's
//! `otel-collector.yaml`) → the real Jaeger, on loopback, over gRPC and
//! HTTP/protobuf: the startup span arrives with the binary's provenance as
//! process tags and the ring's events at their original times.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use common::{run, Build, Repo};
use pipeline::{spans_named, tags, Pipeline};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs the fixture's export mode; returns its `mark` lines:
/// `name -> (before_us, after_us)`.
fn run_fixture(
    exe: &std::path::Path,
    env: &[(String, String)],
) -> (BTreeMap<String, (u64, u64)>, String) {
    let mut c = Command::new(exe);
    c.arg("--export");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let marks = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("mark\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_owned(),
                (f[1].parse().unwrap(), f[2].parse().unwrap()),
            )
        })
        .collect();
    (marks, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn inspect_json(exe: &std::path::Path) -> BTreeMap<String, String> {
    let json = run(Command::new(env!("CARGO_BIN_EXE_buildtrace"))
        .arg("inspect")
        .arg("--json")
        .arg(exe));
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

#[test]
fn the_startup_span_arrives_in_jaeger_with_provenance_and_original_timestamps() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let offline = inspect_json(&built.exe);

    for protocol in ["grpc", "http/protobuf"] {
        let service = format!("{}-{}", repo.name, protocol.replace('/', "-"));
        let mut env = pipeline.otlp_env(protocol);
        env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
        let sent = Instant::now();
        let (marks, stderr) = run_fixture(&built.exe, &env);
        assert!(!stderr.contains("warning"), "{protocol}: {stderr}");

        let traces = pipeline.traces_until(&service, Duration::from_secs(10), |t| {
            !spans_named(t, "startup").is_empty()
        });
        let found_after = sent.elapsed();
        let startup = spans_named(&traces, "startup");
        assert_eq!(
            startup.len(),
            1,
            "{protocol}: startup span not in Jaeger within 10 s"
        );
        eprintln!(
            "{protocol}: startup span found through Jaeger's API {} ms after the run started",
            found_after.as_millis()
        );
        let (span, process) = startup[0];

        // Process tags: exactly the attributes `buildtrace inspect --json`
        // reads from the file, plus what only a running process has.
        assert_eq!(process["serviceName"], service.as_str());
        let mut runtime = tags(&process["tags"]);
        for per_process in [
            "service.instance.id",
            "telemetry.sdk.name",
            "telemetry.sdk.language",
            "telemetry.sdk.version",
        ] {
            assert!(
                runtime.remove(per_process).is_some(),
                "{protocol}: {per_process} missing"
            );
        }
        let mut expected = offline.clone();
        expected.remove("service.name");
        assert_eq!(
            runtime, expected,
            "{protocol}: process tags differ from inspect --json"
        );

        // The ring's events, at the times they were recorded (Jaeger keeps
        // microseconds).
        let logs = span["logs"].as_array().unwrap();
        let by_name: BTreeMap<String, u64> = logs
            .iter()
            .map(|l| {
                (
                    tags(&l["fields"]).get("event").cloned().unwrap_or_default(),
                    l["timestamp"].as_u64().unwrap(),
                )
            })
            .collect();
        for (name, (before, after)) in &marks {
            let at = by_name
                .get(name)
                .unwrap_or_else(|| panic!("{protocol}: event {name} missing: {by_name:?}"));
            assert!(
                *before <= *at && *at <= *after + 1,
                "{protocol}: {name} at {at}, recorded in [{before}, {after}]"
            );
        }
        assert!(
            by_name.contains_key("about to initialise telemetry"),
            "{protocol}: pre-init tracing event missing"
        );
        let start = span["startTime"].as_u64().unwrap();
        assert!(
            start <= marks.values().map(|m| m.0).min().unwrap(),
            "{protocol}: span starts after its first event"
        );

        // The request span of the same process arrived too.
        assert_eq!(
            spans_named(&traces, "request").len(),
            1,
            "{protocol}: request span missing"
        );
    }
}

#[test]
fn a_short_lived_cli_delivers_its_startup_span_20_of_20() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let service = format!("{}-short", repo.name);
    let mut env = pipeline.otlp_env("grpc");
    env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
    for _ in 0..20 {
        run_fixture(&built.exe, &env);
    }
    let instances = |traces: &[serde_json::Value]| -> BTreeSet<String> {
        spans_named(traces, "startup")
            .into_iter()
            .filter_map(|(_, p)| tags(&p["tags"]).get("service.instance.id").cloned())
            .collect()
    };
    let traces = pipeline.traces_until(&service, Duration::from_secs(15), |t| {
        instances(t).len() >= 20
    });
    assert_eq!(
        instances(&traces).len(),
        20,
        "startup spans from distinct runs"
    );
}
