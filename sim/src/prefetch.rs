//! Cache hints: ask the CPU to start loading memory that an event a few steps ahead will read.
//!
//! At 10^6 nodes every event touches a few lines nothing else touched recently — its payload
//! in the queue's slab, its node's metadata and state, a monitor's per-node record — and each
//! is a cache miss the run loop would otherwise wait for in turn. The queue knows the next
//! events a few steps early (`engine/queue.rs`, the lookahead), so the engine hints their lines
//! here and the loads overlap with the work of the events before them.
//!
//! A hint changes no value and no order: results, trace hashes and determinism are exactly as
//! without it. On targets without a prefetch instruction available here it does nothing.

/// Hints that `*r` will be read soon: the cache lines of its first and last byte.
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let first = (r as *const T).cast::<i8>();
        let last = first.wrapping_add(std::mem::size_of::<T>().saturating_sub(1));
        // SAFETY: a prefetch is a hint: it never faults, never writes and never makes a later
        // read see anything else; `r` is a live reference in any case. SSE is part of every
        // x86_64 target.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(first);
            if std::mem::size_of::<T>() > 1 {
                _mm_prefetch::<_MM_HINT_T0>(last);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}
