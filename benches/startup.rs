//! The cost of recording a startup event, side by side with what else a
//! program could do at that moment. `cargo bench --bench startup`.
//!
//! The global ring is drained between timed batches (outside the timing), so
//! every timed record is a real write, never the cheaper "ring full" path.

use buildtrace::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// Times `iters` calls of `timed` while a second thread calls `other` as
/// many times, both starting each batch of `batch` together and recording
/// only then; `drain` runs after both finished a batch, outside the timing.
/// The two meet by spinning on atomics (a sleeping barrier's wake-up skew
/// is longer than a batch). With the ring holding both batches, no record
/// meets a full ring: every timed record is a real, contended write.
fn contended(
    iters: u64,
    batch: u64,
    other: impl Fn() + Send + 'static,
    mut timed: impl FnMut(),
    mut drain: impl FnMut(),
) -> Duration {
    let batches = iters.div_ceil(batch);
    // The other thread's last batch number ready, started by `go`, finished.
    let ready = Arc::new(AtomicU64::new(0));
    let go = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let wait_for = |a: &AtomicU64, n: u64| {
        while a.load(Ordering::Acquire) != n {
            std::hint::spin_loop();
        }
    };
    let thread = {
        let (ready, go, finished) = (ready.clone(), go.clone(), finished.clone());
        std::thread::spawn(move || {
            for b in 1..=batches {
                ready.store(b, Ordering::Release);
                wait_for(&go, b);
                for _ in 0..batch {
                    other();
                }
                finished.store(b, Ordering::Release);
            }
        })
    };
    let mut total = Duration::ZERO;
    for b in 1..=batches {
        wait_for(&ready, b);
        go.store(b, Ordering::Release);
        let t = Instant::now();
        for _ in 0..batch {
            timed();
        }
        total += t.elapsed();
        wait_for(&finished, b);
        drain();
    }
    thread.join().unwrap();
    // Per record as criterion counts them: scaled to `iters`.
    total.mul_f64(iters as f64 / (batches * batch) as f64)
}

/// Half the ring per batch: no timed record meets a full ring.
fn ring_batch() -> u64 {
    buildtrace::startup::capacity() as u64 / 2
}

/// Records per thread per contended batch: what one shard of the ring holds
/// (64), for the queue too; both batches fit either.
fn contended_batch() -> u64 {
    buildtrace::startup::SHARD_CAPACITY as u64
}

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

/// The tick counter `startup!` stamps records with on this architecture.
#[inline(always)]
fn tick() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` exists on every x86-64 CPU.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(target_arch = "aarch64")]
    {
        let t: u64;
        // SAFETY: reads the virtual counter, which user space may read.
        unsafe { core::arch::asm!("mrs {}, cntvct_el0", out(reg) t) };
        return t;
    }
    #[allow(unreachable_code)]
    {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
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
                contended_batch(),
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
    // Like for like: a startup event carries its time, so the same queue
    // also with the record stamped by the tick counter `startup!` reads.
    for (name, stamped) in [
        ("crossbeam ArrayQueue::push of a 64-byte record", false),
        (
            "crossbeam ArrayQueue::push of a 64-byte record stamped with a tick read",
            true,
        ),
    ] {
        g.bench_function(name, |b| {
            let queue = crossbeam_queue::ArrayQueue::<Rec64>::new(buildtrace::startup::capacity());
            b.iter_custom(|iters| {
                batched(
                    iters,
                    ring_batch(),
                    || {
                        let ticks = if stamped { tick() } else { 1 };
                        let _ = queue.push(black_box(Rec64 { ticks, ..record() }));
                    },
                    || while queue.pop().is_some() {},
                )
            })
        });
    }

    g.bench_function("crossbeam ArrayQueue::push, 2 threads contending", |b| {
        b.iter_custom(|iters| {
            let queue = Arc::new(crossbeam_queue::ArrayQueue::<Rec64>::new(
                buildtrace::startup::capacity(),
            ));
            let other = queue.clone();
            contended(
                iters,
                contended_batch(),
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
