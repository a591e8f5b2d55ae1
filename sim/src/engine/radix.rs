//! A radix heap of queue keys (Ahuja, Mehlhorn, Orlin and Tarjan 1990): the event queue's
//! layout for large queues (`queue.rs` says when).
//!
//! It fits a simulation because the queue is monotone: nothing is scheduled before the event
//! just peeked (a new event is at `now` or later, with a larger sequence number). Bucket `b`
//! holds the keys whose highest bit that differs from `last` (the earliest key found so far)
//! is bit `b - 1`; finding the next key takes the lowest non-empty bucket, finds its minimum
//! and spreads the rest into strictly lower buckets. Every access is a sequential scan or an
//! append, so a queue of millions of keys runs at memory bandwidth instead of one cache miss
//! per heap level. Emptied buckets keep their capacity (so in steady state nothing is
//! allocated) up to a budget of room for a quarter of the queued keys; past it they are freed
//! (measured on 10^5-node gossip: same speed as keeping all, 2.5 MB less peak memory).

use super::queue::Key;

/// Buckets 1..=128 (bucket 0, the key equal to `last`, is `front`).
const BUCKETS: usize = 128;

/// Room (in keys) that empty buckets may always keep, however few keys are queued.
const MIN_SPARE: usize = 1 << 16;

/// Keys popped in increasing rank order.
pub(super) struct RadixHeap {
    /// The earliest key, once found: the key whose rank is `last`.
    front: Option<Key>,
    /// `buckets[b - 1]` is bucket `b`.
    buckets: Vec<Vec<Key>>,
    /// Bit `b - 1` is set when bucket `b` is not empty.
    occupied: u128,
    /// The rank every bucket is cut against: no key is below it.
    last: u128,
    len: usize,
    /// Capacity, in keys, held by empty buckets.
    spare: usize,
}

impl Default for RadixHeap {
    fn default() -> Self {
        RadixHeap {
            front: None,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            last: 0,
            len: 0,
            spare: 0,
        }
    }
}

impl RadixHeap {
    /// Keys held.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Takes all of `keys` (left empty, with its capacity).
    pub(super) fn fill_from(&mut self, keys: &mut Vec<Key>) {
        debug_assert_eq!(self.len, 0);
        self.last = keys.iter().map(|k| k.rank()).min().unwrap_or(0);
        self.len = keys.len();
        for key in keys.drain(..) {
            self.place(key);
        }
    }

    /// Moves every key into `keys`, in no particular order.
    pub(super) fn drain_into(&mut self, keys: &mut Vec<Key>) {
        keys.extend(self.front.take());
        for bucket in &mut self.buckets {
            keys.append(bucket);
        }
        self.spare = self.buckets.iter().map(Vec::capacity).sum();
        self.occupied = 0;
        self.len = 0;
    }

    /// Adds a key.
    #[inline]
    pub(super) fn push(&mut self, key: Key) {
        if key.rank() < self.last {
            self.rebase(key.rank());
        }
        self.len += 1;
        self.place(key);
    }

    /// Re-files every key around a new, earlier `last`. The engine never needs this (it only
    /// schedules at or after the event it just peeked), but a caller that does keeps a correct
    /// queue, at the price of one pass over it.
    #[cold]
    fn rebase(&mut self, last: u128) {
        let mut keys = Vec::new();
        let len = self.len;
        self.drain_into(&mut keys);
        self.last = last;
        self.len = len;
        for key in keys {
            self.place(key);
        }
    }

    /// Puts a key into the bucket of its highest bit that differs from `last`.
    #[inline(always)]
    fn place(&mut self, key: Key) {
        let diff = key.rank() ^ self.last;
        if diff == 0 {
            self.front = Some(key);
            return;
        }
        let b = (BUCKETS as u32 - diff.leading_zeros()) as usize;
        let bit = 1 << (b - 1);
        if self.occupied & bit == 0 {
            self.spare -= self.buckets[b - 1].capacity();
            self.occupied |= bit;
        }
        crate::memory::reserve(&mut self.buckets[b - 1], "event queue");
        self.buckets[b - 1].push(key);
    }

    /// The earliest key, if any: empties the lowest non-empty bucket into lower ones around
    /// its minimum when needed. A key only ever moves to a lower bucket, so it moves at most
    /// 128 times in its life, and in practice a handful.
    #[inline]
    pub(super) fn peek(&mut self) -> Option<Key> {
        if self.front.is_none() && self.occupied != 0 {
            let i = self.occupied.trailing_zeros() as usize;
            self.occupied &= !(1 << i);
            let mut keys = std::mem::take(&mut self.buckets[i]);
            // The bucket is not empty: its bit was set.
            let min = keys
                .iter()
                .map(|k| k.rank())
                .min()
                .expect("occupied bucket");
            self.last = min;
            for key in keys.drain(..) {
                self.place(key);
            }
            // Give the bucket its capacity back, so that it does not allocate when it fills
            // again; but free it when empty buckets already hold room for a quarter of the
            // keys, which bounds the heap's memory to a few times its keys.
            if self.spare + keys.capacity() <= (self.len / 4).max(MIN_SPARE) {
                self.spare += keys.capacity();
                self.buckets[i] = keys;
            }
        }
        self.front
    }

    /// Removes the earliest key.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<Key> {
        let top = self.peek()?;
        self.front = None;
        self.len -= 1;
        Some(top)
    }
}
