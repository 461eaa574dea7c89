//! Baseline: the same program without any telemetry, so the cost of
//! starting a process here (fork, exec, loading) can be told apart from the
//! cost of initialising export.

#[path = "../../common/report.rs"]
mod report;

use std::time::{Duration, Instant};

fn main() {
    report::init_returned(Duration::ZERO);
    let started = Instant::now();
    report::dropped(started.elapsed());
}
