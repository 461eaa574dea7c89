//! What every app prints, one `compare-init:` line per measurement on
//! standard error (unbuffered, and apart from any log output the library
//! under test writes to standard output), for `scripts/compare-init.sh`.
//!
//! `init_returned_ms` is wall-clock time from `LAUNCH_NS` (nanoseconds since
//! the epoch, read by the harness right before it spawns the app) to the
//! return of the init call: process start, loading, runtime start (for the
//! `#[tokio::main]` apps) and the init call itself. `init_call_ms` is the init
//! call alone (monotonic clock), `drop_ms` the guard drop or provider
//! shutdown alone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the harness's `LAUNCH_NS`, or `NaN` when it is unset
/// or not a number (the harness then reports the run as missing a value).
fn since_launch_ms() -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    match std::env::var("LAUNCH_NS").ok().and_then(|v| v.parse::<u128>().ok()) {
        Some(launch) if now >= launch => (now - launch) as f64 / 1e6,
        _ => f64::NAN,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Call right after the init call returned; `call` is how long it took.
pub fn init_returned(call: Duration) {
    let since_launch = since_launch_ms();
    eprintln!(
        "compare-init: init_returned_ms={since_launch:.3} init_call_ms={:.3}",
        ms(call)
    );
}

/// Call right after the guard was dropped (or the provider shut down).
pub fn dropped(took: Duration) {
    eprintln!("compare-init: drop_ms={:.3}", ms(took));
}
