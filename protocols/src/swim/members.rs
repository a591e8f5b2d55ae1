//! A member's view of its pool: the member table, SWIM's precedence rules, the randomized
//! round-robin probe order and the queue of updates waiting to be piggybacked.
//!
//! The table is sparse: a member not in it is `alive` at incarnation 0 (where every member
//! starts). A 10^4-member pool therefore costs each member a few entries, not 10^4, and a
//! push-pull exchange carries only the entries that differ from that start (merging an
//! `alive 0` is a no-op, so nothing is lost by leaving them out; the byte count still
//! charges every member).
//!
//! Precedence (SWIM §4.2, memberlist `aliveNode`/`suspectNode`/`deadNode`), for a member
//! other than oneself, with i its incarnation in the message and j in the table:
//! - `alive i` overrides `alive j` or `suspect j` when i > j, and `dead j` when i > j (a
//!   restarted member rejoins with a higher incarnation, as in memberlist);
//! - `suspect i` overrides `alive j` when i ≥ j and `suspect j` when i > j;
//! - `dead i` overrides `alive j` and `suspect j` when i ≥ j.

use rustc_hash::FxHashMap;
use serde::Serialize;

/// A member's state as one member believes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    Alive,
    Suspect,
    Dead,
}

/// One table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub state: State,
    pub incarnation: u32,
}

impl Member {
    /// Where every member starts.
    pub const START: Member = Member {
        state: State::Alive,
        incarnation: 0,
    };
}

/// An update about one member, as messages carry it: `alive`, `suspect` or `dead` at an
/// incarnation, with the member that declared it (a suspicion's confirmer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Update {
    /// The member's index in the pool.
    pub member: u32,
    pub state: State,
    pub incarnation: u32,
    /// The index of the member that declared it.
    pub from: u32,
}

/// What applying an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Older or equal news: nothing changed.
    Stale,
    /// The entry changed from `was`.
    Changed { was: Member },
}

/// One member's table of its pool (itself included, at its own index).
#[derive(Clone, Debug, Default)]
pub struct Table {
    entries: FxHashMap<u32, Member>,
    dead: u32,
}

impl Table {
    /// The entry of member `i`.
    pub fn get(&self, i: u32) -> Member {
        self.entries.get(&i).copied().unwrap_or(Member::START)
    }

    /// Members this table holds dead.
    pub fn dead_count(&self) -> u32 {
        self.dead
    }

    /// Sets an entry, keeping the dead count.
    pub fn set(&mut self, i: u32, m: Member) -> Member {
        let was = if m == Member::START {
            self.entries.remove(&i)
        } else {
            self.entries.insert(i, m)
        }
        .unwrap_or(Member::START);
        self.dead =
            self.dead + u32::from(m.state == State::Dead) - u32::from(was.state == State::Dead);
        was
    }

    /// Applies SWIM's precedence rules (module docs) to an update about another member.
    /// `check_incarnation: false` is the NoIncarnationCheck bug: any `alive` wins over a
    /// suspect or dead entry.
    pub fn apply(&mut self, u: &Update, check_incarnation: bool) -> Applied {
        let cur = self.get(u.member);
        let wins = match u.state {
            State::Alive if !check_incarnation => {
                cur.state != State::Alive || u.incarnation > cur.incarnation
            }
            State::Alive => u.incarnation > cur.incarnation,
            State::Suspect => match cur.state {
                State::Alive => u.incarnation >= cur.incarnation,
                State::Suspect => u.incarnation > cur.incarnation,
                State::Dead => false,
            },
            State::Dead => cur.state != State::Dead && u.incarnation >= cur.incarnation,
        };
        if !wins {
            return Applied::Stale;
        }
        let was = self.set(
            u.member,
            Member {
                state: u.state,
                incarnation: u.incarnation,
            },
        );
        Applied::Changed { was }
    }

    /// The entries that differ from the start, in member order (for push-pull and checks).
    pub fn entries(&self) -> Vec<(u32, Member)> {
        let mut v: Vec<(u32, Member)> = self.entries.iter().map(|(&i, &m)| (i, m)).collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    /// The entries that differ from the start, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Member)> + '_ {
        self.entries.iter().map(|(&i, &m)| (i, m))
    }
}

/// A keyed pseudo-random permutation of `0..n` in O(1) memory: a four-round Feistel network
/// on the next even number of bits, cycle-walked into range. SWIM's randomized round-robin
/// needs a fresh random order of every member per pass; storing one per member would cost
/// n² memory at scale.
#[derive(Clone, Copy, Debug)]
pub struct Permutation {
    n: u32,
    half_bits: u32,
    key: u64,
}

impl Permutation {
    /// A permutation of `0..n` chosen by `key`.
    pub fn new(n: u32, key: u64) -> Permutation {
        let bits = 32 - n.saturating_sub(1).leading_zeros();
        Permutation {
            n,
            half_bits: bits.div_ceil(2).max(1),
            key,
        }
    }

    /// The `i`-th element (`i < n`).
    pub fn at(&self, i: u32) -> u32 {
        let mut x = i;
        loop {
            x = self.feistel(x);
            if x < self.n {
                return x;
            }
        }
    }

    fn feistel(&self, x: u32) -> u32 {
        let mask = (1u32 << self.half_bits) - 1;
        let (mut l, mut r) = (x >> self.half_bits, x & mask);
        for round in 0..4u64 {
            let f = sim::rng::splitmix64(self.key ^ (u64::from(r) << 8) ^ round) as u32 & mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half_bits) | r
    }
}

/// Updates waiting to be piggybacked, each sent at most `limit` times (memberlist's
/// `TransmitLimitedQueue`): the least-sent go first, and a newer update about a member
/// replaces the queued one.
#[derive(Clone, Debug, Default)]
pub struct Broadcasts {
    queue: Vec<(Update, u32)>,
}

impl Broadcasts {
    /// Queues an update, replacing any queued one about the same member.
    pub fn push(&mut self, u: Update) {
        self.queue.retain(|(q, _)| q.member != u.member);
        self.queue.push((u, 0));
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Up to `max` updates for one message, least transmitted first; each counts as sent
    /// once, and one sent `limit` times leaves the queue.
    pub fn take(&mut self, max: usize, limit: u32) -> Vec<Update> {
        if self.queue.is_empty() || max == 0 {
            return Vec::new();
        }
        // Stable: among equally sent updates, the older first.
        self.queue.sort_by_key(|(_, sent)| *sent);
        let k = max.min(self.queue.len());
        let out: Vec<Update> = self.queue[..k].iter().map(|(u, _)| *u).collect();
        for q in &mut self.queue[..k] {
            q.1 += 1;
        }
        self.queue.retain(|(_, sent)| *sent < limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(member: u32, state: State, incarnation: u32) -> Update {
        Update {
            member,
            state,
            incarnation,
            from: 9,
        }
    }

    #[test]
    fn precedence_follows_incarnations() {
        let mut t = Table::default();
        assert_eq!(t.apply(&up(1, State::Alive, 0), true), Applied::Stale);
        assert!(matches!(
            t.apply(&up(1, State::Suspect, 0), true),
            Applied::Changed { .. }
        ));
        assert_eq!(t.apply(&up(1, State::Suspect, 0), true), Applied::Stale);
        // A refutation needs a higher incarnation.
        assert_eq!(t.apply(&up(1, State::Alive, 0), true), Applied::Stale);
        assert!(matches!(
            t.apply(&up(1, State::Alive, 1), true),
            Applied::Changed { .. }
        ));
        assert!(matches!(
            t.apply(&up(1, State::Dead, 1), true),
            Applied::Changed { .. }
        ));
        assert_eq!(t.dead_count(), 1);
        assert_eq!(t.apply(&up(1, State::Suspect, 5), true), Applied::Stale);
        assert_eq!(t.apply(&up(1, State::Alive, 1), true), Applied::Stale);
        // Rejoining with a higher incarnation revives.
        assert!(matches!(
            t.apply(&up(1, State::Alive, 2), true),
            Applied::Changed { .. }
        ));
        assert_eq!(t.dead_count(), 0);
        // The bug: a stale alive revives a dead member.
        t.apply(&up(1, State::Dead, 2), true);
        assert!(matches!(
            t.apply(&up(1, State::Alive, 0), false),
            Applied::Changed { .. }
        ));
        assert_eq!(t.get(1).state, State::Alive);
    }

    #[test]
    fn permutations_cover_every_member_once() {
        for n in [1u32, 2, 3, 10, 100, 1000, 1025] {
            for key in [0u64, 7, 0xdead_beef] {
                let p = Permutation::new(n, key);
                let mut seen = vec![false; n as usize];
                for i in 0..n {
                    let x = p.at(i) as usize;
                    assert!(!seen[x], "n = {n}: {x} twice");
                    seen[x] = true;
                }
            }
        }
        // Different keys give different orders.
        let a: Vec<u32> = (0..20).map(|i| Permutation::new(20, 1).at(i)).collect();
        let b: Vec<u32> = (0..20).map(|i| Permutation::new(20, 2).at(i)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn broadcasts_retire_after_their_limit() {
        let mut q = Broadcasts::default();
        q.push(up(1, State::Suspect, 0));
        q.push(up(2, State::Dead, 0));
        assert_eq!(q.take(1, 2).len(), 1);
        assert_eq!(q.take(5, 2).len(), 2);
        // Member 1 or 2 was sent twice by now and left; the other once.
        assert_eq!(q.take(5, 2).len(), 1);
        assert!(q.is_empty());
        // A newer update replaces the queued one.
        q.push(up(3, State::Suspect, 0));
        q.push(up(3, State::Alive, 1));
        let got = q.take(5, 3);
        assert_eq!(got, vec![up(3, State::Alive, 1)]);
    }
}
