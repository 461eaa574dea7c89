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
//! [`SLOT_BYTES`] (256) bytes each, four cache lines: 128 KiB by default,
//! zero-initialised, so it lives in `.bss` and costs nothing in the binary or
//! in memory until written. A record writes only what it uses: its fixed
//! fields and the bytes of its text.
//!
//! The ring is [`SHARDS`] lock-free rings of [`SHARD_CAPACITY`] records,
//! each page-aligned: thread `n` records into shard `(n - 1) % SHARDS`, so
//! that threads recording at the same moment rarely touch the same cache
//! line, and moves on to the next shard with room when its own is full. The
//! drain merges the shards in tick order (each thread's records in the order
//! it made them) and reads only the shards some thread used: the others cost
//! it not even a page fault.
//!
//! Each 4 KiB page costs one page fault when first written; the constructor
//! of [`embed!`](crate::embed!) touches, before `main`, the first
//! [`PRE_MAIN_SLOTS`] slots (8 KiB) of the main thread's shard, so the first
//! events of a process pay none, and [`prefault`] pays for the rest up front.
//!
//! When every shard is full the earliest records are kept: every later one
//! is counted exactly, and the drain reports them as one "N startup events
//! dropped" event and one warning.
//!
//! [`startup!`](crate::startup!) writes its record where it is called: the
//! values' kinds are known there at compile time, and the claim of a slot
//! is the one call (shared by every call site, so code grows little per
//! `startup!`).
//!
//! After the startup span has ended, [`startup!`](crate::startup!) records
//! nothing: it only counts itself as late.

pub(crate) mod clock;
mod event;
#[cfg(feature = "otel")]
pub mod layer;
#[cfg(feature = "otel")]
pub mod span;

mod record;

#[doc(hidden)]
pub use event::{Arg, Site};
pub use event::{Event, EventValue, InlineStr, Origin, INLINE_STR_LEN, MAX_ATTRS, MESSAGE_LEN};
pub use record::TEXT_LEN;
use record::{Record, Source};

use crate::ring::{Claim, Ring};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::cell::Cell;
use std::time::SystemTime;

/// Records the ring holds in all: `BUILDTRACE_STARTUP_CAPACITY` (default
/// 512), rounded up to a multiple of [`SHARDS`] when there are several.
pub const CAPACITY: usize = SHARDS * SHARD_CAPACITY;

/// The ring is this many rings (shards), so that threads recording at once
/// rarely share one: one for a capacity under 64, else 8.
pub const SHARDS: usize = if REQUESTED_CAPACITY >= 64 { 8 } else { 1 };

/// Records each shard holds.
pub const SHARD_CAPACITY: usize = REQUESTED_CAPACITY.div_ceil(SHARDS);

const REQUESTED_CAPACITY: usize = parse_capacity(option_env!("BUILDTRACE_STARTUP_CAPACITY"));

/// Bytes of one slot of the ring (a record and its stamp, cache-line aligned).
pub const SLOT_BYTES: usize = crate::ring::slot_size::<Record>();

/// Slots the constructor of [`embed!`](crate::embed!) touches before `main`,
/// in the main thread's shard: its first two pages.
pub const PRE_MAIN_SLOTS: usize = {
    let n = 8192 / SLOT_BYTES;
    if n < SHARD_CAPACITY {
        n
    } else {
        SHARD_CAPACITY
    }
};

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

/// A shard, page-aligned so that the first records share as few pages as
/// can be.
#[repr(C, align(4096))]
struct Shard(Ring<Record, SHARD_CAPACITY>);

static RING: [Shard; SHARDS] = [const { Shard(Ring::new()) }; SHARDS];
/// Records lost because every shard was full.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// The one byte every record reads first: [`ANCHORED`] alone on the fast
/// path, so that a process's first event waits for one cache line here, not
/// two.
static STATE: AtomicU8 = AtomicU8::new(0);
/// In [`STATE`]: the startup span has ended, records stop.
const CLOSED: u8 = 1;
/// In [`STATE`]: the clock's first anchor was taken.
const ANCHORED: u8 = 2;
/// Records made after the startup span ended.
static LATE: AtomicU64 = AtomicU64::new(0);
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Bit `s` is set once a thread has recorded, or is about to record, into
/// shard `s`: the drain reads only those, so shards nobody used cost it
/// nothing (not even the page faults of reading them).
static USED: AtomicU32 = AtomicU32::new(0);
const _: () = assert!(SHARDS <= 32, "one bit per shard in USED");

/// Marks `shard` as used, once (a load when it already is).
#[inline]
fn mark_used(shard: usize) {
    let bit = 1 << shard;
    if USED.load(Ordering::Relaxed) & bit == 0 {
        USED.fetch_or(bit, Ordering::Release);
    }
}

/// The shards the drain must read.
fn used_shards() -> impl Iterator<Item = &'static Shard> {
    let used = USED.load(Ordering::Acquire);
    RING.iter()
        .enumerate()
        .filter(move |(s, _)| used & (1 << s) != 0)
        .map(|(_, shard)| shard)
}

thread_local! {
    /// This thread's number (0 until it records) and the shard it records
    /// into.
    static THREAD: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
}

/// This thread's number and shard: thread `n` starts in shard `(n - 1) %
/// SHARDS` and moves on when that one is full.
#[inline]
fn thread_and_shard() -> (u32, usize) {
    THREAD.with(|t| match t.get() {
        (0, _) => {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            let shard = (n.wrapping_sub(1) as usize % SHARDS) as u32;
            mark_used(shard as usize);
            t.set((n, shard));
            (n, shard as usize)
        }
        (n, shard) => (n, shard as usize),
    })
}

/// Records a startup event: what [`startup!`](crate::startup!) expands to.
/// Inlined into the call site, where the values' kinds are known: only the
/// claim of a slot is a call.
#[doc(hidden)]
#[inline(always)]
pub fn record(site: &'static Site, args: &[Arg<'_>]) {
    if STATE.load(Ordering::Relaxed) != ANCHORED && !open() {
        return;
    }
    if let Some((mut claim, thread)) = claim() {
        // The whole record first, which the values only add to: the claim
        // publishes it when dropped.
        let record = Record::init(claim.slot(), Source::Site(site), clock::ticks(), thread);
        for (key, &arg) in args.iter().enumerate() {
            record.push(key, arg);
        }
    }
}

/// Claims a slot of this thread's shard (or, when it is full, of the next
/// shard with room, where the thread then stays) and says which thread
/// this is; `None`, counted as dropped, when every shard is full. The
/// caller stamps the record with its time once the slot is claimed, so
/// that a thread's records are in tick order within a shard.
///
/// The caller must write the whole record with [`Record::init`] before
/// anything that can panic (dropping the claim publishes the slot).
#[inline(never)]
pub(crate) fn claim() -> Option<(Claim<'static, Record>, u32)> {
    let (thread, shard) = thread_and_shard();
    // SAFETY: the caller's contract, above.
    match unsafe { RING[shard % SHARDS].0.try_claim() } {
        Some(claim) => Some((claim, thread)),
        None => claim_elsewhere(shard, thread),
    }
}

/// The full-shard path, out of line.
#[cold]
#[inline(never)]
fn claim_elsewhere(full: usize, thread: u32) -> Option<(Claim<'static, Record>, u32)> {
    for k in 1..SHARDS {
        let shard = (full + k) % SHARDS;
        mark_used(shard);
        // SAFETY: as in `claim`.
        if let Some(claim) = unsafe { RING[shard].0.try_claim() } {
            THREAD.with(|t| t.set((thread, shard as u32)));
            return Some((claim, thread));
        }
    }
    DROPPED.fetch_add(1, Ordering::Relaxed);
    None
}

/// The slow side of [`STATE`]: whether records are still taken (else
/// counted late), with the first anchor taken.
#[cold]
#[inline(never)]
fn open() -> bool {
    if closed() {
        LATE.fetch_add(1, Ordering::Relaxed);
        return false;
    }
    anchor();
    true
}

/// Takes the clock's first anchor if no one has, and says so in [`STATE`].
fn anchor() {
    clock::ensure_first_anchor();
    STATE.fetch_or(ANCHORED, Ordering::Relaxed);
}

pub(crate) fn closed() -> bool {
    STATE.load(Ordering::Relaxed) & CLOSED != 0
}

/// Set when [`constructor`] took the first clock anchor.
static PRE_MAIN: AtomicBool = AtomicBool::new(false);

/// What the constructor of [`embed!`](crate::embed!) runs before `main`:
/// takes the first clock anchor (the earliest point the program itself
/// observes, in the events' clock, and the base that makes converting ticks
/// precise however early the first event comes), numbers the main thread
/// and touches the first [`PRE_MAIN_SLOTS`] slots of the ring, so that the
/// process's first records pay no page fault.
#[doc(hidden)]
pub fn constructor() {
    let first = !clock::first_anchor_taken();
    anchor();
    if first {
        PRE_MAIN.store(true, Ordering::Relaxed);
    }
    let (_, shard) = thread_and_shard();
    RING[shard].0.prefault(PRE_MAIN_SLOTS);
}

/// When the constructor ran before `main`, if it did (the binary uses
/// [`embed!`](crate::embed!) and the platform runs constructors).
pub fn constructor_time() -> Option<SystemTime> {
    PRE_MAIN
        .load(Ordering::Relaxed)
        .then(clock::first_anchor_wall)
        .flatten()
}

/// Touches every page of the ring now, so that no record pays a first-touch
/// page fault later. Optional; costs about one page fault per 4 KiB.
pub fn prefault() {
    for shard in &RING {
        shard.0.prefault(SHARD_CAPACITY);
    }
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
/// in the order of their timestamps: each thread's in the order it recorded
/// them.
pub fn drain() -> Drain {
    let conv = clock::Converter::calibrate();
    let mut records = Vec::new();
    for shard in used_shards() {
        while let Some(record) = shard.0.pop() {
            records.push(record);
        }
    }
    // Stable: a thread's records, in one shard or moving to the next, keep
    // their order even at equal ticks.
    records.sort_by_key(|r| r.ticks);
    let events = records
        .iter()
        .map(|record| Drained {
            time: conv.wall(record.ticks),
            event: record.event(),
        })
        .collect();
    Drain {
        events,
        dropped: DROPPED.load(Ordering::Relaxed),
        max_clock_error_ns: conv.max_error_ns,
        at: Some(conv.now()),
    }
}

/// Stops recording: later [`startup!`](crate::startup!) calls record nothing.
pub fn close() {
    STATE.fetch_or(CLOSED, Ordering::Relaxed);
}

/// Records attempted after [`close`].
pub fn late() -> u64 {
    LATE.load(Ordering::Relaxed)
}

/// How many records wait in the ring right now (a snapshot).
pub fn pending() -> usize {
    used_shards().map(|shard| shard.0.len()).sum()
}

/// The ring's capacity.
pub fn capacity() -> usize {
    CAPACITY
}

/// When the process started, as the operating system says: on Linux from
/// `/proc/self/stat` (the start time in clock ticks since boot, rounded
/// down to a tick, see [`process_start_precision`]) and the boot clock;
/// `None` elsewhere or if unreadable.
pub fn process_start_time() -> Option<SystemTime> {
    imp::process_start_time()
}

/// How coarse [`process_start_time`] is: one clock tick of `/proc` (10 ms
/// on every Linux ABI); `None` where there is no OS start time.
pub fn process_start_precision() -> Option<std::time::Duration> {
    imp::TICK
}

#[cfg(target_os = "linux")]
mod imp {
    use std::time::{Duration, SystemTime};

    /// USER_HZ is 100 on every Linux ABI; sysconf would only confirm it.
    const HZ: u64 = 100;
    pub(super) const TICK: Option<Duration> = Some(Duration::from_nanos(1_000_000_000 / HZ));

    pub(super) fn process_start_time() -> Option<SystemTime> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) may hold spaces and parentheses: the
        // fields after it start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        // Field 22 (starttime) is the 20th after the command name.
        let start_ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
        let since_boot = Duration::from_nanos(start_ticks.checked_mul(1_000_000_000 / HZ)?);
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
    pub(super) const TICK: Option<std::time::Duration> = None;

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
    ($name:literal $(, $($key:ident).+ = $value:expr)* $(,)?) => {{
        static SITE: $crate::startup::Site =
            $crate::startup::Site::new($name, &[$(stringify!($($key).+)),*]);
        $crate::startup::record(&SITE, &[$($crate::startup::Arg::from($value)),*])
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_memory_is_the_real_one() {
        // The module docs state the size of a slot and of the default ring.
        assert_eq!(super::SLOT_BYTES, 256);
        assert_eq!(super::SLOT_BYTES * super::CAPACITY, 131_072);
        assert_eq!((super::SHARDS, super::SHARD_CAPACITY), (8, 64));
        assert_eq!(super::PRE_MAIN_SLOTS, 32);
        assert_eq!(core::mem::align_of_val(&super::RING[0]), 4096);
    }
}
