//! Jaeger's HTTP query API: is a service's first span stored yet, and what
//! did it store (spans, startup events, the resource as process tags).
//! Queries use `start`/`end` in microseconds (Jaeger ignores `lookback`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub struct Jaeger {
    base: String,
    agent: ureq::Agent,
}

/// What Jaeger holds for one service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    pub traces: usize,
    pub spans: usize,
    pub request_spans: usize,
    /// Span events (Jaeger "logs") named `startup.step`.
    pub startup_events: usize,
    /// Whether a span named `startup` is present.
    pub startup_span: bool,
    /// The process tags (the resource) of the request spans' process.
    pub tags: BTreeMap<String, String>,
}

fn tag_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Jaeger {
    pub fn new(base: &str) -> Jaeger {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        Jaeger {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// The traces of `service` that started after `start_us`; an error
    /// (Jaeger answers 4xx/5xx for a service it has not seen yet) counts as
    /// nothing stored.
    pub fn traces(&self, service: &str, start_us: u128) -> Vec<Value> {
        let end_us = crate::run::now_ns() / 1000 + 60_000_000;
        let url = format!(
            "{}/api/traces?service={service}&start={start_us}&end={end_us}&limit=100",
            self.base
        );
        let Ok(mut response) = self.agent.get(&url).call() else {
            return Vec::new();
        };
        let Ok(body) = response.body_mut().read_to_string() else {
            return Vec::new();
        };
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["data"].as_array().cloned())
            .unwrap_or_default()
    }

    /// Polls every `interval` until `service` has a trace; returns the time
    /// of the answer that had one, in ns since the epoch, or `None` at the
    /// deadline.
    pub fn first_seen(
        &self,
        service: &str,
        launch_ns: u128,
        interval: Duration,
        deadline: Instant,
    ) -> Option<u128> {
        let start_us = launch_ns / 1000 - 2_000_000;
        while Instant::now() < deadline {
            if !self.traces(service, start_us).is_empty() {
                return Some(crate::run::now_ns());
            }
            std::thread::sleep(interval);
        }
        None
    }

    /// Polls until `done` holds for what is stored, or the deadline.
    pub fn settle(
        &self,
        service: &str,
        launch_ns: u128,
        deadline: Instant,
        done: impl Fn(&Stored) -> bool,
    ) -> Stored {
        let start_us = launch_ns / 1000 - 2_000_000;
        loop {
            let stored = summarise(&self.traces(service, start_us));
            if done(&stored) || Instant::now() >= deadline {
                return stored;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `/api/services` answers: Jaeger is up.
    pub fn ping(&self) -> Result<(), String> {
        self.agent
            .get(&format!("{}/api/services", self.base))
            .call()
            .map(drop)
            .map_err(|e| format!("Jaeger query API at {}: {e}", self.base))
    }
}

pub fn summarise(traces: &[Value]) -> Stored {
    let mut s = Stored {
        traces: traces.len(),
        ..Stored::default()
    };
    for trace in traces {
        let Some(spans) = trace["spans"].as_array() else {
            continue;
        };
        for span in spans {
            s.spans += 1;
            let name = span["operationName"].as_str().unwrap_or("");
            if name == "startup" {
                s.startup_span = true;
            }
            if name == "request" {
                s.request_spans += 1;
                if s.tags.is_empty() {
                    let pid = span["processID"].as_str().unwrap_or("");
                    if let Some(tags) = trace["processes"][pid]["tags"].as_array() {
                        for t in tags {
                            if let Some(k) = t["key"].as_str() {
                                // This machine's identity stays out of the results.
                                let v = match k {
                                    "host.id" | "host.name" => "(redacted)".to_string(),
                                    _ => tag_value(&t["value"]),
                                };
                                s.tags.insert(k.to_string(), v);
                            }
                        }
                    }
                    if let Some(name) = trace["processes"][pid]["serviceName"].as_str() {
                        s.tags.insert("service.name".into(), name.to_string());
                    }
                }
            }
            for log in span["logs"].as_array().into_iter().flatten() {
                let named = log["fields"].as_array().into_iter().flatten().any(|f| {
                    matches!(f["key"].as_str(), Some("event" | "message"))
                        && f["value"].as_str() == Some("startup.step")
                });
                if named {
                    s.startup_events += 1;
                }
            }
        }
    }
    s
}
