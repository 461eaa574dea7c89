//! Sampling by build, persistence and the agent → gateway path, against the
//! real Collectors and Jaeger (`scripts/pipeline/`, `DEPLOYING.md`):
//!
//! - three builds of the fixture (commit 1; commit 2; commit 2 with an
//!   uncommitted change) each send 100 traces through an agent Collector to
//!   the gateway Collector's `tail_sampling` (`otel-collector-gateway.yaml`):
//!   the build named in `BUILDTRACE_KEEP_BUILDS` and the dirty build arrive
//!   in Jaeger 100 of 100, the other one at the configured ratio — none at 0,
//!   and at 50 % exactly the traces whose ID hashes under the threshold;
//!   The same by commit (`BUILDTRACE_KEEP_REVISIONS`);
//! - a trace stored by Jaeger's Badger store is found after Jaeger restarts
//!   (and, as a control, the memory store loses it);
//! - through agent and gateway every span keeps its provenance resource, the
//!   same attributes `buildtrace inspect --json` reads from the binary;
//! - `docker compose config` accepts the compose file and its `distributed`
//!   profile, Jaeger its OpenSearch config, the Collectors theirs.
//!
//! Builds are told apart by what the spans carry (`buildtrace.id`, checked
//! against `git rev-parse` and `buildtrace inspect --json`), never by name.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use common::{run, Build, Repo};
use pipeline::{tags, Pipeline};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs of `--export` per build: each run sends two traces (its `startup`
/// span and its `request` span are two roots), checked in Jaeger and in the
/// agent's file export.
const RUNS: usize = 50;
const TRACES_PER_BUILD: usize = 100;
const DECISIONS: &str = "otelcol_processor_tail_sampling_global_count_traces_sampled";
const POLICY_DECISIONS: &str = "otelcol_processor_tail_sampling_count_traces_sampled";

/// One build of the fixture and what `buildtrace inspect --json` says of it.
struct Fixture {
    exe: PathBuf,
    inspect: BTreeMap<String, String>,
}

impl Fixture {
    fn id(&self) -> &str {
        &self.inspect["buildtrace.id"]
    }
}

/// The three builds every test here shares (built once per test binary).
struct Builds {
    /// Commit 1, clean: the one the sampling test names.
    named: Fixture,
    /// Commit 2, clean: neither named nor dirty.
    other: Fixture,
    /// Commit 2 plus an uncommitted change.
    dirty: Fixture,
}

fn inspect_json(exe: &Path) -> BTreeMap<String, String> {
    let json = run(Command::new(env!("CARGO_BIN_EXE_buildtrace"))
        .args(["inspect", "--json"])
        .arg(exe));
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

fn builds() -> &'static Builds {
    static BUILDS: OnceLock<Builds> = OnceLock::new();
    BUILDS.get_or_init(|| {
        // The executables outlive the repository: copied under the test
        // binary's own temporary directory in target/.
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-sampling");
        std::fs::create_dir_all(&keep).unwrap();
        let repo = Repo::new();
        let build = |label: &str| {
            let built = Build::new().features("export").run(&repo.dir);
            let exe = keep.join(format!("{}-{label}", repo.name));
            common::copy_executable(&built.exe, &exe);
            let inspect = inspect_json(&exe);
            Fixture { exe, inspect }
        };
        let first = repo.git(&["rev-parse", "HEAD"]);
        let named = build("named");
        std::fs::write(repo.dir.join("CHANGES"), "second release\n").unwrap();
        repo.git(&["add", "CHANGES"]);
        repo.git(&["commit", "-q", "-m", "second"]);
        let second = repo.git(&["rev-parse", "HEAD"]);
        let other = build("other");
        std::fs::write(repo.dir.join("CHANGES"), "second release, edited\n").unwrap();
        assert!(!repo.git(&["status", "--porcelain"]).is_empty());
        let dirty = build("dirty");

        assert_ne!(first, second);
        for (f, commit, is_dirty) in [
            (&named, &first, "false"),
            (&other, &second, "false"),
            (&dirty, &second, "true"),
        ] {
            assert_eq!(&f.inspect["vcs.ref.head.revision"], commit);
            assert_eq!(f.inspect["buildtrace.git.dirty"], is_dirty);
        }
        let ids: BTreeSet<&str> = [&named, &other, &dirty].iter().map(|f| f.id()).collect();
        assert_eq!(ids.len(), 3, "three builds, three provenance IDs");
        Builds {
            named,
            other,
            dirty,
        }
    })
}

/// Runs the fixture's `--export` mode `runs` times against the pipeline's
/// entry point (the agent, when there is a gateway).
fn send(pipeline: &Pipeline, fixture: &Fixture, runs: usize) {
    for _ in 0..runs {
        let out = Command::new(&fixture.exe)
            .arg("--export")
            .envs(pipeline.otlp_env("grpc"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Polls `check` every 100 ms until it returns `Some`, panicking with
/// `what` after `within`.
fn poll<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every trace in Jaeger, as `buildtrace.id -> trace IDs`, read from the
/// process tags of the trace's spans.
fn traces_by_build(pipeline: &Pipeline, service: &str) -> BTreeMap<String, BTreeSet<String>> {
    let traces = pipeline.traces_until(service, Duration::ZERO, |_| true);
    let mut by_build: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in &traces {
        let ids: BTreeSet<String> = t["processes"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, p)| tags(&p["tags"]).get("buildtrace.id").cloned())
            .collect();
        assert_eq!(ids.len(), 1, "one build per trace: {t}");
        by_build
            .entry(ids.into_iter().next().unwrap())
            .or_default()
            .insert(t["traceID"].as_str().unwrap().to_owned());
    }
    by_build
}

/// The trace IDs the agent forwarded, before any sampling, by
/// `buildtrace.id` of their resource: read from its file export
/// (`PIPELINE_FILE_EXPORT=1`, OTLP/JSON).
fn sent_by_build(pipeline: &Pipeline) -> BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(pipeline.var("PIPELINE_FILE_EXPORT_PATH")).unwrap_or_default();
    let mut by_build: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // a line still being written
        };
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            let id = rs["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "buildtrace.id")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or("none")
                .to_owned();
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    by_build
                        .entry(id.clone())
                        .or_default()
                        .insert(span["traceId"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    by_build
}

/// Starts agent → gateway → Jaeger with the gateway's sampling settings.
fn gateway_pipeline(settings: &[(&str, &str)]) -> Option<Pipeline> {
    let mut env = vec![
        ("PIPELINE_GATEWAY", "1"),
        ("PIPELINE_FILE_EXPORT", "1"),
        // The decision is taken this long after a trace's first span.
        ("BUILDTRACE_DECISION_WAIT", "1s"),
    ];
    env.extend_from_slice(settings);
    Pipeline::start_with(&env)
}

/// Sends 100 traces from each fixture and waits until the agent forwarded
/// them all and the gateway decided every one (its own decision counter);
/// returns the trace IDs sent, by build.
fn send_and_wait_for_decisions(
    pipeline: &Pipeline,
    fixtures: &[&Fixture],
) -> BTreeMap<String, BTreeSet<String>> {
    for f in fixtures {
        send(pipeline, f, RUNS);
    }
    let sent = poll(Duration::from_secs(20), "the agent's file export", || {
        let sent = sent_by_build(pipeline);
        fixtures
            .iter()
            .all(|f| sent.get(f.id()).map_or(0, BTreeSet::len) >= TRACES_PER_BUILD)
            .then_some(sent)
    });
    for f in fixtures {
        assert_eq!(
            sent[f.id()].len(),
            TRACES_PER_BUILD,
            "traces sent by build {}",
            f.id()
        );
    }
    let total = (fixtures.len() * TRACES_PER_BUILD) as f64;
    poll(Duration::from_secs(30), "the gateway's decisions", || {
        let decided = pipeline.metric("GATEWAY_METRICS_URL", DECISIONS, &[])?;
        assert!(decided <= total, "{decided} decisions for {total} traces");
        (decided == total).then_some(())
    });
    sent
}

/// Polls Jaeger until it holds exactly `expected` trace IDs per build (every
/// build in `expected`, none else), or panics with what it holds.
fn wait_for_jaeger(
    pipeline: &Pipeline,
    service: &str,
    expected: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = traces_by_build(pipeline, service);
        let wanted: BTreeMap<String, BTreeSet<String>> = expected
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if found == wanted {
            return found;
        }
        if Instant::now() >= deadline {
            let counts = |m: &BTreeMap<String, BTreeSet<String>>| -> BTreeMap<String, usize> {
                m.iter().map(|(k, v)| (k.clone(), v.len())).collect()
            };
            panic!(
                "Jaeger holds {:?}, expected {:?}",
                counts(&found),
                counts(&wanted)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// FNV-1a (64-bit) of the processor's default salt followed by the trace
/// ID's 16 bytes: the `probabilistic` policy keeps a trace when this is at
/// most `u64::MAX × ratio` (tailsamplingprocessor's probabilistic.go).
fn fnv1a_with_default_salt(trace_id_hex: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let id: Vec<u8> = (0..trace_id_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&trace_id_hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(id.len(), 16, "{trace_id_hex}");
    for b in b"default-hash-seed".iter().chain(&id) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The central interval holding at least `confidence` of Binomial(n, p).
fn binomial_interval(n: usize, p: f64, confidence: f64) -> (usize, usize) {
    let mut pmf = vec![0.0f64; n + 1];
    pmf[0] = (1.0 - p).powi(n as i32);
    for k in 1..=n {
        pmf[k] = pmf[k - 1] * (n - k + 1) as f64 / k as f64 * p / (1.0 - p);
    }
    let tail = (1.0 - confidence) / 2.0;
    let (mut lo, mut acc) = (0, 0.0);
    while acc + pmf[lo] <= tail {
        acc += pmf[lo];
        lo += 1;
    }
    let (mut hi, mut acc) = (n, 0.0);
    while acc + pmf[hi] <= tail {
        acc += pmf[hi];
        hi -= 1;
    }
    (lo, hi)
}

#[test]
fn the_named_and_the_dirty_build_are_kept_100_of_100_and_the_other_build_at_ratio_0_not_at_all() {
    if !Pipeline::available() {
        return;
    }
    // The list the deploy step would set: here the one build to keep.
    let b = builds();
    let pipeline = gateway_pipeline(&[
        ("BUILDTRACE_KEEP_BUILDS", b.named.id()),
        ("BUILDTRACE_SAMPLE_PERCENTAGE", "0"),
    ])
    .unwrap();
    let service = service_name(b);
    let t0 = Instant::now();
    let sent = send_and_wait_for_decisions(&pipeline, &[&b.named, &b.other, &b.dirty]);
    eprintln!(
        "300 traces sent and decided in {} ms",
        t0.elapsed().as_millis()
    );

    // Every trace of the named build and of the dirty build, none of the other.
    let mut expected = sent.clone();
    expected.insert(b.other.id().to_owned(), BTreeSet::new());
    let found = wait_for_jaeger(&pipeline, &service, &expected);
    assert_eq!(found[b.named.id()].len(), 100);
    assert_eq!(found[b.dirty.id()].len(), 100);
    assert!(!found.contains_key(b.other.id()));

    // The gateway's own count agrees, policy by policy.
    let m = |name: &str, labels: &[(&str, &str)]| {
        pipeline
            .metric("GATEWAY_METRICS_URL", name, labels)
            .unwrap()
    };
    assert_eq!(m(DECISIONS, &[("sampled", "true")]), 200.0);
    assert_eq!(m(DECISIONS, &[("sampled", "false")]), 100.0);
    for (policy, kept) in [
        ("named-builds", 100.0),
        ("named-revisions", 0.0),
        ("dirty-builds", 100.0),
        ("the-rest", 0.0),
    ] {
        assert_eq!(
            m(POLICY_DECISIONS, &[("policy", policy), ("sampled", "true")]),
            kept,
            "traces kept by policy {policy}"
        );
    }
}

#[test]
fn at_50_percent_the_rest_is_kept_exactly_where_the_trace_id_hashes_under_the_threshold() {
    if !Pipeline::available() {
        return;
    }
    // Commit 1 named by revision this time, in a list of two as a deploy
    // step would write it; the dirty build is kept whole; the other build
    // falls to the ratio.
    let b = builds();
    let keep = format!(
        "{},{}",
        b.named.inspect["vcs.ref.head.revision"],
        "0".repeat(40)
    );
    let pipeline = gateway_pipeline(&[
        ("BUILDTRACE_KEEP_REVISIONS", keep.as_str()),
        ("BUILDTRACE_SAMPLE_PERCENTAGE", "50"),
    ])
    .unwrap();
    let service = service_name(b);
    let sent = send_and_wait_for_decisions(&pipeline, &[&b.named, &b.other, &b.dirty]);

    // 50 %: u64::MAX × 0.5, truncated, as the processor computes it.
    let threshold = u64::MAX / 2;
    let mut expected = sent.clone();
    let predicted: BTreeSet<String> = sent[b.other.id()]
        .iter()
        .filter(|t| fnv1a_with_default_salt(t) <= threshold)
        .cloned()
        .collect();
    expected.insert(b.other.id().to_owned(), predicted);
    let found = wait_for_jaeger(&pipeline, &service, &expected);
    assert_eq!(found[b.named.id()].len(), 100);
    assert_eq!(found[b.dirty.id()].len(), 100);
    let named_by_revision = pipeline
        .metric(
            "GATEWAY_METRICS_URL",
            POLICY_DECISIONS,
            &[("policy", "named-revisions"), ("sampled", "true")],
        )
        .unwrap();
    // Commit 1's build only: the dirty build is of commit 2.
    assert_eq!(named_by_revision, 100.0);

    // And the count is what a 50 % sampler gives: inside the central 99.9 %
    // of Binomial(100, 0.5).
    let (lo, hi) = binomial_interval(TRACES_PER_BUILD, 0.5, 0.999);
    let kept = found.get(b.other.id()).map_or(0, BTreeSet::len);
    eprintln!("50 %: {kept} of 100 traces of the other build kept, [{lo}, {hi}] expected");
    assert!(
        (lo..=hi).contains(&kept),
        "{kept} of 100 kept, outside [{lo}, {hi}]"
    );
}

#[test]
fn a_trace_stored_with_badger_is_found_after_jaeger_restarts_and_one_in_memory_is_not() {
    for storage in ["memory", "badger"] {
        let Some(mut pipeline) = Pipeline::start_with(&[("PIPELINE_JAEGER_STORAGE", storage)])
        else {
            return;
        };
        assert_eq!(pipeline.var("PIPELINE_JAEGER_STORAGE"), storage);
        let b = builds();
        let service = service_name(b);
        send(&pipeline, &b.named, 1);
        let before = pipeline.traces_until(&service, Duration::from_secs(15), |t| t.len() == 2);
        assert_eq!(before.len(), 2, "{storage}: the run's two traces");
        let trace_id = before[0]["traceID"].as_str().unwrap().to_owned();
        let url = format!("{}/api/traces/{trace_id}", pipeline.var("JAEGER_QUERY_URL"));
        let stored = pipeline::get_json(&url).expect("the trace, before the restart");

        let old_pid = pipeline.var("JAEGER_PID").to_owned();
        let t0 = Instant::now();
        let said = pipeline.restart_jaeger();
        eprintln!(
            "{storage}: {} ({} ms)",
            said.trim(),
            t0.elapsed().as_millis()
        );
        assert_ne!(pipeline.var("JAEGER_PID"), old_pid);
        assert!(!running(&old_pid), "{storage}: the first Jaeger still runs");

        let after = pipeline::get_json(&url);
        match storage {
            "badger" => {
                let after = after.expect("the trace, after the restart");
                assert_eq!(
                    after["data"], stored["data"],
                    "the same trace, span for span"
                );
                assert!(pipeline
                    .var("JAEGER_BADGER_DIR")
                    .starts_with(pipeline.dir().to_str().unwrap()));
            }
            _ => {
                // Jaeger answers 404 for an unknown trace (curl -f: None).
                let data = after.as_ref().map(|v| v["data"].clone());
                assert!(
                    data.as_ref()
                        .is_none_or(|d| d.as_array().is_none_or(Vec::is_empty)),
                    "memory: the trace outlived a restart: {data:?}"
                );
            }
        }

        // The restarted Jaeger takes new traces through the same Collector.
        send(&pipeline, &b.named, 1);
        let expected = if storage == "badger" { 4 } else { 2 };
        let now = pipeline.traces_until(&service, Duration::from_secs(20), |t| t.len() == expected);
        assert_eq!(now.len(), expected, "{storage}: traces after the restart");
    }
}

#[test]
fn through_agent_and_gateway_every_span_keeps_the_provenance_inspect_reads_from_its_binary() {
    let Some(pipeline) = gateway_pipeline(&[("BUILDTRACE_SAMPLE_PERCENTAGE", "100")]) else {
        return;
    };
    let b = builds();
    let service = service_name(b);
    let fixtures = [&b.named, &b.other, &b.dirty];
    for f in fixtures {
        send(&pipeline, f, 3);
    }
    let traces = pipeline.traces_until(&service, Duration::from_secs(30), |t| t.len() == 18);
    assert_eq!(traces.len(), 18, "3 builds × 3 runs × 2 traces");

    let mut spans_per_build: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &traces {
        for span in t["spans"].as_array().unwrap() {
            let process = &t["processes"][span["processID"].as_str().unwrap()];
            let mut got = tags(&process["tags"]);
            for per_process in [
                "service.instance.id",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
                "telemetry.sdk.version",
            ] {
                assert!(got.remove(per_process).is_some(), "{per_process} missing");
            }
            let id = got.get("buildtrace.id").cloned().unwrap_or_default();
            let f = fixtures
                .iter()
                .find(|f| f.id() == id)
                .unwrap_or_else(|| panic!("a span of no known build: {got:?}"));
            let mut expected = f.inspect.clone();
            assert_eq!(
                process["serviceName"].as_str(),
                expected.remove("service.name").as_deref()
            );
            assert_eq!(got, expected, "process tags differ from inspect --json");
            *spans_per_build.entry(f.id()).or_default() += 1;
        }
    }
    assert_eq!(spans_per_build.len(), 3);
    assert!(
        spans_per_build.values().all(|n| *n == 6),
        "{spans_per_build:?}"
    );

    // They went through both Collectors: the agent sent them to the gateway,
    // the gateway took them in and sent them on.
    let spans = 18.0;
    let agent_sent = pipeline
        .metric(
            "OTELCOL_METRICS_URL",
            "otelcol_exporter_sent_spans",
            &[("exporter", "otlp_grpc/gateway")],
        )
        .unwrap();
    let gateway_sent = pipeline
        .metric(
            "GATEWAY_METRICS_URL",
            "otelcol_exporter_sent_spans",
            &[("exporter", "otlp_grpc/jaeger")],
        )
        .unwrap();
    assert_eq!((agent_sent, gateway_sent), (spans, spans));
}

/// `service.name`: the fixture's package name, the same for the three builds.
fn service_name(b: &Builds) -> String {
    let name = &b.named.inspect["service.name"];
    assert!(
        [&b.other, &b.dirty]
            .iter()
            .all(|f| &f.inspect["service.name"] == name),
        "one example, one service name"
    );
    name.clone()
}

/// Whether process `pid` runs: it exists and is not a zombie (the
/// pipeline's processes outlive the script that started them, so whoever
/// adopted them reaps them, maybe later).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.split(' ').next()?.to_owned();
            Some(state != "Z")
        })
        .unwrap_or(false)
}

/// `NAME=path` from `scripts/pipeline/setup.sh --print-paths`.
fn pipeline_bin(name: &str) -> PathBuf {
    let paths = run(
        Command::new(common::buildtrace_root().join("scripts/pipeline/setup.sh"))
            .arg("--print-paths"),
    );
    let prefix = format!("{name}=");
    PathBuf::from(
        paths
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} in {paths}")),
    )
}

/// `BIN validate --config FILE...` from the repository root, with `env`.
fn validate(bin: &Path, configs: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(bin);
    c.current_dir(common::buildtrace_root()).arg("validate");
    for f in configs {
        c.arg("--config").arg(f);
    }
    c.envs(env.iter().copied()).output().unwrap()
}

#[test]
fn the_compose_file_and_its_distributed_profile_are_valid_and_jaeger_accepts_its_opensearch_config()
{
    if !Pipeline::available() {
        return;
    }
    // Jaeger v2.13.0, the image's release, checks the OpenSearch config
    // it would run with; a misspelt key shows that it reads it.
    let jaeger = pipeline_bin("JAEGER_BIN");
    let ok = validate(&jaeger, &["deploy/jaeger-opensearch.yaml"], &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("jaeger-opensearch.yaml");
    let text =
        std::fs::read_to_string(common::buildtrace_root().join("deploy/jaeger-opensearch.yaml"))
            .unwrap()
            .replace("index_prefix:", "index_prefx:");
    std::fs::write(&bad, text).unwrap();
    let refused = validate(&jaeger, &[bad.to_str().unwrap()], &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("index_prefx"));

    // The gateway and agent configs the profile runs, with a keep list given
    // the three ways DEPLOYING.md names.
    let gateway = pipeline_bin("OTELCOL_GATEWAY_BIN");
    for keep in ["", "0f1e2d3c", "aa11,bb22", r#"["1234"]"#] {
        let out = validate(
            &gateway,
            &["otel-collector-gateway.yaml"],
            &[("BUILDTRACE_KEEP_BUILDS", keep)],
        );
        assert!(
            out.status.success(),
            "{keep:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let agent = pipeline_bin("OTELCOL_BIN");
    let out = validate(
        &agent,
        &["otel-collector.yaml", "otel-collector-agent.yaml"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The real Docker Compose (built from the Go module proxy by
    // compose.sh, like the Collectors by setup.sh): `docker compose config`.
    let compose = common::buildtrace_root().join("scripts/pipeline/compose.sh");
    let built = Command::new(&compose)
        .arg("--print-path")
        .output()
        .unwrap()
        .status
        .success();
    if !built && std::env::var("BUILDTRACE_E2E").as_deref() != Ok("required") {
        eprintln!("SKIPPED (docker compose config): run scripts/pipeline/compose.sh");
        return;
    }
    let checked = run(&mut Command::new(&compose));
    assert!(checked.contains("profile 'distributed' valid"), "{checked}");
    let services = |args: &[&str]| -> BTreeSet<String> {
        run(Command::new(&compose)
            .arg("compose")
            .args(args)
            .args(["config", "--services"]))
        .lines()
        .map(str::to_owned)
        .collect()
    };
    let default = services(&[]);
    let distributed = services(&["--profile", "distributed"]);
    assert_eq!(
        default,
        BTreeSet::from(["jaeger".to_owned(), "otel-collector".to_owned()])
    );
    assert_eq!(
        distributed
            .difference(&default)
            .cloned()
            .collect::<BTreeSet<_>>(),
        [
            "jaeger-opensearch",
            "opensearch",
            "otel-agent",
            "otel-gateway"
        ]
        .map(str::to_owned)
        .into()
    );
    // The deploy step's list reaches the gateway's environment.
    let rendered = run(Command::new(&compose)
        .args(["compose", "--profile", "distributed", "config"])
        .env("BUILDTRACE_KEEP_BUILDS", "0f1e2d3c"));
    assert!(
        rendered.contains("BUILDTRACE_KEEP_BUILDS: 0f1e2d3c"),
        "{rendered}"
    );
}
