//! Nothing before init is lost: startup events recorded in nanoseconds into
//! a static ring, delivered later as a startup span with their original
//! timestamps.
//!
//! Every Rust telemetry setup loses what happens before its exporter exists:
//! configuration loaded, caches warmed, connections opened. With buildtrace,
//! code records such milestones with [`startup!`](crate::startup!) from the
//! first line of `main` (or before it), from any thread. A record is a tick
//! count, the thread, a static name and up to [`MAX_ATTRS`] attributes,
//! copied into a fixed slot of a lock-free ring: no lock, no allocation, no
//! system call. At init the ring is drained into a span that starts when the
//! process started.
//!
//! # Capacity and memory
//!
//! The ring holds [`CAPACITY`] records (set at build time with the
//! `BUILDTRACE_STARTUP_CAPACITY` environment variable; default 512), of
//! [`SLOT_BYTES`] (336) bytes each: 168 KiB by default, zero-initialised, so it
//! lives in `.bss` and costs nothing in the binary or in memory until
//! written. Each 4 KiB page costs one page fault when first written (a 16th
//! of the records pay it); [`prefault`] pays them all at once, up front.
//!
//! When the ring is full the earliest records are kept: every later one is
//! counted exactly, and the drain reports them as one "N startup events
//! dropped" event and one warning.
//!
//! After the startup span has ended, [`startup!`](crate::startup!) records nothing and costs
//! one atomic load.

pub(crate) mod clock;
mod event;
#[cfg(feature = "otel")]
pub mod layer;
#[cfg(feature = "otel")]
pub mod span;

pub use event::{Event, EventValue, InlineStr, Origin, INLINE_STR_LEN, MAX_ATTRS, MESSAGE_LEN};

use crate::ring::Ring;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::cell::Cell;
use std::time::SystemTime;

/// Records the ring holds.
pub const CAPACITY: usize = parse_capacity(option_env!("BUILDTRACE_STARTUP_CAPACITY"));

/// Bytes of one slot of the ring (a record and its stamp).
pub const SLOT_BYTES: usize = core::mem::size_of::<Event>() + core::mem::size_of::<usize>();

const fn parse_capacity(s: Option<&str>) -> usize {
    let Some(s) = s else { return 512 };
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0usize;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "BUILDTRACE_STARTUP_CAPACITY must be a whole number"
        );
        n = n * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    assert!(
        n >= 1 && n <= 1 << 20,
        "BUILDTRACE_STARTUP_CAPACITY must be between 1 and 1048576"
    );
    n
}

static RING: Ring<Event, CAPACITY> = Ring::new();
/// Set when the startup span has ended: records stop.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Records made after the startup span ended.
static LATE: AtomicU64 = AtomicU64::new(0);
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static THREAD: Cell<u32> = const { Cell::new(0) };
}

#[inline]
fn thread_number() -> u32 {
    THREAD.with(|t| match t.get() {
        0 => {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            t.set(n);
            n
        }
        n => n,
    })
}

/// Records a startup event: what [`startup!`](crate::startup!) expands to.
#[doc(hidden)]
#[inline]
pub fn record(name: &'static str, attrs: &[(&'static str, EventValue)]) {
    if CLOSED.load(Ordering::Relaxed) {
        LATE.fetch_add(1, Ordering::Relaxed);
        return;
    }
    clock::ensure_first_anchor();
    let ticks = clock::ticks();
    let thread = thread_number();
    RING.push_with(|| {
        let mut event = Event::new(name, ticks, thread, Origin::Macro);
        for &(k, v) in attrs {
            event.push(k, v);
        }
        event
    });
}

#[cfg_attr(not(feature = "otel"), allow(dead_code))]
#[inline]
pub(crate) fn push(event: Event) {
    clock::ensure_first_anchor();
    RING.push(event);
}

#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Takes the first clock anchor now. [`embed!`](crate::embed!) calls it
/// before `main`, which makes the conversion of ticks to wall-clock time
/// precise however early the first event comes.
#[doc(hidden)]
pub fn anchor() {
    clock::ensure_first_anchor();
}

/// Touches every page of the ring now, so that no record pays a first-touch
/// page fault later. Optional; costs about one page fault per 4 KiB.
pub fn prefault() {
    RING.prefault();
}

/// A startup event with its wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Drained {
    /// The record.
    pub event: Event,
    /// When it was recorded.
    pub time: SystemTime,
}

/// What one drain of the ring gave.
#[derive(Debug, Clone, Default)]
pub struct Drain {
    /// The records, oldest first (per thread, in the order recorded).
    pub events: Vec<Drained>,
    /// Records lost because the ring was full, since the process started.
    pub dropped: u64,
    /// The bound on the error of every `time`, in nanoseconds.
    pub max_clock_error_ns: f64,
    /// When the drain happened.
    pub at: Option<SystemTime>,
}

/// Takes every record out of the ring, converting timestamps. Records come
/// in the order they claimed their slots: each thread's in the order it
/// recorded them.
pub fn drain() -> Drain {
    let conv = clock::Converter::calibrate();
    let mut events: Vec<Drained> = Vec::new();
    while let Some(event) = RING.pop() {
        events.push(Drained {
            time: conv.wall(event.ticks),
            event,
        });
    }
    Drain {
        events,
        dropped: RING.dropped(),
        max_clock_error_ns: conv.max_error_ns,
        at: Some(conv.now()),
    }
}

/// Stops recording: later [`startup!`](crate::startup!) calls record nothing.
pub fn close() {
    CLOSED.store(true, Ordering::Relaxed);
}

/// Records attempted after [`close`].
pub fn late() -> u64 {
    LATE.load(Ordering::Relaxed)
}

/// How many records wait in the ring right now (a snapshot).
pub fn pending() -> usize {
    RING.len()
}

/// The ring's capacity.
pub fn capacity() -> usize {
    RING.capacity()
}

/// When the process started, as the operating system says: on Linux from
/// `/proc/self/stat` (the start time in clock ticks since boot, rounded
/// down) and the boot clock; `None` elsewhere or if unreadable.
pub fn process_start_time() -> Option<SystemTime> {
    imp::process_start_time()
}

#[cfg(target_os = "linux")]
mod imp {
    use std::time::{Duration, SystemTime};

    pub(super) fn process_start_time() -> Option<SystemTime> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) may hold spaces and parentheses: the
        // fields after it start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        // Field 22 (starttime) is the 20th after the command name.
        let start_ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
        // USER_HZ is 100 on every Linux ABI; sysconf would only confirm it.
        let hz = 100u64;
        let since_boot = Duration::from_nanos(start_ticks.checked_mul(1_000_000_000 / hz)?);
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let wall = SystemTime::now();
        // SAFETY: `ts` is a valid, writable timespec for the call's duration.
        if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
            return None;
        }
        let uptime = Duration::new(
            u64::try_from(ts.tv_sec).ok()?,
            u32::try_from(ts.tv_nsec).ok()?,
        );
        wall.checked_sub(uptime)?.checked_add(since_boot)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn process_start_time() -> Option<std::time::SystemTime> {
        None
    }
}

/// Records a startup event into the static ring, in a few nanoseconds.
///
/// A name (a string literal), then up to [`MAX_ATTRS`](crate::startup::MAX_ATTRS)
/// `key = value` pairs; keys may be dotted (`http.port = 8080`). Values are
/// integers, floats, booleans or text (copied inline, cut at
/// [`INLINE_STR_LEN`](crate::startup::INLINE_STR_LEN) bytes). Safe from any
/// thread, before and after init; no lock, no allocation, no system call.
///
/// # Examples
///
/// ```
/// buildtrace::startup!("config.loaded", path = "app.toml", entries = 42);
/// buildtrace::startup!("listener.bound", server.port = 8080_u16, tls = false);
/// ```
#[macro_export]
macro_rules! startup {
    ($name:literal $(, $($key:ident).+ = $value:expr)* $(,)?) => {
        $crate::startup::record(
            $name,
            &[$((stringify!($($key).+), $crate::startup::EventValue::from($value))),*],
        )
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_memory_is_the_real_one() {
        // The module docs state the size of a slot and of the default ring.
        assert_eq!(super::SLOT_BYTES, 336);
        assert_eq!(super::SLOT_BYTES * super::CAPACITY, 172_032);
    }
}
