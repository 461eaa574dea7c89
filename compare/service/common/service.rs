//! The service every build under `compare/service/` runs, identical in all
//! four apart from telemetry. Each app's `main.rs` defines, before it
//! includes this file, the two macros that differ:
//!
//! - `traced!(route, future)`: the request handler, in a `request` span (or
//!   as is, without telemetry);
//! - `handled!(status)`: an event inside that span.
//!
//! What it measures goes to standard error, one `compare:` line per
//! measurement, for the harness (`compare/harness`). Times since launch are
//! wall-clock from `LAUNCH_NS`, nanoseconds since the epoch that the harness
//! reads right before it spawns the process.

#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The startup phases, one startup event each, recorded before telemetry
/// is initialised.
pub const PHASES: [&str; 20] = [
    "args.parsed",
    "env.read",
    "config.located",
    "config.loaded",
    "config.validated",
    "secrets.resolved",
    "logging.planned",
    "runtime.sized",
    "cache.allocated",
    "cache.warmed",
    "db.pool.sized",
    "db.migrations.checked",
    "routes.registered",
    "middleware.stacked",
    "templates.compiled",
    "health.registered",
    "signals.hooked",
    "limits.applied",
    "listener.planned",
    "startup.done",
];

/// The requests the service serves to itself, one connection and one
/// `request` span each.
pub const ROUTES: [&str; 5] = ["/health", "/orders", "/orders/42", "/users/7", "/metrics"];

/// Records one event per phase with `record(index, phase)`; returns how long
/// the whole sequence took.
#[inline(never)]
pub fn startup_events(mut record: impl FnMut(usize, &'static str)) -> Duration {
    let started = Instant::now();
    for (i, phase) in PHASES.iter().enumerate() {
        record(i, phase);
    }
    started.elapsed()
}

/// `COMPARE_EVENT_BENCH=BATCHES`: records `BATCHES` batches of 256 events
/// before any telemetry exists, timing each batch; `between` runs between
/// batches, outside the timing (buildtrace drains its ring there, so every
/// timed record is a real write). Prints the median, 10th and 90th
/// percentile per event, in nanoseconds, and returns true; false when the
/// variable is unset.
pub fn event_bench(mut record: impl FnMut(usize, &'static str), mut between: impl FnMut()) -> bool {
    const BATCH: usize = 256;
    let Some(batches) = std::env::var("COMPARE_EVENT_BENCH")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return false;
    };
    let mut per_event = Vec::with_capacity(batches);
    for _ in 0..batches.max(1) {
        let started = Instant::now();
        for i in 0..BATCH {
            record(i, PHASES[i % PHASES.len()]);
        }
        per_event.push(started.elapsed().as_nanos() as f64 / BATCH as f64);
        between();
    }
    per_event.sort_by(f64::total_cmp);
    let at = |q: f64| per_event[((per_event.len() - 1) as f64 * q).round() as usize];
    eprintln!(
        "compare: event_bench_ns={:.2} event_bench_p10_ns={:.2} event_bench_p90_ns={:.2} event_bench_events={}",
        at(0.5),
        at(0.1),
        at(0.9),
        per_event.len() * BATCH
    );
    true
}

/// Milliseconds since `LAUNCH_NS`, or NaN when it is unset.
pub fn since_launch_ms() -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    match std::env::var("LAUNCH_NS")
        .ok()
        .and_then(|v| v.parse::<u128>().ok())
    {
        Some(launch) if now >= launch => (now - launch) as f64 / 1e6,
        _ => f64::NAN,
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// After the startup events.
pub fn report_startup(took: Duration) {
    eprintln!(
        "compare: startup_events={} startup_events_ns={:.1} startup_event_ns={:.2}",
        PHASES.len(),
        took.as_nanos() as f64,
        took.as_nanos() as f64 / PHASES.len() as f64
    );
}

/// Right after telemetry is initialised (without telemetry: where it would
/// be); `init` is the initialisation alone.
pub fn report_ready(init: Duration) {
    eprintln!(
        "compare: ready_ms={:.3} init_ms={:.3}",
        since_launch_ms(),
        ms(init)
    );
}

/// After the requests; `ok` is how many were answered 200.
pub fn report_served(ok: usize, took: Duration) {
    eprintln!(
        "compare: requests={} requests_ok={ok} serve_ms={:.3}",
        ROUTES.len(),
        ms(took)
    );
}

/// After the guard was dropped or the provider shut down: also the peak
/// resident set size (`VmHWM`; the parent's `wait4` would report at least
/// the parent's own peak, which Linux carries over into a child at exec).
pub fn report_shutdown(took: Duration) {
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .unwrap_or(f64::NAN);
    eprintln!(
        "compare: shutdown_ms={:.3} end_ms={:.3} peak_rss_kib={peak_kib:.0}",
        ms(took),
        since_launch_ms()
    );
}

/// Opens a loopback listener, sends every route of [`ROUTES`] to it over a
/// fresh connection, serves each (one after the other, so each request's
/// span has ended when this returns) and returns how many were answered 200.
pub async fn serve() -> io::Result<usize> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        for _ in 0..ROUTES.len() {
            let (stream, _) = listener.accept().await?;
            handle(stream).await?;
        }
        Ok::<_, io::Error>(())
    });
    let mut ok = 0;
    for route in ROUTES {
        if request(addr, route).await? {
            ok += 1;
        }
    }
    server
        .await
        .map_err(|e| io::Error::other(format!("server task: {e}")))??;
    Ok(ok)
}

/// Reads a request head, answers it.
async fn handle(mut stream: TcpStream) -> io::Result<()> {
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let path = std::str::from_utf8(&head)
        .ok()
        .and_then(|h| h.split(' ').nth(1))
        .unwrap_or("");
    let route = ROUTES.iter().copied().find(|r| *r == path);
    traced!(route.unwrap_or("unknown"), async move {
        let (status, body) = match route {
            Some(r) => (200, respond(r)),
            None => (404, String::from("not found\n")),
        };
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        handled!(status);
        Ok::<_, io::Error>(())
    })
    .await
}

/// A little work per route, the same in every build.
fn respond(route: &str) -> String {
    let mut sum = 0u64;
    for (i, b) in route.bytes().cycle().take(4096).enumerate() {
        sum = sum.wrapping_mul(31).wrapping_add(b as u64 ^ i as u64);
    }
    format!("{route} {sum:016x}\n")
}

/// One request over a fresh connection; true when answered 200.
async fn request(addr: SocketAddr, route: &str) -> io::Result<bool> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {route} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(response.starts_with(b"HTTP/1.1 200 "))
}
