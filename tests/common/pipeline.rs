//! The real OpenTelemetry Collector and Jaeger, started on loopback by the
//! project's own scripts (`scripts/pipeline/`), one instance per test.
// Each test binary uses a part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A running Collector → Jaeger pipeline; stopped on drop.
pub struct Pipeline {
    dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
}

fn scripts() -> PathBuf {
    crate::common::buildtrace_root().join("scripts/pipeline")
}

impl Pipeline {
    /// Starts a pipeline, or returns `None` (saying why) when its binaries
    /// are not built and `BUILDTRACE_E2E` is not `required`. CI sets it, so
    /// there a missing pipeline fails the test.
    pub fn start() -> Option<Pipeline> {
        Pipeline::start_with(&[])
    }

    /// Whether a pipeline can be started: true when its binaries are built
    /// or `BUILDTRACE_E2E` is `required` (then a missing one fails the
    /// start); false, saying so, otherwise. For tests with work to do before
    /// [`Pipeline::start_with`] that a skip should spare.
    pub fn available() -> bool {
        let built = Command::new("bash")
            .arg("-c")
            .arg(format!(". {}/env.sh", scripts().display()))
            .output()
            .is_ok_and(|o| o.status.success());
        let required = std::env::var("BUILDTRACE_E2E").as_deref() == Ok("required");
        if !built && !required {
            eprintln!(
                "SKIPPED: the Collector and Jaeger are not built; run scripts/pipeline/setup.sh"
            );
        }
        built || required
    }

    /// [`Pipeline::start`] with `extra` environment for `pipeline.sh`
    /// (`PIPELINE_EXTRA_CONFIG`, `PIPELINE_EXTRA_PORTS`, …).
    pub fn start_with(extra: &[(&str, &str)]) -> Option<Pipeline> {
        if !Pipeline::available() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(scripts().join("pipeline.sh"))
            .arg("start")
            .arg(dir.path())
            .envs(extra.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pipeline did not start:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let env = read_env(dir.path());
        Some(Pipeline { dir, env })
    }

    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("pipeline.env has no {key}"))
    }

    /// The state directory `pipeline.sh` was given (logs, `pipeline.env`,
    /// the file export, the Badger store).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `pipeline.sh restart-jaeger`: Jaeger alone stopped (the script waits
    /// for the process to exit) and started again on the same ports with the
    /// same storage; `pipeline.env` is read again (its `JAEGER_PID` changes).
    /// Returns the script's output.
    pub fn restart_jaeger(&mut self) -> String {
        let out = Command::new(scripts().join("pipeline.sh"))
            .arg("restart-jaeger")
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restart-jaeger failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.env = read_env(self.dir.path());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The sum of the samples of the Prometheus metric `name` whose labels
    /// include every `labels` pair, from the endpoint in `pipeline.env`
    /// variable `url_key` (`OTELCOL_METRICS_URL`, `GATEWAY_METRICS_URL`);
    /// `None` while the endpoint does not answer.
    pub fn metric(&self, url_key: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let out = Command::new("curl")
            .args(["-sf", "--max-time", "5", self.var(url_key)])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(prometheus_sum(
            &String::from_utf8_lossy(&out.stdout),
            name,
            labels,
        ))
    }

    /// The OTLP endpoint and protocol variables for `protocol` (`grpc` or
    /// `http/protobuf`).
    pub fn otlp_env(&self, protocol: &str) -> Vec<(String, String)> {
        let endpoint = match protocol {
            "grpc" => self.var("PIPELINE_OTLP_GRPC_ENDPOINT"),
            _ => self.var("PIPELINE_OTLP_HTTP_ENDPOINT"),
        };
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint.into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), protocol.into()),
        ]
    }

    /// Jaeger's `/api/traces` for `service` (`service?operation=name`
    /// narrows it to one operation), polled until `found` accepts the traces
    /// or `within` passes.
    pub fn traces_until(
        &self,
        service: &str,
        within: Duration,
        found: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let (service, operation) = match service.split_once("?operation=") {
            Some((s, o)) => (s, Some(o)),
            None => (service, None),
        };
        // Jaeger reads `start`/`end` in µs (not `lookback`), defaulting to
        // two days back; `limit` counts traces.
        let mut url = format!(
            "{}/api/traces?service={service}&limit=5000",
            self.var("JAEGER_QUERY_URL")
        );
        if let Some(op) = operation {
            url.push_str(&format!("&operation={op}"));
        }
        let deadline = Instant::now() + within;
        loop {
            let traces = get_json(&url)
                .and_then(|v| v["data"].as_array().cloned())
                .unwrap_or_default();
            if found(&traces) || Instant::now() >= deadline {
                return traces;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = Command::new(scripts().join("pipeline.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

fn read_env(dir: &std::path::Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("pipeline.env")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The sum over the samples of `name` (Prometheus text format) whose labels
/// include every pair in `labels`.
pub fn prometheus_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((m, r)) => (m, r.trim_end_matches('}')),
                None => (series, ""),
            };
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.split(',').any(|kv| kv == format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

/// GET a URL on loopback with curl (the project's tests add no HTTP client).
pub fn get_json(url: &str) -> Option<serde_json::Value> {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "5", url])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// The spans named `name` in Jaeger's answer, each with its process.
pub fn spans_named<'a>(
    traces: &'a [serde_json::Value],
    name: &str,
) -> Vec<(&'a serde_json::Value, &'a serde_json::Value)> {
    traces
        .iter()
        .flat_map(|t| {
            t["spans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(move |s| s["operationName"] == name)
                .map(move |s| {
                    let process = &t["processes"][s["processID"].as_str().unwrap_or_default()];
                    (s, process)
                })
        })
        .collect()
}

/// Jaeger tags as `key -> value rendered as text`.
pub fn tags(list: &serde_json::Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let v = &t["value"];
            (
                t["key"].as_str().unwrap_or_default().to_owned(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect()
}

/// OTLP/JSON attributes (a resource's, a span's) as `key -> value` text.
pub fn otlp_attributes(list: &serde_json::Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            // OTLP/JSON: {"stringValue": "…"}, {"boolValue": true},
            // {"intValue": "42"} (64-bit integers as strings), …
            let v = kv["value"].as_object().and_then(|o| o.values().next());
            let text = match v {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            (kv["key"].as_str().unwrap_or_default().to_owned(), text)
        })
        .collect()
}
