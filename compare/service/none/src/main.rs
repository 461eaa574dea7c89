//! (a) The service without telemetry: no startup events, no spans. It marks
//! "ready" where the other builds have initialised telemetry, so the cost of
//! starting the process and the runtime can be told apart from theirs.

macro_rules! traced {
    ($route:expr, $future:expr) => {{
        let _ = $route;
        $future
    }};
}

macro_rules! handled {
    ($status:expr) => {{
        let _ = $status;
    }};
}

#[path = "../../common/service.rs"]
mod service;

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    if service::event_bench(|_, _| {}, || {}) {
        return;
    }
    service::report_startup(Duration::ZERO);
    service::report_ready(Duration::ZERO);

    let started = Instant::now();
    let ok = service::serve().await.expect("serving the requests failed");
    service::report_served(ok, started.elapsed());

    service::report_shutdown(Duration::ZERO);
}
