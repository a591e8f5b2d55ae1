//! `faultline bench --linearizability`: the linearizability checker on the history of a long
//! Raft run (`scenarios/raft/bench_kv_60s.ron`: 5 nodes, 60 s, 32 clients, about 10^5
//! operations, a leader crash and a partition), timed apart from the simulation.
//!
//! The simulation runs once, without its `Linearizable` check, keeping a handle on the
//! clients' history (the way `protocols/tests/raft_scenarios.rs` does). The check is then
//! timed alone, best of `repeats`, with an unlimited step budget: the steps it takes are the
//! budget it needs (the search is deterministic, so any budget at least that large gives the
//! same verdict), shown next to the scenario's `check_budget`. The same history with one
//! stale read planted in it is checked too, since a violation can cost more than a pass.

use crate::scenario::{self, Scenario};
use protocols::checks::{Check, Checks, Invariant};
use protocols::family::Family;
use protocols::kv::{KvWorkload, KvWorkloadConfig};
use protocols::linearizability::{
    Budget, CheckReport, CheckResult, Entry, History, KvRegister, Op, Ret, check_entries,
};
use protocols::raft::{RaftConfig, RaftFamily};
use serde::Serialize;

/// The scenario whose history is checked.
pub const FILE: &str = "scenarios/raft/bench_kv_60s.ron";
const TEXT: &str = include_str!("../../scenarios/raft/bench_kv_60s.ron");

/// The checker's figures on one history.
#[derive(Clone, Debug, Serialize)]
pub struct LinearizabilityBench {
    pub scenario: String,
    pub nodes: usize,
    pub virtual_secs: f64,
    pub clients: u32,
    /// Operations in the history, by outcome (`info` includes the never completed).
    pub ops: usize,
    pub ok: usize,
    pub fail: usize,
    pub info: usize,
    /// Keys (partitions searched), and the largest partition.
    pub keys: usize,
    pub max_ops_per_key: usize,
    /// Wall time of the simulation alone (its `Linearizable` check turned off).
    pub sim_wall_secs: f64,
    /// The check of the recorded history.
    pub check: CheckFigures,
    /// The check of the same history with one stale read planted in it.
    pub planted: Option<CheckFigures>,
    /// The scenario's step budget (`check_budget`), for comparison with `check.steps`.
    pub budget_steps: u64,
}

/// One timed check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckFigures {
    /// `linearizable`, `not linearizable (key K)` or `unknown`.
    pub verdict: String,
    /// Best wall time over the repeats.
    pub wall_secs: f64,
    pub repeats: u32,
    /// Model steps over all keys searched: the step budget the check needs.
    pub steps: u64,
    /// The most steps one key took.
    pub max_key_steps: u64,
    /// Configurations remembered (memo entries) over all keys, and the most for one key.
    pub configurations: usize,
    pub max_key_configurations: usize,
}

/// Runs the benchmark scenario and times its check `repeats` times.
pub fn measure(repeats: u32) -> LinearizabilityBench {
    let s = scenario::parse(FILE, TEXT).expect("the benchmark scenario is valid");
    let (history, sim_wall_secs) = history_of(&s);
    measure_history(&s, &history, sim_wall_secs, repeats)
}

/// The figures of `history`, the history of `s`.
fn measure_history(
    s: &Scenario,
    history: &History,
    sim_wall_secs: f64,
    repeats: u32,
) -> LinearizabilityBench {
    let wl = workload(s);
    let entries = history.entries();
    let mut per_key = std::collections::BTreeMap::<u64, usize>::new();
    for e in &entries {
        *per_key.entry(e.key).or_default() += 1;
    }
    let summary = history.summary();
    let planted = plant_stale_read(&entries).map(|bad| time_check(&bad, repeats));
    LinearizabilityBench {
        scenario: s.name.clone(),
        nodes: s.nodes,
        virtual_secs: s.duration.0.as_secs_f64(),
        clients: wl.clients,
        ops: summary.ops,
        ok: summary.ok,
        fail: summary.fail,
        info: summary.info,
        keys: per_key.len(),
        max_ops_per_key: per_key.values().copied().max().unwrap_or(0),
        sim_wall_secs,
        check: time_check(&entries, repeats),
        planted,
        budget_steps: wl.check_budget,
    }
}

/// The scenario's KV workload section.
fn workload(s: &Scenario) -> KvWorkloadConfig {
    let family = s.protocol.family.as_ref();
    s.workload
        .resolve(family)
        .as_any()
        .downcast_ref::<KvWorkloadConfig>()
        .expect("a Raft scenario has a KV workload")
        .clone()
}

/// Runs `s` without its `Linearizable` check; returns the clients' history and the wall time
/// of the run.
fn history_of(s: &Scenario) -> (History, f64) {
    let config = s
        .protocol
        .config
        .as_any()
        .downcast_ref::<RaftConfig>()
        .expect("the benchmark scenario is a Raft scenario");
    let wl = workload(s);
    let checks = Checks(
        s.checks()
            .0
            .into_iter()
            .filter(|c: &Check| c.invariant != Invariant::LINEARIZABLE)
            .collect(),
    );
    let prep = s.prepare(s.seed, false, None);
    let mut built = RaftFamily.build(&prep.setup, config, &wl, &checks);
    let kv = KvWorkload::new(wl, &checks, prep.setup.quiet_from);
    let history = kv.history();
    built.workload = Box::new(kv);
    #[allow(clippy::disallowed_methods)] // Wall time is what is measured; it steers nothing.
    let started = std::time::Instant::now();
    let report = built.simulate(prep.sim, prep.faults).run();
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(
        report.verdict,
        sim::Verdict::Completed,
        "the benchmark run must complete"
    );
    let history = history.borrow().clone();
    (history, wall)
}

/// Checks `entries` `repeats` times with no step limit; keeps the best wall time.
fn time_check(entries: &[Entry<Op, Ret>], repeats: u32) -> CheckFigures {
    let budget = Budget::steps(u64::MAX);
    let mut best = f64::INFINITY;
    let mut last: Option<CheckReport> = None;
    for _ in 0..repeats.max(1) {
        let input = entries.to_vec();
        #[allow(clippy::disallowed_methods)] // Wall time is what is measured; it steers nothing.
        let started = std::time::Instant::now();
        let report = check_entries(&KvRegister, input, budget);
        best = best.min(started.elapsed().as_secs_f64());
        last = Some(report);
    }
    let report = last.expect("at least one repeat");
    let verdict = match &report.result {
        CheckResult::Linearizable => "linearizable".to_string(),
        CheckResult::NotLinearizable { key, .. } => format!("not linearizable (key {key})"),
        CheckResult::Unknown { .. } => "unknown".to_string(),
    };
    CheckFigures {
        verdict,
        wall_secs: best,
        repeats: repeats.max(1),
        steps: report.steps,
        max_key_steps: report.keys.iter().map(|k| k.steps).max().unwrap_or(0),
        configurations: report.keys.iter().map(|k| k.configurations).sum(),
        max_key_configurations: report
            .keys
            .iter()
            .map(|k| k.configurations)
            .max()
            .unwrap_or(0),
    }
}

/// The history with one stale read: the first `ok` read invoked after the middle of the run
/// whose key had two `ok` puts before it in real time (the first returned before the second
/// was invoked, the second before the read was invoked) now returns the first put's value.
/// Values are written once each, so no linearization explains it. `None` if no read fits.
pub fn plant_stale_read(entries: &[Entry<Op, Ret>]) -> Option<Vec<Entry<Op, Ret>>> {
    let end = entries.iter().map(|e| e.call_ns).max()?;
    let puts: Vec<(u64, u64, u64, u64)> = entries
        .iter()
        .filter_map(|e| match (e.input, &e.returned) {
            (Op::Put(v), Some(r)) => Some((e.key, e.call_ns, r.time_ns, v)),
            _ => None,
        })
        .collect();
    let victim = entries.iter().position(|e| {
        e.call_ns >= end / 2
            && matches!(e.returned.as_ref().map(|r| r.output), Some(Ret::Get(_)))
            && stale_value(&puts, e).is_some()
    })?;
    let mut out = entries.to_vec();
    let value = stale_value(&puts, &entries[victim]);
    if let Some(r) = out[victim].returned.as_mut() {
        r.output = Ret::Get(value);
    }
    Some(out)
}

/// A value of `read`'s key that two `ok` puts ordered in real time before it overwrote: the
/// first of the latest such pair.
fn stale_value(puts: &[(u64, u64, u64, u64)], read: &Entry<Op, Ret>) -> Option<u64> {
    let before: Vec<&(u64, u64, u64, u64)> = puts
        .iter()
        .filter(|p| p.0 == read.key && p.2 < read.call_ns)
        .collect();
    let second = before.iter().max_by_key(|p| p.1)?;
    before
        .iter()
        .filter(|p| p.2 < second.1)
        .max_by_key(|p| p.2)
        .map(|p| p.3)
}

/// The report for people.
pub fn text(b: &LinearizabilityBench) -> String {
    let line = |what: &str, c: &CheckFigures| {
        format!(
            "  {what:<22} {:<28} {:>8.3} s (best of {})  {} steps ({} on the busiest key), {} configurations\n",
            c.verdict, c.wall_secs, c.repeats, c.steps, c.max_key_steps, c.configurations
        )
    };
    let mut s = format!(
        "linearizability: {} ({} nodes, {} s virtual, {} clients): {} ops ({} ok, {} fail, {} info) \
         on {} keys (at most {} on one key); simulation {:.2} s\n",
        b.scenario,
        b.nodes,
        b.virtual_secs,
        b.clients,
        b.ops,
        b.ok,
        b.fail,
        b.info,
        b.keys,
        b.max_ops_per_key,
        b.sim_wall_secs
    );
    s += &line("check:", &b.check);
    if let Some(p) = &b.planted {
        s += &line("with a stale read:", p);
    }
    let needed = match b.check.verdict.as_str() {
        "linearizable" => format!(
            "{} steps; the scenario's check_budget is {} ({})",
            b.check.steps,
            b.budget_steps,
            if b.check.steps <= b.budget_steps {
                "enough"
            } else {
                "too small"
            }
        ),
        _ => format!(
            "unknown: the check did not pass (after {} steps)",
            b.check.steps
        ),
    };
    s += &format!("  budget needed: {needed}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocols::linearizability::{Outcome, check};

    #[test]
    fn the_benchmark_scenario_is_the_advertised_run() {
        let s = scenario::parse(FILE, TEXT).expect("valid");
        let wl = workload(&s);
        assert_eq!((s.nodes, s.duration.0.as_secs(), wl.clients), (5, 60, 32));
        assert!(s.checks().has(Invariant::LINEARIZABLE));
        // Closed-loop clients: about 13 ms per operation plus 5 ms of thinking on average,
        // so 32 clients make about 10^5 operations in 60 s.
        assert!(wl.rate * f64::from(wl.clients) * 60.0 > 100_000.0);
    }

    #[test]
    fn a_planted_stale_read_is_a_violation() {
        let mut h = History::new();
        let mut at = 0;
        let mut op = |h: &mut History, process, key, o: Op, out: Ret| {
            let id = h.invoke(process, key, o, at);
            h.complete(id, Outcome::Ok(out), at + 10);
            at += 20;
        };
        for key in [1, 2] {
            op(&mut h, 1, key, Op::Put(10 * key), Ret::Put);
            op(&mut h, 2, key, Op::Put(10 * key + 1), Ret::Put);
            op(&mut h, 3, key, Op::Get, Ret::Get(Some(10 * key + 1)));
        }
        assert!(check(&h, Budget::default()).is_linearizable());
        let bad = plant_stale_read(&h.entries()).expect("a read after two puts");
        let report = check_entries(&KvRegister, bad, Budget::default());
        // The first read invoked after the middle of the run is key 2's.
        assert!(
            matches!(report.result, CheckResult::NotLinearizable { key: 2, .. }),
            "{:?}",
            report.result
        );
    }
}
