//! The bookkeeping Raft and Failover share for acting only on durable state
//! (docs/storage.md): which syncs are in flight and what each covers, how much of the log and
//! which term (or epoch) are known durable, and the messages held until a sync completes.
//!
//! A [`SyncGate`] does no I/O: each protocol asks its disk for syncs and tells the gate what
//! it asked and what completed; the gate says what may be sent.

use sim::{NodeId, SyncId};

/// What a sync covers: the log length (or last index) and the term (or epoch) written.
pub type Mark = (u64, u64);

/// Syncs in flight and the messages waiting for them; `M` is the protocol's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGate<M> {
    /// Written since the last sync was asked.
    dirty: bool,
    /// The log mark and the term known durable.
    pub synced: Mark,
    /// Syncs asked and not completed, with what each covers.
    pending: Vec<(SyncId, u64, u64)>,
    /// Messages waiting for a sync, oldest first.
    outbox: Vec<(SyncId, NodeId, M)>,
}

impl<M> SyncGate<M> {
    /// A gate for a node that starts with `synced` durable.
    pub fn new(synced: Mark) -> Self {
        SyncGate {
            dirty: false,
            synced,
            pending: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Something was written.
    pub fn wrote(&mut self) {
        self.dirty = true;
    }

    /// The log was rewritten past mark `keep`: nothing past it is durable until a later sync
    /// completes (syncs already in flight cover only what is up to it).
    pub fn rewrote_log_after(&mut self, keep: u64) {
        self.synced.0 = self.synced.0.min(keep);
        for (_, covered, _) in &mut self.pending {
            *covered = (*covered).min(keep);
        }
        self.dirty = true;
    }

    /// Whether something was written since the last sync was asked (and forgets it: the
    /// caller asks for a sync now).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A sync was asked and is pending.
    pub fn asked(&mut self, id: SyncId, covers: Mark) {
        self.pending.push((id, covers.0, covers.1));
    }

    /// `msg` back if it may go now; otherwise it waits for the last pending sync.
    pub fn hold(&mut self, to: NodeId, msg: M) -> Option<(NodeId, M)> {
        match self.pending.last() {
            Some(&(id, _, _)) => {
                self.outbox.push((id, to, msg));
                None
            }
            None => Some((to, msg)),
        }
    }

    /// Sync `id` completed: what it covered, or `None` if it was forgotten (asked before a
    /// failed sync, so its writes are gone whatever it reports).
    pub fn completed(&mut self, id: SyncId) -> Option<Mark> {
        let i = self.pending.iter().position(|&(p, _, _)| p == id)?;
        let (_, len, term) = self.pending.remove(i);
        Some((len, term))
    }

    /// Everything up to sync `id` (all of it, for `None`: a sync that completed at once) is
    /// durable, up to `covered`, the log mark capped at `log_end`: returns the messages that
    /// may go now.
    pub fn release(&mut self, id: Option<SyncId>, covered: Mark, log_end: u64) -> Vec<(NodeId, M)> {
        self.synced.0 = self.synced.0.max(covered.0.min(log_end));
        self.synced.1 = self.synced.1.max(covered.1);
        let ready = match id {
            None => std::mem::take(&mut self.outbox),
            Some(id) => {
                let (ready, wait) = std::mem::take(&mut self.outbox)
                    .into_iter()
                    .partition(|(s, _, _)| *s <= id);
                self.outbox = wait;
                ready
            }
        };
        ready.into_iter().map(|(_, to, msg)| (to, msg)).collect()
    }

    /// After a failed sync the node rewrote its state and asked sync `new` for it: every
    /// earlier sync is forgotten and everything waiting waits for `new`.
    pub fn restart_after_failure(&mut self, new: SyncId, covers: Mark) {
        self.dirty = false;
        self.pending = vec![(new, covers.0, covers.1)];
        for (s, _, _) in &mut self.outbox {
            *s = new;
        }
    }
}
