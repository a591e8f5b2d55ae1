//! A Kafka-style replicated partition log: brokers holding replicas of P partitions, a
//! controller quorum that assigns leaders and tracks in-sync replicas, followers fetching
//! from the leader, the high watermark, leader epochs, producers with acks 0/1/all and
//! `min.insync.replicas`, idempotent producers, and consumers that poll and commit offsets.
//!
//! ```text
//!   producers ──Produce{acks}──► partition leader ──FetchReply{records, HW}──► followers
//!                                  ▲   │  ◄──Fetch{offset} (= follower's log end)───┘
//!   consumers ──Poll{offset}───────┘   └──AlterIsr──► controller ◄──Heartbeat── brokers
//!             ──CommitOffsets──────────────────────► (Paxos quorum of voters; pushes Metadata)
//! ```
//!
//! The switches that re-create Kafka's historical data-loss bugs (docs/kafka.md,
//! docs/references.md §8), each caught by the queue checker or the replicas' check:
//! - `min_insync_replicas: 1` with `unclean_leader_election`: the ISR shrinks to the leader
//!   alone, which keeps acknowledging acks=all writes; after it is cut off an out-of-sync
//!   replica takes over and the writes are gone (Jepsen, Kafka 0.8, 2013).
//! - `leader_epochs: false`: followers truncate to their own high watermark when they follow
//!   a new leader (pre-KIP-101): an acknowledged write is lost when a restarted follower
//!   becomes leader (KIP-101 scenario 1), and replicas diverge after several hard failures
//!   (scenario 2).
//! - `unclean_leader_election: true`: a replica outside the ISR can be elected and committed
//!   records are lost.
//! - `acks: One` on the workload: a write acknowledged by the leader alone is lost when the
//!   leader fails before a follower copies it.
//!
//! Files: `meta.rs` (the metadata and the controller's decisions), `controller.rs` (the
//! quorum and the active controller), `node.rs` (messages, requests, dispatch),
//! `replica.rs` (fetching, the high watermark, ISR changes, truncation), `produce.rs`
//! (produce and poll), `queue_config.rs`, `workload.rs`, `producer.rs` and `consumer.rs` (the
//! queue workload), `history.rs` and `check.rs`
//! (Jepsen's queue checker), `monitor.rs` (CommittedLogsAgree, leaders, ISR metrics).

mod check;
mod consumer;
mod controller;
mod history;
pub mod meta;
mod monitor;
mod node;
mod produce;
mod producer;
mod queue_config;
mod replica;
mod workload;

pub use check::{Anomaly, KINDS, check, unread_acknowledged};
pub use history::{OpKind, QueueHistory, QueueOp, SendResult};
pub use monitor::KafkaMonitor;
pub use node::{
    Acks, Broker, Durable, Message, PartitionLog, ProduceError, Record, Reply, Request, Timer,
};
pub use queue_config::QueueWorkloadConfig;
pub use replica::{FetchReply, Following, Replica};
pub use workload::QueueWorkload;

use crate::checks::{Checks, Invariant, InvariantInfo};
use crate::family::{Built, Family, MetricInfo, Setup};
use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// The `protocol: Kafka((...))` section of a scenario. Timings are Kafka's defaults scaled
/// down about 100× (a 30 s `replica.lag.time.max.ms` becomes 300 ms), so that a run of
/// seconds sees many failovers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Partitions of the one topic.
    pub partitions: u32,
    /// Replicas per partition, on consecutive brokers.
    pub replication_factor: u32,
    /// Controller quorum voters: the first this many nodes.
    pub controllers: u32,
    /// The voters are controllers only (KRaft's isolated mode) and hold no partitions; by
    /// default they are brokers too (combined mode).
    pub dedicated_controllers: bool,
    /// acks=all writes are refused while the ISR has fewer members, and fail after the
    /// append if it shrank below this meanwhile.
    pub min_insync_replicas: u32,
    /// Elect a replica outside the ISR when no ISR member is alive (loses committed data).
    pub unclean_leader_election: bool,
    /// KIP-101 truncation by leader epoch; `false` truncates to the local high watermark.
    pub leader_epochs: bool,
    /// Broker heartbeat period (and the tick of every periodic duty).
    pub heartbeat: Dur,
    /// A broker not heard for this long is fenced by the controller.
    pub session_timeout: Dur,
    /// A voter hearing no controller for this long (randomized up to twice it) starts an
    /// election.
    pub controller_timeout: Dur,
    /// A follower not caught up for this long leaves the ISR (`replica.lag.time.max.ms`).
    pub replica_lag_time: Dur,
    /// A follower with nothing new fetches again after this long.
    pub fetch_interval: Dur,
    /// A fetch or epoch query unanswered for this long is sent again.
    pub fetch_timeout: Dur,
    /// At most this many records per fetch answer.
    pub max_batch: usize,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            partitions: 3,
            replication_factor: 3,
            controllers: 3,
            dedicated_controllers: false,
            min_insync_replicas: 2,
            unclean_leader_election: false,
            leader_epochs: true,
            heartbeat: Dur::ms(50),
            session_timeout: Dur::ms(300),
            controller_timeout: Dur::ms(300),
            replica_lag_time: Dur::ms(300),
            fetch_interval: Dur::ms(10),
            fetch_timeout: Dur::ms(100),
            max_batch: 64,
        }
    }
}

impl KafkaConfig {
    /// The controller quorum's size on `brokers` brokers.
    pub fn voters(&self, brokers: usize) -> usize {
        (self.controllers as usize).clamp(1, brokers.max(1))
    }

    /// The first node that holds partitions (after dedicated controllers).
    pub fn first_broker(&self) -> usize {
        if self.dedicated_controllers {
            self.controllers as usize
        } else {
            0
        }
    }

    /// The initial metadata on `nodes` nodes.
    pub fn layout(&self, nodes: usize) -> meta::Metadata {
        meta::Metadata::initial(
            nodes,
            self.first_broker(),
            self.partitions,
            self.replication_factor,
        )
    }

    /// Checks the values against the cluster size; the message names the field.
    pub fn validate(&self, nodes: usize) -> Result<(), String> {
        use crate::limits;
        limits::count("kafka: partitions", u64::from(self.partitions), 1, 1024)?;
        limits::count("kafka: controllers", u64::from(self.controllers), 1, 7)?;
        if self.controllers as usize > nodes {
            return Err(format!(
                "kafka: controllers ({}) is more than the {nodes} nodes",
                self.controllers
            ));
        }
        let brokers = nodes - self.first_broker();
        limits::count(
            "kafka: replication_factor",
            u64::from(self.replication_factor),
            1,
            brokers as u64,
        )
        .map_err(|e| format!("{e} (the scenario has {brokers} brokers holding partitions)"))?;
        limits::count(
            "kafka: min_insync_replicas",
            u64::from(self.min_insync_replicas),
            1,
            u64::from(self.replication_factor),
        )
        .map_err(|e| format!("{e} (it cannot exceed replication_factor)"))?;
        for (field, d) in [
            ("heartbeat", self.heartbeat),
            ("session_timeout", self.session_timeout),
            ("controller_timeout", self.controller_timeout),
            ("replica_lag_time", self.replica_lag_time),
            ("fetch_interval", self.fetch_interval),
            ("fetch_timeout", self.fetch_timeout),
        ] {
            limits::period(&format!("kafka: {field}"), d)?;
        }
        for (field, d) in [
            ("session_timeout", self.session_timeout),
            ("controller_timeout", self.controller_timeout),
        ] {
            if d <= self.heartbeat {
                return Err(format!(
                    "kafka: {field} ({d}) must exceed heartbeat ({})",
                    self.heartbeat
                ));
            }
        }
        limits::count("kafka: max_batch", self.max_batch as u64, 1, 100_000)
    }
}

/// The metric names this family records.
pub mod metric {
    /// Produce latency of acks=0 sends (ms): zero, they complete on sending.
    pub const PRODUCE_MS_ACKS0: &str = "kafka.produce_ms.acks0";
    /// Produce latency of acks=1 sends (ms).
    pub const PRODUCE_MS_ACKS1: &str = "kafka.produce_ms.acks1";
    /// Produce latency of acks=all sends (ms).
    pub const PRODUCE_MS_ACKS_ALL: &str = "kafka.produce_ms.acks_all";
    /// From a send's invocation to the first poll that returned it (ms).
    pub const END_TO_END_MS: &str = "kafka.end_to_end_ms";
    /// Windows in which a partition's producers got no acknowledgement (ms).
    pub const UNAVAILABLE_MS: &str = "kafka.unavailable_ms";
    /// Acknowledged sends per second of virtual time.
    pub const THROUGHPUT: &str = "kafka.throughput_msgs_per_s";
    /// Acknowledged sends no consumer ever read, as a fraction of acknowledged sends.
    pub const LOSS_RATE: &str = "kafka.acked_loss_rate";
    /// Acknowledged sends whose offset in the final log holds something else (or nothing).
    pub const ACKED_MISSING: &str = "kafka.acked_missing_from_log";
    /// The ISR size of the newest leader of each partition, sampled at every change.
    pub const ISR_SIZE: &str = "kafka.isr_size";
    /// The smallest ISR over all partitions, sampled at every change.
    pub const ISR_MIN: &str = "kafka.isr_min";
    /// Leader changes seen by the monitor.
    pub const LEADER_CHANGES: &str = "kafka.leader_changes";
}

/// The Kafka-style family: `protocol: Kafka((...))` with `workload: Queue((...))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KafkaFamily;

impl Family for KafkaFamily {
    type Protocol = Broker;
    type Config = KafkaConfig;
    type Workload = QueueWorkloadConfig;

    fn name(&self) -> &'static str {
        "Kafka"
    }

    fn about(&self) -> &'static str {
        "Kafka-style partition log: ISR, high watermark, leader epochs, acks 0/1/all, idempotent producers"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                Invariant::LOST_WRITE,
                "no acknowledged send below the highest offset read goes unread (Jepsen lost-write)",
            ),
            I::safety(
                Invariant::UNSEEN,
                "every acknowledged send is read by the end, once consumers drained (Jepsen unseen)",
            ),
            I::safety(Invariant::DUPLICATE, "no value appears at two offsets"),
            I::safety(
                Invariant::INCONSISTENT_OFFSETS,
                "no offset holds two values",
            ),
            I::safety(
                Invariant::NONMONOTONIC_SEND,
                "a producer's acknowledged offsets in a partition increase",
            ),
            I::safety(
                Invariant::NONMONOTONIC_POLL,
                "a consumer session's reads of a partition go forward",
            ),
            I::safety(
                Invariant::POLL_SKIP,
                "a consumer session's reads skip no record",
            ),
            I::safety(
                Invariant::ABORTED_READ,
                "no consumer reads a value whose send definitely failed",
            ),
            I::safety(
                Invariant::ACKNOWLEDGED_KEPT,
                "every send acknowledged at an offset is there in the final log, read or not",
            ),
            I::safety(
                Invariant::COMMITTED_LOGS_AGREE,
                "replicas agree on every record below their high watermarks (checked from the logs)",
            ),
            I::safety(
                Invariant::REPLICAS_CONVERGE,
                "at the end, the live replicas of each partition agree below their high watermarks",
            ),
            I::within(
                Invariant::LEADER_PER_PARTITION_WITHIN,
                "after the last fault, every partition has a live leader within the deadline",
            ),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m(
                metric::ISR_SIZE,
                "ISR size of each partition's newest leader, at every change (series per partition: kafka.isr_size.pN)",
            ),
            m(
                metric::ISR_MIN,
                "the smallest ISR over the partitions, at every change",
            ),
            m(metric::LEADER_CHANGES, "partition leader changes"),
            m("kafka.truncated_records", "records followers truncated"),
        ]
    }

    fn coverage(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("kafka.recovered", "a broker restarted"),
            m(
                "kafka.controller.election",
                "a voter started a controller election",
            ),
            m(
                "kafka.controller.elected",
                "a voter became the active controller",
            ),
            m(
                "kafka.controller.deposed",
                "a controller or candidate met a higher ballot",
            ),
            m(
                "kafka.broker.fenced",
                "the controller fenced a silent broker",
            ),
            m("kafka.broker.unfenced", "a fenced broker heartbeat again"),
            m("kafka.isr.changed", "the controller applied an ISR change"),
            m(
                "kafka.isr.shrink_requested",
                "a leader asked to drop lagging followers",
            ),
            m(
                "kafka.isr.expand_requested",
                "a leader asked to take a follower back",
            ),
            m("kafka.leader.elected", "a broker became a partition leader"),
            m(
                "kafka.leader.deposed",
                "a partition leader lost its leadership",
            ),
            m(
                "kafka.truncate.epoch",
                "a follower truncated by leader epoch (KIP-101)",
            ),
            m(
                "kafka.truncate.to_hw",
                "a follower truncated to its high watermark (pre-KIP-101)",
            ),
            m(
                "kafka.truncate.out_of_range",
                "a follower's log was past the leader's end",
            ),
            m(
                "kafka.produce.not_enough_replicas",
                "an acks=all write refused: ISR below min.insync.replicas",
            ),
            m(
                "kafka.produce.not_enough_after_append",
                "an acks=all write failed after its append",
            ),
            m(
                "kafka.produce.duplicate",
                "an idempotent retry found its write already in the log",
            ),
            m(
                "kafka.produce.out_of_order",
                "a sequence number out of order",
            ),
            m(
                "kafka.poll.out_of_range",
                "a consumer polled past the leader's log end",
            ),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &KafkaConfig,
        _workload: &QueueWorkloadConfig,
        _checks: &Checks,
    ) -> Result<(), String> {
        config.validate(setup.nodes)?;
        // Per broker and tick: heartbeat and answer; per follower replica: a fetch and its
        // answer every fetch interval when idle.
        let n = setup.nodes as f64;
        let followers = f64::from(config.partitions) * f64::from(config.replication_factor - 1);
        let estimate = 2.0 * n / config.heartbeat.0.as_secs_f64()
            + 2.0 * followers / config.fetch_interval.0.as_secs_f64();
        crate::limits::event_rate(estimate, "heartbeats and fetches")
    }

    fn build(
        &self,
        setup: &Setup,
        config: &KafkaConfig,
        workload: &QueueWorkloadConfig,
        checks: &Checks,
    ) -> Built<Broker> {
        Built {
            config: config.clone(),
            workload: Box::new(QueueWorkload::new(
                workload.clone(),
                config.partitions,
                checks,
                setup,
            )),
            monitors: vec![Box::new(KafkaMonitor::new(config, checks, setup))],
        }
    }
}
