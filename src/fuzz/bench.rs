//! `faultline bench --fuzz`: campaign throughput on the library's 5-node Raft nemesis scenario
//! (10 s of virtual time per seed) on every core and on one, where one seed's time goes
//! (setup, events, checkers, report), and the time to the first failure of every known bug's
//! campaign ([`super::targets`]).

use super::campaign::{CampaignConfig, failure_key, materialize, run_campaign};
use super::targets::{BugTarget, TARGETS};
use crate::runner::{self, RunOptions};
use crate::scenario;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// The scenario whose seeds per second are reported.
const NEMESIS_FILE: &str = "scenarios/raft/nemesis.ron";
const NEMESIS: &str = include_str!("../../scenarios/raft/nemesis.ron");

/// Campaign throughput.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    pub scenario: String,
    pub nodes: usize,
    pub virtual_secs: f64,
    pub seeds: u64,
    pub threads: usize,
    pub wall_secs: f64,
    pub seeds_per_sec: f64,
    /// Failures found (correct Raft: 0).
    pub failures: usize,
}

/// Seeds `0..seeds` of the Raft nemesis scenario on every core.
pub fn throughput(seeds: u64) -> Throughput {
    let s = scenario::parse(NEMESIS_FILE, NEMESIS).expect("the library scenario parses");
    let cfg = CampaignConfig::quiet(
        protocols::builtin(),
        PathBuf::from(NEMESIS_FILE),
        s.clone(),
        0,
        seeds,
    );
    let r = run_campaign(&cfg).expect("nothing is written");
    Throughput {
        scenario: s.name,
        nodes: s.nodes,
        virtual_secs: s.duration.0.as_secs_f64(),
        seeds: r.seeds_run,
        threads: rayon::current_num_threads(),
        wall_secs: r.wall_secs,
        seeds_per_sec: r.seeds_per_sec,
        failures: r.failures.len(),
    }
}

/// Where one seed's time goes, on one core: the mean milliseconds per seed of each phase, in
/// CPU time of the measuring thread (so a busy machine inflates it less than wall time).
#[derive(Clone, Debug, Serialize)]
pub struct SeedProfile {
    pub seeds: u64,
    /// Seeds per second of this thread's CPU time, all phases included.
    pub seeds_per_sec: f64,
    /// Drawing the seed's faults and knobs, and building the simulation.
    pub setup_ms: f64,
    /// The simulation itself: the same seed run with no checks.
    pub events_ms: f64,
    /// The checkers: per-event monitors and end-of-run checks (the linearizability check of
    /// the client history), as the difference between the run with its checks and without.
    pub checkers_ms: f64,
    /// Turning the run's report into an outcome (verdict, metrics).
    pub report_ms: f64,
    /// Events per seed.
    pub events: f64,
}

/// Seeds `0..seeds` of the Raft nemesis scenario on the calling thread, each run twice (with
/// and without its checks) to split the time into phases.
pub fn profile(seeds: u64) -> SeedProfile {
    let s = scenario::parse(NEMESIS_FILE, NEMESIS).expect("the library scenario parses");
    let now = crate::bench::thread_cpu_secs;
    let (mut setup, mut with, mut without, mut report, mut events) = (0.0, 0.0, 0.0, 0.0, 0u64);
    for seed in 0..seeds {
        let t0 = now();
        let d = materialize(&s, seed).expect("the nemesis draws valid faults");
        let prep = d.prepare(seed, false, None);
        let t1 = now();
        let r = d.run_prepared(prep, None);
        let t2 = now();
        events += r.events;
        let o = runner::judge(NEMESIS_FILE, &d, r, 0.0);
        let t3 = now();
        assert!(
            o.matched,
            "seed {seed}: correct Raft failed: {:?}",
            o.violations
        );
        let mut bare = d.clone();
        bare.checks = Some(vec![]);
        let prep = bare.prepare(seed, false, None);
        let t4 = now();
        bare.run_prepared(prep, None);
        let t5 = now();
        setup += t1 - t0;
        with += t2 - t1;
        report += t3 - t2;
        without += t5 - t4;
    }
    let n = seeds.max(1) as f64;
    let ms = |x: f64| 1e3 * x / n;
    SeedProfile {
        seeds,
        seeds_per_sec: n / (setup + with + report),
        setup_ms: ms(setup),
        events_ms: ms(without),
        checkers_ms: ms((with - without).max(0.0)),
        report_ms: ms(report),
        events: events as f64 / n,
    }
}

/// How long a known bug's campaign takes to find it.
#[derive(Clone, Debug, Serialize)]
pub struct FirstFailure {
    pub bug: &'static str,
    /// The lowest failing seed, if any within the limit.
    pub seed: Option<u64>,
    /// What it failed with.
    pub key: Option<String>,
    pub seeds_run: u64,
    pub wall_secs: f64,
}

/// Runs the target's campaign from seed 0, a chunk of seeds at a time across cores, until a
/// chunk has a failure (or `limit` seeds ran); reports the lowest failing seed and the time.
pub fn first_failure(t: &BugTarget, limit: u64) -> FirstFailure {
    let s = t.scenario(t.bug);
    let chunk = 8 * rayon::current_num_threads().max(1) as u64;
    #[allow(clippy::disallowed_methods)] // Wall time is what is measured; it steers nothing.
    let started = std::time::Instant::now();
    let mut start = 0;
    while start < limit {
        let end = (start + chunk).min(limit);
        let hit = (start..end).into_par_iter().find_map_first(|seed| {
            let o = runner::run(
                t.name,
                &materialize(&s, seed).expect("campaign scenarios draw valid knobs"),
                &RunOptions::default(),
            );
            (!o.matched).then(|| (seed, failure_key(&o)))
        });
        if let Some((seed, key)) = hit {
            return FirstFailure {
                bug: t.name,
                seed: Some(seed),
                key: Some(key),
                seeds_run: end,
                wall_secs: started.elapsed().as_secs_f64(),
            };
        }
        start = end;
    }
    FirstFailure {
        bug: t.name,
        seed: None,
        key: None,
        seeds_run: limit,
        wall_secs: started.elapsed().as_secs_f64(),
    }
}

/// Every known bug's time to first failure, searching up to twice its seed budget.
pub fn first_failures() -> Vec<FirstFailure> {
    TARGETS
        .iter()
        .map(|t| first_failure(t, 2 * t.seeds))
        .collect()
}

/// The report for people.
pub fn text(tp: &Throughput, prof: &SeedProfile, firsts: &[FirstFailure]) -> String {
    let mut s = format!(
        "fuzz: {} ({} nodes, {} s virtual): {} seeds in {:.2} s = {:.0} seeds/s on {} threads ({:.0} per thread), {} failure(s)\n",
        tp.scenario,
        tp.nodes,
        tp.virtual_secs,
        tp.seeds,
        tp.wall_secs,
        tp.seeds_per_sec,
        tp.threads,
        tp.seeds_per_sec / tp.threads.max(1) as f64,
        tp.failures
    );
    s += &format!(
        "one core: {:.0} seeds/s (target >= 500); per seed {:.0} events: setup {:.3} ms, events {:.3} ms, checkers {:.3} ms, report {:.3} ms\n",
        prof.seeds_per_sec,
        prof.events,
        prof.setup_ms,
        prof.events_ms,
        prof.checkers_ms,
        prof.report_ms
    );
    s += "time to first failure (seeds from 0, in parallel):\n";
    for f in firsts {
        let found = match (&f.seed, &f.key) {
            (Some(seed), Some(key)) => format!("seed {seed:>5} ({key})"),
            _ => "not found".to_string(),
        };
        s += &format!(
            "  {:<40} {found:<40} {:>6} seeds {:>7.2} s\n",
            f.bug, f.seeds_run, f.wall_secs
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_finds_the_lowest_failing_seed() {
        let t = super::super::targets::target("raft NoTruncate");
        let f = first_failure(t, t.seeds);
        let seed = f.seed.expect("found within the budget");
        // No lower seed fails.
        let s = t.scenario(t.bug);
        for lower in 0..seed {
            assert!(
                runner::run(
                    "t",
                    &materialize(&s, lower).unwrap(),
                    &RunOptions::default()
                )
                .matched
            );
        }
        assert!(!runner::run("t", &materialize(&s, seed).unwrap(), &RunOptions::default()).matched);
        assert!(t.invariants.contains(&f.key.as_deref().unwrap()));
    }
}
