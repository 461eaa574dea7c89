//! The cost of recording a startup event, side by side with what else a
//! program could do at that moment. `cargo bench --bench startup`.
//!
//! The global ring is drained between timed batches (outside the timing), so
//! every timed record is a real write, never the cheaper "ring full" path.

use buildtrace::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Times `iters` calls of `timed` in batches of `batch`, calling `drain`
/// after each batch, outside the timing.
fn batched(iters: u64, batch: u64, mut timed: impl FnMut(), mut drain: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(batch);
        let start = Instant::now();
        for _ in 0..n {
            timed();
        }
        total += start.elapsed();
        drain();
        left -= n;
    }
    total
}

/// Like [`batched`], while a second thread calls `other` the whole time.
fn contended(
    iters: u64,
    batch: u64,
    other: impl Fn() + Send + 'static,
    timed: impl FnMut(),
    drain: impl FnMut(),
) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(2));
    let thread = {
        let (stop, barrier) = (stop.clone(), barrier.clone());
        std::thread::spawn(move || {
            barrier.wait();
            while !stop.load(Ordering::Relaxed) {
                other();
            }
        })
    };
    barrier.wait();
    let elapsed = batched(iters, batch, timed, drain);
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    elapsed
}

/// Half the ring per batch: no timed record meets a full ring.
fn ring_batch() -> u64 {
    buildtrace::startup::capacity() as u64 / 2
}

/// With a second thread filling the same ring, a smaller batch keeps timed
/// records off the "full" path.
const CONTENDED_BATCH: u64 = 64;

fn drain_ring() {
    black_box(buildtrace::startup::drain());
}

/// A 64-byte record, the shape crossbeam's queue is compared with.
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct Rec64 {
    name: &'static str,
    ticks: u64,
    a: (&'static str, u64),
    b: (&'static str, u64),
}

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    buildtrace::startup::prefault();

    g.bench_function("startup! with 2 attributes", |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                ring_batch(),
                || buildtrace::startup!("config.loaded", entries = 42_u64, path = "app.toml"),
                drain_ring,
            )
        })
    });

    g.bench_function("startup! with 2 attributes, 2 threads contending", |b| {
        b.iter_custom(|iters| {
            contended(
                iters,
                CONTENDED_BATCH,
                || buildtrace::startup!("other", n = 1_u64, ok = true),
                || buildtrace::startup!("config.loaded", entries = 42_u64, path = "app.toml"),
                drain_ring,
            )
        })
    });

    let record = || Rec64 {
        name: "config.loaded",
        ticks: 1,
        a: ("entries", 42),
        b: ("size", 7),
    };
    g.bench_function("crossbeam ArrayQueue::push of a 64-byte record", |b| {
        let queue = crossbeam_queue::ArrayQueue::<Rec64>::new(buildtrace::startup::capacity());
        b.iter_custom(|iters| {
            batched(
                iters,
                ring_batch(),
                || {
                    let _ = queue.push(black_box(record()));
                },
                || while queue.pop().is_some() {},
            )
        })
    });

    g.bench_function("crossbeam ArrayQueue::push, 2 threads contending", |b| {
        b.iter_custom(|iters| {
            let queue = Arc::new(crossbeam_queue::ArrayQueue::<Rec64>::new(
                buildtrace::startup::capacity(),
            ));
            let other = queue.clone();
            contended(
                iters,
                CONTENDED_BATCH,
                move || {
                    let _ = other.push(black_box(Rec64 {
                        name: "other",
                        ticks: 2,
                        a: ("n", 1),
                        b: ("ok", 1),
                    }));
                },
                || {
                    let _ = queue.push(black_box(record()));
                },
                || while queue.pop().is_some() {},
            )
        })
    });

    g.bench_function("Instant::now()", |b| b.iter(|| black_box(Instant::now())));
    g.bench_function("SystemTime::now()", |b| {
        b.iter(|| black_box(std::time::SystemTime::now()))
    });

    // Pre-init tracing: the capturing layer as the global subscriber.
    buildtrace::startup::layer::install().expect("the bench sets no other subscriber");
    g.bench_function(
        "pre-init tracing::info! with 2 fields (capturing layer)",
        |b| {
            b.iter_custom(|iters| {
                batched(
                    iters,
                    ring_batch(),
                    || tracing::info!(port = 8080_u64, tls = false, "listener bound"),
                    drain_ring,
                )
            })
        },
    );

    // The alternatives once an exporter exists: a batch processor with an
    // exporter that discards.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(opentelemetry_sdk::testing::trace::NoopSpanExporter::new())
        .build();
    let tracer = provider.tracer("bench");
    let mut span = tracer.start("bench");
    g.bench_function(
        "OpenTelemetry span.add_event with 2 attributes (batch processor)",
        |b| {
            b.iter(|| {
                span.add_event(
                    "config.loaded",
                    vec![
                        buildtrace::opentelemetry::KeyValue::new("entries", 42),
                        buildtrace::opentelemetry::KeyValue::new("path", "app.toml"),
                    ],
                )
            })
        },
    );
    span.end();

    let subscriber = {
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.clone()))
    };
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("bench");
        let _entered = span.enter();
        g.bench_function(
            "tracing::info! with 2 fields through tracing-opentelemetry, in a span",
            |b| b.iter(|| tracing::info!(port = 8080_u64, tls = false, "listener bound")),
        );
    });
    g.finish();
    let _ = provider.shutdown();
}

criterion_group!(benches, startup);
criterion_main!(benches);
