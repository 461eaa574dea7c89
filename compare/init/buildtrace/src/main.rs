//! (c) `buildtrace::init()`, default features, in a plain `main`: it runs its
//! own export thread, so the program needs no async runtime.

#[path = "../../common/report.rs"]
mod report;

use std::time::Instant;

fn main() {
    let started = Instant::now();
    let guard = buildtrace::init();
    report::init_returned(started.elapsed());

    tracing::info_span!("work").in_scope(|| tracing::info!("traced"));

    let started = Instant::now();
    drop(guard);
    report::dropped(started.elapsed());
}
