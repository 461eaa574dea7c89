//! (d) buildtrace: the build script records the provenance, `embed!` puts
//! it in the binary, `startup!` records the startup events into the static
//! ring before telemetry exists, and `buildtrace::init()` exports them as
//! the events of the `startup` span, with the provenance as resource
//! attributes.

use std::time::Instant;

buildtrace::embed!();

#[macro_use]
#[path = "../../common/traced.rs"]
mod traced;

#[path = "../../common/service.rs"]
mod service;

#[tokio::main]
async fn main() {
    let record = |i: usize, phase: &'static str| {
        buildtrace::startup!("startup.step", step = i, phase = phase)
    };
    // Between timed batches, outside the timing: empty the ring, so every
    // timed record is a real write.
    if service::event_bench(record, || drop(buildtrace::startup::drain())) {
        return;
    }
    service::report_startup(service::startup_events(record));

    let started = Instant::now();
    let guard = buildtrace::init();
    service::report_ready(started.elapsed());

    let started = Instant::now();
    let ok = service::serve().await.expect("serving the requests failed");
    service::report_served(ok, started.elapsed());

    let started = Instant::now();
    drop(guard);
    service::report_shutdown(started.elapsed());
}
