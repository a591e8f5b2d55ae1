//! The cluster metadata the controller quorum replicates, and the controller's decisions on
//! it: which broker leads each partition in which leader epoch, each partition's in-sync
//! replica set (ISR), which brokers are fenced, and the consumers' committed offsets.
//!
//! Every decision is a pure function from one metadata version to the next, so the
//! controller's rules (clean and unclean leader election, fencing, ISR changes) can be read
//! and tested without the quorum around them.

use serde::{Serialize, Serializer};
use sim::NodeId;
use std::collections::BTreeMap;

/// One partition's replication state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionMeta {
    /// The replicas, preferred leader first (fixed for the run).
    pub replicas: Vec<NodeId>,
    /// The leader, or `None` while the partition is offline (no eligible replica).
    pub leader: Option<NodeId>,
    /// Bumped on every leader change (KIP-101's leader epoch).
    pub leader_epoch: u64,
    /// The in-sync replicas. Never empty: an offline partition keeps its last member, the one
    /// a clean election waits for.
    pub isr: Vec<NodeId>,
    /// Bumped on every change of leader or ISR; an ISR change request names the version it
    /// was computed from (KIP-497's partition epoch).
    pub partition_epoch: u64,
}

/// Everything the controller quorum agrees on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// Per partition.
    pub partitions: Vec<PartitionMeta>,
    /// Brokers whose session expired: not eligible as leaders or ISR members until they
    /// heartbeat again.
    pub fenced: Vec<bool>,
    /// Committed consumer offsets: (consumer, partition) → next offset to read. Serialized
    /// as a list of `[[consumer, partition], offset]`: JSON (traces) has no tuple keys.
    #[serde(serialize_with = "as_list")]
    pub offsets: BTreeMap<(u64, u32), u64>,
}

fn as_list<S: Serializer>(offsets: &BTreeMap<(u64, u32), u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(offsets.iter())
}

/// Who may become leader when the ISR has no live member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Election {
    /// Elect an out-of-sync replica (`unclean.leader.election.enable`).
    pub unclean: bool,
}

impl Metadata {
    /// The first metadata of `nodes` nodes whose data brokers are `first..nodes`: partition
    /// `p` on the data brokers `p, p+1, ..` (counted from `first`, wrapping), led by its first
    /// replica in leader epoch 1, every replica in sync, no broker fenced.
    pub fn initial(nodes: usize, first: usize, partitions: u32, replication: u32) -> Metadata {
        let data = nodes - first;
        let partitions = (0..partitions as usize)
            .map(|p| {
                let replicas: Vec<NodeId> = (0..replication as usize)
                    .map(|i| NodeId((first + (p + i) % data) as u32))
                    .collect();
                PartitionMeta {
                    leader: Some(replicas[0]),
                    leader_epoch: 1,
                    isr: replicas.clone(),
                    partition_epoch: 1,
                    replicas,
                }
            })
            .collect();
        Metadata {
            partitions,
            fenced: vec![false; nodes],
            offsets: BTreeMap::new(),
        }
    }

    fn live(&self, b: NodeId) -> bool {
        !self.fenced[b.index()]
    }

    /// Fences broker `b` (its session expired): it leaves every ISR it is in (unless it is
    /// the last member), and every partition it led elects a new leader.
    pub fn fence(&mut self, b: NodeId, election: Election) {
        self.fenced[b.index()] = true;
        for p in 0..self.partitions.len() {
            let part = &mut self.partitions[p];
            if part.isr.len() > 1 && part.isr.contains(&b) {
                part.isr.retain(|&r| r != b);
                part.partition_epoch += 1;
            }
            if part.leader == Some(b) {
                self.elect(p, election);
            }
        }
    }

    /// Unfences broker `b` (it heartbeats again): an offline partition whose ISR holds it
    /// gets it as leader, and with unclean election any offline partition it replicates does.
    pub fn unfence(&mut self, b: NodeId, election: Election) {
        self.fenced[b.index()] = false;
        for p in 0..self.partitions.len() {
            if self.partitions[p].leader.is_none() && self.partitions[p].replicas.contains(&b) {
                self.elect(p, election);
            }
        }
    }

    /// Elects a leader for partition `p` among the live ISR members (clean), else, if
    /// allowed, among the live replicas outside it (unclean: the ISR restarts as the new
    /// leader alone). With neither, the partition goes offline.
    pub fn elect(&mut self, p: usize, election: Election) {
        let part = &self.partitions[p];
        let live = |r: &NodeId| self.live(*r);
        let clean = part
            .replicas
            .iter()
            .copied()
            .find(|r| part.isr.contains(r) && live(r));
        let (leader, isr) = match clean {
            Some(l) => (Some(l), part.isr.clone()),
            None => match part.replicas.iter().copied().find(live) {
                Some(l) if election.unclean => (Some(l), vec![l]),
                _ => (None, part.isr.clone()),
            },
        };
        let part = &mut self.partitions[p];
        if isr != part.isr || leader != part.leader {
            part.partition_epoch += 1;
        }
        if leader != part.leader {
            part.leader = leader;
            part.leader_epoch += 1;
        }
        part.isr = isr;
    }

    /// Applies a leader's ISR change request if it was computed from the current partition
    /// epoch and comes from the current leader; fenced brokers are never added. Returns
    /// whether it applied.
    pub fn alter_isr(&mut self, p: usize, from: NodeId, epoch: u64, isr: &[NodeId]) -> bool {
        let fenced = self.fenced.clone();
        let Some(part) = self.partitions.get_mut(p) else {
            return false;
        };
        if part.leader != Some(from) || part.partition_epoch != epoch {
            return false;
        }
        let mut next: Vec<NodeId> = part
            .replicas
            .iter()
            .copied()
            .filter(|r| isr.contains(r) && (!fenced[r.index()] || *r == from))
            .collect();
        if !next.contains(&from) {
            next.insert(0, from);
        }
        if next == part.isr {
            return false;
        }
        part.isr = next;
        part.partition_epoch += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: Election = Election { unclean: false };
    const UNCLEAN: Election = Election { unclean: true };

    #[test]
    fn partitions_spread_over_brokers() {
        let m = Metadata::initial(5, 0, 3, 3);
        assert_eq!(m.partitions[2].replicas, [NodeId(2), NodeId(3), NodeId(4)]);
        assert_eq!(m.partitions[2].leader, Some(NodeId(2)));
        assert_eq!(m.partitions[0].isr.len(), 3);
        let m = Metadata::initial(6, 3, 2, 3);
        assert_eq!(m.partitions[1].replicas, [NodeId(4), NodeId(5), NodeId(3)]);
    }

    #[test]
    fn fencing_the_leader_elects_from_the_isr() {
        let mut m = Metadata::initial(3, 0, 1, 3);
        m.fence(NodeId(0), CLEAN);
        let p = &m.partitions[0];
        assert_eq!(p.leader, Some(NodeId(1)));
        assert_eq!(p.leader_epoch, 2);
        assert_eq!(p.isr, [NodeId(1), NodeId(2)]);
    }

    #[test]
    fn a_lone_isr_member_takes_the_partition_offline_unless_unclean() {
        for (election, leader, isr) in [
            (CLEAN, None, vec![NodeId(0)]),
            (UNCLEAN, Some(NodeId(1)), vec![NodeId(1)]),
        ] {
            let mut m = Metadata::initial(3, 0, 1, 3);
            assert!(m.alter_isr(0, NodeId(0), 1, &[NodeId(0)]));
            m.fence(NodeId(0), election);
            assert_eq!(m.partitions[0].leader, leader, "{election:?}");
            assert_eq!(m.partitions[0].isr, isr, "{election:?}");
        }
        // Clean: the partition comes back with its last in-sync replica.
        let mut m = Metadata::initial(3, 0, 1, 3);
        m.alter_isr(0, NodeId(0), 1, &[NodeId(0)]);
        m.fence(NodeId(0), CLEAN);
        m.unfence(NodeId(1), CLEAN);
        assert_eq!(m.partitions[0].leader, None, "not in the ISR");
        m.unfence(NodeId(0), CLEAN);
        assert_eq!(m.partitions[0].leader, Some(NodeId(0)));
    }

    #[test]
    fn isr_changes_need_the_current_leader_and_epoch() {
        let mut m = Metadata::initial(3, 0, 1, 3);
        assert!(
            !m.alter_isr(0, NodeId(1), 1, &[NodeId(1)]),
            "not the leader"
        );
        assert!(!m.alter_isr(0, NodeId(0), 7, &[NodeId(0)]), "stale epoch");
        assert!(m.alter_isr(0, NodeId(0), 1, &[NodeId(0), NodeId(2)]));
        assert_eq!(m.partitions[0].isr, [NodeId(0), NodeId(2)]);
        m.fence(NodeId(1), CLEAN);
        let e = m.partitions[0].partition_epoch;
        assert!(
            !m.alter_isr(0, NodeId(0), e, &[NodeId(0), NodeId(1), NodeId(2)])
                || !m.partitions[0].isr.contains(&NodeId(1)),
            "a fenced broker is never added"
        );
    }
}
