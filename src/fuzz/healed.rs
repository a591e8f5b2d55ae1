//! Whether a run ends with every fault recovered: what a shrunk liveness failure must keep.
//!
//! A liveness check ("a leader within 2 s of the last fault") judges a protocol after the faults
//! heal. A shrinker that drops a `Heal` or a `Restart` turns such a failure into a trivial one —
//! no leader because the cluster is still cut — that fails "the same way" by its key but is no
//! longer the bug. So when the original run ended healed, the shrinker only accepts candidates
//! whose runs end healed too ([`left_active`] is empty). Computed from the faults the run
//! applied, with role targets already resolved to nodes.

use sim::{Fault, NodeId, Target, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The nodes a resolved target names (`All` as every node of `n`).
fn nodes_of(t: &Target, n: usize) -> Vec<u32> {
    match t {
        Target::Node(id) => vec![id.0],
        Target::Nodes(ids) => ids.iter().map(|id| id.0).collect(),
        Target::Range(a, b) => (a.0.min(b.0)..=a.0.max(b.0)).collect(),
        // Applied faults have roles and zones resolved; an unresolved one names nobody in
        // particular.
        _ => (0..n as u32).collect(),
    }
}

/// What the applied faults leave active at the end of the run, in words (empty: everything
/// recovered): crashed or paused nodes, a network cut not healed, a clock drift not reset.
pub fn left_active(applied: &[(Time, Fault<NodeId>)], n: usize) -> Vec<String> {
    let mut crashed = BTreeSet::new();
    let mut paused = BTreeSet::new();
    let mut cut = false;
    let mut drift: BTreeMap<u32, i64> = BTreeMap::new();
    for (_, f) in applied {
        match f {
            Fault::Crash(t) | Fault::TornWrite(t) => crashed.extend(nodes_of(t, n)),
            Fault::Restart(t) => nodes_of(t, n).iter().for_each(|id| {
                crashed.remove(id);
            }),
            Fault::Pause(t) => paused.extend(nodes_of(t, n)),
            Fault::Resume(t) => nodes_of(t, n).iter().for_each(|id| {
                paused.remove(id);
            }),
            Fault::Partition(_)
            | Fault::Isolate(_)
            | Fault::OneWay { .. }
            | Fault::CutLink(..)
            | Fault::Bridge(_) => cut = true,
            Fault::Heal => cut = false,
            Fault::SetDrift { target, ppm } => {
                for id in nodes_of(target, n) {
                    if *ppm == 0 {
                        drift.remove(&id);
                    } else {
                        drift.insert(id, *ppm);
                    }
                }
            }
            // Disk damage stays, but it is data the protocol must cope with, not a condition
            // that heals; slow disks, delay spikes and degradations end by themselves.
            Fault::DelaySpike { .. }
            | Fault::Degrade { .. }
            | Fault::ClockJump { .. }
            | Fault::Corrupt(_)
            | Fault::ReadError(_)
            | Fault::FsyncFail(_)
            | Fault::SlowDisk { .. }
            | Fault::Slow { .. } => {}
        }
    }
    let mut out = vec![];
    if !crashed.is_empty() {
        out.push(format!("nodes {crashed:?} crashed"));
    }
    if !paused.is_empty() {
        out.push(format!("nodes {paused:?} paused"));
    }
    if cut {
        out.push("the network cut".into());
    }
    if !drift.is_empty() {
        out.push(format!("clocks of nodes {:?} drifting", drift.keys()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, f: Fault<NodeId>) -> (Time, Fault<NodeId>) {
        (Time::ZERO + std::time::Duration::from_millis(ms), f)
    }

    #[test]
    fn recovered_faults_leave_nothing_and_dropped_recoveries_are_named() {
        let node = |i| Target::Node(NodeId(i));
        let healed = vec![
            at(1, Fault::Crash(node(1))),
            at(2, Fault::Isolate(node(2))),
            at(
                3,
                Fault::SetDrift {
                    target: node(0),
                    ppm: 500,
                },
            ),
            at(4, Fault::Restart(Target::Nodes(vec![NodeId(1)]))),
            at(5, Fault::Heal),
            at(
                6,
                Fault::SetDrift {
                    target: Target::All,
                    ppm: 0,
                },
            ),
        ];
        assert!(left_active(&healed, 3).is_empty());
        // Without the restart, the heal and the drift reset, each is named.
        let dropped: Vec<_> = healed[..3].to_vec();
        let left = left_active(&dropped, 3).join("; ");
        assert!(left.contains("{1} crashed"), "{left}");
        assert!(left.contains("network cut"), "{left}");
        assert!(left.contains("drifting"), "{left}");
    }
}
