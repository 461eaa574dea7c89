//! Many threads at once through the sharded ring: every record is either
//! kept or counted, the ring fills to its capacity exactly, and each
//! thread's records come out in the order it made them.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

#[test]
fn concurrent_threads_fill_the_ring_exactly_and_keep_their_order() {
    let capacity = buildtrace::startup::capacity();
    // More threads than shards, and more records than the ring holds.
    let threads = buildtrace::startup::SHARDS as u64 + 4;
    let per_thread = (capacity as u64 * 2) / threads + 7;
    let start = Arc::new(Barrier::new(threads as usize));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for seq in 0..per_thread {
                    buildtrace::startup!("stress", producer = t, seq = seq);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }

    let drain = buildtrace::startup::drain();
    let made = threads * per_thread;
    assert_eq!(drain.events.len(), capacity, "the ring holds its capacity");
    assert_eq!(
        drain.events.len() as u64 + drain.dropped,
        made,
        "kept {} + dropped {} != made {made}",
        drain.events.len(),
        drain.dropped
    );

    // Per producer: strictly increasing sequence numbers, each from the
    // same recording thread, in timestamp order.
    let mut last: BTreeMap<u64, (u64, u32)> = BTreeMap::new();
    let mut previous_time = None;
    for d in &drain.events {
        let attr = |k: &str| {
            d.event
                .attrs()
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string().parse::<u64>().unwrap())
                .unwrap()
        };
        let (producer, seq) = (attr("producer"), attr("seq"));
        if let Some((before, thread)) = last.insert(producer, (seq, d.event.thread)) {
            assert!(seq > before, "producer {producer}: {seq} after {before}");
            assert_eq!(thread, d.event.thread, "producer {producer} changed thread");
        }
        if let Some(p) = previous_time {
            assert!(d.time >= p, "drained out of time order");
        }
        previous_time = Some(d.time);
    }
    assert_eq!(buildtrace::startup::pending(), 0);

    // Emptied, the ring takes records again, from every thread.
    buildtrace::startup!("after", n = 1_u64);
    std::thread::spawn(|| buildtrace::startup!("after", n = 2_u64))
        .join()
        .unwrap();
    let again = buildtrace::startup::drain();
    assert_eq!(again.events.len(), 2);
    assert_eq!(again.dropped, drain.dropped, "no new drops");
}
