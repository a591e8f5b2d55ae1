//! The memo table of the search: configurations known to fail (Lowe 2017), stored compactly
//! and matched up to the indeterminate operations used.
//!
//! A configuration is (the set of linearized operations, the model state). The set is not
//! stored as one bit per operation of the partition, which on a 10^5-operation key costs 12 KiB
//! per configuration, but in two parts (see `search.rs` for why they describe it exactly):
//!
//! - the **determinate** part, as `[f, r1, r2, ...]`: every determinate operation whose return
//!   ranks below `f` (in return order) is linearized, `f` is not, and `r1 < r2 < ...` are the
//!   ranks above `f` that are linearized too. These can only be operations concurrent with the
//!   return of `f`, so there are about as many as there are clients;
//! - the **indeterminate** part, a bit set over the partition's indeterminate operations (in
//!   call order), stored as `[w, words...]`: the first `w` words are all ones and omitted, as
//!   are the zero words at the end.
//!
//! **Subsumption.** Indeterminate operations never return, so they never have to be
//! linearized and never constrain another operation. A configuration that has linearized a
//! superset of another's indeterminate operations, with the same determinate part and state,
//! can do nothing the other could not. So if `(D, A, s)` failed, `(D, B, s)` with `B ⊇ A` fails
//! too, and the table answers "known to fail" for it. Without this, every indeterminate
//! operation that may or may not have taken effect doubles the configurations an exhaustive
//! search visits after its invocation.
//!
//! The table is a hash map from a hash of (determinate part, state) to a bucket of entries,
//! looked up without allocating. Buckets are vectors, searched in insertion order; the map is
//! never iterated, so the search stays deterministic.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

/// One configuration known to fail.
struct Failed<S> {
    determinate: Box<[u32]>,
    state: S,
    indeterminate: Box<[u64]>,
}

/// Configurations known to fail, with their estimated size in bytes.
pub(super) struct Memo<S> {
    buckets: FxHashMap<u64, Vec<Failed<S>>>,
    entries: usize,
    bytes: u64,
}

impl<S: Clone + Eq + Hash> Memo<S> {
    pub fn new() -> Self {
        Memo {
            buckets: FxHashMap::default(),
            entries: 0,
            bytes: 0,
        }
    }

    /// Configurations remembered.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether `(determinate, state)` with the indeterminate set `indeterminate`, or with a
    /// subset of it, is known to fail.
    pub fn fails(&self, determinate: &[u32], state: &S, indeterminate: &[u64]) -> bool {
        let Some(bucket) = self.buckets.get(&hash(determinate, state)) else {
            return false;
        };
        bucket.iter().any(|f| {
            *f.determinate == *determinate
                && f.state == *state
                && is_subset(&f.indeterminate, indeterminate)
        })
    }

    /// Records that a configuration failed. Entries it subsumes (same determinate part and
    /// state, a superset of its indeterminate set) are dropped.
    pub fn insert(&mut self, determinate: &[u32], state: &S, indeterminate: &[u64]) {
        let bucket = self.buckets.entry(hash(determinate, state)).or_default();
        let before = bucket.len();
        bucket.retain(|f| {
            !(*f.determinate == *determinate
                && f.state == *state
                && is_subset(indeterminate, &f.indeterminate))
        });
        let dropped = before - bucket.len();
        // Approximate: entries dropped are counted at the new entry's size.
        let size = entry_bytes::<S>(determinate.len(), indeterminate.len());
        self.bytes = (self.bytes + size).saturating_sub(size * dropped as u64);
        self.entries = self.entries + 1 - dropped;
        bucket.push(Failed {
            determinate: determinate.into(),
            state: state.clone(),
            indeterminate: indeterminate.into(),
        });
    }
}

/// What one entry costs: its two slices, the state, the boxes and the map's share.
fn entry_bytes<S>(determinate: usize, indeterminate: usize) -> u64 {
    (4 * determinate + 8 * indeterminate + std::mem::size_of::<S>() + 64) as u64
}

fn hash<S: Hash>(determinate: &[u32], state: &S) -> u64 {
    let mut h = FxHasher::default();
    determinate.hash(&mut h);
    state.hash(&mut h);
    h.finish()
}

/// Word `p` of a compressed bit set `[w, words...]` (see the module docs); the empty slice is
/// the empty set.
fn word(set: &[u64], p: usize) -> u64 {
    let Some((&ones, words)) = set.split_first() else {
        return 0;
    };
    let ones = ones as usize;
    if p < ones {
        !0
    } else {
        words.get(p - ones).copied().unwrap_or(0)
    }
}

/// How many words of a compressed set may be nonzero.
fn span(set: &[u64]) -> usize {
    set.split_first()
        .map_or(0, |(&ones, words)| ones as usize + words.len())
}

/// Whether compressed set `a` is a subset of compressed set `b`.
pub(super) fn is_subset(a: &[u64], b: &[u64]) -> bool {
    (0..span(a)).all(|p| word(a, p) & !word(b, p) == 0)
}

/// Compresses a bit set into `out` as `[w, words...]`, or nothing for the empty set.
pub(super) fn compress(bits: &[u64], out: &mut Vec<u64>) {
    out.clear();
    let ones = bits.iter().take_while(|&&w| w == !0).count();
    let end = bits.iter().rposition(|&w| w != 0).map_or(0, |p| p + 1);
    if end == 0 {
        return;
    }
    out.push(ones as u64);
    out.extend_from_slice(&bits[ones.min(end)..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compressed(bits: &[u64]) -> Vec<u64> {
        let mut out = Vec::new();
        compress(bits, &mut out);
        out
    }

    #[test]
    fn compressed_sets_keep_their_words_and_order() {
        assert_eq!(compressed(&[0, 0]), Vec::<u64>::new());
        assert_eq!(compressed(&[!0, !0, 0]), vec![2]);
        assert_eq!(compressed(&[!0, 5, 0, 8, 0]), vec![1, 5, 0, 8]);
        assert_eq!(compressed(&[3]), vec![0, 3]);
        let sets = [[0, 0], [1, 0], [3, 0], [!0, 0], [!0, 1], [!0, 2], [2, 1]];
        for a in &sets {
            for b in &sets {
                let plain = a.iter().zip(b).all(|(x, y)| x & !y == 0);
                assert_eq!(
                    is_subset(&compressed(a), &compressed(b)),
                    plain,
                    "{a:?} in {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_failed_configuration_covers_those_with_more_indeterminate_operations() {
        let mut memo: Memo<u8> = Memo::new();
        memo.insert(&[3, 5], &7, &compressed(&[0b0101]));
        assert!(memo.fails(&[3, 5], &7, &compressed(&[0b0101])));
        assert!(memo.fails(&[3, 5], &7, &compressed(&[0b1101])));
        assert!(!memo.fails(&[3, 5], &7, &compressed(&[0b0100])));
        assert!(!memo.fails(&[3, 5], &8, &compressed(&[0b0101])));
        assert!(!memo.fails(&[3, 6], &7, &compressed(&[0b0101])));
        // A smaller failed set replaces the entries it covers.
        memo.insert(&[3, 5], &7, &compressed(&[0b0100]));
        assert_eq!(memo.len(), 1);
        assert!(memo.fails(&[3, 5], &7, &compressed(&[0b0110])));
    }
}
