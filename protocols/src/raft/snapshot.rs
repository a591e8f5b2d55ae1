//! Snapshots and log compaction (paper §7; thesis chapter 5): a server snapshots its state
//! machine every `snapshot_every` applied entries and drops the compacted entries; a leader
//! whose follower needs a compacted entry sends its snapshot with InstallSnapshot instead.
//!
//! Invariants: only applied (so committed) entries are compacted; a snapshot is written to
//! the disk (a `Snapshot` record, `storage.rs`) and synced before the acknowledgement that
//! tells the leader the follower holds it. The snapshot travels in one message (the paper's
//! chunking by `offset` is not modelled: the network has no message sizes yet).

use super::node::{Message, Raft, Snapshot};
use crate::kv::KvStore;
use sim::{Context, NodeId};

impl Raft {
    /// Compacts the log up to `applied` when `snapshot_every` entries were applied since the
    /// last snapshot; returns whether it did.
    pub(super) fn maybe_snapshot(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        let every = Self::cfg(ctx).snapshot_every;
        if every == 0 || self.applied < self.log.offset() + every {
            return false;
        }
        let index = self.applied;
        let term = self.log.term_at(index).expect("applied entries are held");
        let snapshot = Snapshot {
            index,
            term,
            store: self.store.clone(),
        };
        self.snapshot = Some(snapshot.clone());
        self.log.compact(index);
        let chain = self.log.offset_chain();
        self.persist_snapshot(ctx, snapshot, chain, false);
        ctx.count("raft.snapshots_taken", 1);
        ctx.cover("raft.snapshot.taken");
        true
    }

    /// Sends the current snapshot to a follower that needs compacted entries.
    pub(super) fn send_snapshot(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let Some(s) = self.snapshot.clone() else {
            unreachable!("a compacted log always has a snapshot");
        };
        ctx.count("raft.snapshots_sent", 1);
        let msg = Message::InstallSnapshot {
            term: self.term,
            index: s.index,
            snapshot_term: s.term,
            chain: self.log.offset_chain(),
            store: s.store,
        };
        ctx.send(to, msg);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_install_snapshot(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        index: u64,
        snapshot_term: u64,
        chain: u64,
        store: KvStore,
    ) {
        let reply = |success, match_index, t| Message::AppendEntriesResponse {
            term: t,
            success,
            match_index,
            conflict_term: None,
            conflict_index: 0,
            round: 0,
        };
        if term < self.term {
            self.send_durable(ctx, from, reply(false, 0, self.term));
            return;
        }
        if self.role != super::node::Role::Follower || self.leader != Some(from) {
            self.become_follower(ctx, term, Some(from));
        } else {
            self.reset_election_timer(ctx);
        }
        self.last_heard = Some(ctx.now());
        if index <= self.commit {
            ctx.cover("raft.snapshot.already_committed");
            // Already past it: the committed prefix matches the leader's.
            self.send_durable(ctx, from, reply(true, index, self.term));
            return;
        }
        ctx.cover("raft.snapshot.installed");
        if self.log.last_index() > index {
            ctx.cover("raft.snapshot.installed_over_longer_log");
        }
        if self.log.term_at(index).is_some_and(|t| t != snapshot_term) {
            ctx.cover("raft.snapshot.installed_over_conflict");
        }
        let snapshot = Snapshot {
            index,
            term: snapshot_term,
            store: store.clone(),
        };
        self.snapshot = Some(snapshot.clone());
        if Self::cfg(ctx).has_bug(super::config::RaftBug::SnapshotKeepsSuffix) {
            self.log.install_keeping_suffix(index, snapshot_term, chain);
        } else {
            self.log.install(index, snapshot_term, chain);
        }
        self.persist_snapshot(ctx, snapshot, chain, true);
        self.store = store;
        self.commit = index;
        self.applied = index;
        ctx.count("raft.snapshots_installed", 1);
        self.send_durable(ctx, from, reply(true, index, self.term));
    }
}
