//! One Raft server: its state, the `Protocol` implementation, the term rules applied to every
//! message in one place, role changes and elections (paper Fig. 2, §5.2 and §5.4.1; PreVote
//! and CheckQuorum from thesis §9.6 and §6.2, as etcd-io/raft arranges them).
//!
//! Persistence rule: `term`, `voted_for` and the log are written to the disk, and synced,
//! before any message that depends on them is sent (`storage.rs`). The `ForgetVote` known bug
//! skips persisting `voted_for`.

use super::config::{RaftBug, RaftConfig};
use super::log::{Command, RaftLog};
use super::replication::{PendingRead, Progress};
use crate::kv::{KvReply, KvRequest, KvStore};
use serde::{Deserialize, Serialize};
use sim::rng::uniform_u64;
use sim::{ClientId, Context, NodeId, Protocol, Time, TimerId};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A server's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking whether a majority would vote, without raising the term (PreVote).
    PreCandidate,
    /// Campaigning in its current term.
    Candidate,
    /// Leads its current term.
    Leader,
}

/// A state-machine snapshot: everything applied up to `index` (paper §7).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last index it covers.
    pub index: u64,
    /// The term of that entry.
    pub term: u64,
    /// The KV store (with client sessions) after applying up to `index`.
    pub store: KvStore,
}

/// Messages between servers (paper Fig. 2; `pre_vote` marks PreVote rounds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A (pre-)vote request; for a pre-vote `term` is the term the sender would campaign in.
    RequestVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        pre_vote: bool,
    },
    /// A (pre-)vote answer.
    RequestVoteResponse {
        term: u64,
        granted: bool,
        pre_vote: bool,
    },
    /// Log replication and heartbeat; `round` numbers heartbeat rounds for ReadIndex.
    AppendEntries {
        term: u64,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: Vec<(u64, Command)>,
        leader_commit: u64,
        round: u64,
    },
    /// The leader's snapshot, for a follower whose next entry was compacted away (paper
    /// §7, Fig. 13, in one message). `chain` is the digest of the prefix it covers.
    InstallSnapshot {
        term: u64,
        index: u64,
        snapshot_term: u64,
        chain: u64,
        store: KvStore,
    },
    /// The answer. On success `match_index` is the last index known to match the leader's
    /// log; on failure it is the `prev_log_index` refused (as etcd's `MsgAppResp` reuses its
    /// `Index`), so the leader can tell a stale rejection from a fresh one, and
    /// `conflict_term`/`conflict_index` let it skip back a whole term at a time (paper §5.3,
    /// "the follower can include the term of the conflicting entry and the first index it
    /// stores for that term").
    AppendEntriesResponse {
        term: u64,
        success: bool,
        match_index: u64,
        conflict_term: Option<u64>,
        conflict_index: u64,
        round: u64,
    },
}

/// Timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timer {
    /// No leader heard from in time: campaign.
    Election,
    /// Leader: send heartbeats.
    Heartbeat,
    /// Leader with CheckQuorum: step down unless a majority was heard from.
    CheckQuorum,
}

/// A Raft server (volatile state; `RaftDurable` is what survives).
#[derive(Clone, Debug)]
pub struct Raft {
    pub(super) me: NodeId,
    pub(super) n: usize,
    /// currentTerm (mirrors durable storage).
    pub term: u64,
    /// votedFor (mirrors durable storage except under `ForgetVote`).
    pub voted_for: Option<NodeId>,
    /// The log (mirrors durable storage).
    pub log: RaftLog,
    /// The role.
    pub role: Role,
    /// The leader this server follows in `term`, if known.
    pub leader: Option<NodeId>,
    /// commitIndex.
    pub commit: u64,
    /// lastApplied.
    pub applied: u64,
    /// The state machine.
    pub store: KvStore,
    pub(super) votes: BTreeSet<NodeId>,
    /// Peers that answered this campaign (the others get the request again, §5.1: "servers
    /// retry RPCs if they do not receive a response in a timely manner").
    pub(super) responded: BTreeSet<NodeId>,
    pub(super) last_heard: Option<Time>,
    pub(super) election_timer: Option<TimerId>,
    pub(super) heartbeat_timer: Option<TimerId>,
    pub(super) check_timer: Option<TimerId>,
    pub(super) progress: BTreeMap<NodeId, Progress>,
    pub(super) recent_active: BTreeSet<NodeId>,
    /// Leader: log index -> (client, proposal time) awaiting a reply on apply.
    pub(super) pending: BTreeMap<u64, (ClientId, Time)>,
    pub(super) reads: Vec<PendingRead>,
    pub(super) round: u64,
    pub(super) round_start: BTreeMap<u64, Time>,
    pub(super) lease_until: Option<Time>,
    /// The latest snapshot (also on disk); the log's `offset` is its index.
    pub snapshot: Option<Snapshot>,
    /// Syncs pending and messages waiting for them.
    pub(super) disk: super::storage::DiskState,
    /// Why this server halted: its disk holds a record it cannot trust (see `storage.rs`).
    pub halted: Option<String>,
    /// The term this server restarted in (for coverage: a vote granted in that term).
    pub(super) restarted_in: Option<u64>,
}

impl Raft {
    fn new(ctx: &mut Context<'_, Self>) -> Raft {
        let d = super::storage::load(ctx);
        let (store, applied) = match &d.snapshot {
            Some(s) => (s.store.clone(), s.index),
            None => (KvStore::new(), 0),
        };
        let synced_index = d.log.last_index();
        let mut r = Raft {
            me: ctx.id(),
            n: ctx.node_count(),
            term: d.hard.term,
            voted_for: d.hard.voted_for,
            log: d.log,
            role: Role::Follower,
            leader: None,
            commit: applied,
            applied,
            store,
            votes: BTreeSet::new(),
            responded: BTreeSet::new(),
            last_heard: None,
            election_timer: None,
            heartbeat_timer: None,
            check_timer: None,
            progress: BTreeMap::new(),
            recent_active: BTreeSet::new(),
            pending: BTreeMap::new(),
            reads: Vec::new(),
            round: 0,
            round_start: BTreeMap::new(),
            lease_until: None,
            snapshot: d.snapshot,
            disk: super::storage::DiskState::new((synced_index, d.hard.term)),
            halted: d.damage,
            restarted_in: None,
        };
        if r.halted.is_some() {
            ctx.count("raft.halted_on_disk_damage", 1);
            ctx.cover("raft.disk.halted");
            return r;
        }
        r.reset_election_timer(ctx);
        r
    }

    /// The votes needed to win: a majority of the cluster.
    pub(super) fn quorum(&self) -> usize {
        self.n / 2 + 1
    }

    pub(super) fn cfg<'c>(ctx: &'c Context<'_, Self>) -> &'c RaftConfig {
        ctx.config()
    }

    pub(super) fn reset_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        if let Some(t) = self.election_timer.take() {
            ctx.cancel_timer(t);
        }
        let (lo, hi) = Self::cfg(ctx).election_timeout;
        let after = uniform_u64(ctx.rng(), lo.nanos(), hi.nanos());
        self.election_timer = Some(ctx.set_timer(Duration::from_nanos(after), Timer::Election));
    }

    fn cancel_leader_timers(&mut self, ctx: &mut Context<'_, Self>) {
        for t in [self.heartbeat_timer.take(), self.check_timer.take()]
            .into_iter()
            .flatten()
        {
            ctx.cancel_timer(t);
        }
    }

    /// Whether this server heard from a leader within the minimum election timeout (the
    /// "leader stickiness" that CheckQuorum and leases rely on, thesis §4.2.3).
    fn in_lease(&self, ctx: &Context<'_, Self>) -> bool {
        if self.role == Role::Leader {
            return true;
        }
        let min = Self::cfg(ctx).election_timeout.0.nanos();
        match (self.leader, self.last_heard) {
            (Some(_), Some(t)) => ctx.now().as_nanos().saturating_sub(t.as_nanos()) < min,
            _ => false,
        }
    }

    /// Steps down (or stays) as follower of `term`, following `leader` if known.
    pub(super) fn become_follower(
        &mut self,
        ctx: &mut Context<'_, Self>,
        term: u64,
        leader: Option<NodeId>,
    ) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.persist_meta(ctx);
        }
        self.cancel_leader_timers(ctx);
        if self.role == Role::Candidate && term == self.term && leader.is_some() {
            ctx.cover("raft.candidate.yielded_to_same_term_leader");
        }
        if self.role == Role::Leader {
            // Clients waiting here time out and retry elsewhere; sessions make that safe.
            self.pending.clear();
            self.reads.clear();
            self.lease_until = None;
        }
        self.role = Role::Follower;
        self.leader = leader;
        self.reset_election_timer(ctx);
    }

    fn become_pre_candidate(&mut self, ctx: &mut Context<'_, Self>) {
        self.role = Role::PreCandidate;
        self.leader = None;
        self.votes = BTreeSet::from([self.me]);
        ctx.count("raft.pre_votes", 1);
        self.reset_election_timer(ctx);
        self.request_votes(ctx, true);
    }

    fn become_candidate(&mut self, ctx: &mut Context<'_, Self>) {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.persist_meta(ctx);
        self.flush(ctx);
        self.role = Role::Candidate;
        self.leader = None;
        self.votes = BTreeSet::from([self.me]);
        ctx.count("raft.elections", 1);
        ctx.cover("raft.election.started");
        self.reset_election_timer(ctx);
        self.request_votes(ctx, false);
    }

    fn request_votes(&mut self, ctx: &mut Context<'_, Self>, pre_vote: bool) {
        if self.has_vote_quorum() {
            return self.on_quorum_of_votes(ctx, pre_vote);
        }
        self.responded.clear();
        self.resend_vote_requests(ctx);
    }

    /// Whether this campaign has a majority of votes. A candidate counts its own vote only once
    /// its new term and vote are durable: it asks for votes while its own write is still
    /// syncing (as LogCabin does; the requests depend on nothing durable), but must not lead on
    /// a vote a crash could take back. Pre-votes are not persisted.
    pub(super) fn has_vote_quorum(&self) -> bool {
        let own_durable = self.role == Role::PreCandidate || self.synced_term() >= self.term;
        let uncounted = usize::from(!own_durable && self.votes.contains(&self.me));
        self.votes.len() - uncounted >= self.quorum()
    }

    /// Sends the campaign's vote request to every peer that has not answered, and arms the
    /// retry (the heartbeat timer doubles as the retry timer while campaigning).
    pub(super) fn resend_vote_requests(&mut self, ctx: &mut Context<'_, Self>) {
        let pre_vote = self.role == Role::PreCandidate;
        let msg = Message::RequestVote {
            term: if pre_vote { self.term + 1 } else { self.term },
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            pre_vote,
        };
        let waiting: Vec<NodeId> = ctx
            .peers()
            .filter(|p| !self.responded.contains(p))
            .collect();
        for p in waiting {
            ctx.send(p, msg.clone());
        }
        if let Some(t) = self.heartbeat_timer.take() {
            ctx.cancel_timer(t);
        }
        let hb = Self::cfg(ctx).heartbeat.0;
        self.heartbeat_timer = Some(ctx.set_timer(hb, Timer::Heartbeat));
    }

    pub(super) fn on_quorum_of_votes(&mut self, ctx: &mut Context<'_, Self>, pre_vote: bool) {
        if pre_vote {
            self.become_candidate(ctx);
        } else {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Context<'_, Self>) {
        self.role = Role::Leader;
        self.leader = Some(self.me);
        if let Some(t) = self.election_timer.take() {
            ctx.cancel_timer(t);
        }
        ctx.count("raft.leaders", 1);
        ctx.cover("raft.leader.elected");
        let next = self.log.last_index() + 1;
        self.progress = ctx.peers().map(|p| (p, Progress::new(next))).collect();
        self.recent_active.clear();
        self.round_start.clear();
        // The no-op commits earlier terms' entries indirectly (paper §5.4.2, §8).
        let at = self.log.append(self.term, Command::Noop);
        self.persist_log(ctx, at);
        self.broadcast_append(ctx, true);
        if let Some(t) = self.heartbeat_timer.take() {
            ctx.cancel_timer(t);
        }
        let hb = Self::cfg(ctx).heartbeat.0;
        self.heartbeat_timer = Some(ctx.set_timer(hb, Timer::Heartbeat));
        if Self::cfg(ctx).check_quorum {
            let et = Self::cfg(ctx).election_timeout.0.0;
            self.check_timer = Some(ctx.set_timer(et, Timer::CheckQuorum));
        }
        self.maybe_commit(ctx);
    }

    /// Whether `(index, term)` is at least as up to date as this log (§5.4.1).
    fn log_ok(&self, ctx: &Context<'_, Self>, last_index: u64, last_term: u64) -> bool {
        if Self::cfg(ctx).has_bug(RaftBug::VoteWithoutLogCheck) {
            return true;
        }
        last_term > self.log.last_term()
            || (last_term == self.log.last_term() && last_index >= self.log.last_index())
    }

    fn on_request_vote(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        lli: u64,
        llt: u64,
        pre_vote: bool,
    ) {
        let log_ok = self.log_ok(ctx, lli, llt);
        let granted = if pre_vote {
            if term > self.term && log_ok && self.in_lease(ctx) {
                ctx.cover("raft.prevote.refused_leader_heard");
            }
            term > self.term && log_ok && !self.in_lease(ctx)
        } else {
            let free = self.voted_for.is_none() || self.voted_for == Some(from);
            if term == self.term && !free {
                ctx.cover("raft.vote.refused_already_voted");
            }
            term == self.term && free && log_ok
        };
        if term >= self.term && !log_ok {
            ctx.cover("raft.vote.refused_stale_log");
        }
        if granted && !pre_vote {
            ctx.cover("raft.vote.granted");
            if self.restarted_in == Some(self.term) {
                ctx.cover("raft.vote.granted_in_restart_term");
            }
            self.voted_for = Some(from);
            self.persist_meta(ctx);
            self.reset_election_timer(ctx);
        }
        let term = if granted && pre_vote { term } else { self.term };
        self.send_durable(
            ctx,
            from,
            Message::RequestVoteResponse {
                term,
                granted,
                pre_vote,
            },
        );
    }

    fn on_request_vote_response(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        term: u64,
        granted: bool,
        pre_vote: bool,
    ) {
        let (want_role, want_term) = if pre_vote {
            (Role::PreCandidate, self.term + 1)
        } else {
            (Role::Candidate, self.term)
        };
        if self.role != want_role || term != want_term {
            return;
        }
        self.responded.insert(from);
        if !granted {
            return;
        }
        self.votes.insert(from);
        if self.has_vote_quorum() {
            self.on_quorum_of_votes(ctx, pre_vote);
        }
    }

    /// The term rules of Fig. 2 ("If RPC request or response contains term T > currentTerm:
    /// set currentTerm = T, convert to follower"), in one place; returns false to drop.
    fn check_term(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: &Message) -> bool {
        let term = match *msg {
            Message::RequestVote { term, pre_vote, .. } => {
                if term > self.term && Self::cfg(ctx).leader_stickiness() && self.in_lease(ctx) {
                    // Ignore disruptive candidates while a leader is known (thesis §4.2.3).
                    ctx.count("raft.votes_ignored", 1);
                    ctx.cover("raft.vote.ignored_leader_heard");
                    return false;
                }
                if pre_vote {
                    return true;
                }
                term
            }
            Message::RequestVoteResponse {
                term,
                granted,
                pre_vote,
            } => {
                if pre_vote && granted {
                    return true;
                }
                term
            }
            Message::AppendEntries { term, .. }
            | Message::AppendEntriesResponse { term, .. }
            | Message::InstallSnapshot { term, .. } => term,
        };
        if term > self.term {
            let from_leader = matches!(
                msg,
                Message::AppendEntries { .. } | Message::InstallSnapshot { .. }
            );
            let leader = from_leader.then_some(from);
            if self.role == Role::Leader {
                ctx.cover("raft.leader.deposed_by_higher_term");
            }
            self.become_follower(ctx, term, leader);
        }
        true
    }
}

impl Protocol for Raft {
    type Config = RaftConfig;
    type Message = Message;
    type Timer = Timer;
    type Request = KvRequest;
    type Reply = KvReply;
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        Raft::new(ctx)
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        ctx.count("raft.recoveries", 1);
        let mut r = Raft::new(ctx);
        r.restarted_in = Some(r.term);
        if r.log.last_index() > r.log.offset() {
            ctx.cover("raft.recovered_with_log");
        }
        if r.log.offset() > 0 {
            ctx.cover("raft.recovered_from_snapshot");
        }
        r
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        if self.halted.is_some() {
            return;
        }
        self.handle_message(ctx, from, msg);
        self.flush(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        if self.halted.is_some() {
            return;
        }
        self.handle_timer(ctx, timer);
        self.flush(ctx);
    }

    fn on_client_request(&mut self, ctx: &mut Context<'_, Self>, client: ClientId, req: KvRequest) {
        if self.halted.is_some() {
            return;
        }
        self.on_kv_request(ctx, client, req);
        self.flush(ctx);
    }

    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: sim::SyncId, ok: bool) {
        if self.halted.is_some() {
            return;
        }
        self.on_sync(ctx, id, ok);
        self.flush(ctx);
    }

    fn leader_term(&self) -> Option<u64> {
        (self.role == Role::Leader).then_some(self.term)
    }

    /// Role, term, commit index, last log index and the leader it follows.
    fn annotate(&self, _: &Self::Durable, out: &mut sim::Annotations) {
        out.set(
            "role",
            match self.role {
                _ if self.halted.is_some() => "halted",
                Role::Follower => "follower",
                Role::PreCandidate => "pre-candidate",
                Role::Candidate => "candidate",
                Role::Leader => "leader",
            },
        );
        out.set("term", self.term);
        out.set("commit", self.commit);
        out.set("last_index", self.log.last_index());
        out.set_opt("leader", self.leader);
    }
}

impl Raft {
    fn handle_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        if !self.check_term(ctx, from, &msg) {
            return;
        }
        if self.role == Role::Leader {
            self.recent_active.insert(from);
        }
        match msg {
            Message::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote,
            } => self.on_request_vote(ctx, from, term, last_log_index, last_log_term, pre_vote),
            Message::RequestVoteResponse {
                term,
                granted,
                pre_vote,
            } => self.on_request_vote_response(ctx, from, term, granted, pre_vote),
            Message::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            } => self.on_append_entries(
                ctx,
                from,
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            ),
            Message::AppendEntriesResponse {
                term,
                success,
                match_index,
                conflict_term,
                conflict_index,
                round,
            } => self.on_append_entries_response(
                ctx,
                from,
                term,
                success,
                match_index,
                conflict_term,
                conflict_index,
                round,
            ),
            Message::InstallSnapshot {
                term,
                index,
                snapshot_term,
                chain,
                store,
            } => self.on_install_snapshot(ctx, from, term, index, snapshot_term, chain, store),
        }
    }

    fn handle_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => {
                self.election_timer = None;
                if self.role == Role::Leader {
                    return;
                }
                if Self::cfg(ctx).pre_vote {
                    self.become_pre_candidate(ctx);
                } else {
                    self.become_candidate(ctx);
                }
            }
            Timer::Heartbeat => {
                self.heartbeat_timer = None;
                if matches!(self.role, Role::Candidate | Role::PreCandidate) {
                    self.resend_vote_requests(ctx);
                } else if self.role == Role::Leader {
                    self.broadcast_append(ctx, true);
                    let hb = Self::cfg(ctx).heartbeat.0;
                    self.heartbeat_timer = Some(ctx.set_timer(hb, Timer::Heartbeat));
                }
            }
            Timer::CheckQuorum => {
                if self.role != Role::Leader {
                    return;
                }
                if self.recent_active.len() + 1 < self.quorum() {
                    ctx.count("raft.check_quorum_step_downs", 1);
                    ctx.cover("raft.leader.lost_quorum");
                    let term = self.term;
                    self.become_follower(ctx, term, None);
                    return;
                }
                self.recent_active.clear();
                let et = Self::cfg(ctx).election_timeout.0.0;
                self.check_timer = Some(ctx.set_timer(et, Timer::CheckQuorum));
            }
        }
    }
}
