//! The record path allocates nothing: proved with a counting allocator, from
//! the very first record of the process and from a second thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn recording_allocates_nothing_from_the_first_record_on() {
    let long = "a string much longer than the inline capacity of a record";
    let n = allocations_during(|| {
        for i in 0..2_000u64 {
            // The ring fills after its capacity: the drop path is counted too.
            buildtrace::startup!(
                "step",
                index = i,
                text = long,
                ratio = 0.25,
                ok = true,
                extra = 5_u8
            );
        }
    });
    assert_eq!(n, 0, "the main thread's records allocated {n} times");

    let other = std::thread::spawn(|| {
        allocations_during(|| {
            for i in 0..1_000u64 {
                buildtrace::startup!("worker", index = i);
            }
        })
    });
    assert_eq!(other.join().unwrap(), 0, "a new thread's records allocated");

    // The counter does count: the drain allocates its Vec.
    assert!(allocations_during(|| drop(buildtrace::startup::drain())) > 0);
}
