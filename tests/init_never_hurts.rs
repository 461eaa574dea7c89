//! Telemetry never hurts the host: in every runtime context, with the
//! collector refusing connections or accepting and never answering, `init`
//! returns at once, ending spans never blocks, memory stays bounded, and
//! dropping the guard returns within its bound. Disabled means disabled: no
//! socket, no export thread.
//!
//! Each scenario runs in a child process (this test binary again, running
//! the ignored `child` test), because `init` sets process-wide state.
//!
//! The limits tell "returns" from "waits for the collector" (which takes
//! seconds: the export timeout, or forever), with room for a loaded machine;
//! the figures themselves are printed and reported in BENCHMARKS.md.

#[cfg(feature = "otlp-http")]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
#[cfg(feature = "otlp-http")]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(feature = "otlp-http")]
use std::sync::Arc;
use std::time::{Duration, Instant};

const BOUND: Duration = Duration::from_millis(1_000);

/// The protocols this build exports over: HTTP/protobuf is the opt-in
/// `otlp-http` feature (the whole suite runs with every feature).
const PROTOCOLS: &[&str] = if cfg!(feature = "otlp-http") {
    &["grpc", "http/protobuf"]
} else {
    &["grpc"]
};

/// The scenario a child runs, from its environment.
#[test]
#[ignore = "run by the parent tests in a child process"]
fn child() {
    let context = std::env::var("CHILD_CONTEXT").expect("CHILD_CONTEXT");
    let work = move || {
        let started = Instant::now();
        let guard = buildtrace::Builder::default()
            .with_shutdown_timeout(BOUND)
            .init();
        let init = started.elapsed();
        // Span ends while the exporter is refused or stuck: each must return
        // at once (the batch queue is bounded and never waits).
        let mut slowest_end = Duration::ZERO;
        for i in 0..20_000u32 {
            let span = tracing::info_span!("work", i);
            let t = Instant::now();
            drop(span);
            slowest_end = slowest_end.max(t.elapsed());
        }
        let rss_kib = rss_kib();
        let t = Instant::now();
        drop(guard);
        let dropped = t.elapsed();
        println!(
            "figures init_us={} slowest_span_end_us={} rss_kib={} drop_ms={}",
            init.as_micros(),
            slowest_end.as_micros(),
            rss_kib,
            dropped.as_millis()
        );
    };
    match context.as_str() {
        "plain" => work(),
        "current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { work() }),
        "multi_thread_1" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { work() }),
        "multi_thread_4" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { work() }),
        "spawned_task" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { tokio::spawn(async move { work() }).await.unwrap() }),
        "disabled" => {
            let guard = buildtrace::init();
            tracing::info_span!("work").in_scope(|| tracing::info!("nothing is exported"));
            println!(
                "figures sockets={} export_threads={}",
                sockets(),
                export_threads()
            );
            drop(guard);
        }
        other => panic!("unknown context {other}"),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Open sockets of this process, as the kernel lists its descriptors.
fn sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// Threads that export: buildtrace's runtime and the SDK's batch processor.
fn export_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("buildtrace-exp") || name.starts_with("OpenTelemetry"))
        .count()
}

/// Runs the child scenario and returns its figures.
fn run_child(context: &str, env: &[(&str, String)]) -> std::collections::BTreeMap<String, u64> {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--ignored",
        "--exact",
        "child",
        "--nocapture",
        "--test-threads=1",
    ]);
    c.env("CHILD_CONTEXT", context);
    for (k, v) in env {
        c.env(k, v);
    }
    let started = Instant::now();
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Spans that could not be delivered are said once, with their count.
    if context != "disabled" {
        assert_eq!(
            stderr.matches("were not delivered").count(),
            1,
            "child {context}: {stderr}"
        );
    }
    assert!(
        out.status.success(),
        "child {context} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "child {context} took {:?}",
        started.elapsed()
    );
    // libtest prints "test child ... " without a newline before the output.
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("figures ").map(|(_, f)| f))
        .expect("no figures");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap()))
        .collect()
}

const CONTEXTS: [&str; 5] = [
    "plain",
    "current_thread",
    "multi_thread_1",
    "multi_thread_4",
    "spawned_task",
];

/// A collector that accepts connections and never answers.
fn black_hole() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let accept = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in accept.incoming().flatten() {
            held.push(stream); // keep it open, read nothing, write nothing
        }
    });
    (listener, addr)
}

/// An HTTP collector that answers every request `503 Service Unavailable`
/// with `Retry-After: 30`, counting the requests.
#[cfg(feature = "otlp-http")]
fn unavailable_http() -> (TcpListener, Arc<AtomicUsize>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let accept = listener.try_clone().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in accept.incoming().flatten() {
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                // One request per connection: headers, then the body.
                let mut length = 0usize;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = reader.into_inner().write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 30\r\n\
                      content-length: 0\r\nconnection: close\r\n\r\n",
                );
            });
        }
    });
    (listener, requests, addr)
}

/// A gRPC collector that is never available: it closes every connection as
/// soon as it opens, which a gRPC client reports as `UNAVAILABLE`.
fn closing() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let accept = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        for stream in accept.incoming().flatten() {
            drop(stream);
        }
    });
    (listener, addr)
}

/// A port where nothing listens.
fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    addr
}

fn check(kind: &str, protocol: &str, endpoint: &str, drop_limit: Duration) {
    for context in CONTEXTS {
        let f = run_child(
            context,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
                ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
            ],
        );
        eprintln!("{kind:<12} {protocol:<14} {context:<15} {f:?}");
        assert!(
            f["init_us"] <= 500_000,
            "{kind} {protocol} {context}: init took {} µs",
            f["init_us"]
        );
        assert!(
            f["slowest_span_end_us"] <= 500_000,
            "{kind} {protocol} {context}: a span end blocked {} µs",
            f["slowest_span_end_us"]
        );
        assert!(
            f["rss_kib"] <= 200 * 1024,
            "{kind} {protocol} {context}: RSS {} KiB",
            f["rss_kib"]
        );
        assert!(
            f["drop_ms"] as u128 <= drop_limit.as_millis(),
            "{kind} {protocol} {context}: guard drop took {} ms (limit {} ms)",
            f["drop_ms"],
            drop_limit.as_millis()
        );
    }
}

#[test]
fn collector_refused_every_context_every_protocol_built() {
    let endpoint = refused();
    for &protocol in PROTOCOLS {
        check(
            "refused",
            protocol,
            &endpoint,
            BOUND + Duration::from_millis(500),
        );
    }
}

#[test]
fn collector_black_holed_every_context_every_protocol_built() {
    let (_listener, endpoint) = black_hole();
    for &protocol in PROTOCOLS {
        check(
            "black-holed",
            protocol,
            &endpoint,
            BOUND + Duration::from_millis(500),
        );
    }
}

#[test]
fn disabled_opens_no_socket_and_starts_no_export_thread() {
    let (_listener, endpoint) = black_hole();
    for value in ["true", "TRUE", "True"] {
        let f = run_child(
            "disabled",
            &[
                ("OTEL_SDK_DISABLED", value.to_owned()),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ],
        );
        assert_eq!(
            f["sockets"], 0,
            "OTEL_SDK_DISABLED={value}: a socket is open"
        );
        assert_eq!(
            f["export_threads"], 0,
            "OTEL_SDK_DISABLED={value}: an export thread exists"
        );
    }
    // And the check can see them: enabled, both exist.
    let f = run_child(
        "disabled",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ],
    );
    assert!(
        f["export_threads"] >= 1,
        "the thread check sees nothing even when enabled"
    );
}

#[cfg(feature = "otlp-http")]
#[test]
fn collector_answering_503_forever_every_context_and_retries_never_multiply() {
    let (_listener, requests, endpoint) = unavailable_http();
    check(
        "503",
        "http/protobuf",
        &endpoint,
        BOUND + Duration::from_millis(500),
    );
    // One child, its requests counted: the batch's first attempt (its
    // Retry-After of 30 s outlasts the run) and the one bounded attempt at
    // shutdown; the exporter's own retries would add three to each.
    requests.store(0, Ordering::SeqCst);
    run_child(
        "plain",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
            // Spans only: each signal makes its own requests.
            ("OTEL_LOGS_EXPORTER", "none".to_owned()),
            ("OTEL_METRICS_EXPORTER", "none".to_owned()),
        ],
    );
    let n = requests.load(Ordering::SeqCst);
    assert!((1..=2).contains(&n), "{n} requests for one batch");
}

#[test]
fn collector_unavailable_forever_every_context_grpc() {
    let (_listener, endpoint) = closing();
    check(
        "unavailable",
        "grpc",
        &endpoint,
        BOUND + Duration::from_millis(500),
    );
}
