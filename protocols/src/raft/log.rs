//! The replicated log: entries `1..=last_index`, each with its term, its command and a chained
//! digest of the whole prefix up to it.
//!
//! The chained digest identifies a prefix: two logs hold the same entry at an index with the
//! same digest iff they are identical up to that index (up to hash collisions). InstallSnapshot
//! uses it to tell whether a follower holds the snapshot's very entry. Every edit recomputes
//! the digests of the entries after it (except in the known-bug methods named so). Checkers
//! do not read these digests: the Raft monitor chains its own from the entries' terms and
//! commands, so a stale digest here cannot hide a divergence. Indices start
//! at 1 (paper Fig. 2); index 0 is the empty prefix with term 0. After compaction (paper
//! §7) the entries up to `offset` live only in the snapshot; the log keeps the term and the
//! digest of its last compacted entry, as the snapshot's metadata.

use crate::kv::KvRequest;
use serde::{Deserialize, Serialize};
use sim::rng::splitmix64;

/// What an entry carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// The no-op a new leader appends to commit entries of earlier terms (paper §8).
    Noop,
    /// A client write (or a read sent through the log).
    Kv(KvRequest),
}

/// One log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The term in which a leader created it.
    pub term: u64,
    /// The command.
    pub command: Command,
    /// Digest of every entry up to and including this one (not sent on the wire: the
    /// receiver recomputes it).
    pub chain: u64,
}

/// A Raft log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RaftLog {
    offset: u64,
    offset_term: u64,
    offset_chain: u64,
    entries: Vec<Entry>,
}

fn digest(prev: u64, term: u64, c: &Command) -> u64 {
    let body = match c {
        Command::Noop => 0x6e6f6f70,
        Command::Kv(r) => {
            let op = match r.op {
                crate::kv::Op::Put(v) => splitmix64(v),
                crate::kv::Op::Get => 7,
                crate::kv::Op::Cas { expected, new } => splitmix64(expected ^ splitmix64(new)),
            };
            splitmix64(r.client ^ splitmix64(r.seq ^ splitmix64(r.key ^ op)))
        }
    };
    splitmix64(prev ^ splitmix64(term ^ splitmix64(body)))
}

impl RaftLog {
    /// The index of the last compacted entry (0 when nothing is compacted).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The digest of the prefix up to `offset` (the snapshot's identity).
    pub fn offset_chain(&self) -> u64 {
        self.offset_chain
    }

    /// The index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.offset + self.entries.len() as u64
    }

    /// The term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.offset_term, |e| e.term)
    }

    /// The term at `index` (0 for index 0), or `None` past the end or inside the snapshot.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.offset {
            return Some(self.offset_term);
        }
        if index < self.offset {
            return None;
        }
        self.entries
            .get((index - self.offset) as usize - 1)
            .map(|e| e.term)
    }

    /// The entry at `index` (1-based), if held (not compacted).
    pub fn get(&self, index: u64) -> Option<&Entry> {
        if index <= self.offset {
            return None;
        }
        self.entries.get((index - self.offset) as usize - 1)
    }

    /// Entries `from..=to` (clamped to the entries held).
    pub fn slice(&self, from: u64, to: u64) -> &[Entry] {
        let lo = (from.max(self.offset + 1) - self.offset - 1) as usize;
        let hi = to.min(self.last_index()).saturating_sub(self.offset) as usize;
        if lo >= hi { &[] } else { &self.entries[lo..hi] }
    }

    /// The first index holding `term`, searching back from `index` (fast back-tracking).
    pub fn first_index_of_term(&self, term: u64, index: u64) -> u64 {
        let mut i = index;
        while i > self.offset + 1 && self.term_at(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }

    /// The last index holding `term`, if any.
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        match self.entries.iter().rposition(|e| e.term == term) {
            Some(i) => Some(self.offset + i as u64 + 1),
            None => (self.offset > 0 && self.offset_term == term).then_some(self.offset),
        }
    }

    /// Appends a new entry; returns its index.
    pub fn append(&mut self, term: u64, command: Command) -> u64 {
        let prev = self.entries.last().map_or(self.offset_chain, |e| e.chain);
        self.entries.push(Entry {
            term,
            command,
            chain: digest(prev, term, &command),
        });
        self.last_index()
    }

    /// Removes entries `from..` (conflict truncation, paper Fig. 2 receiver rule 3); the
    /// snapshot is never truncated.
    pub fn truncate_from(&mut self, from: u64) {
        let keep = from.max(self.offset + 1) - self.offset - 1;
        self.entries.truncate(keep as usize);
    }

    /// Replaces the entry at `index` in place, keeping the entries after it (only the
    /// `NoTruncate` known bug does this), and re-chains the tail.
    pub fn overwrite(&mut self, index: u64, term: u64, command: Command) {
        let i = (index - self.offset) as usize - 1;
        self.entries[i].term = term;
        self.entries[i].command = command;
        for j in i..self.entries.len() {
            let prev = if j == 0 {
                self.offset_chain
            } else {
                self.entries[j - 1].chain
            };
            let e = self.entries[j];
            self.entries[j].chain = digest(prev, e.term, &e.command);
        }
    }

    /// Replaces the entry at `index` in place and keeps the entries after it with the digests
    /// they had (only the `StaleDigests` known bug does this): the replaced entry's digest is
    /// right, the ones after it describe the old prefix.
    pub fn overwrite_stale(&mut self, index: u64, term: u64, command: Command) {
        let i = (index - self.offset) as usize - 1;
        let prev = if i == 0 {
            self.offset_chain
        } else {
            self.entries[i - 1].chain
        };
        self.entries[i] = Entry {
            term,
            command,
            chain: digest(prev, term, &command),
        };
    }

    /// Makes this log equal to `other` from index `from` on (persisting a changed suffix).
    pub fn copy_suffix(&mut self, other: &RaftLog, from: u64) {
        if self.offset != other.offset {
            *self = other.clone();
            return;
        }
        self.truncate_from(from);
        self.entries
            .extend_from_slice(other.slice(from, other.last_index()));
    }

    /// Drops the entries up to `index` (held, applied) into the snapshot (paper §7).
    pub fn compact(&mut self, index: u64) {
        let e = *self.get(index).expect("compacting an entry the log holds");
        self.entries.drain(..(index - self.offset) as usize);
        self.offset = index;
        self.offset_term = e.term;
        self.offset_chain = e.chain;
    }

    /// Installs a snapshot ending at `(index, term)` but keeps every entry after `index`,
    /// whatever the log held at `index` (only the `SnapshotKeepsSuffix` known bug does this);
    /// the kept entries keep digests computed over the prefix they followed before.
    pub fn install_keeping_suffix(&mut self, index: u64, term: u64, chain: u64) {
        let drop = index.min(self.last_index()).saturating_sub(self.offset) as usize;
        self.entries.drain(..drop);
        self.offset = index;
        self.offset_term = term;
        self.offset_chain = chain;
    }

    /// Installs a leader's snapshot ending at `(index, term)` with prefix digest `chain`:
    /// keeps the entries after it if the log holds that very entry, else discards the log
    /// (paper Fig. 13, receiver rules 6-7).
    pub fn install(&mut self, index: u64, term: u64, chain: u64) {
        if self
            .get(index)
            .is_some_and(|e| e.term == term && e.chain == chain)
        {
            self.compact(index);
            return;
        }
        self.entries.clear();
        self.offset = index;
        self.offset_term = term;
        self.offset_chain = chain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_identify_prefixes_and_back_tracking_finds_term_starts() {
        let mut a = RaftLog::default();
        let mut b = RaftLog::default();
        for t in [1, 1, 2, 2, 2] {
            a.append(t, Command::Noop);
            b.append(t, Command::Noop);
        }
        assert_eq!(a, b);
        assert_eq!(a.first_index_of_term(2, 5), 3);
        assert_eq!(a.last_index_of_term(1), Some(2));
        b.overwrite(3, 3, Command::Noop);
        // Index 4 has the same term in both logs but a different prefix.
        assert_eq!(a.term_at(4), b.term_at(4));
        assert_ne!(a.get(4).unwrap().chain, b.get(4).unwrap().chain);
        assert_eq!(a.get(2).unwrap().chain, b.get(2).unwrap().chain);
        b.truncate_from(3);
        assert_eq!(b.last_index(), 2);
        assert_eq!(b.slice(1, 9).len(), 2);
        // Compaction keeps indices, terms after the offset and the prefix digests.
        let chain4 = a.get(4).unwrap().chain;
        a.compact(3);
        assert_eq!(
            (a.offset(), a.last_index(), a.term_at(3), a.term_at(2)),
            (3, 5, Some(2), None)
        );
        assert_eq!(a.get(4).unwrap().chain, chain4);
        assert_eq!(a.slice(1, 9).len(), 2);
        assert_eq!(a.first_index_of_term(2, 5), 4);
        let i = a.append(3, Command::Noop);
        assert_eq!(i, 6);
        let mut c = RaftLog::default();
        c.append(9, Command::Noop);
        c.install(4, 2, chain4);
        assert_eq!((c.offset(), c.last_index(), c.last_term()), (4, 4, 2));
    }
}
