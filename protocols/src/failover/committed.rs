//! CommittedNeverOverwritten: the failover monitor's record of every committed entry, built
//! from what it observes (primaries' logs up to their commit index), never from the nodes'
//! own bookkeeping (`failover.committed_entries_overwritten` is a metric the node keeps about
//! itself; a bug can skip it).
//!
//! - When a primary's commit index covers index `i`, the entry its log holds at `i` is the
//!   committed entry `i` (acknowledged to a client, or a promotion no-op). A later primary
//!   committing a different entry at `i` is a violation.
//! - Every replica that held committed entry `i` in the synced part of its log must hold it at
//!   every later observation: a truncation or an overwrite that removes it is a violation,
//!   crashes and restarts included (that part is on disk).
//!
//! Cost: the node an event happened at is compared with the record, entry by entry from the
//! first entry it was not yet known to hold, plus a check that the entries it held are
//! unchanged (a linear scan of its log); other nodes cost nothing.

use super::node::{Entry, FailoverNode, Role};
use crate::checks::Invariant;
use sim::{NodeId, View, Violation};

/// The committed entries seen so far, and how much of them each replica holds.
#[derive(Clone, Debug, Default)]
pub struct CommittedLog {
    /// Committed entry `i` (0-based log position) and the primary that committed it first.
    committed: Vec<(Entry, NodeId)>,
    /// Per node: the length of the prefix of `committed` its durable log was seen holding.
    held: Vec<usize>,
}

impl CommittedLog {
    /// Checks node `id` after an event that may have changed it.
    pub fn observe(&mut self, view: &View<'_, FailoverNode>, id: NodeId) -> Option<Violation> {
        let i = id.index();
        if self.held.len() != view.node_count() {
            self.held.resize(view.node_count(), 0);
        }
        // A crashed node is checked when it restarts; a halted one holds a disk it cannot
        // trust and does nothing. What a node holds is what a crash cannot take back.
        let node = view.node(id).filter(|n| n.halted.is_none())?;
        let log = node.durable_log();
        // What it held must still be there.
        let held = self.held[i];
        if let Some(k) = (0..held).find(|&k| log.get(k) != Some(&self.committed[k].0)) {
            let (e, by) = self.committed[k];
            return Some(violation(format!(
                "{id} held committed entry {} (epoch {}, committed by {by}) and now holds {}",
                k + 1,
                e.epoch,
                log.get(k).map_or("nothing there".to_string(), |x| format!(
                    "epoch {}",
                    x.epoch
                ))
            )));
        }
        // A primary's commit index names committed entries.
        if node.role() == Role::Primary {
            let commit = node.state.commit.min(log.len());
            for (k, e) in log.iter().enumerate().take(commit) {
                match self.committed.get(k) {
                    Some(&(c, by)) if c != *e => {
                        return Some(violation(format!(
                            "primary {id} committed entry {} of epoch {}, but {by} had committed \
                             entry {} of epoch {} there",
                            k + 1,
                            e.epoch,
                            k + 1,
                            c.epoch
                        )));
                    }
                    Some(_) => {}
                    None => self.committed.push((*e, id)),
                }
            }
        }
        let limit = log.len().min(self.committed.len());
        self.held[i] = (held..limit)
            .find(|&k| log[k] != self.committed[k].0)
            .unwrap_or(limit);
        None
    }
}

fn violation(message: String) -> Violation {
    Violation::new(Invariant::COMMITTED_NEVER_OVERWRITTEN.name(), message)
}
