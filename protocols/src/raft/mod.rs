//! Raft (Ongaro & Ousterhout 2014; Ongaro's thesis) with a replicated KV store, its safety
//! and liveness checkers, metrics and known-bug variants.
//!
//! ```text
//!  KvWorkload ──KvRequest──► Raft leader ──AppendEntries──► followers
//!      ▲                        │  apply (KvStore)              │
//!      └────KvReply─────────────┘ ◄──AppendEntriesResponse──────┘
//!  RaftMonitor reads every server after every event (Figure 3 properties).
//! ```
//!
//! Files: [`config`] (scenario config, known bugs), [`log`] (the log and its prefix digests),
//! [`node`] (state, term rules, elections), [`replication`] (AppendEntries, commit, apply,
//! reads), [`snapshot`] (compaction, InstallSnapshot), [`monitor`] (invariants and election
//! metrics; Log Matching from the entries in `monitor/log_matching.rs`).
//!
//! Not implemented yet: membership changes, leadership transfer, chunked snapshots.

pub mod config;
pub mod log;
pub mod monitor;
pub mod node;
pub mod replication;
pub mod snapshot;
pub mod storage;

pub use config::{RaftBug, RaftConfig, ReadMode};
pub use monitor::RaftMonitor;
pub use node::{Message, Raft, Role, Snapshot, Timer};
pub use storage::{HardState, WalRecord};

use crate::checks::{Checks, Invariant, InvariantInfo};
use crate::family::{Built, Family, MetricInfo, Setup};
use crate::kv::{KvWorkload, KvWorkloadConfig};

/// The Raft family: `protocol: Raft((...))` in a scenario, with the KV workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct RaftFamily;

impl Family for RaftFamily {
    type Protocol = Raft;
    type Config = RaftConfig;
    type Workload = KvWorkloadConfig;

    fn name(&self) -> &'static str {
        "Raft"
    }

    fn about(&self) -> &'static str {
        "Raft (Figure 2, PreVote, CheckQuorum, ReadIndex/lease reads, snapshots) with a replicated KV store"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                Invariant::ELECTION_SAFETY,
                "at most one leader per term (paper Fig. 3)",
            ),
            I::safety(
                Invariant::LEADER_APPEND_ONLY,
                "a leader never overwrites or deletes its entries",
            ),
            I::safety(
                Invariant::LOG_MATCHING,
                "same index and term => identical prefixes (digests recomputed from the entries)",
            ),
            I::safety(
                Invariant::LEADER_COMPLETENESS,
                "a committed entry is in every later-term leader's log",
            ),
            I::safety(
                Invariant::STATE_MACHINE_SAFETY,
                "no two servers apply different entries at one index",
            ),
            I::safety(
                Invariant::MONOTONIC_TERM,
                "a server's current term never decreases, across restarts too",
            ),
            I::safety(
                Invariant::MONOTONIC_COMMIT,
                "a server's commit index never decreases while it is up",
            ),
            I::within(
                Invariant::LEADER_WITHIN,
                "within T after the last fault, a leader is followed by a majority in its term",
            ),
            I::safety(
                Invariant::LINEARIZABLE,
                "the KV client history is linearizable (checked at the end; out of budget fails)",
            ),
            I::within(
                Invariant::OPS_COMPLETE_WITHIN,
                "every op completes within T of max(invocation, last fault)",
            ),
        ]
    }

    fn coverage(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("raft.election.started", "a server became a candidate"),
            m("raft.leader.elected", "a candidate won an election"),
            m("raft.vote.granted", "a vote granted"),
            m(
                "raft.vote.granted_in_restart_term",
                "a vote granted in the term the server restarted in",
            ),
            m(
                "raft.commit.earlier_term_entry_counted",
                "a leader committed an earlier term's entry by counting replicas (never in correct Raft)",
            ),
            m(
                "raft.vote.refused_stale_log",
                "a vote refused: the candidate's log is behind (§5.4.1)",
            ),
            m(
                "raft.vote.refused_already_voted",
                "a vote refused: already voted for another in this term",
            ),
            m(
                "raft.vote.ignored_leader_heard",
                "a vote request ignored while a leader is heard (stickiness)",
            ),
            m(
                "raft.prevote.refused_leader_heard",
                "a pre-vote refused while a leader is heard",
            ),
            m(
                "raft.candidate.yielded_to_same_term_leader",
                "a candidate stepped down for a leader of its own term",
            ),
            m(
                "raft.leader.deposed_by_higher_term",
                "a leader stepped down on seeing a higher term",
            ),
            m(
                "raft.leader.lost_quorum",
                "CheckQuorum: a leader stepped down without a quorum",
            ),
            m(
                "raft.recovered_with_log",
                "a server restarted with log entries on disk",
            ),
            m(
                "raft.disk.torn_tail_dropped",
                "a restarted server dropped a torn last record (never synced)",
            ),
            m(
                "raft.disk.halted",
                "a server found a damaged record on its disk and halted",
            ),
            m(
                "raft.disk.sync_failed",
                "a sync failed; the server rewrote its state",
            ),
            m(
                "raft.disk.sync_after_failure_ignored",
                "a sync asked before a failed one reported success and was not trusted",
            ),
            m(
                "raft.recovered_from_snapshot",
                "a server restarted from a snapshot",
            ),
            m(
                "raft.truncate.conflict",
                "a follower truncated a conflicting suffix",
            ),
            m(
                "raft.truncate.at_or_below_commit",
                "a follower truncated at or below its commit index (never in correct Raft)",
            ),
            m(
                "raft.append.already_had_entries",
                "an AppendEntries whose entries the follower already held",
            ),
            m(
                "raft.append.overlaps_snapshot",
                "an AppendEntries starting inside the follower's snapshot",
            ),
            m(
                "raft.commit.follower_capped_at_last_new",
                "a follower's commit capped at the last new entry (leader commit ahead)",
            ),
            m(
                "raft.commit.earlier_term_refused",
                "a majority holds an earlier term's entry; the leader does not count it (Fig. 8)",
            ),
            m(
                "raft.follower_backtracked",
                "a leader lowered nextIndex after a rejection",
            ),
            m(
                "raft.stale_rejection_ignored",
                "a duplicated or stale rejection ignored",
            ),
            m(
                "raft.read.index_served",
                "a ReadIndex read served after a confirmed round",
            ),
            m(
                "raft.read.batched",
                "a ReadIndex read joined the next round (one was already out)",
            ),
            m(
                "raft.read.waits_for_term_commit",
                "a read waits for the leader's first commit of its term",
            ),
            m("raft.read.lease_served", "a read served from the lease"),
            m(
                "raft.read.lease_expired",
                "a lease read fell back to ReadIndex (lease expired)",
            ),
            m("raft.snapshot.taken", "a snapshot taken (log compacted)"),
            m("raft.snapshot.installed", "a follower installed a snapshot"),
            m(
                "raft.snapshot.installed_over_longer_log",
                "a snapshot installed over a log reaching past it",
            ),
            m(
                "raft.snapshot.installed_over_conflict",
                "a snapshot installed over a log whose entry at its index has another term",
            ),
            m(
                "raft.snapshot.already_committed",
                "a snapshot at or below the follower's commit, ignored",
            ),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("raft.elections", "elections started (candidacies)"),
            m("raft.pre_votes", "pre-vote rounds started (PreVote)"),
            m(
                "raft.votes_ignored",
                "vote requests ignored while a leader is heard (stickiness)",
            ),
            m("raft.leaders", "times a server became leader"),
            m("raft.terms", "the highest term reached"),
            m(
                "raft.check_quorum_step_downs",
                "leaders that stepped down without a quorum",
            ),
            m("raft.committed_entries", "entries committed"),
            m("raft.lease_reads", "reads served from a lease"),
            m("raft.recoveries", "servers restarted from durable state"),
            m(
                "raft.torn_records_dropped",
                "torn last records dropped at a restart (never synced)",
            ),
            m(
                "raft.halted_on_disk_damage",
                "servers that found a damaged record on their disk and halted",
            ),
            m(
                "raft.sync_failures",
                "failed syncs (the server rewrote its state)",
            ),
            m("raft.snapshots_taken", "snapshots taken (log compaction)"),
            m("raft.snapshots_sent", "InstallSnapshot messages sent"),
            m(
                "raft.snapshots_installed",
                "snapshots installed by followers",
            ),
            m(
                "raft.commit_latency_ms",
                "from a leader appending an entry to committing it (ms)",
            ),
            m(
                "raft.election_time_ms",
                "from losing a leader to a new one being heard (ms)",
            ),
            m(
                "raft.first_leader_ms",
                "time to the first leader of the run (ms)",
            ),
            m(
                "raft.election_unfinished_ms",
                "an election still without a leader when the run ended: its time so far (ms)",
            ),
            m("raft.msgs_per_commit", "messages sent per committed entry"),
            m(
                "raft.append_msgs",
                "AppendEntries carrying entries (heartbeats and probes excluded)",
            ),
            m(
                "raft.append_replies",
                "replies to AppendEntries carrying entries",
            ),
            m(
                "raft.heartbeats",
                "AppendEntries without entries (heartbeats and probes)",
            ),
            m(
                "raft.entries_sent",
                "entry copies sent in AppendEntries (each follower counts)",
            ),
            m(
                "raft.replication_msgs_per_commit",
                "AppendEntries with entries and their replies per committed entry (2(n-1) unbatched)",
            ),
            m(
                "raft.copies_per_entry",
                "entry copies sent per committed entry per follower (1 without resends)",
            ),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &RaftConfig,
        _workload: &KvWorkloadConfig,
        _checks: &Checks,
    ) -> Result<(), String> {
        config.validate(setup.nodes)
    }

    fn build(
        &self,
        setup: &Setup,
        config: &RaftConfig,
        workload: &KvWorkloadConfig,
        checks: &Checks,
    ) -> Built<Raft> {
        Built {
            config: config.clone(),
            workload: Box::new(KvWorkload::new(workload.clone(), checks, setup.quiet_from)),
            monitors: vec![Box::new(RaftMonitor::new(
                setup.nodes,
                checks,
                setup.quiet_from,
            ))],
        }
    }
}
