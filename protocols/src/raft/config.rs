//! Raft's scenario configuration (`protocol: Raft((...))`) and its known-bug switches.
//!
//! Config is immutable for a run; every field is optional with the defaults of the Raft
//! paper (election timeout 150–300 ms, §5.2; heartbeat well below the timeout, §5.6).

use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// How a leader serves reads (Raft thesis §6.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadMode {
    /// Reads go through the log like writes.
    Log,
    /// ReadIndex: confirm leadership with a heartbeat round, wait for the commit index.
    #[default]
    ReadIndex,
    /// Lease reads: serve locally while a majority-acked heartbeat round's lease lasts.
    /// Safe only while clock rates differ by less than `clock_drift_bound` (thesis §6.4.1).
    Lease,
}

/// Known bugs from the literature, re-created on purpose so tests prove the checkers fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftBug {
    /// Commit an entry of an earlier term by counting replicas (paper Fig. 8).
    CommitPreviousTerm,
    /// Grant votes without the election restriction's log comparison (§5.4.1).
    VoteWithoutLogCheck,
    /// Never persist `votedFor`: a restarted server can vote twice in one term.
    ForgetVote,
    /// A leader answers reads from its local state without confirming leadership.
    LocalReads,
    /// A follower overwrites a conflicting entry in place instead of truncating the suffix.
    NoTruncate,
    /// A follower acknowledges AppendEntries before the sync of its new entries completes, so
    /// a crash can lose entries the leader counted toward commitment (needs a sync latency:
    /// with syncs that complete at once there is no window).
    AckBeforeSync,
    /// Like `NoTruncate`, a follower overwrites a conflicting entry in place and keeps the
    /// entries after it; and the log does not re-chain them, so their stored prefix digests
    /// still describe the prefix they had before. A checker that trusts those digests sees
    /// nothing wrong.
    StaleDigests,
    /// Installing a snapshot keeps the log's entries after the snapshot's index even when
    /// the log's entry at that index is not the snapshot's (paper Fig. 13 rules 6-7 say:
    /// discard the log), so a suffix from another history follows the leader's prefix.
    SnapshotKeepsSuffix,
    /// A failed sync is taken for a success (and retried, which "succeeds": nothing is dirty
    /// any more), so entries and votes the failure dropped are acknowledged as durable.
    FsyncRetry,
    /// Log and metadata records are read back without checking their checksums, so a
    /// corrupted record is trusted: a flipped bit in an entry is applied.
    NoChecksum,
}

impl RaftBug {
    /// Every known bug (the fuzz tests check each has a campaign that finds it).
    pub const ALL: [RaftBug; 10] = [
        RaftBug::CommitPreviousTerm,
        RaftBug::VoteWithoutLogCheck,
        RaftBug::ForgetVote,
        RaftBug::LocalReads,
        RaftBug::NoTruncate,
        RaftBug::AckBeforeSync,
        RaftBug::StaleDigests,
        RaftBug::SnapshotKeepsSuffix,
        RaftBug::FsyncRetry,
        RaftBug::NoChecksum,
    ];

    /// Position in [`Self::ALL`]; an exhaustive match, so a new variant does not compile
    /// until it is listed there.
    pub fn index(self) -> usize {
        match self {
            RaftBug::CommitPreviousTerm => 0,
            RaftBug::VoteWithoutLogCheck => 1,
            RaftBug::ForgetVote => 2,
            RaftBug::LocalReads => 3,
            RaftBug::NoTruncate => 4,
            RaftBug::AckBeforeSync => 5,
            RaftBug::StaleDigests => 6,
            RaftBug::SnapshotKeepsSuffix => 7,
            RaftBug::FsyncRetry => 8,
            RaftBug::NoChecksum => 9,
        }
    }
}

/// The `protocol: Raft((...))` section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaftConfig {
    /// Election timeouts are drawn uniformly from `[min, max]` (paper §5.2).
    pub election_timeout: (Dur, Dur),
    /// The leader's heartbeat period.
    pub heartbeat: Dur,
    /// PreVote (thesis §9.6): campaign only after a majority says it would vote.
    pub pre_vote: bool,
    /// CheckQuorum (thesis §6.2 and etcd): a leader without a quorum for an election timeout
    /// steps down, and servers ignore vote requests while they hear from a leader.
    pub check_quorum: bool,
    /// How reads are served.
    pub reads: ReadMode,
    /// Lease reads assume no clock runs faster than this factor times another over an
    /// election timeout (e.g. 1.1); the lease is `electionTimeoutMin / clock_drift_bound`.
    pub clock_drift_bound: f64,
    /// At most this many entries per AppendEntries message.
    pub max_entries_per_message: u64,
    /// At most this many AppendEntries carrying entries un-acknowledged per follower: the
    /// window of optimistic pipelining (thesis §10.2.1). Acknowledgements free it; a rejection
    /// (after a loss) empties it and the leader resends from where the follower's log ends.
    pub max_inflight: u32,
    /// Take a snapshot and compact the log every this many applied entries (0: never).
    /// Followers too far behind get the snapshot with InstallSnapshot (paper §7).
    pub snapshot_every: u64,
    /// A known-bug variant, or `None` for correct Raft.
    pub bug: Option<RaftBug>,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout: (Dur::ms(150), Dur::ms(300)),
            heartbeat: Dur::ms(50),
            pre_vote: false,
            check_quorum: false,
            reads: ReadMode::ReadIndex,
            clock_drift_bound: 1.1,
            max_entries_per_message: 64,
            max_inflight: 4,
            snapshot_every: 0,
            bug: None,
        }
    }
}

impl RaftConfig {
    /// Whether a known bug is switched on.
    pub fn has_bug(&self, bug: RaftBug) -> bool {
        self.bug == Some(bug)
    }

    /// Whether servers ignore vote requests while they recently heard from a leader (needed
    /// by CheckQuorum and by lease reads).
    pub fn leader_stickiness(&self) -> bool {
        self.check_quorum || self.reads == ReadMode::Lease
    }

    /// Checks the values for a cluster of `nodes`, with a message saying what is wrong (ranges
    /// in `docs/scenario-format.md`).
    pub fn validate(&self, nodes: usize) -> Result<(), String> {
        use crate::limits;
        limits::count("nodes", nodes as u64, 1, MAX_NODES as u64)?;
        let (lo, hi) = self.election_timeout;
        limits::period("election_timeout (min)", lo)?;
        limits::period("election_timeout (max)", hi)?;
        if lo > hi {
            return Err(format!(
                "election_timeout must be a range with min <= max, got ({lo}, {hi})"
            ));
        }
        limits::period("heartbeat", self.heartbeat)?;
        if self.heartbeat >= lo {
            return Err(format!(
                "heartbeat must be below the minimum election timeout, got {} (timeout {lo})",
                self.heartbeat
            ));
        }
        limits::number("clock_drift_bound", self.clock_drift_bound, 1.0, 10.0)?;
        limits::count(
            "max_entries_per_message",
            self.max_entries_per_message,
            1,
            100_000,
        )?;
        limits::count("max_inflight", u64::from(self.max_inflight), 1, 10_000)?;
        limits::count("snapshot_every", self.snapshot_every, 0, 1_000_000_000)?;
        // A leader sends n - 1 AppendEntries per heartbeat and gets as many answers; every
        // server's election timer fires at most once per minimum timeout.
        let n = nodes as f64;
        let estimate = 2.0 * (n - 1.0) / self.heartbeat.0.as_secs_f64() + n / lo.0.as_secs_f64();
        limits::event_rate(estimate, "heartbeats and election timers")
    }
}

/// The largest Raft cluster: every server tracks every other, and a leader messages all.
pub const MAX_NODES: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_optional_and_unknown_fields_are_refused() {
        let c: RaftConfig = serde_json::from_str(
            r#"{"election_timeout": ["150ms", "300ms"], "pre_vote": true, "bug": "ForgetVote"}"#,
        )
        .unwrap();
        assert_eq!(c.election_timeout, (Dur::ms(150), Dur::ms(300)));
        assert!(c.pre_vote && !c.check_quorum);
        assert_eq!(c.bug, Some(RaftBug::ForgetVote));
        assert_eq!(c.validate(5), Ok(()));
        let e = serde_json::from_str::<RaftConfig>(r#"{"prevote": true}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let bad = RaftConfig {
            heartbeat: Dur::ms(200),
            ..RaftConfig::default()
        };
        assert!(bad.validate(5).unwrap_err().contains("heartbeat"));
        let fast = RaftConfig {
            heartbeat: Dur(std::time::Duration::from_nanos(1)),
            ..RaftConfig::default()
        };
        assert!(fast.validate(5).unwrap_err().contains("at least 1us"));
        let quick = RaftConfig {
            heartbeat: Dur(std::time::Duration::from_micros(1)),
            ..RaftConfig::default()
        };
        assert!(
            quick
                .validate(1000)
                .unwrap_err()
                .contains("events per second")
        );
        assert!(
            RaftConfig::default()
                .validate(10_000_000)
                .unwrap_err()
                .contains("nodes")
        );
    }
}
