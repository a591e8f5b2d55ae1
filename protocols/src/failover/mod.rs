//! Primary/backup failover: one primary serves the KV clients and replicates to its backups;
//! backups detect a silent primary by missed heartbeats and promote one of themselves.
//!
//! ```text
//!   KvWorkload ──KvRequest──► primary ──Append{epoch, entries}──► backups (store, ack)
//!        ▲                       │  ◄──AppendResponse / Stale──────┘
//!        └──KvReply (at commit)──┘
//!   backup: no Append for `timeout` (+ rank delay) ──► promote (Naive, Fencing)
//!                                                 └──► RequestPromotion to all (Lease, Quorum)
//! ```
//!
//! Four variants ([`Mode`]), from the textbook bug to the safe design (docs/architecture.md, failover;
//! docs/references.md §5):
//! - `Naive`: a backup promotes after missed heartbeats; nothing is fenced and a primary that
//!   lost its backups keeps serving alone. Split brain under partition or pause, by design.
//! - `Fencing`: promotion increments an epoch (a fencing token, Kleppmann 2016); replicas
//!   reject anything carrying a lower epoch (equal epochs pass), and a write needs at least
//!   one backup's copy, so a stale primary cannot get writes accepted. Its limit: tokens are
//!   only as unique as their issuer, and here each backup issues its own, so backups that
//!   cannot hear each other can both promote into the same epoch (OnePrimaryPerEpoch
//!   catches it; so does NoSplitBrain once both have served).
//! - `Lease`: the primary acts only while its lease holds on its own clock; a backup grants a
//!   promotion only after hearing no primary for the lease stretched by the drift bound
//!   (`lease·(1+ρ)/(1−ρ)`, the lease rule of docs/references.md §5.4). Safe while every clock drifts
//!   less than ρ, unsafe beyond: nothing else fences the old primary.
//! - `Quorum`: promotion needs a majority of grants in a new epoch (one grant per epoch, the
//!   candidate's log at least as up to date), writes need a majority of copies, and replicas
//!   fence lower epochs (Raft's election restriction and commitment rule, without the timing
//!   assumption).
//!
//! Known bugs besides the unsafe modes and `sync: false` ([`FailoverBug`]): `AckOneBackup`
//! (a majority-mode primary commits with one backup's copy), `AcceptStaleEpoch` (a fenced
//! backup accepts an older epoch's Appends) and `AckBeforeSync` (a backup acknowledges before
//! its disk has the entries, docs/storage.md). All lose committed entries without a split
//! brain; `CommittedNeverOverwritten` catches them.
//!
//! Files: `node.rs` (state, messages, roles, detection and promotion), `replication.rs`
//! (client requests, the log, acks, commitment), `monitor.rs` (NoSplitBrain,
//! OnePrimaryPerEpoch, PrimaryWithin and the failover metrics), `committed.rs`
//! (CommittedNeverOverwritten).

mod committed;
mod monitor;
mod node;
mod replication;
pub mod storage;

pub use monitor::{FailoverMonitor, MonitorOptions, metric};
pub use node::{Durable, Entry, FailoverNode, Message, Role, Timer};

use crate::checks::{Checks, Invariant, InvariantInfo};
use crate::family::{Built, Family, MetricInfo, Setup};
use crate::kv::{KvWorkload, KvWorkloadConfig};
use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// Which failover design runs (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Promote after missed heartbeats; no fencing (the textbook split-brain design).
    Naive,
    /// Epochs as fencing tokens: replicas reject lower epochs.
    Fencing,
    /// Timing only: the primary acts under a lease; backups wait it out, with a drift margin.
    Lease,
    /// Majority promotion and majority writes, fenced by epoch.
    #[default]
    Quorum,
}

impl Mode {
    /// Whether replicas reject messages carrying a lower epoch.
    pub fn fenced(self) -> bool {
        matches!(self, Mode::Fencing | Mode::Quorum)
    }

    /// Whether promotion and commitment count a majority.
    pub fn majority(self) -> bool {
        matches!(self, Mode::Lease | Mode::Quorum)
    }
}

/// Known bugs, re-created on purpose so tests prove the checkers catch them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailoverBug {
    /// A majority-mode primary commits (and answers the client) once one backup holds a
    /// write, not a majority: a new primary elected by the other majority lacks it.
    AckOneBackup,
    /// A fenced backup accepts Appends from a primary of an older epoch (the fencing check
    /// is skipped), so a deposed primary overwrites what the new one committed.
    AcceptStaleEpoch,
    /// A backup acknowledges an Append before the sync of its new entries completes, so a
    /// crash can lose entries the primary counted toward commitment (needs a sync latency:
    /// with syncs that complete at once there is no window).
    AckBeforeSync,
}

impl FailoverBug {
    /// Every known bug (the fuzz tests check each has a campaign that finds it).
    pub const ALL: [FailoverBug; 3] = [
        FailoverBug::AckOneBackup,
        FailoverBug::AcceptStaleEpoch,
        FailoverBug::AckBeforeSync,
    ];
}

/// The `protocol: Failover((...))` section of a scenario. Immutable during a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailoverConfig {
    /// The variant.
    pub mode: Mode,
    /// How often the primary sends heartbeats (and backups check for silence).
    pub heartbeat: Dur,
    /// Silence after which a backup suspects the primary (and a primary drops a backup from
    /// its replica set, in Naive and Fencing).
    pub timeout: Dur,
    /// Extra wait per rank: the backup with the lowest id (rank 0) tries first, the next one
    /// `rank_delay` later, so the choice of new primary is deterministic in a healthy network.
    pub rank_delay: Dur,
    /// Synchronous replication: the client is answered only once the backups the mode requires
    /// hold the write. `false` answers at the primary's local append (acknowledged writes can
    /// be lost on failover: a known-bug switch).
    pub sync: bool,
    /// The primary's lease, on its own clock, counted from when it sent the heartbeat that a
    /// majority acknowledged (Lease mode).
    pub lease: Dur,
    /// The clock drift bound ρ the lease margin assumes, in parts per million (Lease mode).
    pub drift_bound_ppm: u64,
    /// At most this many log entries per Append message.
    pub max_batch: usize,
    /// A known-bug variant, or `None` for the design as described.
    pub bug: Option<FailoverBug>,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            mode: Mode::default(),
            heartbeat: Dur::ms(50),
            timeout: Dur::ms(300),
            rank_delay: Dur::ms(150),
            sync: true,
            lease: Dur::ms(1000),
            drift_bound_ppm: 10_000,
            max_batch: 64,
            bug: None,
        }
    }
}

impl FailoverConfig {
    /// Checks the values; the message says which field is wrong.
    pub fn validate(&self) -> Result<(), String> {
        use crate::limits;
        limits::period("failover: heartbeat", self.heartbeat)?;
        limits::period("failover: timeout", self.timeout)?;
        limits::duration(
            "failover: rank_delay",
            self.rank_delay,
            std::time::Duration::ZERO,
        )?;
        limits::duration("failover: lease", self.lease, std::time::Duration::ZERO)?;
        if self.timeout <= self.heartbeat {
            return Err(format!(
                "failover: timeout ({}) must exceed heartbeat ({})",
                self.timeout, self.heartbeat
            ));
        }
        if self.drift_bound_ppm >= 1_000_000 {
            return Err("failover: drift_bound_ppm must be below 1000000".into());
        }
        if self.mode == Mode::Lease && self.lease.0.is_zero() {
            return Err("failover: Lease mode needs a positive lease".into());
        }
        limits::count("failover: max_batch", self.max_batch as u64, 1, 100_000)?;
        Ok(())
    }

    /// How long a backup waits in silence before it suspects the primary: `timeout`, and in
    /// Lease mode at least the lease stretched by the drift margin, `lease·(1+ρ)/(1−ρ)`
    /// (rounded up), so the old primary's lease has run out on the true timeline.
    pub fn suspect_after(&self) -> std::time::Duration {
        let timeout = self.timeout.0;
        if self.mode != Mode::Lease {
            return timeout;
        }
        let rho = u128::from(self.drift_bound_ppm);
        let lease = self.lease.0.as_nanos();
        let wait = (lease * (1_000_000 + rho)).div_ceil(1_000_000 - rho);
        timeout.max(std::time::Duration::from_nanos(wait as u64))
    }
}

/// The failover family: `protocol: Failover((...))` in a scenario, with the KV workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct FailoverFamily;

impl Family for FailoverFamily {
    type Protocol = FailoverNode;
    type Config = FailoverConfig;
    type Workload = KvWorkloadConfig;

    fn name(&self) -> &'static str {
        "Failover"
    }

    fn about(&self) -> &'static str {
        "primary/backup failover with heartbeats: naive, epoch + fencing, lease, quorum"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                Invariant::NO_SPLIT_BRAIN,
                "no primary gets a write accepted after a newer primary has had writes accepted",
            ),
            I::safety(
                Invariant::ONE_PRIMARY_PER_EPOCH,
                "at most one node becomes primary in each epoch",
            ),
            I::safety(
                Invariant::COMMITTED_NEVER_OVERWRITTEN,
                "an entry a primary committed stays on every replica that held it (checked from the logs)",
            ),
            I::within(
                Invariant::PRIMARY_WITHIN,
                "after the last fault, a primary serves writes within the deadline",
            ),
            I::safety(
                Invariant::LINEARIZABLE,
                "the KV client history is linearizable: no acknowledged write is lost",
            ),
            I::within(
                Invariant::OPS_COMPLETE_WITHIN,
                "after the last fault, every client operation completes within the deadline",
            ),
        ]
    }

    fn coverage(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m(
                "failover.primary.suspected",
                "a backup found the primary silent for its timeout",
            ),
            m(
                "failover.promotion.refused",
                "a promotion request refused (older epoch, or a primary still heard)",
            ),
            m("failover.recovered", "a node restarted"),
            m(
                "failover.recovered_with_log",
                "a node restarted with log entries on disk",
            ),
            m(
                "failover.disk.halted",
                "a node found a damaged record on its disk and halted",
            ),
            m(
                "failover.disk.sync_failed",
                "a sync failed; the node rewrote its state",
            ),
            m(
                "failover.backup.truncated_conflict",
                "a backup truncated a conflicting suffix of its log",
            ),
            m("failover.primary.stepped_down", "a primary stepped down"),
            m("failover.promoted", "a backup became primary"),
            m(
                "failover.fenced.stale_epoch",
                "a replica refused an older epoch's Append (fencing)",
            ),
            m(
                "failover.fenced.stale_write",
                "a fenced Append carried writes",
            ),
            m(
                "failover.rebuilt_over_committed",
                "a replica rebuilt its store over committed entries",
            ),
            m(
                "failover.backup.readded",
                "a dropped backup was added back to the replica set",
            ),
            m(
                "failover.backup.dropped",
                "a silent backup was dropped from the replica set",
            ),
            m(
                "failover.primary.quorum_lost",
                "a primary lost its majority",
            ),
            m("failover.lease.expired", "a primary's lease expired"),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("failover.promotions", "backups that became primary"),
            m("failover.step_downs", "primaries that stepped down"),
            m(
                metric::DETECTION_MS,
                "from a primary's failure to a backup suspecting it (ms)",
            ),
            m(
                metric::FAILOVER_MS,
                "from a primary's failure to a new primary serving (ms)",
            ),
            m(
                metric::UNAVAILABLE_MS,
                "windows with no primary serving writes (ms)",
            ),
            m(
                metric::DUAL_BELIEF_MS,
                "windows where two nodes believe they are primary (ms)",
            ),
            m(
                "failover.backups_dropped",
                "backups a primary dropped from its replica set",
            ),
            m("failover.backups_readded", "backups a primary took back"),
            m(
                "failover.committed_entries_overwritten",
                "committed entries a replica overwrote",
            ),
            m(
                "failover.lease_expired",
                "primaries whose lease ran out (Lease mode)",
            ),
            m(
                "failover.quorum_lost",
                "primaries that lost their majority (Quorum mode)",
            ),
            m(
                metric::STALE_REJECTED,
                "Appends (heartbeats included) rejected for a stale epoch",
            ),
            m(
                metric::STALE_WRITES_REJECTED,
                "Appends carrying writes rejected for a stale epoch",
            ),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &FailoverConfig,
        _workload: &KvWorkloadConfig,
        _checks: &Checks,
    ) -> Result<(), String> {
        config.validate()?;
        if setup.nodes > 64 {
            return Err("failover: at most 64 nodes (replica sets are bit masks)".into());
        }
        // The primary sends n - 1 heartbeats per period and gets as many answers; every node's
        // tick fires once per heartbeat.
        let n = setup.nodes as f64;
        let estimate = (3.0 * n) / config.heartbeat.0.as_secs_f64();
        crate::limits::event_rate(estimate, "heartbeats, answers and ticks")
    }

    /// The KV clients and one monitor covering the asked-for failover checks (it always
    /// records the failover metrics).
    fn build(
        &self,
        setup: &Setup,
        config: &FailoverConfig,
        workload: &KvWorkloadConfig,
        checks: &Checks,
    ) -> Built<FailoverNode> {
        let options = MonitorOptions::from_checks(checks, setup.quiet_from);
        Built {
            config: config.clone(),
            workload: Box::new(KvWorkload::new(workload.clone(), checks, setup.quiet_from)),
            monitors: vec![Box::new(FailoverMonitor::new(options))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_wait_out_the_lease_stretched_by_the_drift_bound() {
        let lease = FailoverConfig {
            mode: Mode::Lease,
            lease: Dur::secs(1),
            drift_bound_ppm: 10_000,
            ..FailoverConfig::default()
        };
        // 1 s · 1.01 / 0.99, rounded up to the nanosecond.
        assert_eq!(lease.suspect_after().as_nanos(), 1_020_202_021);
        let short = FailoverConfig {
            lease: Dur::ms(100),
            ..lease.clone()
        };
        assert_eq!(
            short.suspect_after(),
            short.timeout.0,
            "never below the timeout"
        );
        let quorum = FailoverConfig {
            mode: Mode::Quorum,
            ..lease
        };
        assert_eq!(quorum.suspect_after(), quorum.timeout.0);
    }

    #[test]
    fn configs_are_validated() {
        assert!(FailoverConfig::default().validate().is_ok());
        for bad in [
            FailoverConfig {
                heartbeat: Dur::ms(0),
                ..FailoverConfig::default()
            },
            FailoverConfig {
                drift_bound_ppm: 1_000_000,
                ..FailoverConfig::default()
            },
            FailoverConfig {
                max_batch: 0,
                ..FailoverConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
