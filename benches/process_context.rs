//! Cost of publishing the OpenTelemetry process context at `init`: the
//! first publication (encode, memfd, map, header, name) and an update of
//! the published one. Linux only. `cargo bench --bench process_context`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

buildtrace::embed!();

#[cfg(target_os = "linux")]
fn process_context(c: &mut Criterion) {
    use buildtrace::opentelemetry_sdk::Resource;
    let resource = Resource::builder()
        .with_detector(Box::new(buildtrace::ProvenanceDetector::new()))
        .build();
    let mut g = c.benchmark_group("process_context");
    // Each publication is dropped, so each is a first one (and a munmap).
    g.bench_function("publish + remove", |b| {
        b.iter(|| black_box(buildtrace::process_context::publish(&resource).unwrap()))
    });
    // Kept alive, each publication updates the one mapping in place
    // (dropping the latest would remove it).
    let mut held = Vec::new();
    g.bench_function("update", |b| {
        b.iter(|| held.push(buildtrace::process_context::publish(&resource).unwrap()))
    });
    drop(held);
    g.finish();
}

#[cfg(not(target_os = "linux"))]
fn process_context(_: &mut Criterion) {}

criterion_group!(benches, process_context);
criterion_main!(benches);
