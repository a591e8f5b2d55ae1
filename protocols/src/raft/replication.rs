//! Log replication, commitment, application and client requests (paper Fig. 2
//! "AppendEntries RPC" and "Rules for Servers"; reads from thesis §6.4).
//!
//! Invariants kept here: a follower answers success only after the sync of its entries
//! completed (unless the `AckBeforeSync` known bug is on); a
//! leader counts replicas only for entries of its own term (§5.4.2) unless the
//! `CommitPreviousTerm` known bug is on; `applied <= commit` and both only grow while the
//! server is up.

use super::config::{RaftBug, ReadMode};
use super::log::Command;
use super::node::{Message, Raft, Role};
use crate::kv::{KvReply, KvRequest, KvResult, Ret};
use sim::{ClientId, Context, NodeId, Time};
use std::collections::VecDeque;

/// What a leader knows about one follower.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// nextIndex: the next entry to send.
    pub next: u64,
    /// matchIndex: the highest entry known replicated.
    pub matched: u64,
    /// The last index of each AppendEntries with entries sent and not yet acknowledged, oldest
    /// first (flow control: at most `max_inflight`, one while probing). An acknowledgement of
    /// index `m` frees every message ending at or before `m`, so a duplicated or reordered
    /// reply frees nothing twice; a rejection empties it.
    pub inflight: VecDeque<u64>,
    /// Probing (etcd's probe state): the leader does not know where the follower's log
    /// matches, so it sends one message at a time without advancing `next`, until a success.
    /// Otherwise it replicates: `next` advances past every message sent (pipelining).
    pub probing: bool,
    /// The highest heartbeat round this follower answered in the current term.
    pub round: u64,
}

impl Progress {
    /// A fresh follower record after an election.
    pub fn new(next: u64) -> Progress {
        Progress {
            next,
            matched: 0,
            inflight: VecDeque::new(),
            probing: true,
            round: 0,
        }
    }
}

/// A read waiting for ReadIndex confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRead {
    /// Who asked.
    pub client: ClientId,
    /// What.
    pub req: KvRequest,
    /// The heartbeat round that must be acknowledged by a majority.
    pub round: u64,
    /// `commitIndex` when the read may be served (known once the term's no-op committed).
    pub read_index: Option<u64>,
}

impl Raft {
    /// Sends AppendEntries to every follower; `heartbeat` starts a new round, and every
    /// follower gets a message even when its window is full: a probe at `nextIndex - 1`, whose
    /// rejection backs the leader up when entries sent optimistically were lost.
    pub(super) fn broadcast_append(&mut self, ctx: &mut Context<'_, Self>, heartbeat: bool) {
        if heartbeat {
            self.round += 1;
            self.round_start.insert(self.round, ctx.now());
            if self.round_start.len() > 64 {
                self.round_start.pop_first();
            }
        }
        let peers: Vec<NodeId> = self.progress.keys().copied().collect();
        for p in peers {
            self.send_append(ctx, p, heartbeat);
        }
    }

    /// Sends one AppendEntries to `to`, with entries if flow control allows; `always` sends
    /// even when there is nothing new (a heartbeat or a probe).
    ///
    /// Replication is pipelined optimistically (thesis §10.2.1): once the follower's log is
    /// known to match, sending entries advances `nextIndex` past them at once, so the next
    /// message carries only entries appended since and each entry normally reaches each
    /// follower once. If a message is lost or reordered, the follower rejects a later one (its
    /// log has a gap) and the leader goes back to probing from where the follower's log ends.
    pub(super) fn send_append(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, always: bool) {
        let max_entries = Self::cfg(ctx).max_entries_per_message;
        let max_inflight = Self::cfg(ctx).max_inflight as usize;
        let last = self.log.last_index();
        let offset = self.log.offset();
        let pr = self.progress.get_mut(&to).expect("peer");
        let window = if pr.probing { 1 } else { max_inflight };
        let may_send = pr.inflight.len() < window;
        if pr.next <= offset {
            // Compacted away: the snapshot, answered like a probe.
            if always || may_send {
                pr.probing = true;
                pr.inflight.push_back(offset);
                self.send_snapshot(ctx, to);
            }
            return;
        }
        let has_new = pr.next <= last;
        if !(always || has_new && may_send) {
            return;
        }
        let prev = pr.next - 1;
        let entries: Vec<(u64, Command)> = if may_send {
            self.log
                .slice(pr.next, prev + max_entries)
                .iter()
                .map(|e| (e.term, e.command))
                .collect()
        } else {
            Vec::new()
        };
        if entries.is_empty() {
            ctx.count("raft.heartbeats", 1);
        } else {
            let end = prev + entries.len() as u64;
            pr.inflight.push_back(end);
            if !pr.probing {
                pr.next = end + 1;
            }
            ctx.count("raft.append_msgs", 1);
            ctx.count("raft.entries_sent", entries.len() as u64);
        }
        let msg = Message::AppendEntries {
            term: self.term,
            prev_log_index: prev,
            prev_log_term: self.log.term_at(prev).expect("nextIndex within the log"),
            entries,
            leader_commit: self.commit,
            round: self.round,
        };
        ctx.send(to, msg);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append_entries(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<(u64, Command)>,
        leader_commit: u64,
        round: u64,
    ) {
        let reply = |success, match_index, conflict_term, conflict_index, t| {
            Message::AppendEntriesResponse {
                term: t,
                success,
                match_index,
                conflict_term,
                conflict_index,
                round,
            }
        };
        if term < self.term {
            self.send_durable(ctx, from, reply(false, 0, None, 0, self.term));
            return;
        }
        if self.role != Role::Follower || self.leader != Some(from) {
            self.become_follower(ctx, term, Some(from));
        } else {
            self.reset_election_timer(ctx);
        }
        self.last_heard = Some(ctx.now());
        // A rejection names the index asked about, before any adjustment below.
        let asked = prev_index;
        // Entries the snapshot already covers are committed here: skip them.
        let skip = self
            .log
            .offset()
            .saturating_sub(prev_index)
            .min(entries.len() as u64);
        if skip > 0 {
            ctx.cover("raft.append.overlaps_snapshot");
        }
        let (prev_index, prev_term, entries) = if skip > 0 {
            let p = prev_index + skip;
            // The leader's own term for that entry, so the check below still compares.
            let t = entries[skip as usize - 1].0;
            (p, t, entries[skip as usize..].to_vec())
        } else {
            (prev_index, prev_term, entries)
        };
        match self.log.term_at(prev_index) {
            None if prev_index < self.log.offset() => {
                // Everything sent is inside the snapshot.
                let m = self.log.offset();
                self.send_durable(ctx, from, reply(true, m, None, 0, self.term));
                return;
            }
            None => {
                let ci = self.log.last_index() + 1;
                self.send_durable(ctx, from, reply(false, asked, None, ci, self.term));
                return;
            }
            Some(t) if t != prev_term => {
                let ci = self.log.first_index_of_term(t, prev_index);
                self.send_durable(ctx, from, reply(false, asked, Some(t), ci, self.term));
                return;
            }
            Some(_) => {}
        }
        let mut changed_from = None;
        for (i, &(t, c)) in entries.iter().enumerate() {
            let idx = prev_index + 1 + i as u64;
            match self.log.term_at(idx) {
                Some(have) if have == t => continue,
                Some(_) if Self::cfg(ctx).has_bug(RaftBug::NoTruncate) => {
                    self.log.overwrite(idx, t, c);
                }
                Some(_) if Self::cfg(ctx).has_bug(RaftBug::StaleDigests) => {
                    self.log.overwrite_stale(idx, t, c);
                }
                Some(_) => {
                    ctx.cover("raft.truncate.conflict");
                    if idx <= self.commit {
                        ctx.cover("raft.truncate.at_or_below_commit");
                    }
                    self.log.truncate_from(idx);
                    self.log.append(t, c);
                }
                None => {
                    self.log.append(t, c);
                }
            }
            changed_from.get_or_insert(idx);
        }
        if let Some(from_idx) = changed_from {
            self.persist_log(ctx, from_idx);
        }
        let last_new = prev_index + entries.len() as u64;
        if !entries.is_empty() && changed_from.is_none() {
            ctx.cover("raft.append.already_had_entries");
        }
        if leader_commit > last_new && last_new > self.commit {
            ctx.cover("raft.commit.follower_capped_at_last_new");
        }
        if leader_commit > self.commit {
            self.commit = self.commit.max(leader_commit.min(last_new));
            self.apply(ctx);
        }
        if !entries.is_empty() {
            ctx.count("raft.append_replies", 1);
        }
        let ack = reply(true, last_new, None, 0, self.term);
        if Self::cfg(ctx).has_bug(RaftBug::AckBeforeSync) {
            // Known bug: the acknowledgement leaves before the entries are durable.
            self.flush(ctx);
            ctx.send(from, ack);
        } else {
            self.send_durable(ctx, from, ack);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append_entries_response(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        success: bool,
        match_index: u64,
        conflict_term: Option<u64>,
        conflict_index: u64,
        round: u64,
    ) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let last = self.log.last_index();
        let pr = self.progress.get_mut(&from).expect("peer");
        pr.round = pr.round.max(round);
        // Only a response that tells the leader something new moves flow control: a
        // duplicated or stale one (datagram links duplicate and reorder) frees no window slot
        // (the slots it acknowledges are gone already) and so sends nothing, or every
        // duplicate would start one more request/response chain and their number would grow
        // without bound.
        if success {
            pr.matched = pr.matched.max(match_index);
            while pr.inflight.front().is_some_and(|&i| i <= pr.matched) {
                pr.inflight.pop_front();
            }
            if pr.probing {
                // The logs match up to `matched`: replicate, counting what is still in
                // flight as sent.
                pr.probing = false;
                pr.next = pr
                    .inflight
                    .back()
                    .map_or(pr.matched, |&i| i.max(pr.matched))
                    + 1;
            }
            pr.next = pr.next.max(pr.matched + 1);
        } else {
            // On a rejection `match_index` is the `prev_log_index` refused. It is news only
            // if the follower was not known to match there and, while probing, if it answers
            // the probe now out; otherwise it is a duplicate or answers an older message.
            let rejected = match_index;
            if rejected <= pr.matched || pr.probing && rejected + 1 != pr.next {
                ctx.cover("raft.stale_rejection_ignored");
                return;
            }
            // Fast back-tracking: skip the follower's whole conflicting term.
            let next = match conflict_term.and_then(|t| self.log.last_index_of_term(t)) {
                Some(i) => i + 1,
                None => conflict_index,
            };
            ctx.cover("raft.follower_backtracked");
            pr.next = next.min(rejected).clamp(pr.matched + 1, last + 1);
            pr.probing = true;
            pr.inflight.clear();
        }
        let more = pr.next <= last;
        if success {
            self.maybe_commit(ctx);
            self.maybe_serve_reads(ctx);
            self.maybe_extend_lease(ctx);
        }
        if more || !success {
            self.send_append(ctx, from, !success);
        }
    }

    /// Advances `commit` to the highest index replicated on a majority whose entry is of the
    /// current term (§5.4.2); returns whether it moved.
    pub(super) fn maybe_commit(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        self.flush(ctx);
        let any_term = Self::cfg(ctx).has_bug(RaftBug::CommitPreviousTerm);
        let mut n = self.log.last_index();
        while n > self.commit {
            let term_ok = any_term || self.log.term_at(n) == Some(self.term);
            // The leader counts itself only for entries it knows are durable.
            let me = usize::from(self.synced_index() >= n);
            let replicas = me + self.progress.values().filter(|p| p.matched >= n).count();
            if term_ok && replicas >= self.quorum() {
                break;
            }
            if replicas >= self.quorum() {
                // Figure 8: replicated on a majority, but of an earlier term.
                ctx.cover("raft.commit.earlier_term_refused");
            }
            n -= 1;
        }
        if n <= self.commit {
            return false;
        }
        if self.log.term_at(n) != Some(self.term) {
            // Only a leader counting an earlier term's replicas gets here (Fig. 8).
            ctx.cover("raft.commit.earlier_term_entry_counted");
        }
        self.commit = n;
        self.apply(ctx);
        // Followers learn the new commit index with the next message; sending now shortens
        // commit latency on followers (which serve nothing but must stay close behind).
        self.maybe_serve_reads(ctx);
        true
    }

    /// Applies committed entries in order; a leader replies to clients it proposed for.
    pub(super) fn apply(&mut self, ctx: &mut Context<'_, Self>) {
        while self.applied < self.commit {
            self.applied += 1;
            let e = *self.log.get(self.applied).expect("committed entries exist");
            let Command::Kv(req) = e.command else {
                continue;
            };
            let out = self.store.apply(&req);
            if let Some((client, at)) = self.pending.remove(&self.applied) {
                let lat = ctx.now().as_nanos().saturating_sub(at.as_nanos());
                ctx.sample("raft.commit_latency_ms", lat as f64 / 1e6);
                let result = match out.ret() {
                    Some(r) => KvResult::Ok(r),
                    None => KvResult::Fail,
                };
                if client == req.client {
                    ctx.reply(
                        client,
                        KvReply {
                            seq: req.seq,
                            result,
                        },
                    );
                }
            }
        }
        self.maybe_snapshot(ctx);
    }

    /// A client request reached this server.
    pub(super) fn on_kv_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        req: KvRequest,
    ) {
        if self.role != Role::Leader {
            let result = KvResult::NotLeader { hint: self.leader };
            ctx.reply(
                client,
                KvReply {
                    seq: req.seq,
                    result,
                },
            );
            return;
        }
        let mode = Self::cfg(ctx).reads;
        if req.op.is_read() && mode != ReadMode::Log {
            if Self::cfg(ctx).has_bug(RaftBug::LocalReads) {
                self.reply_from_local_state(ctx, client, &req);
                return;
            }
            if mode == ReadMode::Lease && !self.lease_valid(ctx) {
                ctx.cover("raft.read.lease_expired");
            }
            if mode == ReadMode::Lease && self.lease_valid(ctx) && self.term_committed() {
                ctx.count("raft.lease_reads", 1);
                ctx.cover("raft.read.lease_served");
                self.reply_from_local_state(ctx, client, &req);
                return;
            }
            // ReadIndex (thesis §6.4): a heartbeat round started after the read arrived
            // confirms leadership. Reads are batched: while a round is out for earlier reads,
            // new ones wait for the next round, started when that one is confirmed (or by the
            // heartbeat timer), so one round serves every read waiting when it starts.
            let read_index = self.term_committed().then_some(self.commit);
            if read_index.is_none() {
                ctx.cover("raft.read.waits_for_term_commit");
            }
            let confirmed = self.quorum_round();
            let round_out = self.reads.iter().any(|r| r.round > confirmed);
            self.reads.push(PendingRead {
                client,
                req,
                round: self.round + 1,
                read_index,
            });
            if round_out {
                ctx.cover("raft.read.batched");
            } else {
                self.broadcast_append(ctx, true);
            }
            self.maybe_serve_reads(ctx);
            return;
        }
        let idx = self.log.append(self.term, Command::Kv(req));
        self.persist_log(ctx, idx);
        self.pending.insert(idx, (client, ctx.now()));
        let peers: Vec<NodeId> = self.progress.keys().copied().collect();
        for p in peers {
            self.send_append(ctx, p, false);
        }
        self.maybe_commit(ctx);
    }

    /// Whether an entry of the current term has committed (ReadIndex step 1).
    fn term_committed(&self) -> bool {
        self.log.term_at(self.commit) == Some(self.term)
    }

    /// The heartbeat rounds a majority has answered: the highest such round.
    fn quorum_round(&self) -> u64 {
        let mut rounds: Vec<u64> = self.progress.values().map(|p| p.round).collect();
        rounds.push(self.round); // The leader itself.
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        rounds[self.quorum() - 1]
    }

    /// Serves ReadIndex reads whose round a majority confirmed and whose index is applied.
    pub(super) fn maybe_serve_reads(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        if self.reads.is_empty() {
            return false;
        }
        let confirmed = self.quorum_round();
        let committed = self.term_committed();
        let commit = self.commit;
        let mut served = false;
        let mut keep = Vec::with_capacity(self.reads.len());
        for mut r in std::mem::take(&mut self.reads) {
            if r.read_index.is_none() && committed {
                r.read_index = Some(commit);
            }
            match r.read_index {
                Some(ri) if r.round <= confirmed && self.applied >= ri => {
                    ctx.cover("raft.read.index_served");
                    let ret = Ret::Get(self.store.read(r.req.key));
                    ctx.reply(
                        r.client,
                        KvReply {
                            seq: r.req.seq,
                            result: KvResult::Ok(ret),
                        },
                    );
                    served = true;
                }
                _ => keep.push(r),
            }
        }
        self.reads = keep;
        // Reads that arrived while the last round was out start the next one once it is in.
        if confirmed >= self.round && self.reads.iter().any(|r| r.round > self.round) {
            self.broadcast_append(ctx, true);
        }
        served
    }

    /// Lease reads: once a majority answered a round sent at `start`, no other leader can be
    /// elected before `start + electionTimeoutMin / clock_drift_bound` by this server's clock,
    /// because voters ignore candidates for an election timeout after hearing from us
    /// (thesis §6.4.1). The assumption is that no clock runs faster than `clock_drift_bound`
    /// times another; a larger drift makes these reads stale.
    fn maybe_extend_lease(&mut self, ctx: &mut Context<'_, Self>) {
        if Self::cfg(ctx).reads != ReadMode::Lease {
            return;
        }
        let r = self.quorum_round();
        if let Some(&start) = self.round_start.get(&r) {
            let min = Self::cfg(ctx).election_timeout.0.nanos() as f64;
            let lease = (min / Self::cfg(ctx).clock_drift_bound) as u64;
            let until = Time(start.as_nanos() + lease);
            if self.lease_until.is_none_or(|u| u < until) {
                self.lease_until = Some(until);
            }
        }
    }

    /// Answers a read from this server's own state machine, without a round trip (lease
    /// reads, and the `LocalReads` bug that skips the lease).
    fn reply_from_local_state(
        &self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        req: &KvRequest,
    ) {
        let ret = Ret::Get(self.store.read(req.key));
        ctx.reply(
            client,
            KvReply {
                seq: req.seq,
                result: KvResult::Ok(ret),
            },
        );
    }

    fn lease_valid(&self, ctx: &Context<'_, Self>) -> bool {
        self.lease_until.is_some_and(|u| ctx.now() < u)
    }
}
