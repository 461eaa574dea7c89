//! buildtrace in a small service: startup events before any exporter exists,
//! one call to initialise telemetry, a few traced requests, ready.
//!
//! `cargo run --example quickstart` prints this binary's provenance, and
//! sends its traces to the OTLP collector named by `OTEL_EXPORTER_OTLP_*`
//! (by default OTLP/gRPC to `http://localhost:4317`; HTTP/protobuf needs the
//! `otlp-http` feature); with nothing listening it
//! warns once and exits within its shutdown bound. `./scripts/demo.sh` runs it
//! against a real Collector and Jaeger.

use std::time::Duration;

buildtrace::embed!();

fn main() {
    // Capture `tracing` events until telemetry is initialised.
    let _ = buildtrace::startup::layer::install();
    buildtrace::startup!("main.entered");

    let config = load_config();
    tracing::info!(workers = config.workers, "configuration loaded");
    warm_cache(config.cache_entries);

    if let Some(p) = buildtrace::provenance() {
        use buildtrace::names;
        println!(
            "quickstart {} built from {} ({}) by {} for {}",
            p.get_str(names::SERVICE_VERSION).unwrap_or("?"),
            p.get_str(names::VCS_REF_HEAD_REVISION)
                .unwrap_or("an unknown commit"),
            if p.get(names::GIT_DIRTY) == Some(buildtrace::Value::Bool(true)) {
                "dirty"
            } else {
                "clean"
            },
            p.get_str(names::PROCESS_RUNTIME_DESCRIPTION)
                .unwrap_or("an unknown rustc"),
            p.get_str(names::TARGET_TRIPLE)
                .unwrap_or("an unknown target"),
        );
        println!("provenance id {}", p.id().unwrap_or("?"));
    }

    // Resource, OTLP export, tracing stack, handover, startup span.
    let guard = buildtrace::Builder::default().with_ready_signal().init();
    buildtrace::startup!(
        "telemetry.ready",
        init_us = guard.init_duration().as_micros() as u64
    );

    for route in ["/health", "/orders", "/orders/42"] {
        tracing::info_span!("request", http.route = route).in_scope(|| {
            std::thread::sleep(Duration::from_millis(2));
            tracing::info!("handled");
        });
    }
    buildtrace::startup!("listener.accepting", port = 8080_u16);
    buildtrace::ready();
}

struct Config {
    workers: usize,
    cache_entries: u64,
}

fn load_config() -> Config {
    std::thread::sleep(Duration::from_millis(3));
    buildtrace::startup!("config.loaded", path = "quickstart.toml", entries = 4_u64);
    Config {
        workers: 4,
        cache_entries: 1_000,
    }
}

fn warm_cache(entries: u64) {
    let worker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        buildtrace::startup!("cache.warmed", entries = entries);
    });
    let _ = worker.join();
}
