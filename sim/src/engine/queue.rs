//! The event queue: small keys `(time, seq, slot)` ordered exactly by `(time, seq)`, over a
//! slab of payloads.
//!
//! Order is exactly `(time, seq)` (docs/architecture.md, "Time and the event queue"): the sequence number is unique and
//! strictly increasing, so no two keys compare equal and the pop order never depends on the
//! queue's layout. The slot only says where the payload lives.
//!
//! Why this shape: a binary heap of whole events moves every payload (80–110 bytes for gossip)
//! through ~20 levels per pop, with a cache miss per level once the queue holds millions of
//! events. Here only 24-byte keys move; a payload is written once into the slab and read once
//! when it pops. The keys have two layouts, and the queue switches between them by size:
//! - small queues (the common case: a Raft cluster, the engine benchmark) are a 4-ary min-heap,
//!   half the depth of a binary one, that stays in cache. Pop follows the "bottom-up" variant
//!   (Wegener 1993, also what `std::collections::BinaryHeap::pop` does): the hole left at the
//!   root walks down to a leaf along the earliest children, then the last key sifts up from
//!   there — the last key of a heap is usually late, so it rarely climbs;
//! - large queues (gossip on 10^5–10^6 nodes: millions of pending events) are a radix heap
//!   (`radix.rs`), whose sequential scans do not pay a cache miss per heap level.
//!
//! The switch has hysteresis (`TO_RADIX`, `TO_HEAP`), so a queue that hovers around a size
//! does not convert back and forth; a conversion is linear, like a `Vec` doubling. Measured and
//! not kept: a radix heap at every size (the engine benchmark, 1 000 events in flight, fell
//! from ~0.74 to ~0.39 of the plain-heap baseline: each key moves through several buckets), and
//! a 4-ary heap of 16-byte keys (sequence number and slot packed in one word, four children per
//! cache line), no faster than the 24-byte keys.
//!
//! Slots are recycled through a free list (last freed, first reused: that slot is still in
//! cache), so in steady state pushing and popping allocate nothing.
//!
//! In the radix layout the queue also looks ahead: it keeps its next `AHEAD` keys out of the
//! radix heap, in order (`ahead`), prefetches each one's payload as it is taken, and tells the
//! engine the node of the newest one (keys carry their event's node), so the engine prefetches
//! that node's metadata, state and monitor records (`crate::prefetch`). At 10^6 nodes the
//! payload, the node's metadata, its state and the gossip monitor's record are each a cache
//! miss per event; overlapping them with the events before took push-pull gossip on 10^6 nodes
//! from ~37 s to ~25 s of CPU (together with dropping the incarnation read per send,
//! `core.rs`). Small queues do not look ahead (they stay in cache).
//!
//! Measured and not kept: small payloads (the engine benchmark's, 24 bytes) stored whole in a
//! `std` binary heap instead of keys over the slab (a compile-time choice by payload size):
//! no free list and no slab, but the benchmark's ratio did not improve (median of five runs
//! 0.60 against 0.67 with keys over the slab, on a loaded machine): moving 40-byte elements
//! through a binary heap costs what the slab saves.

use super::radix::RadixHeap;
use crate::Time;
use std::collections::VecDeque;

/// A queued key: the ordering pair, where its payload is, and the node the event is for
/// ([`NO_NODE`] for none), so that its node's data can be prefetched before its payload is
/// read (the field fills what was padding: a key is 24 bytes either way).
#[derive(Clone, Copy, Debug)]
pub(super) struct Key {
    pub time: u64,
    pub seq: u64,
    pub slot: u32,
    pub node: u32,
}

/// The `node` of a key whose event is for no node (faults, ticks, workload events).
pub(crate) const NO_NODE: u32 = u32::MAX;

impl Key {
    /// The `(time, seq)` pair as one integer: a single comparison on the hottest path.
    #[inline(always)]
    pub(super) fn rank(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

/// Children per heap node.
const ARITY: usize = 4;
/// A heap that reaches this many keys becomes a radix heap: past a few hundred kilobytes of
/// keys the heap's lower levels stop fitting in cache.
const TO_RADIX: usize = 1 << 16;
/// A radix heap that falls to this many keys becomes a heap again.
const TO_HEAP: usize = 1 << 14;
/// Keys taken early out of the radix heap, in order: how many events ahead the engine hints
/// what the next events will read.
const AHEAD: usize = 4;

/// A priority queue of `T` popped in increasing `(time, seq)` order.
pub(crate) struct EventQueue<T> {
    /// The keys while the queue is small: a 4-ary min-heap.
    heap: Vec<Key>,
    /// The keys while the queue is large (then `heap` is empty).
    radix: RadixHeap,
    /// With the radix heap: its earliest keys, taken out early (sorted, and no later than any
    /// key left in it), whose payloads have been prefetched.
    ahead: VecDeque<Key>,
    in_radix: bool,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            radix: RadixHeap::default(),
            ahead: VecDeque::new(),
            in_radix: false,
            slab: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> EventQueue<T> {
    /// Pending events.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        if self.in_radix {
            self.radix.len() + self.ahead.len()
        } else {
            self.heap.len()
        }
    }

    /// Adds an event for `node` ([`NO_NODE`] for none). `seq` must be unique (the engine's
    /// sequence counter guarantees it).
    #[inline]
    pub(crate) fn push(&mut self, time: Time, seq: u64, node: u32, item: T) {
        let slot = self.store(item);
        let key = Key {
            time: time.0,
            seq,
            slot,
            node,
        };
        if self.in_radix {
            match self.ahead.back() {
                // Earlier than a key already taken out: it joins the lookahead, in order (the
                // radix heap only takes keys from the last one it gave out on).
                Some(back) if key.rank() < back.rank() => {
                    let at = self.ahead.partition_point(|k| k.rank() < key.rank());
                    self.ahead.insert(at, key);
                }
                _ => self.radix.push(key),
            }
        } else {
            crate::memory::reserve(&mut self.heap, "event queue");
            self.heap.push(key);
            self.sift_up(self.heap.len() - 1);
            if self.heap.len() >= TO_RADIX {
                self.radix.fill_from(&mut self.heap);
                self.in_radix = true;
            }
        }
    }

    /// Puts a payload into a free slab slot; returns the slot.
    #[inline]
    fn store(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(s) => {
                debug_assert!(self.slab[s as usize].is_none());
                self.slab[s as usize] = Some(item);
                s
            }
            None => {
                let s = u32::try_from(self.slab.len()).expect("at most 2^32 pending events");
                crate::memory::reserve(&mut self.slab, "event queue");
                self.slab.push(Some(item));
                s
            }
        }
    }

    /// The time of the earliest event.
    #[inline]
    pub(crate) fn peek_time(&mut self) -> Option<Time> {
        if self.in_radix {
            self.fill_ahead();
            self.ahead.front().map(|k| Time(k.time))
        } else {
            self.heap.first().map(|k| Time(k.time))
        }
    }

    /// The node of the latest key taken into the lookahead, [`NO_NODE`] if none (or while the
    /// queue is a small heap, which stays in cache): the engine prefetches that node's data.
    #[inline]
    pub(crate) fn ahead_node(&self) -> u32 {
        self.ahead.back().map_or(NO_NODE, |k| k.node)
    }

    /// Tops the lookahead up from the radix heap, prefetching each payload it takes.
    #[inline]
    fn fill_ahead(&mut self) {
        while self.ahead.len() < AHEAD {
            let Some(key) = self.radix.pop() else { break };
            crate::prefetch::prefetch(&self.slab[key.slot as usize]);
            self.ahead.push_back(key);
        }
    }

    /// Removes the earliest event: `(time, seq, payload)`.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(Time, u64, T)> {
        let top = if self.in_radix {
            self.fill_ahead();
            self.ahead.pop_front()?
        } else {
            self.heap_pop()?
        };
        let item = self.slab[top.slot as usize]
            .take()
            .expect("a queued key points at a filled slot");
        self.free.push(top.slot);
        if self.in_radix && self.radix.len() + self.ahead.len() <= TO_HEAP {
            self.switch_to_heap();
        }
        Some((Time(top.time), top.seq, item))
    }

    /// Moves the keys from the radix heap back into the 4-ary heap.
    #[cold]
    fn switch_to_heap(&mut self) {
        self.heap.extend(self.ahead.drain(..));
        self.radix.drain_into(&mut self.heap);
        self.in_radix = false;
        for i in 1..self.heap.len() {
            self.sift_up(i);
        }
    }

    fn heap_pop(&mut self) -> Option<Key> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last);
        }
        let top = self.heap[0];
        self.fill_root_with(last);
        Some(top)
    }

    /// Moves the key at `pos` up until its parent is earlier.
    #[inline]
    fn sift_up(&mut self, mut pos: usize) {
        let key = self.heap[pos];
        let rank = key.rank();
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            if self.heap[parent].rank() <= rank {
                break;
            }
            self.heap[pos] = self.heap[parent];
            pos = parent;
        }
        self.heap[pos] = key;
    }

    /// After the root was taken: walks the hole down to a leaf along the earliest children,
    /// then puts `last` there and sifts it up (bottom-up pop; see the module docs).
    #[inline]
    fn fill_root_with(&mut self, last: Key) {
        let len = self.heap.len();
        let mut hole = 0;
        loop {
            let first = ARITY * hole + 1;
            if first >= len {
                break;
            }
            let best = if first + ARITY <= len {
                self.earliest_of_four(first)
            } else {
                let mut best = first;
                for c in first + 1..len {
                    if self.heap[c].rank() < self.heap[best].rank() {
                        best = c;
                    }
                }
                best
            };
            self.heap[hole] = self.heap[best];
            hole = best;
        }
        self.heap[hole] = last;
        self.sift_up(hole);
    }

    /// The index of the earliest of the four keys from `first`: a two-round tournament.
    #[inline(always)]
    fn earliest_of_four(&self, first: usize) -> usize {
        let four = &self.heap[first..first + ARITY];
        let (r0, r1, r2, r3) = (
            four[0].rank(),
            four[1].rank(),
            four[2].rank(),
            four[3].rank(),
        );
        let (a, ra) = if r1 < r0 { (1, r1) } else { (0, r0) };
        let (b, rb) = if r3 < r2 { (3, r3) } else { (2, r2) };
        first + if rb < ra { b } else { a }
    }
}

#[cfg(test)]
mod tests {
    use super::{EventQueue, NO_NODE};
    use crate::Time;
    use crate::rng::{self, Purpose, uniform_u64};
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Runs phases of random pushes and pops against a dumb reference (`BinaryHeap` of
    /// `Reverse((time, seq))`), peeking before every step as the engine does; each phase is
    /// `(steps, percent of pushes)`. Returns the largest length seen.
    fn check_against_reference(seed: u64, spread: u64, phases: &[(usize, u64)]) -> usize {
        let payload = |s: u64| s * 7;
        let mut r = rng::stream(seed, Purpose::Workload);
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let (mut seq, mut now, mut longest) = (0u64, 0u64, 0);
        for &(steps, pushes) in phases {
            for _ in 0..steps {
                assert_eq!(
                    q.peek_time().map(|t| t.0),
                    reference.peek().map(|Reverse((t, _))| *t)
                );
                if uniform_u64(&mut r, 0, 99) < pushes {
                    // `now` is the last popped time, so a push can go before the key just
                    // peeked: the queue must stay exact then too.
                    let t = now + uniform_u64(&mut r, 0, spread);
                    q.push(Time(t), seq, NO_NODE, payload(seq));
                    reference.push(Reverse((t, seq)));
                    seq += 1;
                } else {
                    let got = q.pop().map(|(t, s, p)| (t.0, s, p));
                    let want = reference.pop().map(|Reverse((t, s))| (t, s, payload(s)));
                    assert_eq!(got, want, "seed {seed}");
                    if let Some((t, _, _)) = got {
                        now = t;
                    }
                }
                assert_eq!(q.len(), reference.len());
                longest = longest.max(q.len());
            }
        }
        while let Some(Reverse((t, s))) = reference.pop() {
            assert_eq!(
                q.pop().map(|(t, s, p)| (t.0, s, p)),
                Some((t, s, payload(s)))
            );
        }
        assert!(q.pop().is_none());
        longest
    }

    /// Small queues (the 4-ary heap), with many equal times, which only the sequence number
    /// may break.
    #[test]
    fn a_small_queue_pops_in_time_then_sequence_order() {
        for seed in 0..20 {
            // Small time ranges force ties.
            let spread = [3, 50, 1_000_000][seed as usize % 3];
            check_against_reference(seed, spread, &[(5_000, 55)]);
        }
    }

    /// A queue that grows into the radix heap, shrinks back into the 4-ary heap and grows
    /// again pops in the same order as the reference throughout.
    #[test]
    fn a_queue_that_changes_layout_pops_in_time_then_sequence_order() {
        for (seed, spread) in [(1, 40), (2, 5_000_000_000)] {
            let phases = [(150_000, 95), (100_000, 50), (150_000, 10), (150_000, 90)];
            let longest = check_against_reference(seed, spread, &phases);
            assert!(longest > super::TO_RADIX, "{longest}");
        }
    }

    /// Slots are reused: a queue that never holds more than `k` events never has more than `k`
    /// slots, so steady-state pushes do not grow (or allocate).
    #[test]
    fn slots_are_recycled() {
        let mut q = EventQueue::default();
        for s in 0..8u64 {
            q.push(Time(s), s, NO_NODE, ());
        }
        for s in 8..10_000u64 {
            q.pop().unwrap();
            q.push(Time(s), s, NO_NODE, ());
        }
        assert_eq!(q.slab.len(), 8);
        assert_eq!(q.len(), 8);
    }
}
