//! Time for the record path: a raw tick counter that costs a few nanoseconds,
//! converted to wall-clock time only when the ring is drained.
//!
//! Ticks come from the CPU's own counter, read in one instruction with no
//! system call, on every operating system:
//!
//! | architecture | counter | rate |
//! |---|---|---|
//! | x86-64, x86 | the time-stamp counter (`rdtsc`), invariant on every CPU of the last decade (`constant_tsc`, `nonstop_tsc`) | the CPU's nominal frequency |
//! | aarch64 | the virtual count register `CNTVCT_EL0`, which Linux, macOS and Windows open to user space | `CNTFRQ_EL0` (24 MHz on Apple silicon, 25 MHz to 1 GHz on servers) |
//! | anything else | nanoseconds of a process-wide [`Instant`] | 1 GHz |
//!
//! The same on Windows as elsewhere: `QueryPerformanceCounter` reads these
//! very counters, behind a call. The rate is never trusted: it is measured
//! between the two anchors below.
//!
//! # Conversion and its error
//!
//! Two *anchors* pair a tick count with both clocks: anchor A when the
//! process registers its record (before `main`) or at the first event, and
//! anchor B at drain. Each anchor reads ticks, the clocks, then ticks again,
//! and keeps the midpoint; half the gap, δ, bounds how far the pair can be
//! off. The tick rate is `(monotonic_B − monotonic_A) / (ticks_B − ticks_A)`
//! — monotonic, so that a wall-clock step between A and B cannot skew it — and
//! an event's wall time is `wall_B − (ticks_B − ticks_e) × rate`. Its error is
//! at most `δ_B + (δ_A + δ_B) × (ticks_B − ticks_e) / (ticks_B − ticks_A)`,
//! i.e. below `δ_B + δ_A + δ_B`: a few tens of nanoseconds here (δ is about
//! 20 ns on this machine), whatever the length of the startup.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// A raw tick count.
#[inline(always)]
pub(crate) fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` exists on every x86-64 CPU and has no preconditions.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(target_arch = "x86")]
    {
        // SAFETY: `rdtsc` exists on every CPU Rust's x86 targets support
        // (Pentium and later) and has no preconditions.
        unsafe { core::arch::x86::_rdtsc() }
    }
    #[cfg(target_arch = "aarch64")]
    {
        let t: u64;
        // SAFETY: reading CNTVCT_EL0 touches no memory; Linux, macOS and
        // Windows all enable its access from user space (CNTKCTL_EL1.EL0VCTEN).
        unsafe {
            core::arch::asm!("mrs {t}, cntvct_el0", t = out(reg) t, options(nomem, nostack, preserves_flags));
        }
        t
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
    {
        base().elapsed().as_nanos() as u64
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
fn base() -> &'static Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now)
}

/// Ticks paired with both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) ticks: u64,
    /// Half the ticks between the two reads around the clocks.
    pub(crate) half_gap: u64,
    pub(crate) mono: Instant,
    pub(crate) wall: SystemTime,
}

impl Anchor {
    /// The tightest of a few readings: a reading interrupted by the
    /// scheduler has a wide gap, and is discarded.
    pub(crate) fn now() -> Anchor {
        (0..7)
            .map(|_| Anchor::read())
            .min_by_key(|a| a.half_gap)
            .unwrap_or_else(Anchor::read)
    }

    fn read() -> Anchor {
        let t1 = ticks();
        let mono = Instant::now();
        let wall = SystemTime::now();
        let t2 = ticks();
        Anchor {
            ticks: t1 + (t2.wrapping_sub(t1)) / 2,
            half_gap: t2.wrapping_sub(t1) / 2,
            mono,
            wall,
        }
    }
}

static FIRST: OnceLock<Anchor> = OnceLock::new();

/// Takes anchor A if nobody has yet. Cheap after the first call.
#[inline]
pub(crate) fn ensure_first_anchor() {
    if FIRST.get().is_none() {
        let _ = FIRST.set(Anchor::now());
    }
}

/// Whether anchor A was taken.
pub(crate) fn first_anchor_taken() -> bool {
    FIRST.get().is_some()
}

/// The wall-clock time of anchor A, if it was taken.
pub(crate) fn first_anchor_wall() -> Option<SystemTime> {
    FIRST.get().map(|a| a.wall)
}

/// Converts ticks to wall-clock time, calibrated between anchor A and `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Converter {
    b: Anchor,
    /// Nanoseconds per tick.
    rate: f64,
    /// The bound on a converted time's error, in nanoseconds, for an event at
    /// anchor A (the worst case).
    pub(crate) max_error_ns: f64,
}

impl Converter {
    pub(crate) fn calibrate() -> Converter {
        ensure_first_anchor();
        let b = Anchor::now();
        let a = *FIRST.get().unwrap_or(&b);
        let ticks = b.ticks.saturating_sub(a.ticks);
        let nanos = b.mono.duration_since(a.mono).as_nanos() as f64;
        // Too short a baseline to measure a rate: the events all happened
        // within it, so any rate near the truth is as good.
        let rate = if ticks < 1_000 || nanos == 0.0 {
            nominal_rate()
        } else {
            nanos / ticks as f64
        };
        let half_gaps = (a.half_gap + b.half_gap) as f64 * rate;
        Converter {
            b,
            rate,
            max_error_ns: b.half_gap as f64 * rate + half_gaps,
        }
    }

    /// The wall-clock time of an event stamped `ticks`.
    pub(crate) fn wall(&self, ticks: u64) -> SystemTime {
        let back = self.b.ticks.saturating_sub(ticks) as f64 * self.rate;
        let ahead = ticks.saturating_sub(self.b.ticks) as f64 * self.rate;
        self.b.wall - Duration::from_nanos(back as u64) + Duration::from_nanos(ahead as u64)
    }

    /// The wall-clock time of the calibration.
    pub(crate) fn now(&self) -> SystemTime {
        self.b.wall
    }
}

/// A rough rate when no baseline exists: on x86, measured over a short busy
/// interval; on aarch64, the counter's frequency register; 1 ns per tick
/// elsewhere.
fn nominal_rate() -> f64 {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        let (t0, m0) = (ticks(), Instant::now());
        while m0.elapsed() < Duration::from_micros(200) {
            core::hint::spin_loop();
        }
        let (t1, m1) = (ticks(), Instant::now());
        m1.duration_since(m0).as_nanos() as f64 / t1.saturating_sub(t0).max(1) as f64
    }
    #[cfg(target_arch = "aarch64")]
    {
        let hz: u64;
        // SAFETY: reading CNTFRQ_EL0 touches no memory and is allowed from
        // user space wherever CNTVCT_EL0 is.
        unsafe {
            core::arch::asm!("mrs {hz}, cntfrq_el0", hz = out(reg) hz, options(nomem, nostack, preserves_flags));
        }
        if hz == 0 {
            1.0
        } else {
            1e9 / hz as f64
        }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
    {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A converted time is as far from the wall clock as the converter says
    /// it can be, at most (plus the sample's own uncertainty), and never more
    /// than a microsecond where that bound is small. On hardware the bound is
    /// a few tens of nanoseconds; under an emulator (qemu-user, where reading
    /// the clocks takes microseconds) it is wider, and says so.
    #[test]
    fn converted_times_stay_within_the_stated_error_bound() {
        ensure_first_anchor();
        let ns_per_tick = nominal_rate();
        let mut samples = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(20) {
            // A sample the scheduler interrupted says nothing: keep only
            // tight ones (the clock read between two tick reads).
            let a = Anchor::read();
            let gap_ns = a.half_gap as f64 * ns_per_tick;
            if gap_ns < 500.0 {
                samples.push((a.ticks, a.wall, gap_ns));
            }
            std::hint::spin_loop();
        }
        assert!(samples.len() > 100, "{} tight samples", samples.len());
        let c = Converter::calibrate();
        assert!(
            c.max_error_ns < 20_000.0,
            "error bound {} ns",
            c.max_error_ns
        );
        for (t, w, gap_ns) in samples.iter().step_by(97) {
            let got = c.wall(*t);
            let diff = match got.duration_since(*w) {
                Ok(d) => d,
                Err(e) => e.duration(),
            };
            let allowed = (c.max_error_ns + gap_ns + 200.0).max(1_000.0);
            assert!(
                (diff.as_nanos() as f64) < allowed,
                "off by {diff:?}, allowed {allowed} ns (bound {} ns)",
                c.max_error_ns
            );
        }
    }
}
