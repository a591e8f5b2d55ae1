//! A broker: its messages, client requests and replies, durable state, and the dispatch of
//! every event to the controller quorum (`controller.rs`) or the partition replicas
//! (`replica.rs`, `produce.rs`).
//!
//! Every broker replicates the partitions assigned to it; the first `controllers` brokers
//! are also the voters of the controller quorum, one of which is the active controller.

use super::KafkaConfig;
use super::controller::Quorum;
use super::meta::Metadata;
use super::replica::{FetchReply, Replica};
use serde::{Deserialize, Serialize};
use sim::{ClientId, Context, NodeId, Protocol, Time};

/// One record of a partition log. Its offset is its index in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The leader epoch it was appended in.
    pub epoch: u64,
    /// The producer's value (unique in a run).
    pub value: u64,
    /// The idempotent producer's id (0: not idempotent).
    pub producer: u64,
    /// The producer's sequence number for this partition.
    pub seq: u64,
}

/// One partition's log on disk, with its checkpointed high watermark and its leader-epoch
/// file (epoch → first offset, KIP-101).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLog {
    /// The records; the log end offset (LEO) is their count.
    pub records: Vec<Record>,
    /// The high watermark as last checkpointed.
    pub hw: u64,
    /// `(leader epoch, start offset)`, increasing in both.
    pub epochs: Vec<(u64, u64)>,
}

impl PartitionLog {
    /// The log end offset.
    pub fn leo(&self) -> u64 {
        self.records.len() as u64
    }

    /// The latest leader epoch in the epoch file (0 if none).
    pub fn last_epoch(&self) -> u64 {
        self.epochs.last().map_or(0, |e| e.0)
    }

    /// OffsetsForLeaderEpoch, answered from this log: the largest epoch at or below `epoch`
    /// it knows, and where that epoch ends (the start of the next one, or the LEO).
    pub fn end_of_epoch(&self, epoch: u64) -> (u64, u64) {
        match self.epochs.iter().rposition(|e| e.0 <= epoch) {
            Some(i) => (
                self.epochs[i].0,
                self.epochs.get(i + 1).map_or(self.leo(), |e| e.1),
            ),
            None => (0, self.epochs.first().map_or(self.leo(), |e| e.1)),
        }
    }

    /// Drops every record from `offset` on (and the epochs that start there or later).
    pub fn truncate(&mut self, offset: u64) {
        self.records.truncate(offset as usize);
        self.epochs.retain(|e| e.1 < offset);
        self.hw = self.hw.min(offset);
    }

    /// Appends a record, starting a new epoch entry if its epoch is new.
    pub fn append(&mut self, r: Record) {
        if self.last_epoch() < r.epoch {
            self.epochs.push((r.epoch, self.leo()));
        }
        self.records.push(r);
    }
}

/// A value the controller quorum accepted: `(ballot, version, metadata)`.
pub type Accepted = (u64, u64, Metadata);

/// What survives a broker crash (every write is synced at once: a process crash, with the
/// page cache intact).
#[derive(Clone, Debug, Default)]
pub struct Durable {
    /// The quorum voter's promise (the highest ballot it answered).
    pub promised: u64,
    /// The quorum voter's accepted value.
    pub accepted: Option<Accepted>,
    /// Per partition (empty for partitions this broker does not replicate).
    pub logs: Vec<PartitionLog>,
}

/// Producer acknowledgement mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acks {
    /// Fire and forget: the producer counts a send done when it leaves.
    Zero,
    /// The leader's own append.
    One,
    /// Every in-sync replica has it (the high watermark passed it), and the ISR had at
    /// least `min_insync_replicas` members.
    #[default]
    All,
}

/// Why a produce request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProduceError {
    /// This broker does not lead the partition (nothing appended).
    NotLeader,
    /// acks=all with fewer in-sync replicas than `min_insync_replicas` (nothing appended).
    NotEnoughReplicas,
    /// A sequence number beyond the next expected one (nothing appended).
    OutOfOrderSequence,
    /// Appended, but the ISR fell below `min_insync_replicas` before it was committed.
    NotEnoughReplicasAfterAppend,
    /// Appended, but the broker lost the leadership before it was committed.
    LeadershipLost,
}

impl ProduceError {
    /// Whether the record certainly was not appended.
    pub fn definite(self) -> bool {
        matches!(
            self,
            ProduceError::NotLeader
                | ProduceError::NotEnoughReplicas
                | ProduceError::OutOfOrderSequence
        )
    }
}

/// A client request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Append `value` to `partition`.
    Produce {
        partition: u32,
        producer: u64,
        seq: u64,
        value: u64,
        acks: Acks,
    },
    /// Read committed records of `partition` from `offset`. `leader_epoch` is the newest
    /// leader epoch the consumer has seen for it: a broker leading an older one refuses
    /// (KIP-320), so a deposed leader cannot send a consumer back.
    Poll {
        partition: u32,
        offset: u64,
        max: u32,
        leader_epoch: u64,
    },
    /// Commit a consumer's offsets (to the active controller).
    CommitOffsets {
        consumer: u64,
        offsets: Vec<(u32, u64)>,
    },
    /// A consumer's committed offsets (from the active controller).
    FetchOffsets { consumer: u64 },
}

/// A reply to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The send of `value` is acknowledged at `offset`.
    Produced {
        partition: u32,
        value: u64,
        offset: u64,
    },
    /// The send of `value` failed; `leader` is this broker's idea of the leader.
    ProduceFailed {
        partition: u32,
        value: u64,
        error: ProduceError,
        leader: Option<NodeId>,
    },
    /// Records from `offset`, up to the high watermark `hw`, from the leader of
    /// `leader_epoch`.
    Records {
        partition: u32,
        leader_epoch: u64,
        offset: u64,
        records: Vec<(u64, u64)>,
        hw: u64,
    },
    /// Not the leader of `partition` (`leo` set when the offset was past the log end).
    PollFailed {
        partition: u32,
        leader: Option<NodeId>,
        leo: Option<u64>,
    },
    /// The consumer's offsets are committed.
    OffsetsCommitted,
    /// A consumer's committed offsets.
    Offsets { offsets: Vec<(u32, u64)> },
    /// This broker is not the active controller.
    NotController { controller: Option<NodeId> },
}

/// A message between brokers.
#[derive(Clone, Debug, Serialize)]
pub enum Message {
    /// Quorum phase 1: a voter asks to become controller with `ballot`.
    Prepare { ballot: u64 },
    /// The promise, with the highest value the voter accepted.
    Promise {
        ballot: u64,
        accepted: Option<Accepted>,
    },
    /// Quorum phase 2: accept metadata `version` under `ballot`.
    Accept {
        ballot: u64,
        version: u64,
        meta: Metadata,
    },
    /// Accepted.
    AcceptOk { ballot: u64, version: u64 },
    /// Refused: the voter promised `promised`.
    Nack { promised: u64 },
    /// A broker's heartbeat to the controller, with the metadata version it holds (0 after
    /// a restart, which gets it the whole metadata).
    Heartbeat { version: u64 },
    /// The controller's answer and announcement: the committed metadata when the broker's
    /// is older.
    Metadata {
        ballot: u64,
        version: u64,
        meta: Option<Metadata>,
    },
    /// A leader asks the controller to change a partition's ISR (AlterPartition).
    AlterIsr {
        partition: u32,
        partition_epoch: u64,
        isr: Vec<NodeId>,
    },
    /// A follower fetches `partition` from `offset` in `leader_epoch`.
    Fetch {
        partition: u32,
        leader_epoch: u64,
        offset: u64,
    },
    /// The leader's answer to a fetch.
    FetchReply(FetchReply),
    /// OffsetsForLeaderEpoch: where does `epoch` end in the leader's log?
    EpochQuery {
        partition: u32,
        leader_epoch: u64,
        epoch: u64,
    },
    /// The answer: the largest epoch at or below the asked one, and its end offset.
    EpochAnswer {
        partition: u32,
        leader_epoch: u64,
        epoch: u64,
        end_offset: u64,
    },
}

/// Timers.
#[derive(Clone, Debug, Serialize)]
pub enum Timer {
    /// Every `heartbeat`: heartbeats, the controller's duties, ISR checks, quorum timeouts.
    Tick,
    /// A follower's next fetch of a partition (`generation` drops stale ones).
    Fetch { partition: u32, generation: u64 },
}

/// One broker.
#[derive(Debug)]
pub struct Broker {
    /// The controller quorum voter, on the first `controllers` brokers.
    pub quorum: Option<Quorum>,
    /// The active controller as far as this broker knows: `(node, ballot)`.
    pub controller: Option<(NodeId, u64)>,
    /// When the controller last answered a heartbeat (local clock).
    pub(super) controller_heard: Time,
    /// The metadata version this broker applied, and the metadata.
    pub version: u64,
    /// The metadata this broker applied (`None` before the first).
    pub meta: Option<Metadata>,
    /// Per partition: this broker's replica state (`None` if it does not replicate it).
    pub replicas: Vec<Option<Replica>>,
}

impl Broker {
    /// The partitions this broker replicates, by index.
    pub fn replica(&self, p: usize) -> Option<&Replica> {
        self.replicas.get(p).and_then(Option::as_ref)
    }

    /// The active controller's node, if this broker knows one.
    pub fn controller_node(&self) -> Option<NodeId> {
        self.controller.map(|c| c.0)
    }

    fn boot(ctx: &mut Context<'_, Self>) -> Self {
        let cfg = ctx.config().clone();
        let me = ctx.id();
        let partitions = cfg.partitions as usize;
        if ctx.durable().logs.len() != partitions {
            ctx.durable_mut().logs = vec![PartitionLog::default(); partitions];
        }
        let layout = cfg.layout(ctx.node_count());
        let replicas = layout
            .partitions
            .iter()
            .map(|p| p.replicas.contains(&me).then(Replica::default))
            .collect();
        let quorum = (me.index() < cfg.voters(ctx.node_count())).then(|| Quorum::new(ctx));
        ctx.set_timer(cfg.heartbeat.0, Timer::Tick);
        Broker {
            quorum,
            controller: None,
            controller_heard: ctx.now(),
            version: 0,
            meta: None,
            replicas,
        }
    }
}

impl Protocol for Broker {
    type Config = KafkaConfig;
    type Message = Message;
    type Timer = Timer;
    type Request = Request;
    type Reply = Reply;
    type Durable = Durable;

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        Self::boot(ctx)
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        ctx.cover("kafka.recovered");
        Self::boot(ctx)
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        match msg {
            Message::Prepare { ballot } => self.on_prepare(ctx, from, ballot),
            Message::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            Message::Accept {
                ballot,
                version,
                meta,
            } => self.on_accept(ctx, from, ballot, version, meta),
            Message::AcceptOk { ballot, version } => self.on_accept_ok(ctx, from, ballot, version),
            Message::Nack { promised } => self.on_nack(ctx, promised),
            Message::Heartbeat { version } => self.on_heartbeat(ctx, from, version),
            Message::Metadata {
                ballot,
                version,
                meta,
            } => self.on_metadata(ctx, from, ballot, version, meta),
            Message::AlterIsr {
                partition,
                partition_epoch,
                isr,
            } => self.on_alter_isr(ctx, from, partition, partition_epoch, isr),
            Message::Fetch {
                partition,
                leader_epoch,
                offset,
            } => self.on_fetch(ctx, from, partition, leader_epoch, offset),
            Message::FetchReply(reply) => self.on_fetch_reply(ctx, from, reply),
            Message::EpochQuery {
                partition,
                leader_epoch,
                epoch,
            } => self.on_epoch_query(ctx, from, partition, leader_epoch, epoch),
            Message::EpochAnswer {
                partition,
                leader_epoch,
                epoch,
                end_offset,
            } => self.on_epoch_answer(ctx, partition, leader_epoch, epoch, end_offset),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Tick => {
                ctx.set_timer(ctx.config().heartbeat.0, Timer::Tick);
                self.quorum_tick(ctx);
                self.heartbeat(ctx);
                self.isr_tick(ctx);
            }
            Timer::Fetch {
                partition,
                generation,
            } => self.fetch_due(ctx, partition, generation),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request: Request,
    ) {
        match request {
            Request::Produce {
                partition,
                producer,
                seq,
                value,
                acks,
            } => {
                let produce = super::produce::Produce {
                    client,
                    partition,
                    producer,
                    seq,
                    value,
                    acks,
                };
                self.on_produce(ctx, produce)
            }
            Request::Poll {
                partition,
                offset,
                max,
                leader_epoch,
            } => {
                let poll = super::produce::Poll {
                    client,
                    partition,
                    offset,
                    max,
                    leader_epoch,
                };
                self.on_poll(ctx, poll)
            }
            Request::CommitOffsets { consumer, offsets } => {
                self.on_commit_offsets(ctx, client, consumer, offsets)
            }
            Request::FetchOffsets { consumer } => self.on_fetch_offsets(ctx, client, consumer),
        }
    }

    /// Leads in the sense of fault targets: `Leader` is partition 0's leader.
    fn leader_term(&self) -> Option<u64> {
        self.replica(0)
            .filter(|r| r.leads())
            .map(|r| r.leader_epoch)
    }

    fn annotate(&self, durable: &Durable, out: &mut sim::Annotations) {
        let controller = self.quorum.as_ref().is_some_and(|q| q.active());
        out.set("controller", u64::from(controller));
        if let Some(r) = self.replica(0) {
            out.set("role", if r.leads() { "leader" } else { "follower" });
            out.set("epoch", r.leader_epoch);
            out.set("isr", r.isr.len() as u64);
        }
        if let Some(log) = durable.logs.first() {
            out.set("leo", log.leo());
            out.set("hw", log.hw);
        }
    }
}
