//! The comparison harness: builds the four services under
//! `compare/service/`, runs them side by side against the real Collector
//! and Jaeger (and against a refused and a black-holed endpoint), checks
//! what each reports about its build against independent sources, and
//! writes `results.json`, `report.md` and SVG plots. Exits non-zero when
//! anything is wrong (a run failed, a build's spans did not reach Jaeger,
//! buildtrace's provenance or startup events are wrong, buildtrace's no-op
//! rebuild ran a build script).
//!
//! Run it through `scripts/compare.sh`, which starts and stops the
//! Collector and Jaeger.

mod apps;
mod builds;
mod jaeger;
mod plot;
mod report;
mod run;
mod stats;
mod truth;

use apps::App;
use jaeger::{Jaeger, Stored};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: compare-harness --root DIR --out DIR [--runs N] [--build-runs N] \
[--event-batches N] [--conditions up,refused,black-holed] [--apps none,hand,itotel,buildtrace] \
[--pipeline-env FILE] [--timeout SECS] [--logs DIR] [--smoke] [--command TEXT]
       compare-harness --from-json results.json --out DIR   (report.md and plots again)";

#[derive(Debug, Clone)]
pub struct Opts {
    pub root: PathBuf,
    pub out: PathBuf,
    pub runs: usize,
    pub build_runs: usize,
    pub event_batches: usize,
    pub conditions: Vec<String>,
    pub apps: Vec<App>,
    pub pipeline_env: Option<PathBuf>,
    pub timeout: Duration,
    pub smoke: bool,
    pub command: String,
    pub logs: Option<PathBuf>,
    /// Only write report.md and the plots again from a results.json.
    pub from_json: Option<PathBuf>,
}

fn parse_opts() -> Result<Opts, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Opts {
        root: PathBuf::new(),
        out: PathBuf::new(),
        runs: 10,
        build_runs: 1,
        event_batches: 400,
        conditions: vec!["up".into(), "refused".into(), "black-holed".into()],
        apps: apps::APPS.to_vec(),
        pipeline_env: None,
        timeout: Duration::from_secs(60),
        smoke: false,
        command: String::new(),
        logs: None,
        from_json: None,
    };
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        let number = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{a}: not a number: {v}"))
        };
        match a.as_str() {
            "--root" => o.root = value()?.into(),
            "--out" => o.out = value()?.into(),
            "--runs" => o.runs = number(value()?)?.max(1),
            "--build-runs" => o.build_runs = number(value()?)?,
            "--event-batches" => o.event_batches = number(value()?)?.max(1),
            "--timeout" => o.timeout = Duration::from_secs(number(value()?)? as u64),
            "--pipeline-env" => o.pipeline_env = Some(value()?.into()),
            "--command" => o.command = value()?,
            "--logs" => o.logs = Some(value()?.into()),
            "--from-json" => o.from_json = Some(value()?.into()),
            "--smoke" => o.smoke = true,
            "--conditions" => {
                o.conditions = value()?
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                for c in &o.conditions {
                    if !matches!(c.as_str(), "up" | "refused" | "black-holed") {
                        return Err(format!(
                            "unknown condition {c}; known: up, refused, black-holed"
                        ));
                    }
                }
            }
            "--apps" => {
                o.apps = value()?
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|k| apps::by_key(k).ok_or_else(|| format!("unknown app {k}")))
                    .collect::<Result<_, _>>()?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if o.from_json.is_some() && !o.out.as_os_str().is_empty() {
        return Ok(o);
    }
    if o.root.as_os_str().is_empty() || o.out.as_os_str().is_empty() {
        return Err(USAGE.into());
    }
    if o.conditions.iter().any(|c| c == "up") && o.pipeline_env.is_none() {
        return Err("the `up` condition needs --pipeline-env (scripts/pipeline/pipeline.sh start writes it)".into());
    }
    Ok(o)
}

/// `KEY=value` lines of `pipeline.env` (values shell-quoted only if needed).
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.trim().trim_matches('\'').to_string(),
            )
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub app: String,
    pub condition: String,
    pub round: usize,
    pub service: String,
    pub exit: run::Exit,
    /// Launch to the first Jaeger answer that held a trace of this run.
    pub first_span_ms: Option<f64>,
    pub stored: Option<Stored>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub cargo: String,
    pub collector: String,
    pub jaeger: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// `compare:` values per run of the signal configurations.
    #[serde(default)]
    pub signals: BTreeMap<String, Vec<BTreeMap<String, f64>>>,
    pub smoke: bool,
    pub command: String,
    pub started_utc: String,
    pub runs_per_condition: usize,
    pub build_runs: usize,
    pub event_batches: usize,
    pub apps: Vec<String>,
    pub conditions: Vec<String>,
    pub machine: Machine,
    /// (when, load average) samples.
    pub load: Vec<(String, String)>,
    pub versions: BTreeMap<String, BTreeMap<String, String>>,
    pub truth_before: truth::Truth,
    pub truth_after: truth::Truth,
    pub tree_stable: bool,
    pub packages: BTreeMap<String, truth::PackageTruth>,
    /// Whether git tracks each service package.
    pub tracked: BTreeMap<String, bool>,
    pub builds: Vec<builds::BuildResult>,
    /// Per app, each process's median ns per startup event (warm, many events).
    pub event_bench: BTreeMap<String, Vec<f64>>,
    pub runs: Vec<RunRecord>,
    pub correctness: BTreeMap<String, Vec<truth::Verdict>>,
    pub emitted: BTreeMap<String, BTreeMap<String, String>>,
    pub problems: Vec<String>,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn first_line(cmd: &mut Command) -> String {
    truth::run(cmd)
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "unknown".into());
    let collector = std::env::var("OTELCOL_BIN")
        .map(|b| first_line(Command::new(b).arg("--version")))
        .unwrap_or_else(|_| "unknown (OTELCOL_BIN unset)".into());
    let jaeger = std::env::var("JAEGER_BIN")
        .map(|b| {
            let out = Command::new(b).arg("version").output();
            let text = out
                .map(|o| {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    )
                })
                .unwrap_or_default();
            text.split("\"gitVersion\":\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(|v| format!("jaeger {v}"))
                .unwrap_or_else(|| "unknown".into())
        })
        .unwrap_or_else(|_| "unknown (JAEGER_BIN unset)".into());
    Machine {
        cpu,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        memory,
        kernel,
        rustc: truth::run(Command::new(truth::rustc()).arg("-vV"))
            .map(|s| {
                let first = s.lines().next().unwrap_or("").to_string();
                let llvm = s
                    .lines()
                    .find_map(|l| l.strip_prefix("LLVM version: "))
                    .unwrap_or("?");
                format!("{first}, LLVM {llvm}")
            })
            .unwrap_or_else(|e| e),
        cargo: first_line(Command::new("cargo").arg("-V")),
        collector,
        jaeger,
    }
}

/// Crates of interest and their versions, from an app's `Cargo.lock`.
fn lock_versions(app: &App, root: &Path) -> BTreeMap<String, String> {
    const WANTED: [&str; 14] = [
        "opentelemetry",
        "opentelemetry_sdk",
        "opentelemetry-otlp",
        "tracing-opentelemetry",
        "tracing-subscriber",
        "tracing",
        "tonic",
        "tokio",
        "vergen-gitcl",
        "init-tracing-opentelemetry",
        "opentelemetry-resource-detectors",
        "reqwest",
        "buildtrace",
        "hyper",
    ];
    let lock = std::fs::read_to_string(app.source_dir(root).join("Cargo.lock")).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if WANTED.contains(&n.as_str()) {
                let v = v.trim_matches('"').to_string();
                out.entry(n)
                    .and_modify(|e: &mut String| {
                        if !e.split(", ").any(|x| x == v) {
                            e.push_str(", ");
                            e.push_str(&v);
                        }
                    })
                    .or_insert(v);
            }
        }
    }
    out
}

fn utc_now() -> String {
    let secs = (run::now_ns() / 1_000_000_000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn main() -> ExitCode {
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match &opts.from_json {
        Some(path) => rereport(path, &opts.out),
        None => compare(&opts),
    };
    match outcome {
        Ok(problems) if problems.is_empty() => {
            eprintln!(
                "compare: all checks passed; report in {}",
                opts.out.join("report.md").display()
            );
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            eprintln!("compare: {} problem(s):", problems.len());
            for p in &problems {
                eprintln!("  - {p}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("compare: {e}");
            ExitCode::FAILURE
        }
    }
}

fn compare(opts: &Opts) -> Result<Vec<String>, String> {
    let logs = opts.logs.clone().unwrap_or_else(|| opts.out.join("logs"));
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let root = &opts.root;
    let mut load = vec![("start".to_string(), load_average())];
    let started_utc = utc_now();

    let jaeger = match &opts.pipeline_env {
        Some(p) if opts.conditions.iter().any(|c| c == "up") => {
            let env = read_env_file(p)?;
            let q = env
                .get("JAEGER_QUERY_URL")
                .ok_or("pipeline.env has no JAEGER_QUERY_URL")?;
            let grpc = env
                .get("PIPELINE_OTLP_GRPC_ENDPOINT")
                .ok_or("pipeline.env has no PIPELINE_OTLP_GRPC_ENDPOINT")?;
            let j = Jaeger::new(q);
            j.ping()?;
            Some((Arc::new(j), grpc.clone()))
        }
        _ => None,
    };

    eprintln!("== machine, versions, truth");
    let machine = machine();
    let versions: BTreeMap<String, BTreeMap<String, String>> = opts
        .apps
        .iter()
        .map(|a| (a.key.to_string(), lock_versions(a, root)))
        .collect();
    for app in &opts.apps {
        builds::fetch(app, root)?;
    }
    let truth_before = truth::Truth::now(root)?;
    let mut packages = BTreeMap::new();
    let mut tracked = BTreeMap::new();
    for app in &opts.apps {
        packages.insert(
            app.key.to_string(),
            truth::package(root, app, builds::FEATURES)?,
        );
        tracked.insert(app.key.to_string(), truth::tracked(root, app));
    }
    if tracked.values().any(|t| !t) {
        eprintln!("  note: git does not track compare/service/* yet: buildtrace reports no commit for an untracked package (by design)");
    }

    eprintln!(
        "== builds ({})",
        if opts.build_runs == 0 {
            "reusing target/compare/*, not timed".to_string()
        } else {
            format!("{} clean build(s) each, timed", opts.build_runs)
        }
    );
    let mut build_results = Vec::new();
    for app in &opts.apps {
        let b = builds::build(app, root, opts.build_runs, &logs)?;
        eprintln!(
            "  {}: stripped {} bytes; no-op rebuild reran build scripts: {}",
            app.key,
            b.stripped_bytes,
            if b.noop_reran.is_empty() {
                "none".to_string()
            } else {
                b.noop_reran.join(", ")
            }
        );
        build_results.push(b);
    }
    let truth_after = truth::Truth::now(root)?;
    let tree_stable = truth_before == truth_after;
    if !tree_stable {
        eprintln!("  note: the working tree changed while the builds ran; the dirty fact is reported as undetermined");
    }
    load.push(("after the builds".into(), load_average()));

    eprintln!(
        "== startup event cost ({} batches of 256 events per process, {} processes per build)",
        opts.event_batches, opts.runs
    );
    let mut event_bench: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for round in 0..opts.runs {
        for k in 0..opts.apps.len() {
            let app = opts.apps[(round + k) % opts.apps.len()];
            if !app.telemetry {
                continue;
            }
            let env = vec![(
                "COMPARE_EVENT_BENCH".to_string(),
                opts.event_batches.to_string(),
            )];
            let exit = run::run(
                &app.binary(root),
                &env,
                opts.timeout,
                &logs,
                &format!("bench-{}-{round}", app.key),
                |_| {},
            )?;
            if let Some(ns) = exit.values.get("event_bench_ns") {
                event_bench
                    .entry(app.key.to_string())
                    .or_default()
                    .push(*ns);
            }
        }
    }

    let mut records = Vec::new();
    let nonce = run::now_ns() / 1_000_000 % 1_000_000;
    for condition in &opts.conditions {
        let endpoint = match condition.as_str() {
            "up" => jaeger
                .as_ref()
                .map(|(_, e)| e.clone())
                .ok_or("no pipeline")?,
            "refused" => format!("http://127.0.0.1:{}", run::refused_port()?),
            _ => format!("http://127.0.0.1:{}", run::black_hole()?),
        };
        load.push((format!("before `{condition}`"), load_average()));
        eprintln!(
            "== collector {condition} ({endpoint}): {} rounds of {} (each round starts with the next build)",
            opts.runs,
            opts.apps.iter().map(|a| a.key).collect::<Vec<_>>().join(" ")
        );
        for round in 0..opts.runs {
            for k in 0..opts.apps.len() {
                let app = opts.apps[(round + k) % opts.apps.len()];
                let rec = run_one(
                    opts,
                    &app,
                    condition,
                    round,
                    nonce,
                    &endpoint,
                    jaeger.as_ref().map(|(j, _)| j),
                    &logs,
                )?;
                if rec.exit.status != "ok" {
                    eprintln!(
                        "  {} {condition} round {round}: {} ({})",
                        app.key, rec.exit.status, rec.exit.stderr_tail
                    );
                }
                records.push(rec);
            }
        }
    }
    let signals = match &jaeger {
        Some((_, endpoint)) => signal_runs(opts, endpoint, nonce, &logs)?,
        None => BTreeMap::new(),
    };
    load.push(("end".into(), load_average()));

    // Correctness: the resource of each build's first run with a request
    // span in Jaeger.
    let mut correctness = BTreeMap::new();
    let mut emitted = BTreeMap::new();
    for app in opts.apps.iter().filter(|a| a.telemetry) {
        let tags = records
            .iter()
            .filter(|r| r.app == app.key && r.condition == "up")
            .find_map(|r| {
                r.stored
                    .as_ref()
                    .filter(|s| !s.tags.is_empty())
                    .map(|s| s.tags.clone())
            });
        if let Some(mut tags) = tags {
            // No paths of this checkout in the results.
            let here = root.display().to_string();
            for v in tags.values_mut() {
                *v = v.replace(&here, "<repository>");
            }
            let pkg = &packages[app.key];
            correctness.insert(
                app.key.to_string(),
                // buildtrace declines the commit of a repository that does not
                // track the package; the others do not look.
                truth::check(
                    &tags,
                    &truth_before,
                    pkg,
                    tree_stable,
                    app.key == "buildtrace" && !tracked[app.key],
                ),
            );
            emitted.insert(app.key.to_string(), tags);
        }
    }

    // The resource is kept once per build (in `emitted`), not per run.
    for r in &mut records {
        if let Some(s) = r.stored.as_mut() {
            s.tags.clear();
        }
    }

    let mut results = Results {
        smoke: opts.smoke,
        command: opts.command.clone(),
        started_utc,
        runs_per_condition: opts.runs,
        build_runs: opts.build_runs,
        event_batches: opts.event_batches,
        apps: opts.apps.iter().map(|a| a.key.to_string()).collect(),
        conditions: opts.conditions.clone(),
        machine,
        load,
        versions,
        truth_before,
        truth_after,
        tree_stable,
        packages,
        tracked,
        builds: build_results,
        event_bench,
        signals,
        runs: records,
        correctness,
        emitted,
        problems: Vec::new(),
    };
    results.problems = problems(opts, &results);

    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(opts.out.join("results.json"), json).map_err(|e| e.to_string())?;
    let md = report::markdown(&results);
    std::fs::write(opts.out.join("report.md"), &md).map_err(|e| e.to_string())?;
    plot::all(&results, &opts.out)?;
    println!("{md}");
    Ok(results.problems)
}

/// report.md and the plots again, from a results.json (after a change to
/// the report's layout, without measuring again).
fn rereport(path: &Path, out: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let results: Results =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    std::fs::write(out.join("report.md"), report::markdown(&results)).map_err(|e| e.to_string())?;
    plot::all(&results, out)?;
    Ok(results.problems)
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    opts: &Opts,
    app: &App,
    condition: &str,
    round: usize,
    nonce: u128,
    endpoint: &str,
    jaeger: Option<&Arc<Jaeger>>,
    logs: &Path,
) -> Result<RunRecord, String> {
    let service = format!("cmp-{}-{condition}-{round}-{nonce}", app.key);
    let env = vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            endpoint.to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL".to_string(),
            "grpc".to_string(),
        ),
        ("OTEL_SERVICE_NAME".to_string(), service.clone()),
    ];
    let watch = condition == "up" && app.telemetry;
    if condition == "up" {
        // The Collector forwards its batch every 200 ms, and the previous
        // run ended when its spans appeared, i.e. just after a flush: each
        // launch would start in the same phase of that period and every run
        // would wait nearly a whole one. A random delay of 0-200 ms spreads
        // the launches over the period (it waits for nothing).
        std::thread::sleep(Duration::from_micros(dephase() % 200_000));
    }
    let mut poller = None;
    let mut launch_ns = 0;
    let exit = run::run(
        &app.binary(&opts.root),
        &env,
        opts.timeout,
        logs,
        &format!("{}-{condition}-{round}", app.key),
        |launch| {
            launch_ns = launch;
            if let (true, Some(j)) = (watch, jaeger) {
                let j = Arc::clone(j);
                let service = service.clone();
                poller = Some(std::thread::spawn(move || {
                    j.first_seen(
                        &service,
                        launch,
                        Duration::from_millis(5),
                        Instant::now() + Duration::from_secs(30),
                    )
                }));
            }
        },
    )?;
    let mut first_span_ms = None;
    let mut stored = None;
    if let (Some(p), Some(j)) = (poller, jaeger) {
        let seen = p.join().unwrap_or(None);
        first_span_ms = seen.map(|s| s.saturating_sub(launch_ns) as f64 / 1e6);
        let want_startup = app.key == "buildtrace";
        let deadline = Instant::now()
            + if seen.is_some() {
                Duration::from_secs(15)
            } else {
                Duration::from_secs(1)
            };
        stored = Some(j.settle(&service, launch_ns, deadline, |s| {
            s.request_spans >= 5 && (!want_startup || s.startup_events >= 20)
        }));
    }
    Ok(RunRecord {
        app: app.key.to_string(),
        condition: condition.to_string(),
        round,
        service,
        exit,
        first_span_ms,
        stored,
    })
}

/// The cost of the signals: buildtrace and the hand-wired service, each with
/// traces only and with traces, logs and metrics, against the collector
/// that is up; in rounds that each start with the next configuration. The
/// `compare:` values of each run, by configuration.
fn signal_runs(
    opts: &Opts,
    endpoint: &str,
    nonce: u128,
    logs: &Path,
) -> Result<BTreeMap<String, Vec<BTreeMap<String, f64>>>, String> {
    const CONFIGS: [(&str, &str, &[(&str, &str)]); 4] = [
        (
            "buildtrace, traces only",
            "buildtrace",
            &[("OTEL_LOGS_EXPORTER", "none"), ("OTEL_METRICS_EXPORTER", "none")],
        ),
        ("buildtrace, traces + logs + metrics", "buildtrace", &[]),
        ("hand-wired, traces only", "hand", &[("HAND_SIGNALS", "traces")]),
        ("hand-wired, traces + logs + metrics", "hand", &[("HAND_SIGNALS", "all")]),
    ];
    let mut out: BTreeMap<String, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
    eprintln!(
        "== signals: {} rounds of traces only / all three, buildtrace and hand-wired",
        opts.runs
    );
    for round in 0..opts.runs {
        for k in 0..CONFIGS.len() {
            let (label, key, extra) = CONFIGS[(round + k) % CONFIGS.len()];
            let Some(app) = opts.apps.iter().find(|a| a.key == key) else {
                continue;
            };
            let mut env = vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), endpoint.to_string()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL".to_string(), "grpc".to_string()),
                (
                    "OTEL_SERVICE_NAME".to_string(),
                    format!("cmp-signals-{key}-{k}-{round}-{nonce}"),
                ),
            ];
            env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            let name = format!("signals-{key}-{}-{round}", label.len());
            let exit = run::run(&app.binary(&opts.root), &env, opts.timeout, logs, &name, |_| {})?;
            if exit.status == "ok" {
                out.entry(label.to_string()).or_default().push(exit.values);
            } else {
                eprintln!("  {label} round {round}: {} ({})", exit.status, exit.stderr_tail);
            }
        }
    }
    Ok(out)
}

/// A pseudo-random number (splitmix64 of the clock and a counter).
fn dephase() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut z =
        (run::now_ns() as u64) ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Everything that makes the run fail.
fn problems(opts: &Opts, r: &Results) -> Vec<String> {
    let mut p = Vec::new();
    for run in &r.runs {
        let what = format!("{} ({}, round {})", run.app, run.condition, run.round);
        if run.exit.status != "ok" {
            p.push(format!(
                "{what}: {}; stderr: {}",
                run.exit.status, run.exit.stderr_tail
            ));
            continue;
        }
        if run.exit.values.get("requests_ok") != Some(&5.0) {
            p.push(format!(
                "{what}: not every request was answered ({:?})",
                run.exit.values.get("requests_ok")
            ));
        }
        if run
            .exit
            .values
            .get("ready_ms")
            .is_none_or(|v| !v.is_finite())
        {
            p.push(format!("{what}: no ready_ms reported"));
        }
        if let Some(s) = &run.stored {
            if run.first_span_ms.is_none() {
                p.push(format!("{what}: no span reached Jaeger within 30 s"));
            } else if s.request_spans != 5 {
                p.push(format!(
                    "{what}: {} of 5 request spans in Jaeger",
                    s.request_spans
                ));
            }
            if run.app == "buildtrace" && (!s.startup_span || s.startup_events != 20) {
                p.push(format!(
                    "{what}: startup span {}, {} of 20 startup events in Jaeger",
                    if s.startup_span { "present" } else { "missing" },
                    s.startup_events
                ));
            }
        }
    }
    for app in opts.apps.iter().filter(|a| a.telemetry) {
        if opts.conditions.iter().any(|c| c == "up") && !r.correctness.contains_key(app.key) {
            p.push(format!("{}: no resource found in Jaeger to check", app.key));
        }
        if r.event_bench.get(app.key).is_none_or(|v| v.is_empty()) {
            p.push(format!(
                "{}: the startup event bench printed nothing",
                app.key
            ));
        }
    }
    if let Some(verdicts) = r.correctness.get("buildtrace") {
        let tracked = r.tracked.get("buildtrace").copied().unwrap_or(false);
        for (i, (fact, v)) in truth::FACTS.iter().zip(verdicts).enumerate() {
            // Commit and dirty state: for a package git does not track, by
            // design, none.
            if i < 2 && !tracked {
                if v.verdict != "absent" {
                    p.push(format!(
                        "buildtrace reports {fact} for a package git does not track: {:?}",
                        v.value
                    ));
                }
            } else if v.verdict != "correct" && v.verdict != "undetermined" {
                p.push(format!(
                    "buildtrace reports {fact} {}: {:?}",
                    v.verdict, v.value
                ));
            }
        }
    }
    if let Some(b) = r.builds.iter().find(|b| b.app == "buildtrace") {
        if !b.noop_reran.is_empty() {
            p.push(format!(
                "buildtrace: a no-op rebuild ran build scripts again ({}); cargo says: {}",
                b.noop_reran.join(", "),
                b.noop_dirty.join("; ")
            ));
        }
    }
    p
}
