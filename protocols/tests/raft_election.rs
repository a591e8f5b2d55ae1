//! The election-time shape: randomized timeouts avoid split votes, and with 150–300 ms the
//! mean election time after a leader crash matches the thesis's analytic model (docs/references.md
//! §1.3, Ongaro's thesis §9.1–9.3).
//!
//! Model assumptions (and how this setup meets them):
//! - timeouts uniform in `[1, 2]` units (150–300 ms, so one unit is 150 ms);
//! - `s = 4` available servers of `n = 5`, all with equally up-to-date logs (no workload);
//! - one-way latency `L` uniform 1–5 ms (`E[L]` = 3 ms); no vote write cost (`W = 0`, the
//!   engine's durable writes take no time);
//! - the crash falls uniformly within a heartbeat interval (`h` = 75 ms = ½ unit, so the
//!   model subtracts `h/2`): the crash time is offset by a seeded uniform draw in `[0, h)`;
//! - split-vote probability with a fixed latency `l = E[L]`;
//! - the measurement runs from the crash to the first server hearing the new leader.

use protocols::checks::{Check, Checks, Invariant};
use protocols::family::Family;
use protocols::family::Setup;
use protocols::kv::KvWorkloadConfig;
use protocols::raft::{RaftConfig, RaftFamily};
use protocols::units::Dur;
use sim::rng::splitmix64;
use sim::{Fault, Latency, Limits, NetConfig, SimConfig, Simulation, Target, Time};
use std::time::Duration;

/// Mean election time (ms) over `seeds` leader crashes; runs without an election within
/// `cap` count as `cap`.
fn mean_election_ms(timeout: (u64, u64), seeds: u64, cap: Duration) -> f64 {
    let mut total = 0.0;
    for seed in 0..seeds {
        let cfg = RaftConfig {
            election_timeout: (Dur::ms(timeout.0), Dur::ms(timeout.1)),
            heartbeat: Dur::ms(75),
            ..RaftConfig::default()
        };
        let phase = splitmix64(seed ^ 0xe1ec7) % 75_000_000;
        let crash = Time(3_000_000_000 + phase);
        let setup = Setup {
            nodes: 5,
            duration: cap,
            quiet_from: crash,
            seed,
            zones: vec![],
        };
        let idle = KvWorkloadConfig {
            rate: 0.0,
            ..KvWorkloadConfig::default()
        };
        let checks = Checks(vec![
            Check::of(Invariant::ELECTION_SAFETY),
            Check::of(Invariant::LEADER_COMPLETENESS),
        ]);
        let built = RaftFamily.build(&setup, &cfg, &idle, &checks);
        let mut network = NetConfig::default();
        network.default.latency =
            Latency::uniform(Duration::from_millis(1), Duration::from_millis(5));
        let sc = SimConfig {
            nodes: 5,
            seed,
            network,
            limits: Limits {
                duration: Some(Duration::from_nanos(crash.as_nanos()) + cap),
                ..Limits::default()
            },
            ..SimConfig::default()
        };
        let mut sim = Simulation::new(sc, built.config);
        for m in built.monitors {
            sim.add_monitor(m);
        }
        sim.schedule_fault(crash, Fault::Crash(Target::Leader));
        let rep = sim.run();
        assert_eq!(rep.verdict, sim::Verdict::Completed, "seed {seed}");
        let after: Vec<f64> = rep
            .metrics
            .samples
            .get("raft.election_time_ms")
            .map(|v| {
                v.iter()
                    .filter(|(t, _)| *t >= crash)
                    .map(|&(_, ms)| ms)
                    .collect()
            })
            .unwrap_or_default();
        total += after.first().copied().unwrap_or(cap.as_secs_f64() * 1e3);
    }
    total / seeds as f64
}

/// The thesis's expected election time in ms (docs/references.md §1.3):
/// `E = (1/(1-p))·(1 + 1/(s+1) + E[L]) + E[L] + E[W] − h/2`, in units of the timeout range,
/// with `p = Σ_{k=c−1}^{s} C(s,k) l^k (1−l)^{s−k}`, `c = s − ⌊n/2⌋ + 1`.
fn model_ms(n: u32, s: u32, range_ms: f64, latency_ms: f64, heartbeat_ms: f64) -> f64 {
    let l = latency_ms / range_ms;
    let c = s - n / 2 + 1;
    let binom =
        |n: u32, k: u32| -> f64 { (0..k).map(|i| (n - i) as f64 / (i + 1) as f64).product() };
    let p: f64 = (c - 1..=s)
        .map(|k| binom(s, k) * l.powi(k as i32) * (1.0 - l).powi((s - k) as i32))
        .sum();
    let units =
        (1.0 / (1.0 - p)) * (1.0 + 1.0 / (s as f64 + 1.0) + l) + l - heartbeat_ms / range_ms / 2.0;
    units * range_ms
}

#[test]
fn model_reproduces_the_worked_values() {
    // docs/references.md §1.3 table: 5/4 at L = 1 ms → 145 ms, L = 5 ms → 154 ms; 3/2 at 5 ms → 187.
    assert!((model_ms(5, 4, 150.0, 1.0, 75.0) - 145.0).abs() < 1.5);
    assert!((model_ms(5, 4, 150.0, 5.0, 75.0) - 154.0).abs() < 1.5);
    assert!((model_ms(3, 2, 150.0, 5.0, 75.0) - 187.0).abs() < 1.5);
}

#[test]
fn randomized_timeouts_match_the_thesis_model() {
    let model = model_ms(5, 4, 150.0, 3.0, 75.0);
    let mean = mean_election_ms((150, 300), 300, Duration::from_secs(3));
    eprintln!("150-300 ms: mean election {mean:.1} ms, model {model:.1} ms");
    assert!(
        (mean - model).abs() <= 0.15 * model,
        "mean {mean:.1} ms vs model {model:.1} ms"
    );
}

#[test]
fn fixed_timeouts_split_votes_and_take_far_longer() {
    let fixed = mean_election_ms((150, 150), 60, Duration::from_secs(10));
    let random = mean_election_ms((150, 300), 60, Duration::from_secs(3));
    eprintln!("150-150 ms: mean {fixed:.1} ms; 150-300 ms: mean {random:.1} ms");
    assert!(
        fixed > 3.0 * random,
        "fixed {fixed:.1} ms vs randomized {random:.1} ms"
    );
}
