//! What the constructor of `embed!` does before `main`, seen from a program
//! that uses it: the first records pay no page fault, and the startup span
//! carries the constructor's time beside the OS start.
//!
//! Its own `main` (no test harness): one thread, so the process's page-fault
//! count (from `/proc/self/stat`) is this program's alone.

buildtrace::embed!();

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::time::{Duration, SystemTime};

/// Minor page faults of this process so far, field 10 of `/proc/self/stat`.
#[cfg(target_os = "linux")]
fn minor_faults() -> u64 {
    use std::io::Read as _;
    // Into a buffer on the stack: reading takes no page of heap.
    let mut buf = [0u8; 2048];
    let n = std::fs::File::open("/proc/self/stat")
        .unwrap()
        .read(&mut buf)
        .unwrap();
    let stat = std::str::from_utf8(&buf[..n]).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(7).unwrap().parse().unwrap()
}

/// The process start from `/proc/self/stat` and `/proc/uptime`, read here
/// independently of the library, rounded down to the 10 ms clock tick.
#[cfg(target_os = "linux")]
fn os_start() -> SystemTime {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let start_ticks: u64 = rest.split_whitespace().nth(19).unwrap().parse().unwrap();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    SystemTime::now() - Duration::from_secs_f64(uptime) + Duration::from_millis(start_ticks * 10)
}

/// Touches 64 KiB of stack below this frame, so that a record's call
/// frames (deep in a debug build) land on pages already there: where the
/// stack starts in its page varies from run to run, and a fault there is not
/// the ring's.
#[inline(never)]
fn touch_stack() {
    let mut pad = [0u8; 64 * 1024];
    std::hint::black_box(&mut pad);
}

fn main() {
    let main_entered = SystemTime::now();

    // The first records touch only the pages the constructor touched.
    #[cfg(target_os = "linux")]
    {
        let _ = minor_faults(); // its own first use
        touch_stack();
        // The code's own pages: a debug build calls small functions spread
        // over the binary, each a first-use fault of its own. A record from
        // another thread (into another shard) pages them in; the claim here
        // is about the ring's pages.
        std::thread::spawn(|| buildtrace::startup!("warm-up", index = 0_u64, label = "code"))
            .join()
            .unwrap();
        let before = minor_faults();
        for i in 0..20u64 {
            buildtrace::startup!("step", index = i, label = "first records");
        }
        let faults = minor_faults() - before;
        assert_eq!(faults, 0, "the first 20 records took {faults} page faults");

        // The count does count: records past the constructor's pages touch
        // new ones.
        let before = minor_faults();
        for i in 0..buildtrace::startup::PRE_MAIN_SLOTS as u64 {
            buildtrace::startup!("step", index = i + 20, label = "later records");
        }
        assert!(
            minor_faults() > before,
            "records past the first {} slots took no page fault: the counter or the test is wrong",
            buildtrace::startup::PRE_MAIN_SLOTS
        );

        // The drain reads only the shards threads recorded into: two of
        // them here. Reading each of the other six would fault in its first
        // page. The heap the drain allocates from is touched first (a block
        // under the allocator's mmap threshold, freed back to the heap).
        drop(std::hint::black_box(vec![1u8; 96 * 1024]));
        let before = minor_faults();
        let drain = buildtrace::startup::drain();
        let faults = minor_faults() - before;
        assert_eq!(drain.events.len(), 21 + buildtrace::startup::PRE_MAIN_SLOTS);
        let unused = buildtrace::startup::SHARDS as u64 - 2;
        assert!(
            faults < unused,
            "the drain took {faults} page faults: it read shards nobody used ({unused})"
        );
    }

    // The constructor ran before `main`, after the process started.
    let constructor =
        buildtrace::startup::constructor_time().expect("embed!'s constructor ran before main");
    assert!(
        constructor <= main_entered,
        "{constructor:?} after main {main_entered:?}"
    );
    #[cfg(target_os = "linux")]
    {
        let os = os_start();
        // Both clocks are read at different instants: 20 ms of slack on
        // either side of the 10 ms tick.
        assert!(
            constructor + Duration::from_millis(20) >= os,
            "constructor {constructor:?} before the OS start {os:?}"
        );
        assert!(
            constructor <= os + Duration::from_secs(5),
            "constructor {constructor:?} long after the OS start {os:?}"
        );
    }

    // The span: constructor offset and constructor → init in it.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(buildtrace::startup::capacity() as u32 + 16)
        .build();
    let init = SystemTime::now();
    span::begin(&provider.tracer("test"), EndAt::Init);
    let init_done = SystemTime::now();
    let spans = exporter.get_finished_spans().unwrap();
    let s = &spans[0];
    let attr = |k: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
            .unwrap_or_else(|| panic!("no {k} in {:?}", s.attributes))
    };
    let ms = |a: SystemTime, b: SystemTime| b.duration_since(a).unwrap().as_secs_f64() * 1e3;
    let constructor_ms: f64 = attr("buildtrace.startup.constructor_ms").parse().unwrap();
    assert!(
        (constructor_ms - ms(s.start_time, constructor)).abs() < 1e-3,
        "constructor_ms {constructor_ms} vs {}",
        ms(s.start_time, constructor)
    );
    let to_init: f64 = attr("buildtrace.startup.constructor_to_init_ms")
        .parse()
        .unwrap();
    assert!(
        ms(constructor, init) <= to_init && to_init <= ms(constructor, init_done),
        "constructor_to_init {to_init} not within [{}, {}]",
        ms(constructor, init),
        ms(constructor, init_done)
    );
    if cfg!(target_os = "linux") {
        assert_eq!(attr("buildtrace.startup.start_source"), "os");
        assert_eq!(attr("buildtrace.startup.os_start_precision_ms"), "10");
    } else {
        assert_eq!(attr("buildtrace.startup.start_source"), "constructor");
    }
    assert!(s.start_time <= constructor);
    println!("startup_constructor: ok");
}
