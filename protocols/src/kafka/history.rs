//! The queue history: what the Kafka workload's producers and consumers did, in the shape
//! Jepsen's queue checker reads (`jepsen/tests/kafka.clj`): sends with the offset the broker
//! gave them, and polls with the `(offset, value)` pairs they returned. The checker
//! (`check.rs`) reads nothing else, so a history can be built by hand in a test.
//!
//! Values are unique across the run (the workload draws them from one counter), so a value
//! names the send that wrote it.

use serde::Serialize;

/// What became of a send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SendResult {
    /// Acknowledged by the partition leader at this offset (acks=1 or acks=all).
    Ok(u64),
    /// Handed to the network with acks=0: the producer counts it sent, with no offset.
    Sent,
    /// Definitely not written: the broker refused it before appending (not the leader, not
    /// enough in-sync replicas, out-of-order sequence). The reason, for explanations.
    Fail(String),
    /// Indeterminate: no answer before the producer gave up, or an error that may follow an
    /// append (`NotEnoughReplicasAfterAppend`). Jepsen's `:info`.
    Info,
}

impl SendResult {
    /// Whether the producer was told the write happened (`Ok` or, with acks=0, `Sent`).
    pub fn acknowledged(&self) -> bool {
        matches!(self, SendResult::Ok(_) | SendResult::Sent)
    }
}

/// One operation's kind and outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum OpKind {
    /// A producer's send of `value` to `partition`.
    Send {
        partition: u32,
        value: u64,
        result: SendResult,
    },
    /// A consumer's poll of `partition`: the records it returned, in offset order. `session`
    /// counts the consumer's restarts: a restarted consumer resumes from its committed offset,
    /// so monotonicity is judged within one session only.
    Poll {
        partition: u32,
        session: u64,
        records: Vec<(u64, u64)>,
    },
}

/// One completed operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueOp {
    /// The client (producer or consumer) that ran it.
    pub process: u64,
    /// When it was invoked, in nanoseconds of true time.
    pub invoke_ns: u64,
    /// When it completed, in nanoseconds of true time.
    pub complete_ns: u64,
    /// What it was and how it ended.
    pub kind: OpKind,
}

/// A run's operations in completion order. Operation `i` is named `op i` in explanations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueHistory {
    /// The operations.
    pub ops: Vec<QueueOp>,
    /// Whether the consumers drained every partition at the end (polled up to each leader's
    /// high watermark after the last fault healed). `Unseen` is judged only then.
    pub drained: bool,
}

impl QueueHistory {
    /// Appends a send.
    pub fn send(
        &mut self,
        process: u64,
        span: (u64, u64),
        partition: u32,
        value: u64,
        result: SendResult,
    ) {
        self.ops.push(QueueOp {
            process,
            invoke_ns: span.0,
            complete_ns: span.1,
            kind: OpKind::Send {
                partition,
                value,
                result,
            },
        });
    }

    /// Appends a poll.
    pub fn poll(
        &mut self,
        process: u64,
        span: (u64, u64),
        partition: u32,
        session: u64,
        records: Vec<(u64, u64)>,
    ) {
        self.ops.push(QueueOp {
            process,
            invoke_ns: span.0,
            complete_ns: span.1,
            kind: OpKind::Poll {
                partition,
                session,
                records,
            },
        });
    }
}
