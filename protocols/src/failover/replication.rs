//! Replication: client requests at the primary, Append and its answers, the replica set,
//! the lease, commitment and applying the log to the KV store.
//!
//! Every operation, reads included, goes through the log and is answered when committed, so a
//! primary that cannot commit cannot answer anything (a read served from a stale primary's
//! memory would be a lost write in the client history). What "committed" needs depends on
//! the mode:
//! - `Naive`, `Fencing`: every backup of the replica set holds the entry. A backup silent for
//!   `timeout` leaves the set, and comes back once it has caught up (PacificA-style, without
//!   the configuration manager). Naive may shrink the set to nothing and go on alone — the
//!   textbook degraded mode; Fencing needs at least one backup's copy, so that some replica
//!   checked the epoch (the fencing token) of every accepted write.
//! - `Lease`, `Quorum`: a majority holds the entry (Raft §5.3), counting only entries of the
//!   primary's own epoch (Raft §5.4.2); Lease also needs the lease to hold at that moment.
//! - `sync: false`: the primary's own append is enough (the client is answered before any
//!   backup has the write).
//!
//! Fenced replicas (Fencing, Quorum) refuse an Append whose epoch is lower than theirs with
//! `Stale` (equal epochs pass: one primary sends many writes with one token, docs/references.md §5.1).

use super::node::{Entry, FailoverNode, Message, Role};
use super::{FailoverBug, Mode};
use crate::kv::{KvReply, KvRequest, KvResult};
use sim::{ClientId, Context, NodeId, Time};

/// The fields of an Append message.
pub(super) struct AppendArgs {
    pub epoch: u64,
    pub replicas: u64,
    pub prev_len: usize,
    pub prev_epoch: u64,
    pub entries: Vec<Entry>,
    pub commit: usize,
    pub sent_at: Time,
}

impl FailoverNode {
    /// A client request: the primary appends it and replicates; others redirect.
    pub(super) fn on_kv_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        req: KvRequest,
    ) {
        if self.state.role != Role::Primary {
            let hint = self
                .state
                .primary
                .filter(|_| self.state.role == Role::Backup);
            ctx.reply(
                client,
                KvReply {
                    seq: req.seq,
                    result: KvResult::NotLeader { hint },
                },
            );
            return;
        }
        let idx = self.append(
            ctx,
            Entry {
                epoch: self.state.epoch,
                request: Some(req),
            },
        );
        self.state.waiting.insert(idx, client);
        // Asynchronous replication ships writes with the next heartbeat, in batches; the
        // client has its answer before any backup has the write.
        if self.cfg.sync {
            self.broadcast_append(ctx);
        }
        self.maybe_commit(ctx);
    }

    /// Appends to the log (written to the disk); returns the entry's index.
    pub(super) fn append(&mut self, ctx: &mut Context<'_, Self>, entry: Entry) -> usize {
        self.d.log.push(entry);
        let idx = self.d.log.len() - 1;
        self.persist_log(ctx, idx);
        // Observation only: the monitor compares append times with other primaries' stints.
        self.state.append_times.insert(idx, ctx.true_time());
        idx
    }

    /// The replica set as a bit mask (the primary's own bit included).
    fn replica_mask(&self) -> u64 {
        let mut mask = 1u64 << self.me.0;
        for (i, p) in self.state.peers.iter().enumerate() {
            if p.in_set {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// Sends every backup what it is missing (or a heartbeat).
    pub(super) fn broadcast_append(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..self.n as u32 {
            if p != self.me.0 {
                self.send_append(ctx, NodeId(p));
            }
        }
    }

    /// Sends one Append to `to`, from its `next_len`. For a backup in the replica set
    /// `next_len` advances optimistically (a rejection resets it); one outside it is probed
    /// from what it confirmed, as etcd's probe state does, so that what it missed is resent.
    fn send_append(&mut self, ctx: &mut Context<'_, Self>, to: NodeId) {
        let log = &self.d.log;
        let peer = self.state.peers[to.index()];
        let prev_len = peer.next_len.min(log.len());
        let end = (prev_len + self.cfg.max_batch).min(log.len());
        let msg = Message::Append {
            epoch: self.state.epoch,
            replicas: self.replica_mask(),
            prev_len,
            prev_epoch: prev_len.checked_sub(1).map_or(0, |i| log[i].epoch),
            entries: log[prev_len..end].to_vec(),
            commit: self.state.commit,
            sent_at: ctx.now(),
        };
        if peer.in_set {
            self.state.peers[to.index()].next_len = end;
        }
        ctx.send(to, msg);
    }

    /// An Append from a primary.
    pub(super) fn on_append(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, a: AppendArgs) {
        let mine = self.d.epoch;
        let fenced = self.cfg.mode.fenced();
        let fence = fenced && self.cfg.bug != Some(FailoverBug::AcceptStaleEpoch);
        if fence && a.epoch < mine {
            ctx.count("failover.stale_rejected", 1);
            ctx.cover("failover.fenced.stale_epoch");
            if a.entries.iter().any(|e| e.request.is_some()) {
                ctx.count("failover.stale_writes_rejected", 1);
                ctx.cover("failover.fenced.stale_write");
            }
            let primary = self.state.primary;
            self.send_durable(
                ctx,
                from,
                Message::Stale {
                    epoch: mine,
                    primary,
                },
            );
            return;
        }
        match self.state.role {
            Role::Primary => {
                // Without epochs there is no telling which primary is right, so Naive and Lease
                // primaries keep going (Lease trusts its lease); fenced ones yield to a higher
                // epoch, and in a tie (two promotions in one epoch) to the lower id.
                let yields =
                    fenced && (a.epoch > self.state.epoch || (a.epoch == mine && from < self.me));
                if !yields {
                    return;
                }
                self.observe_epoch(ctx, a.epoch);
                self.become_backup(ctx, Some(from));
            }
            Role::Candidate => {
                self.observe_epoch(ctx, a.epoch);
                self.become_backup(ctx, Some(from));
            }
            Role::Backup => self.observe_epoch(ctx, a.epoch),
        }
        let now = ctx.now();
        let s = &mut self.state;
        s.primary = Some(from);
        s.last_heard = now;
        s.replicas = a.replicas;
        s.in_replica_set = a.replicas & (1 << self.me.0) != 0;
        let epoch = self.d.epoch;
        let reply = |ok, match_len| Message::AppendResponse {
            epoch,
            ok,
            match_len,
            sent_at: a.sent_at,
        };
        let len = self.d.log.len();
        if a.prev_len > len {
            self.send_durable(ctx, from, reply(false, len));
            return;
        }
        if a.prev_len > 0 && self.d.log[a.prev_len - 1].epoch != a.prev_epoch {
            self.send_durable(ctx, from, reply(false, a.prev_len - 1));
            return;
        }
        let end = a.prev_len + a.entries.len();
        let mut changed_from = None;
        for (k, e) in a.entries.into_iter().enumerate() {
            let idx = a.prev_len + k;
            let log = &mut self.d.log;
            if idx < log.len() {
                if log[idx] == e {
                    continue;
                }
                ctx.cover("failover.backup.truncated_conflict");
                log.truncate(idx);
            }
            log.push(e);
            changed_from.get_or_insert(idx);
        }
        if let Some(from) = changed_from {
            self.persist_log(ctx, from);
        }
        self.maybe_rebuild_store(ctx);
        let commit = a.commit.min(end);
        if commit > self.state.commit {
            self.state.commit = commit;
        }
        self.apply(ctx);
        if self.cfg.bug == Some(FailoverBug::AckBeforeSync) {
            // Known bug: the acknowledgement leaves before the entries are durable.
            self.flush(ctx);
            ctx.send(from, reply(true, end));
        } else {
            self.send_durable(ctx, from, reply(true, end));
        }
    }

    /// If the log was cut below what was applied (only without fencing, when two primaries
    /// overwrite each other), the store is rebuilt from the surviving prefix.
    fn maybe_rebuild_store(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        let len = self.d.log.len();
        if self.state.applied <= len && self.state.commit <= len {
            return false;
        }
        ctx.count("failover.committed_entries_overwritten", 1);
        ctx.cover("failover.rebuilt_over_committed");
        self.state.commit = self.state.commit.min(len);
        self.state.applied = 0;
        self.state.store = Default::default();
        true
    }

    /// A backup answered an Append.
    pub(super) fn on_append_response(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        epoch: u64,
        ok: bool,
        match_len: usize,
        sent_at: Time,
    ) {
        if self.cfg.mode.fenced() && epoch > self.d.epoch {
            self.observe_epoch(ctx, epoch);
            self.become_backup(ctx, None);
            return;
        }
        if self.state.role != Role::Primary {
            return;
        }
        let now = ctx.now();
        let len = self.d.log.len();
        let peer = &mut self.state.peers[from.index()];
        peer.last_ack = now;
        peer.acked_sent_at = peer.acked_sent_at.max(Some(sent_at));
        if ok {
            peer.match_len = peer.match_len.max(match_len.min(len));
            peer.next_len = peer.next_len.max(peer.match_len);
            if !peer.in_set && peer.match_len == len {
                peer.in_set = true;
                ctx.count("failover.backups_readded", 1);
                ctx.cover("failover.backup.readded");
            }
        } else {
            peer.next_len = match_len.min(len);
            peer.match_len = peer.match_len.min(peer.next_len);
        }
        let behind = self.state.peers[from.index()].next_len < len;
        self.maybe_renew_lease(ctx);
        self.maybe_commit(ctx);
        if !ok || behind {
            self.send_append(ctx, from);
        }
    }

    /// The primary's periodic duties: drop silent backups from the replica set (Naive,
    /// Fencing), step down without a majority for `timeout` (Quorum, as etcd's CheckQuorum),
    /// then heartbeat everyone.
    pub(super) fn on_heartbeat_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.now();
        let timeout = self.cfg.timeout.0;
        let me = self.me.index();
        match self.cfg.mode {
            Mode::Naive | Mode::Fencing => {
                for (i, p) in self.state.peers.iter_mut().enumerate() {
                    if i != me && p.in_set && now.saturating_since(p.last_ack) > timeout {
                        // What was sent optimistically was probably lost: resend from what
                        // the backup last confirmed once it answers again.
                        p.in_set = false;
                        p.next_len = p.match_len;
                        ctx.count("failover.backups_dropped", 1);
                        ctx.cover("failover.backup.dropped");
                    }
                }
            }
            Mode::Quorum => {
                if self.heard_majority(now) < self.majority()
                    && now.saturating_since(self.state.promoted_at) > timeout
                {
                    ctx.count("failover.quorum_lost", 1);
                    ctx.cover("failover.primary.quorum_lost");
                    self.become_backup(ctx, None);
                    return;
                }
            }
            Mode::Lease => {
                // A lone node is its own majority: nobody acks, so it renews on its tick.
                self.maybe_renew_lease(ctx);
            }
        }
        self.broadcast_append(ctx);
        self.maybe_commit(ctx);
    }

    /// Nodes heard within `timeout`, the primary included.
    fn heard_majority(&self, now: Time) -> usize {
        let timeout = self.cfg.timeout.0;
        1 + self
            .state
            .peers
            .iter()
            .enumerate()
            .filter(|&(i, p)| i != self.me.index() && now.saturating_since(p.last_ack) <= timeout)
            .count()
    }

    /// Lease mode: the lease runs `lease` from the newest send time that a majority (the
    /// primary included) has acknowledged, on the primary's own clock.
    pub(super) fn maybe_renew_lease(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        if self.cfg.mode != Mode::Lease || self.state.role != Role::Primary {
            return false;
        }
        let mut acked: Vec<Time> = (self.state.peers.iter().enumerate())
            .filter(|&(i, _)| i != self.me.index())
            .filter_map(|(_, p)| p.acked_sent_at)
            .collect();
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let need = self.majority() - 1;
        let start = if need == 0 {
            ctx.now()
        } else if let Some(&t) = acked.get(need - 1) {
            t
        } else {
            return false;
        };
        let until = start + self.cfg.lease.0;
        if self.state.lease_until.is_some_and(|l| l >= until) {
            return false;
        }
        self.state.lease_until = Some(until);
        true
    }

    /// Lease mode: whether the lease holds now, on the local clock.
    fn lease_valid(&self, now: Time) -> bool {
        self.state.lease_until.is_some_and(|l| now < l)
    }

    /// Lease mode: a primary whose lease ran out (or that got none within `lease` of its
    /// promotion) steps down before doing anything else — this is what makes a primary
    /// resuming from a long pause harmless, as long as its clock did not drift beyond ρ.
    pub(super) fn maybe_expire_lease(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        if self.cfg.mode != Mode::Lease || self.state.role != Role::Primary {
            return false;
        }
        let now = ctx.now();
        let grace = self.state.promoted_at + self.cfg.lease.0;
        let deadline = self.state.lease_until.map_or(grace, |l| l.max(grace));
        if now < deadline {
            return false;
        }
        ctx.count("failover.lease_expired", 1);
        ctx.cover("failover.lease.expired");
        self.become_backup(ctx, None);
        true
    }

    /// Commits what the mode allows (see the module docs) and applies it.
    pub(super) fn maybe_commit(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        if self.state.role != Role::Primary {
            return false;
        }
        self.flush(ctx);
        let now = ctx.now();
        let len = self.d.log.len();
        // The primary's own copy counts only as far as it is durable.
        let own = self.synced_len();
        if self.cfg.mode == Mode::Lease && !self.lease_valid(now) {
            return false;
        }
        let me = self.me.index();
        let others = self
            .state
            .peers
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != me);
        let target = if !self.cfg.sync {
            own
        } else if self.cfg.mode.majority() {
            let mut matched: Vec<usize> = others.map(|(_, p)| p.match_len).collect();
            matched.push(own);
            matched.sort_unstable_by(|a, b| b.cmp(a));
            let copies = if self.cfg.bug == Some(FailoverBug::AckOneBackup) {
                2.min(matched.len())
            } else {
                self.majority()
            };
            matched[copies - 1]
        } else {
            let set: Vec<usize> = others
                .filter(|(_, p)| p.in_set)
                .map(|(_, p)| p.match_len)
                .collect();
            let min_backups = usize::from(self.cfg.mode == Mode::Fencing && self.n > 1);
            if set.len() < min_backups {
                return false;
            }
            set.into_iter().min().unwrap_or(len)
        };
        let target = target.min(own);
        if target <= self.state.commit || self.d.log[target - 1].epoch != self.state.epoch {
            return false;
        }
        self.state.commit = target;
        let rest = self.state.append_times.split_off(&target);
        let done = std::mem::replace(&mut self.state.append_times, rest);
        self.state.accepted += 1;
        self.state.accepted_appended = done.values().max().copied();
        self.apply(ctx);
        true
    }

    /// Applies committed entries to the store, answering the clients waiting on them.
    pub(super) fn apply(&mut self, ctx: &mut Context<'_, Self>) {
        while self.state.applied < self.state.commit {
            let idx = self.state.applied;
            self.state.applied += 1;
            let Some(req) = self.d.log[idx].request else {
                continue;
            };
            let applied = self.state.store.apply(&req);
            if let Some(client) = self.state.waiting.remove(&idx)
                && let Some(ret) = applied.ret()
            {
                ctx.reply(
                    client,
                    KvReply {
                        seq: req.seq,
                        result: KvResult::Ok(ret),
                    },
                );
            }
        }
    }

    /// Recomputes whether this node serves writes now (see `State::serving`).
    pub(super) fn refresh_serving(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.now();
        let s = &self.state;
        let own_committed = s.commit > s.first_own;
        self.state.serving = s.role == Role::Primary
            && own_committed
            && match self.cfg.mode {
                Mode::Naive => true,
                Mode::Fencing => {
                    self.n == 1
                        || (s.peers.iter().enumerate())
                            .any(|(i, p)| i != self.me.index() && p.in_set)
                }
                Mode::Quorum => self.heard_majority(now) >= self.majority(),
                Mode::Lease => self.lease_valid(now),
            };
    }
}
