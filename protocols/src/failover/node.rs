//! One failover node: its durable and volatile state, its messages and timers, role changes
//! (`become_primary`, `become_backup`, `become_candidate`), failure detection and promotion.
//!
//! Roles: a `Backup` follows the primary whose Append it accepted last; every `heartbeat` it
//! checks how long it has heard nothing. Past `suspect_after` plus its rank delay it promotes
//! at once (Naive, Fencing: only if the last Append still listed it in the replica set, so a
//! backup that fell behind never takes over) or becomes a `Candidate` asking every node for a
//! grant (Lease, Quorum). A node grants at most one candidate per epoch, never while it hears
//! a primary (the lease rule of docs/references.md §5.4, and Raft's CheckQuorum vote-ignoring), and
//! only to a log at least as up to date as its own (Raft §5.4.1). Epochs, grants and the log
//! are on the node's disk and synced before any message that depends on them (`storage.rs`).
//!
//! Invariant asserted here (on every primary tick): a primary's stint epoch is the epoch it
//! persisted, and stays so while it remains primary.

use super::{FailoverConfig, Mode};
use crate::kv::{KvRequest, KvStore};
use sim::{ClientId, Context, NodeId, Protocol, Time};
use std::collections::{BTreeMap, BTreeSet};

/// One log entry: the epoch of the primary that appended it, and the request (`None` is the
/// no-op a new primary appends to commit something of its own epoch, Raft §5.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The epoch the entry was appended in.
    pub epoch: u64,
    /// The client request, or `None` for a promotion no-op.
    pub request: Option<KvRequest>,
}

/// What the node keeps on its disk (`storage.rs`), as it last wrote it: the in-memory copy.
/// `FailoverNode::durable_log` is the part of the log a crash cannot take back.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Durable {
    /// The highest epoch this node has seen (its fencing token).
    pub epoch: u64,
    /// The candidate this node granted in `epoch`, if any (Lease, Quorum).
    pub granted: Option<(u64, NodeId)>,
    /// The replicated log.
    pub log: Vec<Entry>,
}

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Message {
    /// Replication and heartbeat from a primary: entries after `prev_len` (empty for a pure
    /// heartbeat). `sent_at` is the primary's local send time, echoed for its lease.
    Append {
        epoch: u64,
        replicas: u64,
        prev_len: usize,
        prev_epoch: u64,
        entries: Vec<Entry>,
        commit: usize,
        sent_at: Time,
    },
    /// A backup's answer: `ok` with the length it now matches, or a hint where to resume.
    AppendResponse {
        epoch: u64,
        ok: bool,
        match_len: usize,
        sent_at: Time,
    },
    /// A fenced replica refused a message carrying a lower epoch.
    Stale { epoch: u64, primary: Option<NodeId> },
    /// A candidate asks for a grant in `epoch`.
    RequestPromotion {
        epoch: u64,
        last_epoch: u64,
        log_len: usize,
    },
    /// The answer to a promotion request.
    PromotionResponse { epoch: u64, granted: bool },
}

/// Timers: one periodic tick drives heartbeats (primary) and failure detection (others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Timer {
    /// Every `heartbeat`.
    Tick,
}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows a primary.
    Backup,
    /// Asks for grants to become primary (Lease, Quorum).
    Candidate,
    /// Serves clients and replicates.
    Primary,
}

/// What the primary knows about one backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The log length known to match the primary's.
    pub match_len: usize,
    /// Where the next Append starts.
    pub next_len: usize,
    /// Local time of the last answer from this backup.
    pub last_ack: Time,
    /// The newest `sent_at` it acknowledged (for the lease).
    pub acked_sent_at: Option<Time>,
    /// Whether commits wait for it (Naive, Fencing).
    pub in_set: bool,
}

/// Volatile state (rebuilt from `Durable` on restart). `Clone + Eq + Debug` so it can be
/// snapshotted and compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Backup, candidate or primary.
    pub role: Role,
    /// The epoch of its current stint as primary (meaningful while primary).
    pub epoch: u64,
    /// The primary this node follows (itself when primary).
    pub primary: Option<NodeId>,
    /// Local time of the last Append accepted from a primary (or of the last grant given).
    pub last_heard: Time,
    /// Whether the last Append listed this node in the replica set, and that set.
    pub in_replica_set: bool,
    pub replicas: u64,
    /// Entries known committed.
    pub commit: usize,
    /// Entries applied to `store`.
    pub applied: usize,
    pub store: KvStore,
    /// Candidate: when the candidacy started, and the grants so far.
    pub candidacy_at: Time,
    pub grants: BTreeSet<NodeId>,
    /// Primary: one entry per node (its own unused), clients waiting per log index, the
    /// lease end on the local clock, the promotion time, the index of its no-op.
    pub peers: Vec<Peer>,
    pub waiting: BTreeMap<usize, ClientId>,
    pub lease_until: Option<Time>,
    pub promoted_at: Time,
    pub first_own: usize,
    /// Whether it can commit writes right now (primary with its own no-op committed and the
    /// mode's condition: lease valid, majority or a backup heard within `timeout`).
    pub serving: bool,
    /// Observation only, never read by the protocol: how many commit steps it made as
    /// primary, and the latest true time at which one of the entries just committed (of its
    /// own epoch) was appended.
    pub accepted: u64,
    pub accepted_appended: Option<Time>,
    /// Observation only: true append times of own-epoch entries not yet committed.
    pub append_times: BTreeMap<usize, Time>,
    /// Observation only: how many times this node suspected its primary.
    pub detections: u64,
}

/// A failover node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverNode {
    pub(super) cfg: FailoverConfig,
    pub(super) me: NodeId,
    pub(super) n: usize,
    pub state: State,
    /// Epoch, grant and log as written to the disk.
    pub d: Durable,
    pub(super) disk: super::storage::DiskState,
    /// A Naive or Fencing promotion waiting for its epoch to be durable.
    pub(super) promote_in: Option<u64>,
    /// Why this node halted: its disk holds a record it cannot trust.
    pub halted: Option<String>,
}

impl FailoverNode {
    /// The node's role.
    pub fn role(&self) -> Role {
        self.state.role
    }

    /// Whether it serves writes right now (see `State::serving`).
    pub fn serving(&self) -> bool {
        self.state.serving
    }

    /// How many commit steps it has made as primary (observation counter).
    pub fn accepted(&self) -> u64 {
        self.state.accepted
    }

    /// The true append time of the newest own-epoch entry in its last commit step.
    pub fn accepted_appended(&self) -> Option<Time> {
        self.state.accepted_appended
    }

    /// How many times it suspected its primary.
    pub fn detections(&self) -> u64 {
        self.state.detections
    }

    /// Nodes needed for a majority.
    pub(super) fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    fn new(ctx: &mut Context<'_, Self>) -> FailoverNode {
        let cfg = ctx.config().clone();
        let n = ctx.node_count();
        let now = ctx.now();
        let mut found = super::storage::replay(ctx.disk());
        // Epoch 1 and its primary (node 0) are configuration: every node starts in it, so a
        // restart before that write was synced still knows it, and never promotes into it.
        found.durable.epoch = found.durable.epoch.max(1);
        if found.damage.is_some() {
            ctx.count("failover.halted_on_disk_damage", 1);
            ctx.cover("failover.disk.halted");
        }
        FailoverNode {
            disk: super::storage::DiskState::new((
                found.durable.log.len() as u64,
                found.durable.epoch,
            )),
            promote_in: None,
            d: found.durable,
            halted: found.damage,
            cfg,
            me: ctx.id(),
            n,
            state: State {
                role: Role::Backup,
                epoch: 0,
                primary: None,
                last_heard: now,
                in_replica_set: true,
                replicas: u64::MAX,
                commit: 0,
                applied: 0,
                store: KvStore::new(),
                candidacy_at: now,
                grants: BTreeSet::new(),
                peers: Vec::new(),
                waiting: BTreeMap::new(),
                lease_until: None,
                promoted_at: now,
                first_own: 0,
                serving: false,
                accepted: 0,
                accepted_appended: None,
                append_times: BTreeMap::new(),
                detections: 0,
            },
        }
    }

    /// Adopts a higher epoch (persisted first: it is a fencing token).
    pub(super) fn observe_epoch(&mut self, ctx: &mut Context<'_, Self>, epoch: u64) {
        if epoch > self.d.epoch {
            self.d.epoch = epoch;
            self.persist_meta(ctx);
        }
    }

    /// Becomes a backup following `primary` (if known). Clients waiting on this node are
    /// dropped: their writes may still commit under the next primary, so they must time out
    /// and retry rather than be told anything.
    pub(super) fn become_backup(&mut self, ctx: &mut Context<'_, Self>, primary: Option<NodeId>) {
        let s = &mut self.state;
        if s.role == Role::Primary {
            ctx.count("failover.step_downs", 1);
            ctx.cover("failover.primary.stepped_down");
        }
        s.role = Role::Backup;
        s.primary = primary.filter(|&p| p != self.me);
        s.peers.clear();
        s.waiting.clear();
        s.append_times.clear();
        s.lease_until = None;
        s.grants.clear();
        s.serving = false;
    }

    /// Becomes primary in the durable epoch: resets replication progress and appends a no-op
    /// so that something of its own epoch can commit (Raft §5.4.2).
    pub(super) fn become_primary(&mut self, ctx: &mut Context<'_, Self>) {
        let epoch = self.d.epoch;
        let now = ctx.now();
        let len = self.d.log.len();
        let s = &mut self.state;
        // The replica set starts as the last one this node was told of, minus the primary it
        // replaces: waiting for a dead primary's acks would add a timeout to every failover.
        let (old, replicas) = (s.primary.filter(|&p| p != self.me), s.replicas);
        s.role = Role::Primary;
        s.epoch = epoch;
        s.primary = Some(self.me);
        s.promoted_at = now;
        s.lease_until = None;
        s.grants.clear();
        s.waiting.clear();
        s.peers = (0..self.n as u32)
            .map(|i| Peer {
                match_len: 0,
                next_len: len,
                last_ack: now,
                acked_sent_at: None,
                in_set: Some(NodeId(i)) != old && replicas & (1 << i) != 0,
            })
            .collect();
        s.first_own = len;
        ctx.count("failover.promotions", 1);
        ctx.cover("failover.promoted");
        self.append(
            ctx,
            Entry {
                epoch,
                request: None,
            },
        );
        self.broadcast_append(ctx);
        self.maybe_renew_lease(ctx);
        self.maybe_commit(ctx);
    }

    /// Starts (or restarts) a candidacy in a fresh epoch, granting itself.
    fn become_candidate(&mut self, ctx: &mut Context<'_, Self>) {
        let epoch = self.d.epoch + 1;
        self.d.epoch = epoch;
        self.d.granted = Some((epoch, self.me));
        self.persist_meta(ctx);
        // The requests go out while the new epoch syncs; its own grant counts once durable.
        self.flush(ctx);
        let now = ctx.now();
        let s = &mut self.state;
        s.role = Role::Candidate;
        s.primary = None;
        s.candidacy_at = now;
        s.grants = BTreeSet::from([self.me]);
        let log = &self.d.log;
        let msg = Message::RequestPromotion {
            epoch,
            last_epoch: log.last().map_or(0, |e| e.epoch),
            log_len: log.len(),
        };
        ctx.broadcast(&msg);
        self.maybe_win(ctx);
    }

    /// Becomes primary once a majority granted (its own grant counted once it is durable).
    pub(super) fn maybe_win(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        let own = self.state.grants.contains(&self.me) && !self.epoch_durable(self.d.epoch);
        let grants = self.state.grants.len() - usize::from(own);
        if self.state.role == Role::Candidate && grants >= self.majority() {
            self.become_primary(ctx);
            return true;
        }
        false
    }

    /// This node's rank among possible successors of `primary`: how many other non-primary
    /// nodes have a lower id.
    fn rank(&self) -> u32 {
        let primary = self.state.primary;
        (0..self.me.0)
            .filter(|&i| Some(NodeId(i)) != primary)
            .count() as u32
    }

    /// The periodic tick: heartbeats and replica-set upkeep for a primary, failure detection
    /// for the others.
    fn on_tick(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.cfg.heartbeat.0, Timer::Tick);
        if self.state.role == Role::Primary {
            // Every path that learns of a higher epoch either ignores it (an unfenced primary
            // does not listen) or steps down first.
            assert_eq!(
                self.state.epoch, self.d.epoch,
                "{} is primary in an epoch it has not persisted, or outlived",
                self.me
            );
            self.on_heartbeat_tick(ctx);
        } else {
            self.maybe_suspect(ctx);
        }
    }

    /// A backup or candidate that heard nothing for long enough suspects the primary.
    fn maybe_suspect(&mut self, ctx: &mut Context<'_, Self>) -> bool {
        let now = ctx.now();
        let wait = self.cfg.suspect_after() + self.cfg.rank_delay.0 * self.rank();
        let silent = now.saturating_since(self.state.last_heard);
        if silent < wait {
            return false;
        }
        ctx.cover("failover.primary.suspected");
        match (self.cfg.mode, self.state.role) {
            (Mode::Naive | Mode::Fencing, _) => {
                if !self.state.in_replica_set {
                    return false;
                }
                if self.promote_in.is_some() {
                    return false; // already promoting: waiting for the epoch to be durable
                }
                self.state.detections += 1;
                let epoch = self.d.epoch + 1;
                self.d.epoch = epoch;
                self.persist_meta(ctx);
                self.flush(ctx);
                // A primary must never reuse an epoch a crash could take back.
                if self.epoch_durable(epoch) {
                    self.become_primary(ctx);
                } else {
                    self.promote_in = Some(epoch);
                }
            }
            (Mode::Lease | Mode::Quorum, Role::Candidate) => {
                // A candidacy that did not win in time starts over in a new epoch.
                let retry = self.cfg.timeout.0 + self.cfg.rank_delay.0 * self.rank();
                if now.saturating_since(self.state.candidacy_at) < retry {
                    return false;
                }
                self.become_candidate(ctx);
            }
            (Mode::Lease | Mode::Quorum, _) => {
                self.state.detections += 1;
                self.become_candidate(ctx);
            }
        }
        true
    }

    /// A candidate asks for a grant.
    fn on_request_promotion(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        epoch: u64,
        last_epoch: u64,
        log_len: usize,
    ) {
        let now = ctx.now();
        // While a primary is heard (or this node is one), refuse without adopting the epoch:
        // the grant is what the old primary's lease relies on.
        let hears_primary = self.state.role == Role::Primary
            || (self.state.role == Role::Backup
                && now.saturating_since(self.state.last_heard) < self.cfg.suspect_after());
        let mine = self.d.epoch;
        let granted = if epoch < mine || hears_primary {
            ctx.cover("failover.promotion.refused");
            false
        } else {
            if epoch > mine {
                self.observe_epoch(ctx, epoch);
                if self.state.role != Role::Backup {
                    self.become_backup(ctx, None);
                }
            }
            let log = &self.d.log;
            let up_to_date =
                (last_epoch, log_len) >= (log.last().map_or(0, |e| e.epoch), log.len());
            let free = self.d.granted.is_none_or(|(e, c)| e < epoch || c == from);
            if up_to_date && free {
                self.d.granted = Some((epoch, from));
                self.persist_meta(ctx);
                self.state.last_heard = now;
                true
            } else {
                false
            }
        };
        let epoch = self.d.epoch;
        self.send_durable(ctx, from, Message::PromotionResponse { epoch, granted });
    }

    /// A node answered a promotion request.
    fn on_promotion_response(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        epoch: u64,
        granted: bool,
    ) {
        if epoch > self.d.epoch {
            self.observe_epoch(ctx, epoch);
            if self.state.role != Role::Backup {
                self.become_backup(ctx, None);
            }
            return;
        }
        if self.state.role == Role::Candidate && granted && epoch == self.d.epoch {
            self.state.grants.insert(from);
            self.maybe_win(ctx);
        }
    }

    /// A fenced replica told this node its epoch is stale.
    fn on_stale(&mut self, ctx: &mut Context<'_, Self>, epoch: u64, primary: Option<NodeId>) {
        if epoch > self.d.epoch {
            self.observe_epoch(ctx, epoch);
            if self.state.role != Role::Backup {
                self.become_backup(ctx, primary);
            }
        }
    }
}

impl Protocol for FailoverNode {
    type Config = FailoverConfig;
    type Message = Message;
    type Timer = Timer;
    type Request = KvRequest;
    type Reply = crate::kv::KvReply;
    type Durable = ();

    /// Node 0 starts as primary of epoch 1; the others follow it.
    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let mut node = FailoverNode::new(ctx);
        ctx.set_timer(node.cfg.heartbeat.0, Timer::Tick);
        // A first start is on an empty disk. Epoch 1 and its primary are configuration, not
        // an election.
        node.persist_meta(ctx);
        if node.me == NodeId(0) {
            node.become_primary(ctx);
        } else {
            node.state.primary = Some(NodeId(0));
        }
        node
    }

    /// A restarted node comes back as a backup with its durable epoch and log; it learns the
    /// primary from the next Append, and it has no committed prefix until told.
    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        let node = FailoverNode::new(ctx);
        ctx.cover("failover.recovered");
        if !node.d.log.is_empty() {
            ctx.cover("failover.recovered_with_log");
        }
        if node.halted.is_none() {
            ctx.set_timer(node.cfg.heartbeat.0, Timer::Tick);
        }
        node
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        if self.halted.is_some() {
            return;
        }
        self.maybe_expire_lease(ctx);
        match msg {
            Message::Append {
                epoch,
                replicas,
                prev_len,
                prev_epoch,
                entries,
                commit,
                sent_at,
            } => self.on_append(
                ctx,
                from,
                super::replication::AppendArgs {
                    epoch,
                    replicas,
                    prev_len,
                    prev_epoch,
                    entries,
                    commit,
                    sent_at,
                },
            ),
            Message::AppendResponse {
                epoch,
                ok,
                match_len,
                sent_at,
            } => self.on_append_response(ctx, from, epoch, ok, match_len, sent_at),
            Message::Stale { epoch, primary } => self.on_stale(ctx, epoch, primary),
            Message::RequestPromotion {
                epoch,
                last_epoch,
                log_len,
            } => self.on_request_promotion(ctx, from, epoch, last_epoch, log_len),
            Message::PromotionResponse { epoch, granted } => {
                self.on_promotion_response(ctx, from, epoch, granted)
            }
        }
        self.refresh_serving(ctx);
        self.flush(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        if self.halted.is_some() {
            return;
        }
        self.maybe_expire_lease(ctx);
        match timer {
            Timer::Tick => self.on_tick(ctx),
        }
        self.refresh_serving(ctx);
        self.flush(ctx);
    }

    fn on_client_request(&mut self, ctx: &mut Context<'_, Self>, client: ClientId, req: KvRequest) {
        if self.halted.is_some() {
            return;
        }
        self.maybe_expire_lease(ctx);
        self.on_kv_request(ctx, client, req);
        self.refresh_serving(ctx);
        self.flush(ctx);
    }

    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: sim::SyncId, ok: bool) {
        if self.halted.is_some() {
            return;
        }
        self.maybe_expire_lease(ctx);
        self.on_sync(ctx, id, ok);
        self.refresh_serving(ctx);
        self.flush(ctx);
    }

    /// The epoch it is primary in, while it believes it is primary.
    fn leader_term(&self) -> Option<u64> {
        (self.state.role == Role::Primary).then_some(self.state.epoch)
    }

    /// Role, epoch, commit point and the primary it follows.
    fn annotate(&self, _: &Self::Durable, out: &mut sim::Annotations) {
        out.set(
            "role",
            match self.state.role {
                _ if self.halted.is_some() => "halted",
                Role::Backup => "backup",
                Role::Candidate => "candidate",
                Role::Primary => "primary",
            },
        );
        out.set("epoch", self.state.epoch);
        out.set("commit", self.state.commit);
        out.set_opt("primary", self.state.primary);
    }
}
