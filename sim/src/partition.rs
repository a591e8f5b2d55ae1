//! Partitions: which directed links are cut.
//!
//! A partition is a set of [`Cut`]s in force at once; each cut blocks some directed links.
//! Shapes:
//! - `Groups`: nodes in different groups cannot talk (the classic split; isolating one node is
//!   `Groups([[n], everyone else])`);
//! - `OneWay`: messages from one set to another are dropped, the reverse direction still works;
//! - `Link`: one link, both directions. Cutting A–C alone while A–B and B–C stay up gives the
//!   non-transitive "bridge" shape where A sees B, B sees C, but A does not see C;
//! - `Between`: every link between two sets, both directions (the bridge shape for sets: the
//!   nodes in neither set still talk to both), in memory linear in the cluster, not in the
//!   number of links.
//!
//! Cuts are kept in an append-only log with a generation number, so a message in flight can
//! ask "was my link cut at any moment since I was sent?" by looking only at the cuts added
//! after its send generation: a cut drops what is in flight on the links it blocks, even if it
//! heals before the message would have arrived. Heal removes every cut in force.

use crate::NodeId;

/// One shape of cut, with its node sets already resolved to ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Nodes in different groups cannot talk. Nodes listed in no group form one more group.
    Groups(Vec<Vec<NodeId>>),
    /// Messages from any node of `from` to any node of `to` are dropped.
    OneWay { from: Vec<NodeId>, to: Vec<NodeId> },
    /// The link between two nodes is cut in both directions.
    Link(NodeId, NodeId),
    /// Every link between a node of one set and a node of the other, both directions (a node
    /// in both sets keeps its link to itself).
    Between(Vec<NodeId>, Vec<NodeId>),
}

/// A cut compiled for O(1) link checks.
#[derive(Clone, Debug)]
enum Compiled {
    /// Group label per node (0 = the implicit "everyone else" group).
    Groups(Vec<u32>),
    OneWay {
        from: BitSet,
        to: BitSet,
    },
    Link(u32, u32),
    Between(BitSet, BitSet),
}

impl Compiled {
    fn new(cut: &Cut, n: usize) -> Compiled {
        match cut {
            Cut::Groups(groups) => {
                let mut label = vec![0u32; n];
                for (g, members) in groups.iter().enumerate() {
                    for m in members {
                        label[m.index()] = g as u32 + 1;
                    }
                }
                Compiled::Groups(label)
            }
            Cut::OneWay { from, to } => Compiled::OneWay {
                from: BitSet::from_nodes(from, n),
                to: BitSet::from_nodes(to, n),
            },
            Cut::Link(a, b) => Compiled::Link(a.0, b.0),
            Cut::Between(a, b) => {
                Compiled::Between(BitSet::from_nodes(a, n), BitSet::from_nodes(b, n))
            }
        }
    }

    fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            Compiled::Groups(label) => label[from.index()] != label[to.index()],
            Compiled::OneWay { from: f, to: t } => f.contains(from) && t.contains(to),
            Compiled::Link(a, b) => (from.0 == *a && to.0 == *b) || (from.0 == *b && to.0 == *a),
            Compiled::Between(a, b) => {
                from != to
                    && ((a.contains(from) && b.contains(to))
                        || (b.contains(from) && a.contains(to)))
            }
        }
    }
}

/// A fixed-size set of node ids.
#[derive(Clone, Debug)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn from_nodes(nodes: &[NodeId], n: usize) -> BitSet {
        let mut words = vec![0u64; n.div_ceil(64)];
        for m in nodes {
            words[m.index() / 64] |= 1 << (m.index() % 64);
        }
        BitSet(words)
    }

    fn contains(&self, id: NodeId) -> bool {
        self.0[id.index() / 64] & (1 << (id.index() % 64)) != 0
    }
}

/// The partitions of one run: the cut log and which cuts are in force.
#[derive(Debug, Default)]
pub struct Partitions {
    log: Vec<Compiled>,
    active: Vec<usize>,
}

impl Partitions {
    /// Puts a cut in force; returns the new generation.
    pub fn cut(&mut self, cut: &Cut, n: usize) -> u32 {
        self.active.push(self.log.len());
        self.log.push(Compiled::new(cut, n));
        self.generation()
    }

    /// Removes every cut in force.
    pub fn heal(&mut self) {
        self.active.clear();
    }

    /// How many cuts were ever made; a message records this when it is sent.
    pub fn generation(&self) -> u32 {
        self.log.len() as u32
    }

    /// Whether any cut is in force.
    pub fn any_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Whether the directed link is cut right now.
    pub fn blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.active.iter().any(|&i| self.log[i].blocks(from, to))
    }

    /// Whether a cut made after generation `since` blocks the link (whether or not it healed
    /// since): a message sent at `since` and still in flight is lost.
    pub fn cut_since(&self, since: u32, from: NodeId, to: NodeId) -> bool {
        self.log[since as usize..]
            .iter()
            .any(|c| c.blocks(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().map(|&i| NodeId(i)).collect()
    }

    /// Every directed link of a 4-node cluster that the partitions block.
    fn cut_links(p: &Partitions) -> Vec<(u32, u32)> {
        let mut out = vec![];
        for a in 0..4 {
            for b in 0..4 {
                if a != b && p.blocked(NodeId(a), NodeId(b)) {
                    out.push((a, b));
                }
            }
        }
        out
    }

    #[test]
    fn groups_block_exactly_the_cross_links() {
        let mut p = Partitions::default();
        p.cut(&Cut::Groups(vec![ids(&[0, 1])]), 4);
        assert_eq!(
            cut_links(&p),
            vec![
                (0, 2),
                (0, 3),
                (1, 2),
                (1, 3),
                (2, 0),
                (2, 1),
                (3, 0),
                (3, 1)
            ]
        );
        p.heal();
        assert!(cut_links(&p).is_empty());
    }

    #[test]
    fn one_way_and_bridge() {
        let mut p = Partitions::default();
        p.cut(
            &Cut::OneWay {
                from: ids(&[0]),
                to: ids(&[1, 2]),
            },
            4,
        );
        assert_eq!(cut_links(&p), vec![(0, 1), (0, 2)]);
        p.heal();
        // Bridge: 0 sees 1, 1 sees 2, 0 does not see 2.
        p.cut(&Cut::Link(NodeId(0), NodeId(2)), 4);
        assert_eq!(cut_links(&p), vec![(0, 2), (2, 0)]);
        assert!(!p.blocked(NodeId(0), NodeId(1)) && !p.blocked(NodeId(1), NodeId(2)));
        p.heal();
        // Between sets: 0 and 1 lose 3, node 2 (in neither) keeps every link, and node 1 (in
        // both) has no link to itself to lose.
        p.cut(&Cut::Between(ids(&[0, 1]), ids(&[1, 3])), 4);
        assert_eq!(
            cut_links(&p),
            vec![(0, 1), (0, 3), (1, 0), (1, 3), (3, 0), (3, 1)]
        );
    }

    #[test]
    fn in_flight_messages_see_cuts_made_after_they_were_sent() {
        let mut p = Partitions::default();
        let sent = p.generation();
        p.cut(&Cut::Link(NodeId(0), NodeId(1)), 4);
        p.heal();
        assert!(!p.blocked(NodeId(0), NodeId(1)));
        assert!(p.cut_since(sent, NodeId(0), NodeId(1)));
        assert!(!p.cut_since(sent, NodeId(0), NodeId(2)));
        assert!(!p.cut_since(p.generation(), NodeId(0), NodeId(1)));
    }
}
