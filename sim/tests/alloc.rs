//! The engine allocates nothing per delivered message: after warm-up, 100 000 more delivered
//! messages cost far fewer than 100 000 heap allocations.
//!
//! A counting global allocator counts every allocation in this test binary, so this file holds
//! a single test (tests in one binary run on parallel threads and would count each other's).

use sim::Simulation;
use sim::bench::{Relay, relay_config};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs the relay benchmark for `events` events; returns (allocations, delivered messages).
fn run(events: u64, record_trace: bool) -> (u64, u64) {
    let before = ALLOCATIONS.load(Relaxed);
    let mut cfg = relay_config(events, 7);
    cfg.record_trace = record_trace;
    let mut sim = Simulation::<Relay>::new(cfg, ());
    sim.run();
    let delivered = sim
        .view()
        .live_nodes()
        .map(|(_, n): (_, &Relay)| n.delivered)
        .sum();
    (ALLOCATIONS.load(Relaxed) - before, delivered)
}

#[test]
fn delivered_messages_do_not_allocate() {
    // Two runs that differ only in length: setup, warm-up (queue growth) and the report cost
    // the same in both, so the difference is the cost of the extra events.
    let (short_allocs, short_delivered) = run(50_000, false);
    let (long_allocs, long_delivered) = run(150_000, false);
    let extra_delivered = long_delivered - short_delivered;
    let extra_allocs = long_allocs.saturating_sub(short_allocs);
    println!(
        "allocations: {short_allocs} for {short_delivered} delivered, {long_allocs} for \
         {long_delivered}; {extra_allocs} for {extra_delivered} more deliveries"
    );
    assert!(extra_delivered > 90_000, "{extra_delivered}");
    // Far fewer than one per message: allow one per thousand.
    assert!(
        extra_allocs <= extra_delivered / 1000,
        "{extra_allocs} allocations for {extra_delivered} more delivered messages"
    );
    // The control: the counter sees allocations made in this binary (so the assertion above
    // can fail): one box per delivered message counts at least that many.
    let before = ALLOCATIONS.load(Relaxed);
    let boxes: Vec<Box<u64>> = (0..extra_delivered).map(Box::new).collect();
    let counted = ALLOCATIONS.load(Relaxed) - before;
    assert!(
        counted >= boxes.len() as u64,
        "the counting allocator missed allocations: {counted} for {}",
        boxes.len()
    );
}
