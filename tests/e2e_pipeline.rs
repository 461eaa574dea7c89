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
        // Everything, transport crates included, is enabled: their spans and
        // events must still stay out of the telemetry they carry.
        env.push(("RUST_LOG".into(), "trace".into()));
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
        let operations: BTreeSet<&str> = traces
            .iter()
            .flat_map(|t| t["spans"].as_array().into_iter().flatten())
            .filter_map(|s| s["operationName"].as_str())
            .collect();
        assert_eq!(
            operations,
            BTreeSet::from(["request", "startup"]),
            "{protocol}: the exporter's own spans looped back into telemetry"
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

/// The Collector's own command line, to stop and start it under the running
/// pipeline: the same binary, `otel-collector.yaml` and ports.
struct Collector {
    bin: String,
    env: Vec<(String, String)>,
    child: Option<std::process::Child>,
}

impl Collector {
    fn of(pipeline: &Pipeline) -> Collector {
        let paths = run(
            Command::new(common::buildtrace_root().join("scripts/pipeline/setup.sh"))
                .arg("--print-paths"),
        );
        let bin = paths
            .lines()
            .find_map(|l| l.strip_prefix("OTELCOL_BIN="))
            .unwrap()
            .to_owned();
        let port = |url: &str| {
            url.rsplit(':')
                .next()
                .unwrap()
                .trim_end_matches(['/', 'm', 'e', 't', 'r', 'i', 'c', 's'])
                .to_owned()
        };
        let host_port = |key: &str| {
            pipeline
                .var(key)
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned()
        };
        let env = vec![
            (
                "OTELCOL_GRPC_ENDPOINT".into(),
                host_port("PIPELINE_OTLP_GRPC_ENDPOINT"),
            ),
            (
                "OTELCOL_HTTP_ENDPOINT".into(),
                host_port("PIPELINE_OTLP_HTTP_ENDPOINT"),
            ),
            (
                "OTELCOL_HEALTH_ENDPOINT".into(),
                host_port("OTELCOL_HEALTH_URL"),
            ),
            (
                "OTELCOL_METRICS_PORT".into(),
                port(&pipeline.var("OTELCOL_METRICS_URL").replace("/metrics", "")),
            ),
            (
                "JAEGER_OTLP_GRPC_ENDPOINT".into(),
                pipeline.var("JAEGER_OTLP_GRPC_ENDPOINT").to_owned(),
            ),
        ];
        Collector {
            bin,
            env,
            child: None,
        }
    }

    fn kill_pipelines(pipeline: &Pipeline) {
        run(Command::new("kill").arg(pipeline.var("OTELCOL_PID")));
        // Wait until the port is closed (no blind sleep).
        let addr = pipeline
            .var("PIPELINE_OTLP_GRPC_ENDPOINT")
            .trim_start_matches("http://")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&addr).is_ok() {
            assert!(Instant::now() < deadline, "the Collector did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start(&mut self, pipeline: &Pipeline) {
        let mut c = Command::new(&self.bin);
        c.arg("--config")
            .arg(common::buildtrace_root().join("otel-collector.yaml"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        self.child = Some(c.spawn().unwrap());
        let health = pipeline.var("OTELCOL_HEALTH_URL").to_owned();
        let deadline = Instant::now() + Duration::from_secs(30);
        while pipeline::get_json(&health).is_none() {
            assert!(Instant::now() < deadline, "the Collector did not come back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn serve(exe: &std::path::Path, seconds: u64, env: &[(String, String)]) -> std::process::Child {
    let mut c = Command::new(exe);
    c.args(["--serve", &seconds.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

fn figures(child: std::process::Child) -> BTreeMap<String, u64> {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect()
}

#[test]
fn a_collector_down_at_start_and_up_5_s_later_still_gets_the_startup_span() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let mut collector = Collector::of(&pipeline);
    Collector::kill_pipelines(&pipeline);

    let service = format!("{}-late", repo.name);
    let mut env = pipeline.otlp_env("grpc");
    env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
    env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "200".into()));
    let app = serve(&built.exe, 9, &env);
    std::thread::sleep(Duration::from_secs(5)); // the outage under test, not a synchronisation
    collector.start(&pipeline);
    let f = figures(app);
    eprintln!("collector down for 5 s at start: {f:?}");
    assert!(
        f["longest_block_us"] < 500_000,
        "the main thread was blocked {} µs",
        f["longest_block_us"]
    );

    let query = format!("{service}?operation=startup");
    let waited = Instant::now();
    let traces = pipeline.traces_until(&query, Duration::from_secs(10), |t| {
        !spans_named(t, "startup").is_empty()
    });
    eprintln!(
        "startup span found through Jaeger's API {} ms after the program exited",
        waited.elapsed().as_millis()
    );
    let startup = spans_named(&traces, "startup");
    assert_eq!(startup.len(), 1, "the startup span did not arrive");
    assert_eq!(
        tags(&startup[0].1["tags"]).get("buildtrace.id"),
        inspect_json(&built.exe).get("buildtrace.id")
    );
}

#[test]
fn a_collector_killed_mid_run_and_restarted_loses_nothing_it_can_retry() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let mut collector = Collector::of(&pipeline);

    let service = format!("{}-restart", repo.name);
    let mut env = pipeline.otlp_env("grpc");
    env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
    env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "200".into()));
    let app = serve(&built.exe, 10, &env);
    std::thread::sleep(Duration::from_secs(2)); // let it run before the outage
    Collector::kill_pipelines(&pipeline);
    std::thread::sleep(Duration::from_secs(3)); // the outage under test
    collector.start(&pipeline);
    let f = figures(app);
    eprintln!("collector killed for 3 s mid-run: {f:?}");
    assert!(
        f["longest_block_us"] < 500_000,
        "the main thread was blocked {} µs",
        f["longest_block_us"]
    );

    let ticks = f["ticks"];
    let expected = ticks - f["lost"];
    let traces = pipeline.traces_until(&service, Duration::from_secs(10), |t| {
        spans_named(t, "tick").len() as u64 >= expected
    });
    let arrived = spans_named(&traces, "tick").len() as u64;
    eprintln!(
        "ticks produced {ticks}, counted lost {}, arrived {arrived}",
        f["lost"]
    );
    assert_eq!(
        arrived + f["lost"],
        ticks,
        "a span was neither delivered nor counted as lost"
    );
}

#[test]
fn a_sealed_binary_says_its_sealed_digest_in_jaeger_matching_verify_and_its_attestation() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let cli = || Command::new(env!("CARGO_BIN_EXE_buildtrace"));
    let key = repo.tmp.path().join("release.pem");
    run(cli().arg("keygen").arg("--out").arg(&key));
    run(cli().arg("seal").arg(&built.exe).arg("--key").arg(&key));
    let verified: serde_json::Value = serde_json::from_str(&run(cli()
        .arg("verify")
        .arg("--json")
        .arg(&built.exe)
        .arg("--pubkey")
        .arg(repo.tmp.path().join("release.pem.pub"))))
    .unwrap();
    assert_eq!(verified["verdict"], "sealed-and-bound");
    let sealed = verified["seal"]["sealed_digest"].as_str().unwrap();
    let attestation: serde_json::Value =
        serde_json::from_str(&run(cli().arg("attest").arg(&built.exe))).unwrap();

    let service = format!("{}-sealed", repo.name);
    let mut env = pipeline.otlp_env("grpc");
    env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
    run_fixture(&built.exe, &env);
    let query = format!("{service}?operation=startup");
    let traces = pipeline.traces_until(&query, Duration::from_secs(10), |t| {
        !spans_named(t, "startup").is_empty()
    });
    let startup = spans_named(&traces, "startup");
    assert_eq!(startup.len(), 1, "the startup span did not arrive");
    let process = tags(&startup[0].1["tags"]);
    assert_eq!(process["buildtrace.seal.state"], "sealed");
    assert_eq!(process["buildtrace.seal.digest"], sealed);
    assert_eq!(
        process["buildtrace.seal.key_id"],
        verified["seal"]["signature"]["key_id"].as_str().unwrap()
    );
    assert_eq!(
        attestation["predicate"]["runDetails"]["byproducts"][0]["annotations"]["sealDigest"],
        sealed
    );
}
