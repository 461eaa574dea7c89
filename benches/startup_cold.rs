//! `startup!` the way users meet it: a fresh process, its first events,
//! beside crossbeam's `ArrayQueue` in the same processes.
//!
//! `cargo bench --bench startup_cold [-- PROCESSES]` launches this binary
//! again PROCESSES times (default 31). Each child, from the first line of
//! `main` and with no `prefault()` call:
//!
//! - records its first 20 startup events (2 attributes, as in the
//!   comparison service), timed as one batch: the **cold** cost per event,
//!   page faults and cold caches included;
//! - then 200 batches of 20 more, the ring drained between batches outside
//!   the timing: the **warm** cost per event (the median batch);
//! - the same two figures for a fresh `ArrayQueue<[u8; 64]>` of the same
//!   capacity, pushed a 64-byte record (its constructor writes every slot,
//!   so its pages are resident before the first push), and the warm figure
//!   again with each record stamped with the tick counter, as a startup
//!   event is (like for like).
//!
//! It launches as many processes again for where a service meets them:
//! right after `main` has started a multi-thread tokio runtime (its worker
//! threads starting on the other cores), the first 20 events, the first of
//! them also timed alone; half of these processes record into the ring, half
//! push into an `ArrayQueue` made before the runtime, as the ring is made
//! before `main`.
//!
//! `--idle-ms MS` leaves the machine idle for MS milliseconds before each
//! launch, as a service starts on a machine that was doing nothing: its
//! caches then hold little of the program (launched back to back, the
//! processes find the previous one's code and data in the shared cache).
//!
//! The parent prints the medians over processes and the ratios cold ÷ warm
//! and buildtrace ÷ `ArrayQueue`. With `--check` (the CI smoke guard) it
//! fails when cold ÷ warm is over `COLD_RATIO_LIMIT` (default 8, the goal
//! being 2) or warm ÷ the queue over `WARM_RATIO_LIMIT` (default 4, the goal
//! 1.3): ratios of figures from the same processes, never an absolute time.

buildtrace::embed!();

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

const FIRST: usize = 20;
const WARM_BATCHES: usize = 200;

type Rec64 = [u8; 64];

fn child() {
    // buildtrace, cold: the process's first events.
    let t = Instant::now();
    for i in 0..FIRST {
        buildtrace::startup!("startup.step", step = i, phase = "config");
    }
    let cold = t.elapsed().as_nanos() as f64 / FIRST as f64;
    drop(black_box(buildtrace::startup::drain()));
    let mut warm = Vec::with_capacity(WARM_BATCHES);
    for _ in 0..WARM_BATCHES {
        let t = Instant::now();
        for i in 0..FIRST {
            buildtrace::startup!("startup.step", step = i, phase = "config");
        }
        warm.push(t.elapsed().as_nanos() as f64 / FIRST as f64);
        drop(black_box(buildtrace::startup::drain()));
    }

    // crossbeam's queue, made (allocated, every slot written) outside the
    // timing, then cold and warm the same way.
    let queue = crossbeam_queue::ArrayQueue::<Rec64>::new(buildtrace::startup::capacity());
    let record = |i: usize| {
        let mut r = [0u8; 64];
        r[..8].copy_from_slice(&(i as u64).to_le_bytes());
        r[8..14].copy_from_slice(b"config");
        r
    };
    let t = Instant::now();
    for i in 0..FIRST {
        let _ = queue.push(black_box(record(i)));
    }
    let queue_cold = t.elapsed().as_nanos() as f64 / FIRST as f64;
    while queue.pop().is_some() {}
    let mut queue_warm = Vec::with_capacity(WARM_BATCHES);
    for _ in 0..WARM_BATCHES {
        let t = Instant::now();
        for i in 0..FIRST {
            let _ = queue.push(black_box(record(i)));
        }
        queue_warm.push(t.elapsed().as_nanos() as f64 / FIRST as f64);
        while queue.pop().is_some() {}
    }
    // The same queue, each record stamped with the tick counter, as a
    // startup event is.
    let mut stamped_warm = Vec::with_capacity(WARM_BATCHES);
    for _ in 0..WARM_BATCHES {
        let t = Instant::now();
        for i in 0..FIRST {
            let mut r = record(i);
            r[56..].copy_from_slice(&tick().to_le_bytes());
            let _ = queue.push(black_box(r));
        }
        stamped_warm.push(t.elapsed().as_nanos() as f64 / FIRST as f64);
        while queue.pop().is_some() {}
    }
    println!(
        "{cold:.2}\t{:.2}\t{queue_cold:.2}\t{:.2}\t{:.2}",
        median(&mut warm),
        median(&mut queue_warm),
        median(&mut stamped_warm)
    );
}

/// The first events right after a multi-thread tokio runtime started, into
/// the ring or (`queue`) into an `ArrayQueue` made before the runtime:
/// prints ns per event over the 20, and ns of the first alone.
fn child_after_runtime(queue: bool) {
    let queue =
        queue.then(|| crossbeam_queue::ArrayQueue::<Rec64>::new(buildtrace::startup::capacity()));
    // What `#[tokio::main]` builds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (all, first) = runtime.block_on(async {
        let event = |i: usize| match &queue {
            Some(q) => {
                let mut r = [0u8; 64];
                r[..8].copy_from_slice(&(i as u64).to_le_bytes());
                r[8..14].copy_from_slice(b"config");
                let _ = q.push(black_box(r));
            }
            None => buildtrace::startup!("startup.step", step = i, phase = "config"),
        };
        let t = Instant::now();
        event(0);
        let first = t.elapsed();
        for i in 1..FIRST {
            event(i);
        }
        (t.elapsed(), first)
    });
    println!(
        "{:.2}\t{:.2}",
        all.as_nanos() as f64 / FIRST as f64,
        first.as_nanos() as f64
    );
}

/// The tick counter `startup!` stamps records with on this architecture.
#[inline(always)]
fn tick() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` exists on every x86-64 CPU.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[allow(unreachable_code)]
    {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    match std::env::var("BUILDTRACE_COLD_CHILD").as_deref() {
        Ok("runtime-ring") => return child_after_runtime(false),
        Ok("runtime-queue") => return child_after_runtime(true),
        Ok(_) => return child(),
        Err(_) => {}
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let idle = args.iter().position(|a| a == "--idle-ms").map(|at| {
        match args.get(at + 1).and_then(|v| v.parse().ok()) {
            Some(ms) => std::time::Duration::from_millis(ms),
            None => panic!("--idle-ms takes a number of milliseconds"),
        }
    });
    let processes: usize = args
        .iter()
        .enumerate()
        .filter(|&(at, _)| at == 0 || args[at - 1] != "--idle-ms")
        .find_map(|(_, a)| a.parse().ok())
        .unwrap_or(31)
        .max(1);
    let exe = std::env::current_exe().expect("the bench's own path");
    let run = |kind: &str, columns: &mut [Vec<f64>]| {
        if let Some(idle) = idle {
            std::thread::sleep(idle);
        }
        let out = Command::new(&exe)
            .env("BUILDTRACE_COLD_CHILD", kind)
            .output()
            .expect("the bench relaunches itself");
        assert!(out.status.success(), "a child failed: {out:?}");
        let line = String::from_utf8_lossy(&out.stdout);
        let figures: Vec<f64> = line
            .trim()
            .split('\t')
            .map(|f| f.parse().expect("a child prints numbers"))
            .collect();
        assert_eq!(figures.len(), columns.len(), "a child printed {line}");
        for (column, figure) in columns.iter_mut().zip(figures) {
            column.push(figure);
        }
    };
    let mut columns: [Vec<f64>; 5] = Default::default();
    let mut ring_after: [Vec<f64>; 2] = Default::default();
    let mut queue_after: [Vec<f64>; 2] = Default::default();
    for _ in 0..processes {
        run("first", &mut columns);
        run("runtime-ring", &mut ring_after);
        run("runtime-queue", &mut queue_after);
    }
    let [cold, warm, queue_cold, queue_warm, stamped_warm] = columns.map(|mut c| median(&mut c));
    let [ring_after, ring_first] = ring_after.map(|mut c| median(&mut c));
    let [queue_after, queue_first] = queue_after.map(|mut c| median(&mut c));
    println!(
        "startup! the way users meet it: medians over {processes} fresh processes, ns per event{}",
        match idle {
            Some(idle) => format!(
                ", each launched after the machine idled {} ms",
                idle.as_millis()
            ),
            None => ", launched back to back".into(),
        }
    );
    println!("| figure | buildtrace `startup!` | `ArrayQueue::push` (64 B) | buildtrace ÷ queue | queue, record stamped with a tick read | buildtrace ÷ it |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| first {FIRST} events of the process (cold) | {cold:.1} | {queue_cold:.1} | {:.2}× | | |",
        cold / queue_cold
    );
    println!(
        "| warm (median of {WARM_BATCHES} batches of {FIRST}) | {warm:.1} | {queue_warm:.1} | {:.2}× | {stamped_warm:.1} | {:.2}× |",
        warm / queue_warm,
        warm / stamped_warm
    );
    println!(
        "| cold ÷ warm | **{:.2}×** | {:.2}× | | | |",
        cold / warm,
        queue_cold / queue_warm
    );
    println!(
        "| first {FIRST} events right after a multi-thread tokio runtime starts | {ring_after:.1} | {queue_after:.1} | {:.2}× | | |",
        ring_after / queue_after
    );
    println!(
        "| of which the first event alone, ns | {ring_first:.0} | {queue_first:.0} | {:.2}× | | |",
        ring_first / queue_first
    );
    println!(
        "| those 20 ÷ warm | {:.2}× | {:.2}× | | | |",
        ring_after / warm,
        queue_after / queue_warm
    );
    if check {
        // Several times each goal (cold ÷ warm 2×, warm ÷ the stamped queue
        // 1.3×), so that only a gross regression fails, never a noisy run.
        let limit = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let guards = [
            (
                "cold ÷ warm",
                cold / warm,
                limit("COLD_RATIO_LIMIT", 8.0),
                "2×",
            ),
            (
                "warm ÷ ArrayQueue",
                warm / queue_warm,
                limit("WARM_RATIO_LIMIT", 4.0),
                "1.3×",
            ),
        ];
        let mut failed = false;
        for (what, ratio, limit, goal) in guards {
            if ratio > limit {
                eprintln!(
                    "startup! {what} is {ratio:.2}×, over the guard's {limit}× (the goal is {goal}): \
                     a gross regression"
                );
                failed = true;
            } else {
                println!("guard: {what} {ratio:.2}× ≤ {limit}× (goal {goal})");
            }
        }
        if failed {
            std::process::exit(1);
        }
    }
}
