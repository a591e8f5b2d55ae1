//! The known-bug campaigns: for every bug variant the protocols ship (Raft, failover, gossip, SWIM,
//! Kafka), a nemesis scenario that
//! finds it, the correct configuration that must survive the same campaign, and the seed budget
//! it is found within. `tests/fuzz.rs` checks each one end to end (found, replayed, shrunk,
//! correct variant clean); `faultline bench --fuzz` reports the time to the first failure.

use crate::scenario::{self, Scenario};

/// One known bug and the campaign that finds it.
#[derive(Clone, Copy, Debug)]
pub struct BugTarget {
    /// A short name: `raft ForgetVote`.
    pub name: &'static str,
    /// The scenario text; `BUG` is replaced by `bug` or `correct`.
    pub template: &'static str,
    pub bug: &'static str,
    pub correct: &'static str,
    /// What the bug may be caught as.
    pub invariants: &'static [&'static str],
    /// Seeds `0..seeds` contain a failure (checked by the tests).
    pub seeds: u64,
    /// The most faults its shrunk failure may keep.
    pub max_faults: usize,
}

impl BugTarget {
    /// The scenario text with `variant` (`self.bug` or `self.correct`) filled in.
    pub fn text(&self, variant: &str) -> String {
        self.template.replace("BUG", variant)
    }

    /// The parsed scenario with `variant` filled in.
    pub fn scenario(&self, variant: &str) -> Scenario {
        scenario::parse(self.name, &self.text(variant))
            .unwrap_or_else(|e| panic!("known-bug campaign {}: {e}", self.name))
    }
}

/// A 5-node Raft cluster under a churn-heavy nemesis, one fault at a time; faults stop at
/// two thirds of the run, and the quiet rest checks liveness too (correct Raft: no failure
/// in seeds 0..1000, here and with snapshots).
const RAFT_NEMESIS: &str = r#"Scenario(
    name: "raft: nemesis",
    protocol: Raft((bug: BUG)),
    nodes: 5,
    duration: "8s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Kv((clients: 4, rate: 50.0, reads: 0.5)),
    nemesis: (faults: [Crash, CrashLeader, IsolateLeader, Partition, PauseLeader], start: "500ms",
              length: ("200ms", "1500ms"), gap: ("0ms", "500ms")),
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
             MonotonicTerm, MonotonicCommit, Linearizable, LeaderWithin("2s"), OpsCompleteWithin("2s")],
)"#;

/// Overlapping faults on 5 nodes (several down at once, voters bouncing within one election),
/// one entry per message. The run is short (faults for 1.7 s of 3 s): a failure after fewer
/// faults shrinks further.
const RAFT_OVERLAP_5: &str = r#"Scenario(
    name: "raft: overlapping nemesis",
    protocol: Raft((bug: BUG, max_entries_per_message: 1, max_inflight: 1)),
    nodes: 5,
    duration: "3s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Kv((clients: 4, rate: 40.0, keys: 6, timeout: "300ms")),
    nemesis: (faults: [Crash, CrashLeader, Partition, Isolate], start: "300ms", stop: "2s",
              overlap: true, gap: ("20ms", "150ms")),
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
             MonotonicTerm, MonotonicCommit],
)"#;

/// Overlapping faults on 5 nodes whose disks take `$sync` to sync, with the storage faults
/// `$faults` besides crashes and partitions (docs/storage.md). The correct server survives
/// each menu on seeds 0..1000.
macro_rules! raft_disk {
    ($sync:literal, $faults:literal) => {
        concat!(
            r#"Scenario(
    name: "raft: overlapping nemesis on a lying disk",
    protocol: Raft((bug: BUG, max_entries_per_message: 1, max_inflight: 1)),
    nodes: 5,
    duration: "3s",
    network: (latency: Uniform("1ms", "10ms")),
    storage: (sync: "#,
            $sync,
            r#"),
    workload: Kv((clients: 4, rate: 40.0, keys: 6, timeout: "300ms")),
    nemesis: (faults: [Crash, CrashLeader, Partition, "#,
            $faults,
            r#"], start: "300ms", stop: "2s",
              overlap: true, gap: ("20ms", "150ms")),
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
             MonotonicTerm, MonotonicCommit],
)"#
        )
    };
}

/// Overlapping leadership changes on 3 nodes, for the paper's Figure 8.
const RAFT_OVERLAP_3: &str = r#"Scenario(
    name: "raft: overlapping nemesis",
    protocol: Raft((bug: BUG, max_entries_per_message: 1, max_inflight: 1)),
    nodes: 3,
    duration: "3s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Kv((clients: 4, rate: 40.0, keys: 6, timeout: "300ms")),
    nemesis: (faults: [Crash, CrashLeader, IsolateLeader, Isolate, Partition, Bridge],
              start: "300ms", stop: "2s", overlap: true, gap: ("50ms", "300ms")),
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
             MonotonicTerm, MonotonicCommit],
)"#;

/// The one-fault-at-a-time nemesis with snapshots every 3 applied entries, so lagging
/// followers catch up through InstallSnapshot.
const RAFT_SNAPSHOT_NEMESIS: &str = r#"Scenario(
    name: "raft: nemesis with snapshots",
    protocol: Raft((bug: BUG, snapshot_every: 3)),
    nodes: 5,
    duration: "8s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Kv((clients: 4, rate: 50.0, reads: 0.5)),
    nemesis: (faults: [Crash, CrashLeader, IsolateLeader, Partition, PauseLeader], start: "500ms",
              length: ("200ms", "1500ms"), gap: ("0ms", "500ms")),
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
             MonotonicTerm, MonotonicCommit, Linearizable, LeaderWithin("2s"), OpsCompleteWithin("2s")],
)"#;

/// A 3-node primary/backup cluster under a nemesis; `BUG` is the protocol's configuration.
/// Liveness is checked after the last fault (correct Quorum mode: no failure in seeds
/// 0..1000, on 3 nodes and on 5).
const FAILOVER_NEMESIS: &str = r#"Scenario(
    name: "failover: nemesis",
    protocol: Failover((BUG)),
    nodes: 3,
    duration: "8s",
    network: (latency: Uniform("1ms", "5ms")),
    workload: Kv((clients: 3, rate: 50.0)),
    nemesis: (faults: [Crash, CrashLeader, Isolate, IsolateLeader, Partition, Pause]),
    checks: [NoSplitBrain, OnePrimaryPerEpoch, CommittedNeverOverwritten, Linearizable,
             PrimaryWithin("2s"), OpsCompleteWithin("2s")],
)"#;

/// Overlapping crashes and partitions on 3 nodes whose disks take 10-50 ms to sync (correct
/// Quorum mode: no failure in seeds 0..1000).
const FAILOVER_DISK_NEMESIS: &str = r#"Scenario(
    name: "failover: overlapping nemesis on a slow disk",
    protocol: Failover((BUG)),
    nodes: 3,
    duration: "3s",
    network: (latency: Uniform("1ms", "5ms")),
    storage: (sync: Uniform("10ms", "50ms")),
    workload: Kv((clients: 4, rate: 40.0, keys: 6, timeout: "300ms")),
    nemesis: (faults: [Crash, CrashLeader, Partition, Isolate, TornWrite], start: "300ms", stop: "2s",
              overlap: true, gap: ("20ms", "150ms")),
    checks: [NoSplitBrain, OnePrimaryPerEpoch, CommittedNeverOverwritten, Linearizable],
)"#;

/// As `FAILOVER_NEMESIS` on 5 nodes, where a majority is more than one backup.
const FAILOVER_NEMESIS_5: &str = r#"Scenario(
    name: "failover: nemesis, 5 nodes",
    protocol: Failover((BUG)),
    nodes: 5,
    duration: "8s",
    network: (latency: Uniform("1ms", "5ms")),
    workload: Kv((clients: 3, rate: 50.0)),
    nemesis: (faults: [Crash, CrashLeader, Isolate, IsolateLeader, Partition, Pause]),
    checks: [NoSplitBrain, OnePrimaryPerEpoch, CommittedNeverOverwritten, Linearizable,
             PrimaryWithin("2s"), OpsCompleteWithin("2s")],
)"#;

/// Lease-based failover under clock drift; `BUG` is the nemesis's drift bound.
const FAILOVER_DRIFT_NEMESIS: &str = r#"Scenario(
    name: "failover: lease under drift",
    protocol: Failover((mode: Lease)),
    nodes: 3,
    duration: "8s",
    network: (latency: Uniform("1ms", "5ms")),
    workload: Kv((clients: 3, rate: 50.0)),
    nemesis: (faults: [Drift, PauseLeader], BUG, overlap: true, gap: ("100ms", "1s")),
)"#;

/// 20-node push-pull anti-entropy under a nemesis, with concurrent writers.
const GOSSIP_NEMESIS: &str = r#"Scenario(
    name: "gossip: anti-entropy under a nemesis",
    protocol: Gossip((style: AntiEntropy, direction: PushPull, period: "50ms", bug: BUG)),
    nodes: 20,
    duration: "10s",
    network: (latency: Uniform("1ms", "10ms"), loss: 0.01, links: Datagram),
    workload: Updates((updates: [], rate: 40.0, keys: 3, start: "100ms", stop: "6s")),
    nemesis: (faults: [Crash, Isolate, Partition, Pause, OneWay, DelaySpike], start: "500ms",
              length: ("200ms", "1500ms"), gap: ("0ms", "500ms")),
    checks: [NoInventedValues, VersionsMonotonic, UpdatesSurviveRestart, ConvergedWithin("3s")],
)"#;

/// One partition on three brokers, with three dedicated controller voters, under overlapping
/// crashes, leader isolations and pauses (docs/kafka.md). `BUG` is a fragment of the protocol
/// section; the correct one (acks=all, min.insync.replicas 2, leader epochs, clean election)
/// shows no anomaly on seeds 0..1000.
const KAFKA_NEMESIS: &str = r#"Scenario(
    name: "kafka: overlapping nemesis",
    protocol: Kafka((partitions: 1, controllers: 3, dedicated_controllers: true, BUG)),
    nodes: 6,
    duration: "10s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Queue((producers: 3, rate: 40.0, consumers: 2)),
    nemesis: (faults: [CrashLeader, Crash, IsolateLeader, PauseLeader], start: "1500ms", overlap: true,
              length: ("50ms", "1000ms"), gap: ("20ms", "400ms"), stop: "6s"),
    checks: [LostWrite, Unseen, Duplicate, InconsistentOffsets, NonmonotonicSend, NonmonotonicPoll,
             PollSkip, AbortedRead, AcknowledgedKept, CommittedLogsAgree, ReplicasConverge],
)"#;

/// The same campaign with `BUG` in the producers' section (the acks mode).
const KAFKA_ACKS_NEMESIS: &str = r#"Scenario(
    name: "kafka: overlapping nemesis, acks",
    protocol: Kafka((partitions: 1, controllers: 3, dedicated_controllers: true)),
    nodes: 6,
    duration: "10s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Queue((producers: 3, rate: 40.0, consumers: 2, BUG)),
    nemesis: (faults: [CrashLeader, Crash, IsolateLeader, PauseLeader], start: "1500ms", overlap: true,
              length: ("50ms", "1000ms"), gap: ("20ms", "400ms"), stop: "6s"),
    checks: [LostWrite, Unseen, Duplicate, InconsistentOffsets, NonmonotonicSend, NonmonotonicPoll,
             PollSkip, AbortedRead, AcknowledgedKept, CommittedLogsAgree, ReplicasConverge],
)"#;

/// The queue anomalies and the replicas' check: what a Kafka data-loss bug may be caught as.
const KAFKA_LOSS: &[&str] = &[
    "LostWrite",
    "Unseen",
    "InconsistentOffsets",
    "Duplicate",
    "NonmonotonicPoll",
    "PollSkip",
    "AcknowledgedKept",
    "CommittedLogsAgree",
    "ReplicasConverge",
];

/// 20 SWIM members with Lifeguard on memberlist's Local timing and Serf's reconnect, under
/// long crashes, pauses, isolations and partitions (scenarios/swim/nemesis.ron).
const SWIM_NEMESIS: &str = r#"Scenario(
    name: "swim: membership under a nemesis",
    protocol: Swim((preset: Local, reconnect_interval: "5s", max_false_positive_rate: 10.0, bug: BUG)),
    nodes: 20,
    duration: "130s",
    network: (latency: Uniform("1ms", "5ms"), links: Datagram),
    nemesis: (faults: [Crash, Pause, Isolate, Partition], start: "5s", stop: "80s",
              length: ("5s", "60s"), gap: ("0s", "5s")),
    checks: [FalsePositiveRate, NoFlapping, DeadWithin("45s"), ViewsConvergeWithin("45s")],
)"#;

/// Every known bug with its campaign. Seed budgets and fault bounds were measured when the
/// campaigns were written (first failing seed in brackets); an engine change that moves
/// random draws moves them too.
pub const TARGETS: &[BugTarget] = &[
    // Grants a vote without comparing logs: an out-of-date leader overwrites entries [seed 0;
    // its failure needs three pauses and a crash around one election: 10 faults -> 8].
    BugTarget {
        name: "raft VoteWithoutLogCheck",
        template: RAFT_NEMESIS,
        bug: "VoteWithoutLogCheck",
        correct: "None",
        invariants: &["LeaderCompleteness", "StateMachineSafety", "LogMatching"],
        seeds: 10,
        max_faults: 8,
    },
    // Appends without deleting a conflicting suffix [seed 0].
    BugTarget {
        name: "raft NoTruncate",
        template: RAFT_NEMESIS,
        bug: "NoTruncate",
        correct: "None",
        invariants: &["LogMatching", "StateMachineSafety", "LeaderCompleteness"],
        seeds: 40,
        max_faults: 4,
    },
    // Leaders answer reads from local state: a deposed leader serves stale reads [seed 20
    // with pipelined replication and the default clock rates (366 with ideal clocks); about
    // one seed in 450 since the one-fault template runs liveness checks too].
    BugTarget {
        name: "raft LocalReads",
        template: RAFT_NEMESIS,
        bug: "LocalReads",
        correct: "None",
        invariants: &["Linearizable"],
        seeds: 2000,
        max_faults: 5,
    },
    // Keeps its vote in memory only: a voter that restarts inside an election votes twice
    // [seed 3442 with pipelined replication and the default clock rates (16970 with ideal
    // clocks, 8553 before pipelining); about one seed in 3,000 to 17,000]. Shrinks to crashes
    // and an isolation, and their recoveries.
    BugTarget {
        name: "raft ForgetVote",
        template: RAFT_OVERLAP_5,
        bug: "ForgetVote",
        correct: "None",
        invariants: &["ElectionSafety"],
        seeds: 20000,
        max_faults: 8,
    },
    // Commits entries of earlier terms by counting replicas, the paper's Figure 8: needs three
    // leadership changes in a row, each a fault and its recovery [seed 24581; about one seed in
    // 20,000, so the budget is the largest here].
    BugTarget {
        name: "raft CommitPreviousTerm",
        template: RAFT_OVERLAP_3,
        bug: "CommitPreviousTerm",
        correct: "None",
        invariants: &["LeaderCompleteness"],
        seeds: 30000,
        max_faults: 10,
    },
    // Acknowledges appends before their sync completes; a follower that crashes inside the
    // window loses entries the leader counted [seed 114; 29 of seeds 0..1000 with 10-50 ms
    // syncs, about a quarter of that with 2-20 ms: the window is the sync latency; 23 faults
    // shrink to 4].
    BugTarget {
        name: "raft AckBeforeSync",
        template: raft_disk!(r#"Uniform("10ms", "50ms")"#, "Isolate, TornWrite"),
        bug: "AckBeforeSync",
        correct: "None",
        invariants: &["LeaderCompleteness", "StateMachineSafety", "LogMatching"],
        seeds: 300,
        max_faults: 6,
    },
    // Takes a failed fsync for a success: the term, votes and entries the failure dropped are
    // trusted as durable, and a restart comes back without them [seed 3; 145 of seeds
    // 0..1000: 140 as MonotonicTerm (a synced term taken back), 5 as LogMatching; 19 faults
    // shrink to 5].
    BugTarget {
        name: "raft FsyncRetry",
        template: raft_disk!(r#"Uniform("2ms", "20ms")"#, "FsyncFail"),
        bug: "FsyncRetry",
        correct: "None",
        invariants: &[
            "MonotonicTerm",
            "LogMatching",
            "LeaderCompleteness",
            "StateMachineSafety",
        ],
        seeds: 100,
        max_faults: 6,
    },
    // Reads records without checking checksums: a flipped bit in a stored entry is replayed
    // as another entry [seed 3; 452 of seeds 0..1000: 426 LogMatching, 22 LeaderCompleteness,
    // 4 MonotonicTerm; 25 faults shrink to 3].
    BugTarget {
        name: "raft NoChecksum",
        template: raft_disk!(r#"Uniform("2ms", "20ms")"#, "Corrupt"),
        bug: "NoChecksum",
        correct: "None",
        invariants: &[
            "LogMatching",
            "LeaderCompleteness",
            "StateMachineSafety",
            "MonotonicTerm",
        ],
        seeds: 100,
        max_faults: 6,
    },
    // Overwrites a conflicting entry in place and leaves the stored digests of the entries
    // after it stale. The old monitor, which compared those digests, found it in 1 of 300
    // seeds on the overlapping campaign and 0 of 300 here; the recomputing Log Matching
    // check finds it on 468 of seeds 0..1000 [seed 0].
    BugTarget {
        name: "raft StaleDigests",
        template: RAFT_NEMESIS,
        bug: "StaleDigests",
        correct: "None",
        invariants: &["LogMatching", "StateMachineSafety", "LeaderCompleteness"],
        seeds: 10,
        max_faults: 4,
    },
    // InstallSnapshot keeps a suffix from another history after the snapshot: 99 of seeds
    // 0..1000 (the old digest-trusting monitor: 0 of 300) [seed 2].
    BugTarget {
        name: "raft SnapshotKeepsSuffix",
        template: RAFT_SNAPSHOT_NEMESIS,
        bug: "SnapshotKeepsSuffix",
        correct: "None",
        invariants: &["LogMatching", "StateMachineSafety", "LeaderCompleteness"],
        seeds: 40,
        max_faults: 6,
    },
    // Promotes on missed heartbeats with no fencing: the old primary keeps accepting [seed 0].
    // The three campaigns below check every failover invariant by default, and the committed
    // entries the old primary overwrites are often seen (CommittedNeverOverwritten) before
    // its accepted write is (NoSplitBrain).
    BugTarget {
        name: "failover Naive",
        template: FAILOVER_NEMESIS,
        bug: "mode: Naive",
        correct: "mode: Quorum",
        invariants: &["NoSplitBrain", "CommittedNeverOverwritten"],
        seeds: 10,
        max_faults: 4,
    },
    // Acknowledges writes no backup has: losing the primary loses them, and a deposed primary
    // waking from a pause still acknowledges [seed 0].
    BugTarget {
        name: "failover async replication",
        template: FAILOVER_NEMESIS,
        bug: "mode: Quorum, sync: false",
        correct: "mode: Quorum, sync: true",
        invariants: &["Linearizable", "NoSplitBrain", "CommittedNeverOverwritten"],
        seeds: 10,
        max_faults: 4,
    },
    // A fenced backup accepts Appends from a deposed primary and truncates what the new one
    // committed: 69 of seeds 0..1000, all as CommittedNeverOverwritten (NoSplitBrain,
    // OnePrimaryPerEpoch and Linearizable: 0 of 200) [seed 0].
    BugTarget {
        name: "failover AcceptStaleEpoch",
        template: FAILOVER_NEMESIS,
        bug: "mode: Quorum, bug: AcceptStaleEpoch",
        correct: "mode: Quorum",
        invariants: &["CommittedNeverOverwritten"],
        seeds: 60,
        max_faults: 4,
    },
    // A Quorum primary commits with one backup's copy out of four: a primary elected by the
    // other majority commits something else at that index. 43 of seeds 0..1000 [seed 11];
    // Linearizable alone saw it on 9 of 200.
    BugTarget {
        name: "failover AckOneBackup",
        template: FAILOVER_NEMESIS_5,
        bug: "mode: Quorum, bug: AckOneBackup",
        correct: "mode: Quorum",
        invariants: &["CommittedNeverOverwritten", "Linearizable"],
        seeds: 100,
        max_faults: 6,
    },
    // A backup acknowledges before its sync completes; crashed inside the window it loses
    // entries the primary counted, and a primary elected without them overwrites them [seed
    // 89; 12 of seeds 0..1000 with 10-50 ms syncs, none with 2-20 ms on the one-fault-at-a-time
    // nemesis; 26 faults shrink to 7].
    BugTarget {
        name: "failover AckBeforeSync",
        template: FAILOVER_DISK_NEMESIS,
        bug: "mode: Quorum, bug: AckBeforeSync",
        correct: "mode: Quorum",
        invariants: &["CommittedNeverOverwritten", "Linearizable"],
        seeds: 300,
        max_faults: 8,
    },
    // A lease is only as safe as its drift bound (10,000 ppm): a primary whose clock runs slow
    // keeps its lease after the backup promotes [seed 147]. Within the bound: nothing.
    BugTarget {
        name: "failover Lease beyond its drift bound",
        template: FAILOVER_DRIFT_NEMESIS,
        bug: "max_drift_ppm: 500000",
        correct: "max_drift_ppm: 9000",
        invariants: &["NoSplitBrain", "CommittedNeverOverwritten"],
        seeds: 200,
        max_faults: 4,
    },
    // The gossip bugs need no fault at all: concurrent writers to the same keys suffice, so
    // every seed fails and the shrunk file is two nodes and no faults [seed 0].
    // Digests compared by key only: a node that has a key never learns its newer versions.
    BugTarget {
        name: "gossip DigestKeysOnly",
        template: GOSSIP_NEMESIS,
        bug: "DigestKeysOnly",
        correct: "None",
        invariants: &["ConvergedWithin"],
        seeds: 5,
        max_faults: 0,
    },
    // The store is never synced, so a restarted node comes back empty although the scenario
    // says `persist: true`: 196 of seeds 0..300. VersionsMonotonic exempts restarts, so
    // before UpdatesSurviveRestart only a later version clash showed (NoInventedValues, 1 of
    // 300).
    BugTarget {
        name: "gossip ForgetOnRestart",
        template: GOSSIP_NEMESIS,
        bug: "ForgetOnRestart",
        correct: "None",
        invariants: &["UpdatesSurviveRestart", "NoInventedValues"],
        seeds: 20,
        max_faults: 2,
    },
    // Merge by arrival: any different version replaces the held one, so versions go back.
    BugTarget {
        name: "gossip OverwriteOlder",
        template: GOSSIP_NEMESIS,
        bug: "OverwriteOlder",
        correct: "None",
        invariants: &["VersionsMonotonic"],
        seeds: 5,
        max_faults: 0,
    },
    // A merge takes the newer version but keeps the old value: a (version, value) pair no
    // client wrote.
    BugTarget {
        name: "gossip VersionOnly",
        template: GOSSIP_NEMESIS,
        bug: "VersionOnly",
        correct: "None",
        invariants: &["NoInventedValues"],
        seeds: 5,
        max_faults: 0,
    },
    // Alive messages applied whatever their incarnation: a member restarting with an empty
    // table pushes its stale view (a crashed member alive at incarnation 0) and members that
    // held the crashed member dead revive it [seed 137; 10 of 1000 seeds; 6 faults -> 4].
    BugTarget {
        name: "swim NoIncarnationCheck",
        template: SWIM_NEMESIS,
        bug: "NoIncarnationCheck",
        correct: "None",
        invariants: &["NoFlapping", "DeadWithin", "ViewsConvergeWithin"],
        seeds: 200,
        max_faults: 5,
    },
    // Suspicions never time out: a member crashed for longer than the deadline is still only
    // suspected [seed 3; 97 of 1000 seeds; 4 faults -> 1].
    BugTarget {
        name: "swim SuspicionNoTimeout",
        template: SWIM_NEMESIS,
        bug: "SuspicionNoTimeout",
        correct: "None",
        invariants: &["DeadWithin", "ViewsConvergeWithin"],
        seeds: 10,
        max_faults: 2,
    },
    // Jepsen 2013: with min.insync.replicas 1 the ISR shrinks to the leader alone, which
    // acknowledges acks=all writes by itself; once it is lost an out-of-sync replica is
    // elected (unclean) and the writes are gone.
    BugTarget {
        name: "kafka lone ISR leader",
        template: KAFKA_NEMESIS,
        bug: "min_insync_replicas: 1, unclean_leader_election: true",
        correct: "min_insync_replicas: 2, unclean_leader_election: false",
        invariants: KAFKA_LOSS,
        seeds: 10,
        max_faults: 4,
    },
    // Pre-KIP-101: a follower truncates to its own high watermark (one fetch round behind
    // the leader's) when it follows a new leader or restarts; elected next, it has lost
    // committed records, and the old leader keeps them when it returns (divergence).
    BugTarget {
        name: "kafka no leader epochs",
        template: KAFKA_NEMESIS,
        bug: "min_insync_replicas: 1, leader_epochs: false",
        correct: "min_insync_replicas: 1, leader_epochs: true",
        invariants: KAFKA_LOSS,
        seeds: 100,
        max_faults: 5,
    },
    // Unclean election with min.insync.replicas 2: when no ISR member is alive, an
    // out-of-sync replica takes over and committed records are lost.
    BugTarget {
        name: "kafka unclean election",
        template: KAFKA_NEMESIS,
        bug: "min_insync_replicas: 2, unclean_leader_election: true",
        correct: "min_insync_replicas: 2, unclean_leader_election: false",
        invariants: KAFKA_LOSS,
        seeds: 20,
        max_faults: 4,
    },
    // acks=1: a write the leader alone has is acknowledged; the leader fails before a
    // follower fetches it, and the new leader never had it.
    BugTarget {
        name: "kafka acks=1",
        template: KAFKA_ACKS_NEMESIS,
        bug: "acks: One, idempotent: false",
        correct: "acks: All",
        invariants: KAFKA_LOSS,
        seeds: 10,
        max_faults: 3,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> &'static BugTarget {
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no known-bug campaign called {name}"))
}
