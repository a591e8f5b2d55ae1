//! Ballots, values, messages and timers: the vocabulary every other file speaks.
//!
//! Follows Lamport, "Paxos Made Simple" (2001) §2.2–2.3 for the two phases and §3 for running
//! one instance per log slot, and van Renesse & Altinbuken, "Paxos Made Moderately Complex"
//! (2015) §2–3 for the message names and for ballots as (round, leader id) pairs:
//!
//! ```text
//!   phase 1a  Prepare(b, from)      leader ──► acceptors   "promise b for every slot >= from"
//!   phase 1b  Promise(b, accepted)  acceptor ──► leader    "promised; here is what I accepted"
//!   phase 2a  Accept(b, [(s, v)])   leader ──► acceptors   "accept v for slot s in ballot b"
//!   phase 2b  Accepted(b, [s])      acceptor ──► leader    "accepted"
//!   Nack(b, promised)               acceptor ──► proposer  "I promised a higher ballot": preempted
//!   Decide([(s, v)])                leader ──► learners    "v is chosen for s" (PMMC's decision)
//!   Heartbeat(b, decided_upto)      leader ──► all         "I lead b; everything below is decided"
//!   CatchUp(from)                   learner ──► leader     "send me the decisions from here on"
//! ```
//!
//! Phase 1 runs once for all slots from the leader's first undecided slot on (Paxos Made
//! Simple §3: "the leader ... executes phase 1 for infinitely many instances"), so a stable
//! leader only ever runs phase 2.

use faultline::NodeId;
use faultline::kv::{KvRequest, Op};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A ballot (Lamport's "proposal number"): a round, then the proposer's id, compared in that
/// order. Two proposers never share a ballot, and a proposer can always pick a higher one.
/// `Ballot::default()` (round 0) is below every ballot a proposer uses: "nothing promised".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Ballot {
    /// The round; proposers use rounds from 1 on.
    pub round: u64,
    /// The proposer that owns the ballot.
    pub node: NodeId,
}

impl Ballot {
    /// Ballot `round` of `node`.
    pub fn new(round: u64, node: u32) -> Ballot {
        Ballot {
            round,
            node: NodeId(node),
        }
    }
}

impl fmt::Debug for Ballot {
    /// `3.n1`: round 3 of node 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// What one slot decides: a batch of client requests applied in order. An empty batch is the
/// no-op a new leader proposes to fill a gap in the log (Paxos Made Simple §3).
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Value(pub Vec<KvRequest>);

impl Value {
    /// The no-op.
    pub fn noop() -> Value {
        Value(Vec::new())
    }

    /// Whether this is the no-op.
    pub fn is_noop(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Value {
    /// `noop`, or the requests as `c<client>.<seq> <op>`: `[c1.4 put k2=7, c2.1 get k0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_noop() {
            return f.write_str("noop");
        }
        f.write_str("[")?;
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "c{}.{} ", r.client, r.seq)?;
            match r.op {
                Op::Put(v) => write!(f, "put k{}={v}", r.key)?,
                Op::Get => write!(f, "get k{}", r.key)?,
                Op::Cas { expected, new } => write!(f, "cas k{} {expected}->{new}", r.key)?,
            }
        }
        f.write_str("]")
    }
}

/// Messages between nodes (see the module docs for who sends which).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Phase 1a: "promise not to accept anything below `ballot`, for every slot >= `from`".
    Prepare { ballot: Ballot, from: u64 },
    /// Phase 1b: the promise, with the acceptor's highest-ballot accepted value for every
    /// undecided slot >= `from`, and the values it knows are decided there.
    Promise {
        ballot: Ballot,
        accepted: Vec<(u64, Ballot, Value)>,
        decided: Vec<(u64, Value)>,
    },
    /// Phase 2a: "accept these values in `ballot`".
    Accept {
        ballot: Ballot,
        entries: Vec<(u64, Value)>,
    },
    /// Phase 2b: the slots accepted in `ballot`, and the values of any slots of the Accept the
    /// acceptor already knew decided (it accepts nothing more for those).
    Accepted {
        ballot: Ballot,
        slots: Vec<u64>,
        decided: Vec<(u64, Value)>,
    },
    /// A Prepare, Accept or Heartbeat of `ballot` was refused: the sender promised `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// Chosen values, for learners.
    Decide { entries: Vec<(u64, Value)> },
    /// The leader of `ballot` is alive; every slot below `decided_upto` is decided.
    Heartbeat { ballot: Ballot, decided_upto: u64 },
    /// A learner that misses decisions asks for those from slot `from` on.
    CatchUp { from: u64 },
}

impl Message {
    /// The ballot the message carries, if any.
    pub fn ballot(&self) -> Option<Ballot> {
        match self {
            Message::Prepare { ballot, .. }
            | Message::Promise { ballot, .. }
            | Message::Accept { ballot, .. }
            | Message::Accepted { ballot, .. }
            | Message::Heartbeat { ballot, .. } => Some(*ballot),
            Message::Nack { promised, .. } => Some(*promised),
            Message::Decide { .. } | Message::CatchUp { .. } => None,
        }
    }
}

/// Timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timer {
    /// Check whether the leader has been silent past the randomized deadline.
    Election,
    /// Leader: heartbeat and re-send unanswered Accepts. Candidate: re-send Prepares.
    Heartbeat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_node() {
        assert!(Ballot::new(1, 4) < Ballot::new(2, 0));
        assert!(Ballot::new(2, 0) < Ballot::new(2, 1));
        assert!(Ballot::default() < Ballot::new(1, 0));
        assert_eq!(format!("{:?}", Ballot::new(3, 1)), "3.n1");
    }

    #[test]
    fn values_print_compactly() {
        let put = KvRequest {
            client: 1,
            seq: 4,
            op: Op::Put(7),
            key: 2,
        };
        let get = KvRequest {
            client: 2,
            seq: 1,
            op: Op::Get,
            key: 0,
        };
        assert_eq!(
            format!("{:?}", Value(vec![put, get])),
            "[c1.4 put k2=7, c2.1 get k0]"
        );
        assert_eq!(format!("{:?}", Value::noop()), "noop");
    }
}
