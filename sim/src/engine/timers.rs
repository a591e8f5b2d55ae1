//! The set of live timers: ids of timers that are pending and not cancelled.
//!
//! A plain hash set of a million timers (gossip on 10^6 nodes keeps one periodic timer per
//! node) costs a cache miss on every `set_timer` and every timer event. Timer ids are dense and
//! handed out in increasing order (a counter shared by every node of a run), and most timers
//! are short-lived: so the recent ones live in a bitmap over a sliding window of ids (a million
//! timers spread over three million events fit in ~400 KB), and the few that outlive the window
//! move to a hash set (used for lookups only, never iterated: determinism is unaffected).
//!
//! It behaves exactly like a set of `u64`: `insert`, `remove`, `contains`.

use rustc_hash::FxHashSet;
use std::collections::VecDeque;

/// Bits per word of the window.
const WORD: u64 = 64;
/// Words the window may always hold, however few timers are live.
const WINDOW_MIN_WORDS: usize = 1 << 12;

/// A set of timer ids.
#[derive(Default)]
pub(crate) struct LiveTimers {
    /// The id of the first bit of `window` (a multiple of 64).
    base: u64,
    /// Bit `i` of word `w` is set when timer `base + 64 w + i` is live.
    window: VecDeque<u64>,
    /// Live timers below `base`.
    old: FxHashSet<u64>,
    /// Live timers in `window`.
    in_window: usize,
}

impl LiveTimers {
    /// Adds a timer. Fastest when `id` is the largest so far (a fresh id).
    pub(crate) fn insert(&mut self, id: u64) {
        if id < self.base {
            self.old.insert(id);
            return;
        }
        if self.window.is_empty() {
            self.base = id - id % WORD;
        }
        let w = ((id - self.base) / WORD) as usize;
        if w >= self.window.len() {
            self.window.resize(w + 1, 0);
        }
        let bit = 1 << ((id - self.base) % WORD);
        if self.window[w] & bit == 0 {
            self.window[w] |= bit;
            self.in_window += 1;
        }
        self.trim();
    }

    /// Removes a timer; `false` if it was not live.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        if id < self.base {
            return self.old.remove(&id);
        }
        let w = ((id - self.base) / WORD) as usize;
        let bit = 1 << ((id - self.base) % WORD);
        match self.window.get_mut(w) {
            Some(word) if *word & bit != 0 => {
                *word &= !bit;
                self.in_window -= 1;
                true
            }
            _ => false,
        }
    }

    /// Whether a timer is live.
    #[inline]
    pub(crate) fn contains(&self, id: u64) -> bool {
        if id < self.base {
            return self.old.contains(&id);
        }
        let w = ((id - self.base) / WORD) as usize;
        self.window
            .get(w)
            .is_some_and(|word| word & (1 << ((id - self.base) % WORD)) != 0)
    }

    /// Slides the window forward: drops empty words at its front, and when the window is
    /// sparse (fewer than one live timer per 8 words' worth of ids) moves the oldest word's
    /// timers to `old`. This bounds the window to about one byte per live timer.
    fn trim(&mut self) {
        let limit = (self.in_window / 8).max(WINDOW_MIN_WORDS);
        while let Some(&front) = self.window.front() {
            if front != 0 && self.window.len() <= limit {
                break;
            }
            let mut bits = front;
            while bits != 0 {
                let id = self.base + u64::from(bits.trailing_zeros());
                self.old.insert(id);
                self.in_window -= 1;
                bits &= bits - 1;
            }
            self.window.pop_front();
            self.base += WORD;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiveTimers;
    use crate::rng::{self, Purpose, uniform_u64};
    use std::collections::BTreeSet;

    /// Against a `BTreeSet`: fresh ids inserted in increasing order, most cancelled soon, some
    /// later, some never; removals of unknown and future ids; `contains` agrees throughout,
    /// including for timers that moved out of the window.
    #[test]
    fn behaves_like_a_set() {
        for seed in 0..4 {
            let mut r = rng::stream(seed, Purpose::Workload);
            let mut live = LiveTimers::default();
            let mut reference = BTreeSet::new();
            let mut next = 0u64;
            for step in 0..300_000u64 {
                next += uniform_u64(&mut r, 1, 3);
                match uniform_u64(&mut r, 0, 9) {
                    0..=3 => {
                        live.insert(next);
                        reference.insert(next);
                    }
                    4..=6 => {
                        // The newest live timer: most timers are cancelled soon, so the
                        // survivors are sparse and old, and must leave the window.
                        if let Some(&id) = reference.iter().next_back() {
                            assert_eq!(live.remove(id), reference.remove(&id), "step {step}");
                        }
                    }
                    7 => {
                        // Any id so far, or one never handed out.
                        let id = uniform_u64(&mut r, 0, next + 1_000);
                        assert_eq!(live.remove(id), reference.remove(&id), "step {step}");
                    }
                    _ => {
                        let id = uniform_u64(&mut r, 0, next + 1_000);
                        assert_eq!(live.contains(id), reference.contains(&id), "step {step}");
                    }
                }
            }
            // Long-lived timers left the window, and are still found.
            assert!(!live.old.is_empty());
            for id in 0..next + 1_000 {
                assert_eq!(live.contains(id), reference.contains(&id), "id {id}");
            }
        }
    }
}
