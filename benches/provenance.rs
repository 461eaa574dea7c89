//! Run-time cost of provenance, side by side with the alternatives a program
//! could use instead. `cargo bench --bench provenance`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

buildtrace::embed!();

fn provenance(c: &mut Criterion) {
    let mut g = c.benchmark_group("provenance");
    let record = buildtrace::provenance().expect("the bench embeds a record");
    let bytes = record.as_bytes().to_vec();
    g.bench_function("buildtrace::provenance()", |b| {
        b.iter(|| black_box(buildtrace::provenance()))
    });
    g.bench_function("provenance().get(revision)", |b| {
        b.iter(|| {
            black_box(buildtrace::provenance().and_then(|r| r.get_str("vcs.ref.head.revision")))
        })
    });
    // What a reader that re-validates the bytes each time would pay.
    g.bench_function("Record::parse each call", |b| {
        b.iter(|| black_box(buildtrace::Record::parse(black_box(&bytes)).is_ok()))
    });
    // The baseline: a compile-time constant, as env!/built give.
    g.bench_function("env!(CARGO_PKG_VERSION)", |b| {
        b.iter(|| black_box(env!("CARGO_PKG_VERSION")))
    });
    g.finish();
}

fn build_id(c: &mut Criterion) {
    let mut g = c.benchmark_group("gnu_build_id");
    g.bench_function("from memory (program headers)", |b| {
        b.iter(|| black_box(buildtrace::read_gnu_build_id()))
    });
    g.bench_function("cached gnu_build_id()", |b| {
        b.iter(|| black_box(buildtrace::gnu_build_id()))
    });
    // The alternative: read the note from the executable file.
    g.bench_function("from /proc/self/exe with object", |b| {
        b.iter(|| {
            let data = std::fs::read("/proc/self/exe").unwrap();
            let file = object::File::parse(&*data).unwrap();
            black_box(
                object::Object::build_id(&file)
                    .ok()
                    .flatten()
                    .map(<[u8]>::to_vec),
            )
        })
    });
    g.finish();
}

fn resource(c: &mut Criterion) {
    use buildtrace::opentelemetry_sdk::Resource;
    let mut g = c.benchmark_group("resource");
    let _ = Resource::builder_empty()
        .with_detector(Box::new(buildtrace::ProvenanceDetector::new()))
        .build();
    g.bench_function("provenance detector only", |b| {
        b.iter(|| {
            black_box(
                Resource::builder_empty()
                    .with_detector(Box::new(buildtrace::ProvenanceDetector::new()))
                    .build(),
            )
        })
    });
    g.bench_function("SDK default resource + provenance", |b| {
        b.iter(|| {
            black_box(
                Resource::builder()
                    .with_detector(Box::new(buildtrace::ProvenanceDetector::new()))
                    .build(),
            )
        })
    });
    g.bench_function("SDK default resource alone", |b| {
        b.iter(|| black_box(Resource::builder().build()))
    });
    g.finish();
}

criterion_group!(benches, provenance, build_id, resource);
criterion_main!(benches);
