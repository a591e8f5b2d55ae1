//! Shrinking a failing scenario while it keeps failing the same way: fewer faults (ddmin),
//! fewer nodes, a shorter run, fewer client operations.
//!
//! Follows Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing Input" (TSE
//! 2002) for the fault list, then the reductions Jepsen and TigerBeetle's VOPR apply by hand.
//! Every candidate is serialized, re-validated with [`scenario::parse`] and re-run, so the
//! result is always a valid file that fails when run; a candidate the parser refuses (a node
//! count the protocol does not accept) is simply not taken. "The same way" means the same
//! [`failure_key`]: the violated invariant, or the kind of abnormal end (panic, stall).
//! Randomness comes from independent streams per purpose (docs/architecture.md), so removing a fault
//! does not reshuffle the workload's or the clocks' draws; the network's and the nodes' draws
//! after it still change with every message it changes.
//! Before ddmin, role targets are pinned to the nodes they hit in the failing run ([`pin`]):
//! without that, removing one fault re-aims every later `Crash(Leader)` or `Restart(Crashed)`.
//!
//! Seed hopping. A rare failure (one seed in a thousand) is chaotic: removing any fault
//! shifts every later message and timer, and the exact interleaving that failed is gone, so
//! ddmin with the failing seed alone stops at 17-50 faults. The faults that matter still make
//! the failure far likelier than the nemesis does (measured: a shrunk ForgetVote schedule
//! fails for 0.2-0.7% of seeds against 0.01% for the nemesis), so when more than four faults
//! remain, every reduction is run again accepting a candidate that fails the same way with
//! its own seed or any of the next `hop_seeds` seeds after the original; the shrunk file
//! carries the seed that failed. That takes ForgetVote and AckBeforeSync failures to 5-8
//! faults. Seeds are tried in parallel and the first failing one in seed order wins, so a
//! shrink is as deterministic as a run.

use super::campaign::{failure_key, materialize, to_text};
use super::healed::left_active;
use super::pin;
use crate::runner::{self, Outcome, RunOptions};
use crate::scenario::spec::{TargetSpec, TimedFault};
use crate::scenario::validate::NodeRef;
use crate::scenario::{self, Scenario, WorkloadSpec};
use protocols::family::Registry;
use protocols::units::Dur;
use rayon::prelude::*;
use std::time::Duration;

/// Limits of one shrink.
#[derive(Clone, Copy, Debug)]
pub struct ShrinkOptions {
    /// At most this many candidate runs.
    pub max_runs: usize,
    /// Seeds to try per candidate besides its own (0: the failing seed only); see
    /// [`shrink`].
    pub hop_seeds: u64,
}

/// Candidate runs a shrink may spend by default: ddmin with the failing seed alone takes a
/// few hundred; seed hopping takes up to `hop_seeds` per candidate.
pub const DEFAULT_MAX_RUNS: usize = 20_000;

/// Seeds tried per candidate when hopping, by default. Measured on the rare Raft bugs: 100
/// seeds shrink about as far as 500 at a fifth of the cost.
pub const DEFAULT_HOP_SEEDS: u64 = 100;

impl Default for ShrinkOptions {
    fn default() -> Self {
        ShrinkOptions {
            max_runs: DEFAULT_MAX_RUNS,
            hop_seeds: DEFAULT_HOP_SEEDS,
        }
    }
}

/// A shrunk failure and what was removed.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing scenario found (no nemesis, no swarm).
    pub scenario: Scenario,
    /// Its run.
    pub outcome: Outcome,
    /// What it fails with.
    pub key: String,
    /// Faults before (nemesis materialized) and after.
    pub faults_before: usize,
    pub faults_after: usize,
    /// Candidate runs spent.
    pub runs: usize,
    /// One phrase per reduction, e.g. "nodes 5 -> 3".
    pub removed: Vec<String>,
    /// The scenario as its file writes it: fields that hold their default left out.
    pub text: String,
}

impl Shrunk {
    /// The shrunk file's text: a `//` header saying what was removed, then the scenario.
    pub fn file_text(&self, source: &str) -> String {
        let mut h = format!(
            "// Shrunk by `{} shrink` from {source} (seed {}): still fails with {}.\n",
            crate::cli::program(),
            self.scenario.seed,
            self.key
        );
        h += &format!("// Faults {} -> {}", self.faults_before, self.faults_after);
        for r in &self.removed {
            h += &format!("; {r}");
        }
        h += &format!(" ({} candidate runs).\n", self.runs);
        if let Some(v) = self.outcome.violations.first() {
            h += &format!(
                "// Violation: {} at {:.6}s: {}\n",
                v.invariant,
                v.time_ns as f64 / 1e9,
                crate::output::one_line(&v.message)
            );
        }
        h += &format!("// Trace hash {}.\n", self.outcome.trace_hash);
        h + &self.text
    }
}

/// The search state: the best scenario so far and the run budget.
struct Search<'a> {
    registry: &'a Registry,
    file: &'a str,
    key: String,
    best: Scenario,
    best_outcome: Outcome,
    runs: usize,
    max_runs: usize,
    /// Other seeds tried per candidate: `hop_base + 1 ..= hop_base + hop`.
    hop: u64,
    hop_base: u64,
    /// A liveness failure of a run that ended with every fault recovered: candidates must end
    /// recovered too ([`super::healed`]), or dropping a `Heal` would "reproduce" it trivially.
    must_heal: bool,
}

impl Search<'_> {
    /// Whether `cand` parses back from its text and fails the same way, with its own seed or,
    /// when hopping, one of the hop seeds; if so it becomes best (with the seed that failed).
    fn try_candidate(&mut self, cand: &Scenario) -> bool {
        if self.runs >= self.max_runs {
            return false;
        }
        let Ok(parsed) = scenario::parse_with(self.registry, self.file, &to_text(cand)) else {
            return false;
        };
        let own = parsed.seed;
        let hops = (1..=self.hop).map(|i| self.hop_base.wrapping_add(i));
        let seeds: Vec<u64> = std::iter::once(own)
            .chain(hops.filter(|&s| s != own))
            .take(self.max_runs - self.runs)
            .collect();
        // Seeds are tried in parallel, a chunk at a time, and the first failing one in seed
        // order wins, so the result (and the run count) does not depend on thread timing.
        let chunk = 4 * rayon::current_num_threads().max(1);
        for (c, group) in seeds.chunks(chunk).enumerate() {
            let hit = group.par_iter().enumerate().find_map_first(|(i, &seed)| {
                let mut s = parsed.clone();
                s.seed = seed;
                let o = runner::run(self.file, &s, &RunOptions::default());
                let fair = !self.must_heal || left_active(&o.applied_faults, s.nodes).is_empty();
                (!o.matched && failure_key(&o) == self.key && fair).then_some((i, s, o))
            });
            if let Some((i, s, o)) = hit {
                self.runs += c * chunk + i + 1;
                self.best = s;
                self.best_outcome = o;
                return true;
            }
        }
        self.runs += seeds.len();
        false
    }

    /// Every reduction, repeated until nothing changes. Reductions interact (fewer nodes can
    /// make faults redundant); three rounds are plenty in practice and bound the cost.
    fn rounds(&mut self, removed: &mut Vec<String>) {
        for _ in 0..3 {
            let before = to_text(&self.best);
            self.shrink_faults();
            self.shrink_nodes();
            self.shrink_duration();
            self.shrink_workload(removed);
            if to_text(&self.best) == before {
                break;
            }
        }
    }

    fn shrink_faults(&mut self) {
        let base = self.best.clone();
        let faults = base.faults.clone();
        ddmin(faults, |subset| {
            let mut c = base.clone();
            c.faults = subset.to_vec();
            self.try_candidate(&c)
        });
    }

    fn shrink_nodes(&mut self) {
        for n in 1..self.best.nodes {
            if self.try_candidate(&restrict_nodes(&self.best, n)) {
                return;
            }
        }
    }

    fn shrink_duration(&mut self) {
        let end = self
            .best_outcome
            .violations
            .first()
            .map_or(self.best_outcome.virtual_time_ns, |v| v.time_ns);
        let current = self.best.duration.nanos();
        // Round up to 100 ms so the file reads well, and leave a little room after the
        // violation; then try longer cuts in case liveness checks need their margin.
        let step = 100_000_000u64;
        let base = (end / step + 2) * step;
        for factor in [4u64, 5, 6, 8] {
            let d = base * factor / 4;
            if d >= current {
                return;
            }
            let mut c = self.best.clone();
            c.duration = Dur(Duration::from_nanos(d));
            c.faults.retain(|f| f.at.0.nanos() <= d);
            if self.try_candidate(&c) {
                return;
            }
        }
    }

    /// Rounds each fault's time to the coarsest unit (1 s down to 1 us) at which the run
    /// still fails with the current seed, so the file reads `"5s 880ms"`, not
    /// `"5s 883ms 865us 535ns"`. Returns how many times were rounded.
    fn round_times(&mut self) -> usize {
        const UNITS: [u64; 7] = [
            1_000_000_000,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
        ];
        let hop = std::mem::replace(&mut self.hop, 0);
        let mut rounded = 0;
        for i in 0..self.best.faults.len() {
            let at = self.best.faults[i].at.0.nanos();
            for unit in UNITS {
                let nearest = (at + unit / 2) / unit * unit;
                if nearest == at {
                    break;
                }
                let mut c = self.best.clone();
                c.faults[i].at.0 = Dur(Duration::from_nanos(nearest));
                if self.try_candidate(&c) {
                    rounded += 1;
                    break;
                }
            }
        }
        self.hop = hop;
        rounded
    }

    /// No clients at all, then (for a workload the file configures) the workload type's own
    /// reductions, in order (for the KV clients: fewer clients, then a lower rate), each keeping
    /// the first candidate that still fails. What was kept is added to `removed`.
    fn shrink_workload(&mut self, removed: &mut Vec<String>) {
        if matches!(self.best.workload, WorkloadSpec::Idle) {
            return;
        }
        let mut none = self.best.clone();
        none.workload = WorkloadSpec::Idle;
        if self.try_candidate(&none) {
            removed.push("workload removed".into());
            return;
        }
        // Only a workload the file configures is reduced: the family default stays implicit.
        if !matches!(self.best.workload, WorkloadSpec::Clients { .. }) {
            return;
        }
        let family = self.best.protocol.family.clone();
        let name = family.workload_name();
        for step in 0..family.workload_reductions() {
            let current = self.best.workload.resolve(family.as_ref());
            for (what, smaller) in family.reduce_workload(step, current.as_ref()) {
                let mut cand = self.best.clone();
                cand.workload = WorkloadSpec::Clients {
                    name,
                    config: smaller,
                };
                if self.try_candidate(&cand) {
                    removed.push(what);
                    break;
                }
            }
        }
    }
}

/// Shrinks a scenario that fails (does not match its expectation) when run with its own seed:
/// pinning, then every reduction with that seed, then (for more than four faults left and
/// `hop_seeds > 0`) every reduction again with seed hopping. `Err` when it does not fail.
pub fn shrink(
    registry: &Registry,
    file: &str,
    original: &Scenario,
    opts: ShrinkOptions,
) -> Result<Shrunk, String> {
    let start = materialize(original, original.seed)?;
    let outcome = runner::run(file, &start, &RunOptions::default());
    if outcome.matched {
        return Err(format!(
            "{file}: the scenario does not fail with seed {} (verdict {}, expected {}); nothing to shrink",
            start.seed, outcome.verdict, outcome.expected
        ));
    }
    let key = failure_key(&outcome);
    let liveness = original
        .protocol
        .family
        .invariants()
        .iter()
        .any(|i| i.deadline && i.invariant.name() == key);
    let must_heal = liveness && left_active(&outcome.applied_faults, start.nodes).is_empty();
    let faults_before = start.faults.len();
    let applied = outcome.applied_faults.clone();
    let mut search = Search {
        registry,
        file,
        key,
        best: start.clone(),
        best_outcome: outcome,
        runs: 1,
        max_runs: opts.max_runs,
        hop: 0,
        hop_base: start.seed,
        must_heal,
    };
    // Pin role targets to the nodes they hit, so removing one fault does not re-aim the
    // others; one fault per node if that still fails, else unsplit (which replays exactly).
    let mut removed = vec![];
    if [true, false]
        .iter()
        .any(|&split| search.try_candidate(&pin::pin(&start, &applied, split)))
    {
        removed.push("targets pinned to the nodes they hit".to_string());
    }
    let mut workload = vec![];
    search.rounds(&mut workload);
    if opts.hop_seeds > 0 && search.best.faults.len() > 4 {
        search.hop = opts.hop_seeds;
        let seed = search.best.seed;
        search.rounds(&mut workload);
        if search.best.seed != seed {
            removed.push(format!("seed {} -> {}", seed, search.best.seed));
        }
    }
    let faults = search.best.faults.len();
    match search.round_times() {
        0 => {}
        n => removed.push(format!("times of {n} of {faults} faults rounded")),
    }
    let best = &search.best;
    if best.nodes != start.nodes {
        removed.push(format!("nodes {} -> {}", start.nodes, best.nodes));
    }
    if best.duration != start.duration {
        removed.push(format!("duration {} -> {}", start.duration, best.duration));
    }
    removed.extend(workload);
    let mut scenario = search.best;
    describe(&mut scenario, &search.key, faults_before, &removed);
    Ok(Shrunk {
        faults_after: scenario.faults.len(),
        text: super::tidy::minimal_text(registry, &scenario),
        scenario,
        outcome: search.best_outcome,
        key: search.key,
        faults_before,
        runs: search.runs,
        removed,
    })
}

/// Says in the scenario's `name` and `about` that it was shrunk, from what, and why it
/// matters: `faultline list` and the seed banner show it without reading the header.
fn describe(s: &mut Scenario, key: &str, faults_before: usize, removed: &[String]) {
    const MARK: &str = " (shrunk)";
    if !s.name.ends_with(MARK) {
        let limit = crate::scenario::limits::MAX_NAME - MARK.len();
        s.name = s.name.chars().take(limit).collect::<String>() + MARK;
    }
    let mut what = format!(
        "Shrunk: still fails with {key}; faults {faults_before} -> {}",
        s.faults.len()
    );
    for r in removed {
        what += &format!("; {r}");
    }
    s.about = if s.about.is_empty() {
        format!("{what}.")
    } else {
        format!("{what}. The original: {}", s.about)
    };
}

/// ddmin: a 1-minimal subset of `items` for which `fails` holds, assuming it holds for all of
/// them. Tries the empty list first, since "no faults at all" is the best possible answer.
pub fn ddmin<T: Clone>(items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    if items.is_empty() || fails(&[]) {
        return vec![];
    }
    let mut cur = items;
    let mut n = 2usize;
    while cur.len() >= 2 {
        let len = cur.len();
        let chunk = len.div_ceil(n);
        let parts: Vec<(usize, usize)> = (0..len)
            .step_by(chunk)
            .map(|s| (s, (s + chunk).min(len)))
            .collect();
        let mut next = None;
        for &(a, b) in &parts {
            if fails(&cur[a..b]) {
                next = Some((cur[a..b].to_vec(), 2));
                break;
            }
        }
        if next.is_none() && parts.len() > 2 {
            for &(a, b) in &parts {
                let complement: Vec<T> = cur[..a].iter().chain(&cur[b..]).cloned().collect();
                if fails(&complement) {
                    next = Some((complement, (n - 1).max(2)));
                    break;
                }
            }
        }
        match next {
            Some((smaller, new_n)) => {
                cur = smaller;
                n = new_n;
            }
            None if n >= len => break,
            None => n = (n * 2).min(len),
        }
    }
    cur
}

/// The scenario on `n` nodes: faults, clock settings and link overrides that name removed
/// nodes are narrowed to the remaining ones, or dropped when nothing remains. A topology
/// keeps its zones up to node `n - 1` (the last one kept narrowed), and faults aimed at a
/// zone no longer there are narrowed or dropped like those naming removed nodes.
pub fn restrict_nodes(s: &Scenario, n: usize) -> Scenario {
    let mut c = s.clone();
    c.nodes = n;
    let keep = |r: &NodeRef| (r.0 as usize) < n;
    let mut zones_kept: Vec<String> = vec![];
    if let Some(t) = &mut c.topology {
        let mut start = 0;
        t.zones.retain_mut(|z| {
            let kept = start < n;
            z.nodes = z.nodes.min(n.saturating_sub(start));
            start += z.nodes.max(1);
            kept
        });
        zones_kept = t.names();
        t.links
            .retain(|l| zones_kept.contains(&l.from.0) && zones_kept.contains(&l.to.0));
    }
    c.faults = s
        .faults
        .iter()
        .filter_map(|f| restrict_fault(f, n, &zones_kept))
        .collect();
    c.clocks.nodes.retain(|clock| keep(&clock.node));
    c.processing.nodes.retain(|p| keep(&p.node));
    for o in &mut c.network.overrides {
        o.from.retain(keep);
        o.to.retain(keep);
    }
    c.network
        .overrides
        .retain(|o| !o.from.is_empty() && !o.to.is_empty());
    c
}

fn restrict_target(t: TargetSpec, n: usize, zones: &[String]) -> Option<TargetSpec> {
    let keep = |r: &NodeRef| (r.0 as usize) < n;
    match t {
        TargetSpec::Zone(ref z) => zones.contains(z).then_some(t),
        TargetSpec::Node(r) => keep(&r).then_some(t),
        TargetSpec::Nodes(rs) => {
            let kept: Vec<NodeRef> = rs.into_iter().filter(keep).collect();
            (!kept.is_empty()).then_some(TargetSpec::Nodes(kept))
        }
        TargetSpec::Range(a, b) => {
            let (lo, hi) = (a.0.min(b.0), a.0.max(b.0));
            ((lo as usize) < n)
                .then(|| TargetSpec::Range(NodeRef(lo), NodeRef(hi.min(n as u32 - 1))))
        }
        other => Some(other),
    }
}

/// The fault with node names of removed nodes narrowed away (`None` when it is left aimed at
/// nobody).
fn restrict_fault(f: &TimedFault, n: usize, zones: &[String]) -> Option<TimedFault> {
    let action = f
        .action
        .clone()
        .filter_map_targets(|t| restrict_target(t, n, zones))?;
    Some(TimedFault { at: f.at, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_a_minimal_failing_subset() {
        // (items, the elements whose joint presence makes the test fail, expected result)
        let table: &[(usize, &[u32], &[u32])] = &[
            (8, &[3], &[3]),
            (8, &[1, 6], &[1, 6]),
            (13, &[0, 5, 12], &[0, 5, 12]),
            (5, &[], &[]),
            (1, &[0], &[0]),
        ];
        for &(len, needed, want) in table {
            let items: Vec<u32> = (0..len as u32).collect();
            let mut calls = 0;
            let got = ddmin(items, |s| {
                calls += 1;
                needed.iter().all(|x| s.contains(x))
            });
            assert_eq!(got, want, "len {len}, needed {needed:?}");
            assert!(
                calls <= len * len + 2,
                "ddmin made {calls} calls on {len} items"
            );
        }
    }

    #[test]
    fn restricting_nodes_drops_or_narrows_faults_naming_removed_nodes() {
        let text = r#"Scenario(name: "s", protocol: Gossip(()), nodes: 5, faults: [
            (at: "1s", do: Crash(Node(4))),
            (at: "1s", do: Isolate(Nodes([1, 3]))),
            (at: "1s", do: Partition([[Node(3), Node(4)], [Node(0)]])),
            (at: "1s", do: CutLink(0, 3)),
            (at: "1s", do: OneWay(from: Node(0), to: Node(4))),
            (at: "2s", do: Heal),
            (at: "2s", do: Restart(Crashed)),
        ], clocks: (nodes: [(node: 4, drift_ppm: 100)]))"#;
        let s = scenario::parse("t.ron", text).unwrap();
        let r = restrict_nodes(&s, 3);
        let got: Vec<String> = r.faults.iter().map(|f| format!("{:?}", f.action)).collect();
        assert_eq!(
            got,
            vec![
                "Isolate(Nodes([NodeRef(1)]))".to_string(),
                "Partition([[Node(NodeRef(0))]])".to_string(),
                "Heal".to_string(),
                "Restart(Crashed)".to_string(),
            ]
        );
        assert!(r.clocks.nodes.is_empty());
        // The restricted scenario is a valid file.
        scenario::parse("t.ron", &to_text(&r)).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn restricting_nodes_narrows_the_zones_and_drops_faults_aimed_at_removed_ones() {
        let text = r#"Scenario(name: "s", protocol: Gossip(()), nodes: 9,
            topology: (zones: [(name: "a", nodes: 3), (name: "b", nodes: 3), (name: "c", nodes: 3)],
                       links: [(from: "a", to: "c", latency: Constant("50ms"))]),
            faults: [
                (at: "1s", do: Isolate(Zone("c"))),
                (at: "1s", do: Partition([[Zone("a")], [Zone("b"), Zone("c")]])),
                (at: "1s", do: Degrade(a: Zone("a"), b: Zone("b"), loss: 0.1, duration: "1s")),
                (at: "2s", do: Heal),
            ])"#;
        let s = scenario::parse("t.ron", text).unwrap();
        let r = restrict_nodes(&s, 4);
        let t = r.topology.as_ref().unwrap();
        let zones: Vec<(&str, usize)> =
            t.zones.iter().map(|z| (z.name.as_str(), z.nodes)).collect();
        assert_eq!(zones, vec![("a", 3), ("b", 1)]);
        assert!(t.links.is_empty(), "{:?}", t.links);
        let got: Vec<String> = r.faults.iter().map(|f| format!("{:?}", f.action)).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].starts_with("Partition([[Zone(\"a\")], [Zone(\"b\")]])"),
            "{got:?}"
        );
        assert!(got[1].starts_with("Degrade"), "{got:?}");
        scenario::parse("t.ron", &to_text(&r)).unwrap_or_else(|e| panic!("{e}"));
    }
}
