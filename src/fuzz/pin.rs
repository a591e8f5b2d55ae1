//! Pinning a failing run's faults to the nodes they hit, the shrinker's first step.
//!
//! A nemesis aims faults at roles: `Crash(Leader)`, `Restart(Crashed)`, `Pause(Random)`. Which
//! node a role means depends on everything before it, so removing one fault re-aims every later
//! one and ddmin sees a different failure each time it removes anything. The engine reports
//! each applied fault with its role targets resolved ([`sim::RunReport::applied_faults`]);
//! here those resolutions are written back into the scenario, so `Crash(Leader)` becomes
//! `Crash(Node(2))` and `Restart(Crashed)` becomes `Restart(Node(2))`. The pinned scenario,
//! unsplit, replays the same run (same trace hash). Faults whose role resolved to nobody did
//! nothing and are dropped, as are faults scheduled after the run ended.

use crate::scenario::Scenario;
use crate::scenario::spec::{FaultSpec, TargetSpec, TimedFault};
use crate::scenario::validate::NodeRef;
use sim::{Fault, Target, Time};

/// `spec` with a role replaced by the nodes `resolved` names; `None` when it named nobody.
fn pin_target(spec: TargetSpec, resolved: &Target) -> Option<TargetSpec> {
    if !spec.is_role() {
        return Some(spec);
    }
    match resolved {
        Target::Nodes(ids) => match ids.as_slice() {
            [] => None,
            [one] => Some(TargetSpec::Node(NodeRef(one.0))),
            many => Some(TargetSpec::Nodes(
                many.iter().map(|i| NodeRef(i.0)).collect(),
            )),
        },
        Target::Node(id) => Some(TargetSpec::Node(NodeRef(id.0))),
        // The engine only leaves roles as `Nodes`; anything else is kept as written.
        _ => Some(spec),
    }
}

/// One fault with its roles pinned; `None` when it hit nobody. `applied` is the same fault as
/// the engine applied it (same kind, targets in the same order, roles resolved).
fn pin_action(spec: &FaultSpec, applied: &Fault) -> Option<FaultSpec> {
    let resolved = applied.targets();
    if spec.kind() != applied.kind() || spec.targets().len() != resolved.len() {
        return Some(spec.clone());
    }
    let mut next = resolved.into_iter();
    spec.clone()
        .filter_map_targets(|t| pin_target(t, next.next().expect("same number of targets")))
}

/// A node fault on several nodes as one fault per node, so ddmin can keep one and drop the
/// rest. Not always the same run: a `Resume` of two nodes handles the first node's held
/// events before the second resumes.
fn split(f: TimedFault) -> Vec<TimedFault> {
    let one = |action| TimedFault { at: f.at, action };
    let per_node = |ns: &[NodeRef], make: fn(TargetSpec) -> FaultSpec| {
        ns.iter()
            .map(|n| one(make(TargetSpec::Node(*n))))
            .collect::<Vec<_>>()
    };
    match &f.action {
        FaultSpec::Crash(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::Crash),
        FaultSpec::Restart(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::Restart),
        FaultSpec::Pause(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::Pause),
        FaultSpec::Resume(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::Resume),
        FaultSpec::TornWrite(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::TornWrite),
        FaultSpec::Corrupt(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::Corrupt),
        FaultSpec::ReadError(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::ReadError),
        FaultSpec::FsyncFail(TargetSpec::Nodes(ns)) => per_node(ns, FaultSpec::FsyncFail),
        _ => vec![f],
    }
}

/// `s` with the faults of a run of it (`applied`, from [`sim::RunReport::applied_faults`])
/// pinned: roles replaced by the nodes they hit, faults that hit nobody or never fired
/// dropped, and with `split_nodes`, node faults on several nodes split one per node.
/// `s.faults` must be the list the run scheduled (a materialized scenario, no nemesis).
pub fn pin(s: &Scenario, applied: &[(Time, Fault)], split_nodes: bool) -> Scenario {
    let mut out = s.clone();
    out.faults = s
        .faults
        .iter()
        .zip(applied)
        .filter_map(|(f, (_, a))| {
            let action = pin_action(&f.action, a)?;
            Some(TimedFault { at: f.at, action })
        })
        .flat_map(|f| if split_nodes { split(f) } else { vec![f] })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::campaign::to_text;
    use crate::runner::{self, RunOptions};
    use crate::scenario;

    const TEXT: &str = r#"Scenario(name: "s", protocol: Raft(()), nodes: 5, duration: "4s",
        faults: [
            (at: "1s", do: Crash(Leader)),
            (at: "1200ms", do: Pause(Random)),
            (at: "1500ms", do: Isolate(Leader)),
            (at: "1600ms", do: Resume(Paused)),
            (at: "2s", do: Restart(Crashed)),
            (at: "2100ms", do: Restart(Crashed)),
            (at: "2500ms", do: Heal),
        ])"#;

    #[test]
    fn pinned_faults_name_nodes_and_replay_the_same_run() {
        let s = scenario::parse("t.ron", TEXT).unwrap();
        let o = runner::run("t.ron", &s, &RunOptions::default());
        assert_eq!(o.applied_faults.len(), 7);
        let p = pin(&s, &o.applied_faults, false);
        let text = to_text(&p);
        for role in ["Leader", "Random", "Crashed", "Paused"] {
            assert!(!text.contains(role), "{role} left in\n{text}");
        }
        // The second restart found nothing crashed, so it is gone.
        assert_eq!(p.faults.len(), 6, "{text}");
        let crash = format!("{:?}", p.faults[0].action);
        let restart = format!("{:?}", p.faults[4].action);
        assert_eq!(crash.replace("Crash", ""), restart.replace("Restart", ""));
        let back = scenario::parse("t.ron", &text).unwrap();
        let replay = runner::run("t.ron", &back, &RunOptions::default());
        assert_ne!(replay.events, 0);
        // One event fewer: the dropped no-op restart.
        assert_eq!(replay.events + 1, o.events);
        assert_eq!(replay.verdict, o.verdict);
    }

    #[test]
    fn unsplit_pinning_with_every_fault_kept_gives_the_same_trace_hash() {
        let s = scenario::parse(
            "t.ron",
            &TEXT.replace("(at: \"2100ms\", do: Restart(Crashed)),", ""),
        )
        .unwrap();
        let o = runner::run("t.ron", &s, &RunOptions::default());
        let p = pin(&s, &o.applied_faults, false);
        assert_eq!(p.faults.len(), s.faults.len());
        let replay = runner::run("t.ron", &p, &RunOptions::default());
        assert_eq!(replay.trace_hash, o.trace_hash);
    }

    #[test]
    fn splitting_gives_one_fault_per_node() {
        let s = scenario::parse(
            "t.ron",
            r#"Scenario(name: "s", protocol: Raft(()), nodes: 5, faults: [
                (at: "1s", do: Crash(Nodes([1, 3]))),
                (at: "2s", do: Restart(Crashed)),
            ])"#,
        )
        .unwrap();
        let o = runner::run("t.ron", &s, &RunOptions::default());
        let p = pin(&s, &o.applied_faults, true);
        let got: Vec<String> = p.faults.iter().map(|f| format!("{:?}", f.action)).collect();
        assert_eq!(
            got,
            [
                "Crash(Node(NodeRef(1)))",
                "Crash(Node(NodeRef(3)))",
                "Restart(Node(NodeRef(1)))",
                "Restart(Node(NodeRef(3)))"
            ]
        );
    }
}
