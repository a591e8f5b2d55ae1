//! Which pools exist and who belongs to each: one pool of every node (`Flat`), or Consul's
//! LAN pool per zone plus a WAN pool of each zone's first servers. A pool's members are
//! numbered 0.. in node-id order; messages name members by that index.

use super::config::{Layout, Preset, SwimConfig, Timing};
use sim::NodeId;

/// One pool's members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Members {
    /// Nodes `start .. start + len`.
    Range { start: u32, len: u32 },
    /// These nodes, in increasing id order.
    List(Vec<u32>),
}

impl Members {
    /// How many.
    pub fn len(&self) -> u32 {
        match self {
            Members::Range { len, .. } => *len,
            Members::List(v) => v.len() as u32,
        }
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node of member `i`.
    pub fn node(&self, i: u32) -> NodeId {
        match self {
            Members::Range { start, .. } => NodeId(start + i),
            Members::List(v) => NodeId(v[i as usize]),
        }
    }

    /// The member index of `node`, if it belongs.
    pub fn index(&self, node: NodeId) -> Option<u32> {
        match self {
            Members::Range { start, len } => {
                (node.0 >= *start && node.0 - start < *len).then(|| node.0 - start)
            }
            Members::List(v) => v.binary_search(&node.0).ok().map(|i| i as u32),
        }
    }
}

/// One pool: its name (for reports), members and timing.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub members: Members,
    pub timing: Timing,
}

/// Builds the pools of a run. `zones` are the scenario's zones as (name, first node, count).
pub fn pools(cfg: &SwimConfig, nodes: usize, zones: &[(String, u32, u32)]) -> Vec<Pool> {
    let lan = cfg.timing();
    match cfg.layout {
        Layout::Flat => vec![Pool {
            name: "all".into(),
            members: Members::Range {
                start: 0,
                len: nodes as u32,
            },
            timing: lan,
        }],
        Layout::Consul { servers } => {
            let mut out: Vec<Pool> = zones
                .iter()
                .map(|(name, start, len)| Pool {
                    name: format!("lan:{name}"),
                    members: Members::Range {
                        start: *start,
                        len: *len,
                    },
                    timing: lan,
                })
                .collect();
            let wan: Vec<u32> = zones
                .iter()
                .flat_map(|(_, start, len)| *start..*start + servers.min(*len))
                .collect();
            out.push(Pool {
                name: "wan".into(),
                members: Members::List(wan),
                timing: Preset::Wan.timing(),
            });
            out
        }
    }
}

/// The pools `node` belongs to, in pool order.
pub fn pools_of(pools: &[Pool], node: NodeId) -> Vec<u8> {
    pools
        .iter()
        .enumerate()
        .filter(|(_, p)| p.members.index(node).is_some())
        .map(|(i, _)| i as u8)
        .collect()
}
