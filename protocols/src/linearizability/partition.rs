//! One partition (key) as the search walks it: the operations in two linked lists, their
//! ranks, and the frontier that names a set of linearized operations compactly.
//!
//! - **Event list** (porcupine `checker.go`): the determinate operations' calls and returns in
//!   one doubly linked list sorted by time, from which linearizing an operation lifts both
//!   (Knuth's dancing links) and backtracking puts them back. The calls before the first
//!   remaining return are the minimal determinate operations (Wing & Gong 1993), in call
//!   order. Calls sort before returns at equal times, so `[call, return]` is closed.
//! - **Indeterminate list**: the operations that never returned, in call order. They never
//!   block anyone; one is minimal once invoked no later than the first remaining return.
//! - **Frontier**: determinate operations are ranked by return (the event list's order). The
//!   linearized ones are all those ranked below `rank`, plus `above`: a few ranked above it,
//!   which were invoked before `rank`'s return and so are concurrent with it (about as many as
//!   there are clients). With a bit set over the indeterminate operations, this names the
//!   linearized set exactly, in `O(clients)` words instead of one bit per operation, and it is
//!   what the memo table stores (module `memo`).

use super::checker::Entry;
use super::memo::compress;

/// Sentinel for "no node" in the linked lists.
pub(super) const NIL: usize = usize::MAX;
/// The event list's head sentinel is node 0; node `1 + 2i` is entry i's call, `2 + 2i` its
/// return. Indeterminate entries only have their call node, in the indeterminate list.
pub(super) const HEAD: usize = 0;

/// What an entry is to the frontier.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// A determinate entry and its rank in return order.
    Determinate(u32),
    /// An indeterminate entry and its bit in the indeterminate set.
    Indeterminate(usize),
}

/// A partition's entries with their lists and ranks.
pub(super) struct Partition<'a, I, O> {
    pub entries: &'a [Entry<I, O>],
    pub next: Vec<usize>,
    prev: Vec<usize>,
    /// First node of the indeterminate list, or NIL.
    pub indeterminate_head: usize,
    pub kinds: Vec<Kind>,
    /// Determinate entries by rank.
    pub by_rank: Vec<usize>,
}

impl<'a, I, O> Partition<'a, I, O> {
    pub fn new(entries: &'a [Entry<I, O>]) -> Self {
        // Sort key: (time, is a return, entry).
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * entries.len());
        let mut indeterminate: Vec<(u64, usize)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match &entry.returned {
                Some(returned) => {
                    events.push((entry.call_ns, false, i));
                    events.push((returned.time_ns, true, i));
                }
                None => indeterminate.push((entry.call_ns, i)),
            }
        }
        events.sort_unstable();
        indeterminate.sort_unstable();
        let nodes = 1 + 2 * entries.len();
        let mut p = Partition {
            entries,
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
            indeterminate_head: NIL,
            kinds: vec![Kind::Indeterminate(0); entries.len()],
            by_rank: Vec::new(),
        };
        let mut last = HEAD;
        for (_, is_return, i) in events {
            let node = if is_return {
                p.kinds[i] = Kind::Determinate(p.by_rank.len() as u32);
                p.by_rank.push(i);
                return_node(i)
            } else {
                call_node(i)
            };
            p.next[last] = node;
            p.prev[node] = last;
            last = node;
        }
        // The first indeterminate node's `prev` is NIL: unlinking and relinking it moves
        // `indeterminate_head` instead.
        let mut last = NIL;
        for (bit, (_, i)) in indeterminate.into_iter().enumerate() {
            p.kinds[i] = Kind::Indeterminate(bit);
            let node = call_node(i);
            if last == NIL {
                p.indeterminate_head = node;
            } else {
                p.next[last] = node;
            }
            p.prev[node] = last;
            last = node;
        }
        p
    }

    /// How many entries never returned.
    pub fn indeterminate_count(&self) -> usize {
        self.entries.len() - self.by_rank.len()
    }

    /// Removes entry `i` from its list; undo with [`Partition::relink`], in reverse order.
    pub fn lift(&mut self, i: usize) {
        self.unlink(call_node(i));
        if let Kind::Determinate(_) = self.kinds[i] {
            self.unlink(return_node(i));
        }
    }

    /// Undoes [`Partition::lift`] of entry `i`.
    pub fn relink(&mut self, i: usize) {
        if let Kind::Determinate(_) = self.kinds[i] {
            self.relink_node(return_node(i));
        }
        self.relink_node(call_node(i));
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        if prev == NIL {
            self.indeterminate_head = next;
        } else {
            self.next[prev] = next;
        }
        if next != NIL {
            self.prev[next] = prev;
        }
    }

    /// Puts a node back between its own (unchanged) neighbours.
    fn relink_node(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        if prev == NIL {
            self.indeterminate_head = node;
        } else {
            self.next[prev] = node;
        }
        if next != NIL {
            self.prev[next] = node;
        }
    }
}

fn call_node(i: usize) -> usize {
    1 + 2 * i
}

fn return_node(i: usize) -> usize {
    2 + 2 * i
}

/// The entry of a node, and whether the node is its return.
pub(super) fn node_entry(node: usize) -> (usize, bool) {
    ((node - 1) / 2, node & 1 == 0)
}

/// The linearized set of a configuration, compactly (see the module docs).
pub(super) struct Frontier {
    /// The lowest determinate rank not linearized.
    pub rank: u32,
    /// Linearized ranks above `rank`, ascending.
    above: Vec<u32>,
    /// Bit `b`: the indeterminate entry with bit `b` is linearized.
    indeterminate: Vec<u64>,
    /// Scratch space for the keys.
    key: Vec<u32>,
    indeterminate_key: Vec<u64>,
}

impl Frontier {
    pub fn new(indeterminate: usize) -> Self {
        Frontier {
            rank: 0,
            above: Vec::new(),
            indeterminate: vec![0; indeterminate.div_ceil(64)],
            key: Vec::new(),
            indeterminate_key: Vec::new(),
        }
    }

    /// Adds an entry of `kind`.
    pub fn apply(&mut self, kind: Kind) {
        match kind {
            Kind::Determinate(rank) if rank == self.rank => {
                // The frontier moves past the ranks above it that are already linearized:
                // the first ones of `above`, consecutive.
                let mut next = rank + 1;
                let mut taken = 0;
                while self.above.get(taken) == Some(&next) {
                    taken += 1;
                    next += 1;
                }
                self.above.drain(..taken);
                self.rank = next;
            }
            Kind::Determinate(rank) => {
                let at = self.above.partition_point(|&r| r < rank);
                self.above.insert(at, rank);
            }
            Kind::Indeterminate(bit) => self.indeterminate[bit / 64] |= 1 << (bit % 64),
        }
    }

    /// Undoes [`Frontier::apply`] of an entry of `kind`, given the rank before it.
    pub fn undo(&mut self, kind: Kind, rank_before: u32) {
        match kind {
            Kind::Determinate(rank) if rank == rank_before => {
                self.above.splice(0..0, rank + 1..self.rank);
                self.rank = rank;
            }
            Kind::Determinate(rank) => {
                let at = self.above.partition_point(|&r| r < rank);
                self.above.remove(at);
            }
            Kind::Indeterminate(bit) => self.indeterminate[bit / 64] &= !(1 << (bit % 64)),
        }
    }

    /// The memo keys of the current set: `[rank, above...]` and the compressed indeterminate
    /// bit set.
    pub fn keys(&mut self) -> (&[u32], &[u64]) {
        self.key.clear();
        self.key.push(self.rank);
        self.key.extend_from_slice(&self.above);
        compress(&self.indeterminate, &mut self.indeterminate_key);
        (&self.key, &self.indeterminate_key)
    }
}
