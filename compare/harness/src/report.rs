//! `report.md`: the tables, from `Results`.

use crate::apps::{self, App};
use crate::stats::{median, median_range, num, ratio};
use crate::{truth, Results, RunRecord};
use std::fmt::Write as _;

fn app(key: &str) -> App {
    apps::by_key(key).expect("known app")
}

fn ok_runs<'a>(
    r: &'a Results,
    app: &'a str,
    condition: &'a str,
) -> impl Iterator<Item = &'a RunRecord> + 'a {
    r.runs
        .iter()
        .filter(move |x| x.app == app && x.condition == condition && x.exit.status == "ok")
}

/// A measured quantity of one run.
#[derive(Clone, Copy)]
pub enum Metric {
    Value(&'static str),
    FirstSpan,
    Wall,
    RssMib,
}

pub fn samples(r: &Results, app: &str, condition: &str, m: Metric) -> Vec<f64> {
    ok_runs(r, app, condition)
        .filter_map(|x| match m {
            Metric::Value(k) => x.exit.values.get(k).copied(),
            Metric::FirstSpan => x.first_span_ms,
            Metric::Wall => Some(x.exit.wall_ms),
            Metric::RssMib => x.exit.values.get("peak_rss_kib").map(|k| k / 1024.0),
        })
        .collect()
}

/// "× (a) | × (b) | × (c)" cells for `value` against the same metric of
/// each of the other builds (`—` where a build has no such figure).
fn ratio_cells(r: &Results, value: Option<f64>, of: impl Fn(&str) -> Option<f64>) -> String {
    ["none", "hand", "itotel"]
        .iter()
        .map(|base| {
            if r.apps.iter().any(|a| a == base) {
                ratio(value, of(base))
            } else {
                "—".into()
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", num(bytes as f64 / 1024.0 / 1024.0))
}

pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(
        s,
        "# buildtrace against the alternatives{}\n",
        if r.smoke { " (smoke run)" } else { "" }
    );
    let _ = writeln!(s, "Command: `{}`, started {}.\n", r.command, r.started_utc);
    let _ = writeln!(
        s,
        "Machine: {} × {}, {}, {}. Load average (1, 5, 15 min): {}.\n",
        m.cpus,
        m.cpu,
        m.memory,
        m.kernel,
        r.load
            .iter()
            .map(|(w, l)| format!("{w} {l}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = writeln!(
        s,
        "Toolchain: {}; {}. Pipeline: {}, {} (scripts/pipeline), everything on 127.0.0.1, OTLP/gRPC (over TLS, a CA made by the run, when the collector is up).\n",
        m.rustc, m.cargo, m.collector, m.jaeger
    );
    let _ = writeln!(
        s,
        "Runs: {} per build and collector condition, in rounds that each start with the next build; \
         medians, with (min–max). Times since launch are wall-clock from the harness's timestamp taken \
         right before it spawns the process. Ratios are of medians: \"× (a)\" is against the build \
         without telemetry, \"× (b)\"/\"× (c)\" against the alternatives.\n",
        r.runs_per_condition
    );

    let _ = writeln!(s, "## Builds and versions\n");
    let _ = writeln!(s, "| build | what | versions (Cargo.lock) |\n|---|---|---|");
    for key in &r.apps {
        let a = app(key);
        let v = r.versions.get(key).map(|v| {
            v.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            a.label(),
            a.what,
            v.unwrap_or_default()
        );
    }

    // Startup events.
    let _ = writeln!(s, "\n## Startup events before telemetry is initialised\n");
    let _ = writeln!(
        s,
        "Each build records {} startup events (2 attributes each) before it initialises telemetry. \
         \"Cold\" is the cost per event of those 20 in the real runs (first use, collector up; for \
         buildtrace it includes the first-touch page faults of its ring, which `startup::prefault()` \
         can pay up front); \
         \"warm\" is the median per event over {} batches of 256 in a process that records nothing \
         else ({} processes per build; buildtrace's ring is emptied between batches, outside the timing).\n",
        20, r.event_batches, r.runs_per_condition
    );
    let _ = writeln!(
        s,
        "| build | the events | startup events stored in Jaeger per run | cold, ns/event | warm, ns/event | × (b) | × (c) |\n|---|---|---|---:|---:|---:|---:|"
    );
    let warm = |k: &str| r.event_bench.get(k).and_then(|v| median(v));
    for key in r.apps.iter().filter(|k| app(k).telemetry) {
        let stored: Vec<f64> = ok_runs(r, key, "up")
            .filter_map(|x| x.stored.as_ref().map(|s| s.startup_events as f64))
            .collect();
        let fate = if key == "buildtrace" {
            "kept: `startup!` into the static ring, sent as the events of the `startup` span"
        } else {
            "**lost**: `tracing::info!` before a subscriber exists is dropped"
        };
        let stored_cell = match (
            stored.iter().copied().reduce(f64::min),
            stored.iter().copied().reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) if lo == hi => format!("{lo:.0} of 20"),
            (Some(lo), Some(hi)) => format!("{lo:.0}–{hi:.0} of 20"),
            _ => "—".into(),
        };
        let w = warm(key);
        let _ = writeln!(
            s,
            "| {} | {fate} | {stored_cell} | {} | {} | {} | {} |",
            app(key).label(),
            median_range(&samples(r, key, "up", Metric::Value("startup_event_ns"))),
            w.map(num).unwrap_or("—".into()),
            ratio(w, warm("hand")),
            ratio(w, warm("itotel")),
        );
    }

    // Start-up timeline.
    if r.conditions.iter().any(|c| c == "up") {
        let _ = writeln!(
            s,
            "\n## Process start → telemetry ready → first span stored in Jaeger (collector up)\n"
        );
        let _ = writeln!(
            s,
            "\"Ready\" is when the init call has returned (for (a), the same point in the program); \
             \"init call\" is the call alone. \"First span in Jaeger\" is when the harness's query \
             (polling every 5 ms from launch, `GET /api/traces?service=…&start=…&end=…`) first returned \
             a trace of that run: the SDK's batch, the Collector's batch (forwarded every 200 ms) and Jaeger \
             included. Each launch waits a random 0–200 ms first, so launches fall anywhere in the \
             Collector's period instead of right after the flush that ended the previous run.\n"
        );
        let _ = writeln!(
            s,
            "| build | launch → ready, ms | × (a) | × (b) | × (c) | init call, ms | launch → first span in Jaeger, ms | × (b) | × (c) | launch → exit, ms | × (a) | request spans in Jaeger |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let med = |k: &str, m: Metric| median(&samples(r, k, "up", m));
        for key in &r.apps {
            let a = app(key);
            let ready = samples(r, key, "up", Metric::Value("ready_ms"));
            let first = samples(r, key, "up", Metric::FirstSpan);
            let wall = samples(r, key, "up", Metric::Wall);
            let spans: Vec<usize> = ok_runs(r, key, "up")
                .filter_map(|x| x.stored.as_ref().map(|s| s.request_spans))
                .collect();
            let total: usize = spans.iter().sum();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                a.label(),
                median_range(&ready),
                ratio_cells(r, median(&ready), |b| med(b, Metric::Value("ready_ms"))),
                if a.telemetry {
                    median_range(&samples(r, key, "up", Metric::Value("init_ms")))
                } else {
                    "—".into()
                },
                if a.telemetry {
                    median_range(&first)
                } else {
                    "—".into()
                },
                ratio(median(&first), med("hand", Metric::FirstSpan)),
                ratio(median(&first), med("itotel", Metric::FirstSpan)),
                median_range(&wall),
                ratio(median(&wall), med("none", Metric::Wall)),
                if a.telemetry {
                    format!("{total} of {}", 5 * spans.len())
                } else {
                    "—".into()
                },
            );
        }
    }

    // Signals.
    if !r.signals.is_empty() {
        let _ = writeln!(
            s,
            "\n## Signals: traces only against traces + logs + metrics (collector up)\n"
        );
        let _ = writeln!(
            s,
            "The same builds, {} rounds; the process's own init call, launch → ready and peak RSS \
             (`VmHWM`). Ratios against the hand-wired service with the same signals.\n",
            r.runs_per_condition
        );
        let _ = writeln!(
            s,
            "| configuration | init call, ms | launch → ready, ms | peak RSS, MiB |\n|---|---:|---:|---:|"
        );
        let values = |label: &str, key: &str| -> Vec<f64> {
            r.signals
                .get(label)
                .map(|runs| runs.iter().filter_map(|v| v.get(key).copied()).collect())
                .unwrap_or_default()
        };
        for label in [
            "buildtrace, traces only",
            "buildtrace, traces + logs + metrics",
            "hand-wired, traces only",
            "hand-wired, traces + logs + metrics",
        ] {
            let against = label.replace("buildtrace", "hand-wired");
            let cell = |key: &str, scale: f64| {
                let mine: Vec<f64> = values(label, key).iter().map(|v| v / scale).collect();
                let theirs: Vec<f64> = values(&against, key).iter().map(|v| v / scale).collect();
                let text = median_range(&mine);
                match (label.starts_with("buildtrace"), median(&mine), median(&theirs)) {
                    (true, Some(a), Some(b)) if b > 0.0 => format!("{text} ({:.2}×)", a / b),
                    _ => text,
                }
            };
            let _ = writeln!(
                s,
                "| {label} | {} | {} | {} |",
                cell("init_ms", 1.0),
                cell("ready_ms", 1.0),
                cell("peak_rss_kib", 1024.0)
            );
        }
    }

    // Shutdown.
    let _ = writeln!(s, "\n## Guard / provider shutdown\n");
    let _ = writeln!(
        s,
        "The time the program spends in its guard drop or `provider.shutdown()` at exit, and launch → exit. \
         \"refused\": a loopback port nothing listens on; \"black-holed\": a listener that accepts \
         connections and never answers. (a) has nothing to shut down.\n"
    );
    let _ = writeln!(
        s,
        "| collector | build | shutdown, ms | × (b) | × (c) | launch → exit, ms | × (a) | × (b) | × (c) | ok runs |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for cond in &r.conditions {
        let med = |k: &str, m: Metric| median(&samples(r, k, cond, m));
        for key in &r.apps {
            let a = app(key);
            let shut = samples(r, key, cond, Metric::Value("shutdown_ms"));
            let wall = samples(r, key, cond, Metric::Wall);
            let all = r
                .runs
                .iter()
                .filter(|x| &x.app == key && &x.condition == cond)
                .count();
            let _ = writeln!(
                s,
                "| {cond} | {} | {} | {} | {} | {} | {} | {}/{all} |",
                a.label(),
                if a.telemetry {
                    median_range(&shut)
                } else {
                    "—".into()
                },
                if a.telemetry {
                    ratio(median(&shut), med("hand", Metric::Value("shutdown_ms")))
                } else {
                    "—".into()
                },
                if a.telemetry {
                    ratio(median(&shut), med("itotel", Metric::Value("shutdown_ms")))
                } else {
                    "—".into()
                },
                median_range(&wall),
                ratio_cells(r, median(&wall), |b| med(b, Metric::Wall)),
                ok_runs(r, key, cond).count(),
            );
        }
    }

    // Footprint.
    let _ = writeln!(s, "\n## Build time, binary size, memory\n");
    let clean = |k: &str| {
        r.builds
            .iter()
            .find(|b| b.app == k)
            .and_then(|b| median(&b.clean_secs))
    };
    let stripped = |k: &str| {
        r.builds
            .iter()
            .find(|b| b.app == k)
            .map(|b| b.stripped_bytes as f64)
    };
    let rss = |k: &str| median(&samples(r, k, "up", Metric::RssMib));
    let _ = writeln!(
        s,
        "Clean build: `cargo build --release --locked --offline --features admin-api` into an empty \
         target directory, crates already downloaded, {}. No-op rebuild: the \
         same command again with nothing changed, `-v`: the build scripts it ran again. Stripped: \
         `strip --strip-all` of the release binary. Peak RSS: `VmHWM` of the process, read at its end, collector up.\n",
        match r.build_runs {
            0 => "not measured in this run (target directories reused)".to_string(),
            1 => format!("{} parallel jobs, one build each", r.machine.cpus),
            n => format!("{} parallel jobs, median of {n} builds each", r.machine.cpus),
        }
    );
    let _ = writeln!(
        s,
        "| build | clean build, s | × (a) | × (b) | × (c) | no-op rebuild reruns a build script | stripped binary | × (a) | × (b) | × (c) | peak RSS, MiB | × (a) | × (b) | × (c) |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for key in &r.apps {
        let Some(b) = r.builds.iter().find(|b| &b.app == key) else {
            continue;
        };
        let noop = if b.noop_reran.is_empty() {
            "no".to_string()
        } else {
            format!("**yes**: {}", b.noop_reran.join(", "))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {noop} | {} | {} | {} | {} |",
            app(key).label(),
            if b.clean_secs.is_empty() {
                "—".into()
            } else {
                median_range(&b.clean_secs)
            },
            ratio_cells(r, clean(key), clean),
            mib(b.stripped_bytes),
            ratio_cells(r, stripped(key), stripped),
            median_range(&samples(r, key, "up", Metric::RssMib)),
            ratio_cells(r, rss(key), rss),
        );
    }
    for b in r.builds.iter().filter(|b| !b.noop_dirty.is_empty()) {
        let _ = writeln!(
            s,
            "\n{}: cargo's reasons in the no-op rebuild: {}",
            app(&b.app).label(),
            b.noop_dirty.join("; ")
        );
    }
    for b in r.builds.iter().filter(|b| b.noop_attempts > 1) {
        let _ = writeln!(
            s,
            "\n{}: the tree changed during the run, so the no-op rebuild was repeated ({} rebuilds); cargo's reasons before the last: {}",
            app(&b.app).label(),
            b.noop_attempts,
            b.noop_meanwhile.join("; ")
        );
    }

    // Correctness.
    if !r.correctness.is_empty() {
        let t = &r.truth_before;
        let _ = writeln!(s, "\n## Provenance: correct, wrong or absent\n");
        let _ = writeln!(
            s,
            "The resource each build exported, as Jaeger stored it (process tags), against sources \
             independent of every tool under test, taken at run time: `git rev-parse HEAD`, \
             `git status --porcelain` (dirty: anything modified, staged or untracked), `$RUSTC -vV`, \
             its `host` (the builds are for the host), `cargo metadata --features admin-api` (features, \
             version). The working tree {} while the builds ran.\n",
            if r.tree_stable { "did not change" } else { "**changed**" }
        );
        let keys: Vec<&String> = r
            .apps
            .iter()
            .filter(|k| r.correctness.contains_key(*k))
            .collect();
        let _ = writeln!(
            s,
            "| fact | truth | {} |\n|---|---|{}",
            keys.iter()
                .map(|k| app(k).label())
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(keys.len())
        );
        let pkg = r.packages.values().next();
        let untracked = r.tracked.values().any(|t| !t);
        let truths = [
            format!(
                "`{}`{}",
                t.commit,
                if untracked {
                    " (the service packages are not tracked by git yet)"
                } else {
                    ""
                }
            ),
            format!(
                "{} ({} line(s) of status)",
                t.dirty,
                t.porcelain.lines().count()
            ),
            format!("`{}`", t.rustc_release),
            format!("`{}`", t.rustc_commit_hash),
            format!("`{}`", t.target),
            pkg.map(|p| format!("`{}`", p.features.join(",")))
                .unwrap_or_default(),
            pkg.map(|p| format!("`{}`", p.version)).unwrap_or_default(),
        ];
        for (i, fact) in truth::FACTS.iter().enumerate() {
            let cells: Vec<String> = keys
                .iter()
                .map(|k| {
                    let v = &r.correctness[*k][i];
                    let mut c = match v.verdict.as_str() {
                        "correct" => "correct".to_string(),
                        "wrong" => "**wrong**".to_string(),
                        other => other.to_string(),
                    };
                    if let (Some(key), Some(value)) = (&v.key, &v.value) {
                        let value = if value.len() > 48 {
                            format!(
                                "{}…",
                                &value[..value
                                    .char_indices()
                                    .nth(45)
                                    .map(|(i, _)| i)
                                    .unwrap_or(value.len())]
                            )
                        } else {
                            value.clone()
                        };
                        let _ = write!(c, ": `{key}` = `{}`", value.replace('\n', " ").trim());
                    }
                    if let Some(n) = &v.note {
                        let _ = write!(c, " ({n})");
                    }
                    c
                })
                .collect();
            let _ = writeln!(s, "| {fact} | {} | {} |", truths[i], cells.join(" | "));
        }

        let _ = writeln!(
            s,
            "\nThe resource attributes each build exported (values of the first run):\n"
        );
        for key in &keys {
            let tags = &r.emitted[*key];
            let _ = writeln!(
                s,
                "- {} ({} attributes): {}",
                app(key).label(),
                tags.len(),
                tags.keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }

    if !r.problems.is_empty() {
        let _ = writeln!(s, "\n## Problems\n");
        for p in &r.problems {
            let _ = writeln!(s, "- {p}");
        }
    }
    s
}
