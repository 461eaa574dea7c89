//! A fixed-capacity, lock-free, multi-producer queue that keeps the *earliest*
//! values: when it is full, a push fails (and is counted) instead of
//! overwriting. All of buildtrace's `unsafe` for concurrency lives here.
//!
//! The algorithm is Dmitry Vyukov's bounded queue, as in crossbeam's
//! `ArrayQueue`: every slot carries a *stamp* saying whose turn it is. A
//! position is `lap | index`, where `index < N` and `lap` is a multiple of
//! `ONE_LAP`, the next power of two above `N`; positions wrap around `usize`
//! with wrapping arithmetic, so the queue never wears out.
//!
//! - A slot at `index` is free for the producer at position `p` when its stamp
//!   is `p`; the producer claims `p` with a CAS on `head`, writes the value,
//!   then publishes it by storing stamp `p + 1` (Release).
//! - It is full for the consumer at position `t` when its stamp is `t + 1`;
//!   the consumer claims `t` with a CAS on `tail`, reads the value, then frees
//!   the slot for the next lap by storing stamp `t + ONE_LAP` (Release).
//!
//! Stamps are stored *minus their index* so that a new queue is all zeros:
//! a `static` queue then lives in `.bss`, costs nothing in the binary, and
//! its pages are only touched when first written (see
//! [`Ring::prefault`]).
//!
//! The record path (`try_claim`, then the claimed slot written in place and
//! published when the claim drops) takes no lock, allocates nothing, makes
//! no system call and never waits for another thread: it retries only
//! when another producer won the same position, and a slot that is not free
//! (full, or mid-copy by a thread of the previous lap) refuses the value,
//! for the caller to count as dropped or place elsewhere (`push` counts it
//! here). The value is written straight into its slot. The drain (`pop`)
//! waits for a producer that claimed a slot to finish writing it.

use crate::sync::{fence, spin_loop, AtomicU64, AtomicUsize, Ordering, UnsafeCell};
use core::mem::MaybeUninit;

/// Pads to two cache lines so producers on `head` and the consumer on `tail`
/// do not false-share (x86-64's spatial prefetcher pulls lines in pairs).
#[repr(align(128))]
#[derive(Debug)]
struct Padded<T>(T);

/// Aligned to a cache line, so that two producers never write the same line
/// (a slot of a power-of-two size, a multiple of 64 bytes, spans whole lines).
#[repr(align(64))]
struct Slot<T> {
    /// The stamp minus the slot's index (see the module docs).
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Bytes of one slot holding a `T`: its stamp and value, cache-line aligned.
pub(crate) const fn slot_size<T>() -> usize {
    core::mem::size_of::<Slot<T>>()
}

/// The queue. `N` is its capacity, at least 1.
pub(crate) struct Ring<T, const N: usize> {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    dropped: AtomicU64,
    slots: [Slot<T>; N],
}

/// A slot a producer won: it alone writes it, and dropping the claim
/// publishes it to the consumer (which waits at that slot until then).
pub(crate) struct Claim<'r, T> {
    slot: &'r Slot<T>,
    /// The stamp that publishes the slot (stored minus its index).
    stamp: usize,
}

impl<T> Claim<'_, T> {
    /// The claimed slot, to write the value straight into.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn slot(&mut self) -> &mut MaybeUninit<T> {
        // SAFETY: the claim is this producer's alone (see `try_claim`), and
        // `&mut self` makes this the only reference to the slot's value.
        unsafe { &mut *self.slot.value.get() }
    }

    /// Writes the value in place with `init`, then publishes it.
    #[cfg(any(test, loom))]
    #[inline]
    pub(crate) fn fill(self, init: impl FnOnce(&mut MaybeUninit<T>)) {
        // SAFETY: as in `slot`.
        self.slot.value.with_mut(|v| init(unsafe { &mut *v }));
    }
}

impl<T> Drop for Claim<'_, T> {
    /// Publishes the slot: from here on the consumer may read it.
    #[inline(always)]
    fn drop(&mut self) {
        self.slot.stamp.store(self.stamp, Ordering::Release);
    }
}

// SAFETY: values are moved in by one producer and out by one consumer, with
// the stamp protocol ordering the two (a Release store of the stamp after
// each access, an Acquire load before it); `T: Send` is all that requires.
unsafe impl<T: Send, const N: usize> Sync for Ring<T, N> {}
// SAFETY: as above; the ring owns its values.
unsafe impl<T: Send, const N: usize> Send for Ring<T, N> {}

impl<T, const N: usize> core::fmt::Debug for Ring<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &N)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T: Copy, const N: usize> Ring<T, N> {
    const ONE_LAP: usize = {
        assert!(N > 0, "a ring needs at least one slot");
        (N + 1).next_power_of_two()
    };

    /// An empty ring, all zeros.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        let _ = Self::ONE_LAP; // evaluate the capacity check at compile time
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            dropped: AtomicU64::new(0),
            slots: [const {
                Slot {
                    stamp: AtomicUsize::new(0),
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                }
            }; N],
        }
    }

    /// An empty ring whose positions start at `lap` (a multiple of the lap
    /// size), for testing wraparound of the position counters.
    #[cfg(any(test, loom))]
    pub(crate) fn starting_at(lap: usize) -> Self {
        assert_eq!(lap % Self::ONE_LAP, 0);
        Ring {
            head: Padded(AtomicUsize::new(lap)),
            tail: Padded(AtomicUsize::new(lap)),
            dropped: AtomicU64::new(0),
            slots: core::array::from_fn(|_| Slot {
                stamp: AtomicUsize::new(lap),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }
    }

    /// The lap closest to `usize::MAX`, to start a ring that wraps soon.
    #[cfg(any(test, loom))]
    pub(crate) fn last_lap() -> usize {
        usize::MAX - (Self::ONE_LAP - 1)
    }

    fn split(&self, pos: usize) -> (usize, usize) {
        (pos & (Self::ONE_LAP - 1), pos & !(Self::ONE_LAP - 1))
    }

    fn next(&self, pos: usize) -> usize {
        let (index, lap) = self.split(pos);
        if index + 1 < N {
            pos + 1
        } else {
            lap.wrapping_add(Self::ONE_LAP)
        }
    }

    /// Appends `value`, or counts it as dropped when the ring is full.
    /// Returns whether it was kept.
    #[cfg(any(test, loom))]
    #[inline]
    pub(crate) fn push(&self, value: T) -> bool {
        self.push_with(|| value)
    }

    /// Appends the value `make` returns; `make` is not called when the ring
    /// is full.
    #[cfg(any(test, loom))]
    #[inline]
    pub(crate) fn push_with(&self, make: impl FnOnce() -> T) -> bool {
        // SAFETY: `init` writes a whole value.
        unsafe {
            self.push_in_place(|slot| {
                slot.write(make());
            })
        }
    }

    /// Appends a value that `init` writes straight into its slot (no copy of
    /// the whole value), or counts it as dropped when the ring is full;
    /// `init` is not called then.
    ///
    /// # Safety
    /// `init` must leave the slot holding a valid `T`, and not panic.
    #[cfg(any(test, loom))]
    #[inline]
    pub(crate) unsafe fn push_in_place(&self, init: impl FnOnce(&mut MaybeUninit<T>)) -> bool {
        // SAFETY: the caller's contract, forwarded.
        let kept = unsafe { self.try_push_in_place(init) };
        if !kept {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        kept
    }

    /// Like [`Ring::push_in_place`], but a value that does not fit is left to
    /// the caller to count (it may find room elsewhere).
    ///
    /// # Safety
    /// `init` must leave the slot holding a valid `T`, and not panic.
    #[cfg(any(test, loom))]
    #[inline]
    pub(crate) unsafe fn try_push_in_place(&self, init: impl FnOnce(&mut MaybeUninit<T>)) -> bool {
        // SAFETY: the caller's contract (`init` writes a whole value and
        // does not panic), forwarded.
        let Some(claim) = (unsafe { self.try_claim() }) else {
            return false;
        };
        claim.fill(init);
        true
    }

    /// Claims the next free slot for this producer, or `None` when the ring
    /// is full (nothing counted: the caller may find room elsewhere). The
    /// consumer waits at that slot until the claim is dropped.
    ///
    /// # Safety
    /// The slot must hold a valid `T` when the claim is dropped, also when
    /// the producer unwinds: write it whole before anything that can panic.
    #[inline]
    pub(crate) unsafe fn try_claim(&self) -> Option<Claim<'_, T>> {
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let (index, _) = self.split(head);
            let slot = &self.slots[index];
            let stamp = slot.stamp.load(Ordering::Acquire).wrapping_add(index);
            if stamp == head {
                match self.head.0.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    // Winning the CAS for position `head` while the slot's
                    // stamp was `head` makes this producer the only accessor
                    // of the slot until it publishes the next stamp.
                    Ok(_) => {
                        return Some(Claim {
                            slot,
                            stamp: head.wrapping_add(1).wrapping_sub(index),
                        })
                    }
                    Err(current) => head = current,
                }
            } else {
                // The slot is not free for `head`: it still holds last lap's
                // value, or a producer of last lap or the consumer is in the
                // middle of it. Unless `head` moved meanwhile (then retry),
                // the ring is full at this instant: say so rather than wait
                // for another thread.
                fence(Ordering::SeqCst);
                let current = self.head.0.load(Ordering::Relaxed);
                if current == head {
                    return None;
                }
                spin_loop();
                head = current;
            }
        }
    }

    /// Removes the oldest value, or `None` when the ring is empty. A value
    /// being written by a producer that already claimed its slot is waited for.
    pub(crate) fn pop(&self) -> Option<T> {
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            let (index, _) = self.split(tail);
            let slot = &self.slots[index];
            let stamp = slot.stamp.load(Ordering::Acquire).wrapping_add(index);
            if stamp == tail.wrapping_add(1) {
                match self.tail.0.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the stamp `tail + 1` (read with Acquire) says a
                        // producer wrote this slot and published it; winning the
                        // CAS makes this consumer its only reader this lap.
                        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
                        slot.stamp.store(
                            tail.wrapping_add(Self::ONE_LAP).wrapping_sub(index),
                            Ordering::Release,
                        );
                        return Some(value);
                    }
                    Err(current) => tail = current,
                }
            } else if stamp == tail {
                fence(Ordering::SeqCst);
                let head = self.head.0.load(Ordering::Relaxed);
                if head == tail {
                    return None;
                }
                // Claimed by a producer still writing it.
                spin_loop();
                tail = self.tail.0.load(Ordering::Relaxed);
            } else {
                spin_loop();
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// How many values wait in the ring (a snapshot: racing pushes and pops
    /// may change it at once).
    #[cfg(not(loom))]
    pub(crate) fn len(&self) -> usize {
        let (tail, head) = (
            self.tail.0.load(Ordering::SeqCst),
            self.head.0.load(Ordering::SeqCst),
        );
        let (ti, tl) = self.split(tail);
        let (hi, hl) = self.split(head);
        if hl == tl {
            hi.saturating_sub(ti)
        } else {
            (N - ti + hi).min(N)
        }
    }

    /// How many pushes failed because the ring was full, since it was made.
    #[cfg(any(test, loom))]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Touches the pages of the positions and of the first `n` slots, so that
    /// no later push into them pays a first-touch page fault. Writes nothing a reader can see:
    /// each stamp is rewritten with the value it holds, by a CAS that fails
    /// harmlessly if a producer changed it meanwhile.
    #[cfg(not(loom))]
    pub(crate) fn prefault(&self, n: usize) {
        for counter in [&self.head.0, &self.tail.0] {
            let v = counter.load(Ordering::Relaxed);
            let _ = counter.compare_exchange(v, v, Ordering::Relaxed, Ordering::Relaxed);
        }
        for slot in self.slots.iter().take(n) {
            let s = slot.stamp.load(Ordering::Relaxed);
            let _ = slot
                .stamp
                .compare_exchange(s, s, Ordering::Relaxed, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_earliest_values_and_counts_the_rest() {
        let r: Ring<u32, 3> = Ring::new();
        assert!((0..5)
            .map(|i| r.push(i))
            .eq([true, true, true, false, false]));
        assert_eq!(r.dropped(), 2);
        assert_eq!(
            core::iter::from_fn(|| r.pop()).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(r.push(9));
        assert_eq!(r.pop(), Some(9));
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn positions_wrap_around_usize() {
        let r: Ring<u64, 3> = Ring::starting_at(Ring::<u64, 3>::last_lap());
        for round in 0..10u64 {
            for i in 0..3 {
                assert!(r.push(round * 10 + i));
            }
            assert!(!r.push(99));
            for i in 0..3 {
                assert_eq!(r.pop(), Some(round * 10 + i));
            }
            assert_eq!(r.pop(), None);
        }
        assert_eq!(r.dropped(), 10);
        assert!(
            r.head.0.load(Ordering::Relaxed) < 1000,
            "positions did not wrap"
        );
    }

    #[test]
    fn a_static_ring_is_zero_initialised() {
        static R: Ring<[u8; 40], 64> = Ring::new();
        R.prefault(64);
        assert!(R.push([7; 40]));
        assert_eq!(R.pop(), Some([7; 40]));
    }
}

#[cfg(all(test, not(loom)))]
mod stress {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// A record a torn write would betray: every word derives from the
    /// producer and sequence number.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Rec {
        producer: u64,
        seq: u64,
        check: u64,
        pad: [u64; 5],
    }

    impl Rec {
        fn new(producer: u64, seq: u64) -> Rec {
            let check = producer.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seq.rotate_left(17);
            Rec {
                producer,
                seq,
                check,
                pad: [check ^ seq; 5],
            }
        }
        fn intact(&self) -> bool {
            *self == Rec::new(self.producer, self.seq)
        }
    }

    fn run<const C: usize>(producers: u64, per_producer: u64) {
        let ring: Arc<Ring<Rec, C>> = Arc::new(Ring::new());
        let done = Arc::new(AtomicBool::new(false));
        let drainer = {
            let (ring, done) = (ring.clone(), done.clone());
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let finished = done.load(Ordering::Acquire);
                    while let Some(r) = ring.pop() {
                        got.push(r);
                    }
                    if finished {
                        return got;
                    }
                    std::thread::yield_now();
                }
            })
        };
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    (0..per_producer)
                        .filter(|&s| ring.push(Rec::new(p, s)))
                        .count() as u64
                })
            })
            .collect();
        let kept: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        done.store(true, Ordering::Release);
        let got = drainer.join().unwrap();

        let produced = producers * per_producer;
        assert_eq!(got.len() as u64, kept);
        assert_eq!(
            got.len() as u64 + ring.dropped(),
            produced,
            "drained + dropped != produced"
        );
        assert!(got.iter().all(Rec::intact), "a torn record");
        let mut last = vec![None::<u64>; producers as usize];
        for r in &got {
            let prev = &mut last[r.producer as usize];
            assert!(
                prev.is_none_or(|p| p < r.seq),
                "producer {} out of order",
                r.producer
            );
            *prev = Some(r.seq);
        }
    }

    #[test]
    fn exact_accounting_no_torn_records_per_producer_order() {
        // 1 + 2 + 4 + 8 = 15 producers × 80 000 = 1.2 million pushes, into
        // rings small enough to fill, wrap and drop all the time. Miri, which
        // checks every access for undefined behaviour and data races, runs
        // the same schedule of producers on fewer pushes each.
        let scale = if cfg!(miri) { 400 } else { 1 };
        for p in [1, 2, 4, 8] {
            run::<64>(p, 80_000 / scale);
        }
        run::<7>(8, 20_000 / scale);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn model(f: impl Fn() + Send + Sync + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(
            std::env::var("LOOM_MAX_PREEMPTIONS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
        );
        builder.check(f);
    }

    /// Checks what the drainer got: each producer's values in order, no
    /// value twice, and drained + dropped == produced.
    fn check(got: &[(u8, u8)], dropped: u64, produced: u64) {
        assert_eq!(got.len() as u64 + dropped, produced);
        for p in 0..3u8 {
            let seqs: Vec<u8> = got.iter().filter(|r| r.0 == p).map(|r| r.1).collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "producer {p}: {seqs:?}"
            );
        }
    }

    /// `producers` threads, producer `p` pushing `(p, 0)`, …, `(p, pushes - 1)`.
    fn spawn_producers<const N: usize>(
        ring: &Arc<Ring<(u8, u8), N>>,
        producers: u8,
        pushes: u8,
    ) -> Vec<thread::JoinHandle<()>> {
        (0..producers)
            .map(|p| {
                let ring = ring.clone();
                thread::spawn(move || {
                    for i in 0..pushes {
                        ring.push((p, i));
                    }
                })
            })
            .collect()
    }

    /// Takes one value if there is one, lets the producers finish, drains the
    /// rest: a drainer running concurrently with the producers.
    fn drain_concurrently<const N: usize>(
        ring: &Ring<(u8, u8), N>,
        producers: Vec<thread::JoinHandle<()>>,
    ) -> Vec<(u8, u8)> {
        let mut got: Vec<(u8, u8)> = ring.pop().into_iter().collect();
        for h in producers {
            h.join().unwrap();
        }
        got.extend(std::iter::from_fn(|| ring.pop()));
        got
    }

    #[test]
    fn a_drainer_waiting_for_a_value_reads_it_whole() {
        model(|| {
            let ring: Arc<Ring<(u8, u8), 2>> = Arc::new(Ring::starting_at(0));
            let producer = {
                let ring = ring.clone();
                thread::spawn(move || {
                    ring.push((0, 7));
                })
            };
            loop {
                if let Some(r) = ring.pop() {
                    assert_eq!(r, (0, 7));
                    break;
                }
                thread::yield_now();
            }
            producer.join().unwrap();
        });
    }

    #[test]
    fn two_producers_and_a_concurrent_drainer() {
        model(|| {
            let ring: Arc<Ring<(u8, u8), 2>> = Arc::new(Ring::starting_at(0));
            let producers = spawn_producers(&ring, 2, 2);
            let got = drain_concurrently(&ring, producers);
            check(&got, ring.dropped(), 4);
        });
    }

    #[test]
    fn three_producers_into_a_full_ring() {
        model(|| {
            let ring: Arc<Ring<(u8, u8), 1>> = Arc::new(Ring::starting_at(0));
            for h in spawn_producers(&ring, 3, 1) {
                h.join().unwrap();
            }
            let got: Vec<_> = std::iter::from_fn(|| ring.pop()).collect();
            // The earliest push won the only slot; the others are counted.
            assert_eq!(got.len(), 1);
            assert_eq!(ring.dropped(), 2);
            check(&got, ring.dropped(), 3);
        });
    }

    #[test]
    fn three_producers_and_a_drainer_on_a_tiny_ring() {
        model(|| {
            let ring: Arc<Ring<(u8, u8), 1>> = Arc::new(Ring::starting_at(0));
            let producers = spawn_producers(&ring, 3, 1);
            let got = drain_concurrently(&ring, producers);
            check(&got, ring.dropped(), 3);
        });
    }

    #[test]
    fn positions_wrap_around_usize_under_concurrency() {
        model(|| {
            let start = Ring::<(u8, u8), 2>::last_lap();
            let ring: Arc<Ring<(u8, u8), 2>> = Arc::new(Ring::starting_at(start));
            // Fill the last lap so the next pushes wrap to position 0.
            ring.push((2, 0));
            ring.push((2, 1));
            assert_eq!(ring.pop(), Some((2, 0)));
            assert_eq!(ring.pop(), Some((2, 1)));
            let producers = spawn_producers(&ring, 1, 3);
            let got = drain_concurrently(&ring, producers);
            check(&got, ring.dropped(), 3);
        });
    }
}
