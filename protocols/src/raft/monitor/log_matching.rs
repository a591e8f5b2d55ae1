//! Log Matching (paper Fig. 3) and Leader Append-Only for [`RaftMonitor`], from the entries
//! alone: the monitor keeps its own copy of every server's log (term and command of each
//! entry) and chains its own prefix digests over it. It never reads the digests
//! `raft/log.rs` stores, so a log edit that leaves those stale cannot hide a divergence (the
//! `StaleDigests` and `SnapshotKeepsSuffix` known bugs). Cost and snapshots: see the parent
//! module's docs.

use super::RaftMonitor;
use crate::checks::Invariant;
use crate::kv::Op;
use crate::raft::log::Command;
use crate::raft::node::Raft;
use sim::rng::splitmix64;
use sim::{NodeId, Violation};

/// A server's whole log is compared with the monitor's copy every this many events at it, or
/// every `length / FULL_SCAN_SHARE` events if more: a bounded number of entries per event.
const FULL_SCAN_EVERY: u32 = 32;
const FULL_SCAN_SHARE: usize = 4;

/// Salt for the digest of a snapshot prefix the monitor never saw as entries.
const UNSEEN_PREFIX: u64 = 0x736e_6170;

/// The monitor's own prefix digest: `prev` chained with an entry's term and command. Computed
/// from the entries alone, independently of the digests the log code stores.
pub fn entry_digest(prev: u64, term: u64, command: &Command) -> u64 {
    let body = match command {
        Command::Noop => 1,
        Command::Kv(r) => {
            let op = match r.op {
                Op::Put(v) => splitmix64(2 ^ splitmix64(v)),
                Op::Get => 3,
                Op::Cas { expected, new } => splitmix64(4 ^ splitmix64(expected) ^ new),
            };
            [r.client, r.seq, r.key]
                .iter()
                .fold(op, |h, &x| splitmix64(h ^ x))
        }
    };
    splitmix64(splitmix64(prev ^ term) ^ body)
}

impl RaftMonitor {
    /// Compares server `id`'s log with the monitor's copy, after an event at it (the whole log
    /// if `whole`), and records the digests of the entries that changed; `same_reign` says it
    /// led this term at the last observation.
    pub(super) fn check_log(
        &mut self,
        id: NodeId,
        r: &Raft,
        same_reign: bool,
        whole: bool,
    ) -> Result<(), Violation> {
        let i = id.index();
        let log = &r.log;
        let base = log.offset();
        let len = (log.last_index() - base) as usize;
        let entries = log.slice(base + 1, log.last_index());
        let rebase = base != self.shadow_base[i].0;
        // The entries after the highest index seen committed are compared with the monitor's
        // copy at every event (that is where Raft, and most bugs, edit a log); the committed
        // prefix after a snapshot and every `FULL_SCAN_EVERY`-th event at this server (more
        // apart for long logs).
        self.quiet_events[i] += 1;
        let every = FULL_SCAN_EVERY.max((len / FULL_SCAN_SHARE).min(u32::MAX as usize) as u32);
        let mut full = whole || rebase || self.quiet_events[i] >= every;
        if full {
            self.quiet_events[i] = 0;
        }
        if rebase {
            // Compaction or an installed snapshot: re-base the shadow on the new offset. A
            // snapshot stands for the prefix the monitor saw ending at its `(index, term)`.
            let (old, _) = self.shadow_base[i];
            let term = log.term_at(base).expect("the offset has a term");
            let shadow = &mut self.shadow[i];
            let cut = base.saturating_sub(old) as usize;
            let base_chain = if base > old && cut <= shadow.len() && shadow[cut - 1].0 == term {
                let c = shadow[cut - 1].2;
                shadow.drain(..cut);
                c
            } else if base == 0 {
                // Back to no snapshot at all (a crash took back a compaction that was not
                // synced yet): the empty prefix.
                shadow.clear();
                0
            } else {
                shadow.clear();
                *self
                    .chains
                    .entry((base, term))
                    .or_insert_with(|| splitmix64(base ^ splitmix64(term ^ UNSEEN_PREFIX)))
            };
            self.shadow_base[i] = (base, base_chain);
        }
        // The first position where the monitor's copy and the log differ, and the digests of
        // the entries from there. A conflict found without a full comparison is confirmed by
        // one, so a violation never rests on a part of the copy that was not compared.
        let base_chain = self.shadow_base[i].1;
        let (lo, fresh, conflict) = loop {
            let shadow = &self.shadow[i];
            let common = shadow.len().min(len);
            let from = if full {
                0
            } else {
                let settled = self.last_commit[i].unwrap_or(0).min(self.max_committed);
                (settled.saturating_sub(base) as usize).min(common)
            };
            let lo = (from..common)
                .find(|&k| shadow[k].0 != entries[k].term || shadow[k].1 != entries[k].command)
                .unwrap_or(common);
            if lo == len && lo == shadow.len() {
                return Ok(());
            }
            let mut prev = if lo == 0 {
                base_chain
            } else {
                shadow[lo - 1].2
            };
            let mut fresh = Vec::with_capacity(len - lo);
            let mut conflict = None;
            for (k, e) in entries.iter().enumerate().skip(lo) {
                let idx = base + k as u64 + 1;
                prev = entry_digest(prev, e.term, &e.command);
                fresh.push((e.term, e.command, prev));
                if self.chains.get(&(idx, e.term)).is_some_and(|&c| c != prev) {
                    conflict = Some((idx, e.term));
                    break;
                }
            }
            if conflict.is_some() && !full {
                full = true;
                self.quiet_events[i] = 0;
                continue;
            }
            break (lo, fresh, conflict);
        };
        let shadow_len = self.shadow[i].len();
        if same_reign && lo < shadow_len {
            self.fail(
                Invariant::LEADER_APPEND_ONLY,
                format!(
                    "leader {id} of term {} changed its entry {} (log {} -> {} entries)",
                    r.term,
                    base + lo as u64 + 1,
                    base + shadow_len as u64,
                    base + len as u64
                ),
            )?;
        }
        if let Some((idx, term)) = conflict {
            return self.fail(
                Invariant::LOG_MATCHING,
                format!("{id} holds entry {idx} of term {term} after a prefix that differs from another server's"),
            );
        }
        let shadow = &mut self.shadow[i];
        shadow.truncate(lo);
        for (k, &(term, command, chain)) in fresh.iter().enumerate() {
            let idx = base + (lo + k) as u64 + 1;
            shadow.push((term, command, chain));
            self.chains.entry((idx, term)).or_insert(chain);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::log::RaftLog;

    /// The monitor's digests of `log`'s entries, chained from the empty prefix.
    fn recomputed(log: &RaftLog) -> Vec<u64> {
        let mut prev = 0;
        log.slice(1, log.last_index())
            .iter()
            .map(|e| {
                prev = entry_digest(prev, e.term, &e.command);
                prev
            })
            .collect()
    }

    #[test]
    fn a_stale_stored_digest_does_not_hide_a_divergence() {
        // Two logs agree on entries 1-4 (terms 1, 1, 1, 1); b's entry 2 is then replaced by
        // one of term 2 with the tail's stored digests left stale.
        let mut a = RaftLog::default();
        for _ in 0..4 {
            a.append(1, Command::Noop);
        }
        let mut b = a.clone();
        b.overwrite_stale(2, 2, Command::Noop);
        // Trusting the stored digests: entry 4 of term 1 looks identical in both logs.
        assert_eq!(a.get(4).unwrap().term, b.get(4).unwrap().term);
        assert_eq!(a.get(4).unwrap().chain, b.get(4).unwrap().chain);
        // Recomputed from the entries, the prefixes differ from index 2 on, so the monitor's
        // `(index, term) -> digest` map sees two digests for (4, 1): a Log Matching violation.
        let (ra, rb) = (recomputed(&a), recomputed(&b));
        assert_eq!(ra[0], rb[0]);
        assert_ne!(ra[3], rb[3]);
        // A log edited correctly recomputes the same digests the monitor does.
        let mut c = a.clone();
        c.overwrite(2, 2, Command::Noop);
        assert_ne!(c.get(4).unwrap().chain, a.get(4).unwrap().chain);
        assert_eq!(recomputed(&c), rb);
    }
}
