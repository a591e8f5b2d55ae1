//! Raft under random faults: the correct configuration keeps every invariant, and each
//! known-bug variant is caught by the checker it targets, under the same fault schedules.

use protocols::checks::{Check, Checks, Invariant};
use protocols::family::Family;
use protocols::family::Setup;
use protocols::kv::KvWorkloadConfig;
use protocols::raft::{RaftBug, RaftConfig, RaftFamily, ReadMode};
use protocols::units::Dur;
use sim::rng::{index, splitmix64, uniform_u64};
use sim::{Fault, Latency, Limits, NetConfig, NodeId, SimConfig, Target, Time, Verdict};
use std::time::Duration;

/// The per-event safety monitors only (no history check, which can run out of budget on
/// long, fault-heavy histories).
const MONITORS: &[Check] = &[
    Check::of(Invariant::ELECTION_SAFETY),
    Check::of(Invariant::LEADER_APPEND_ONLY),
    Check::of(Invariant::LOG_MATCHING),
    Check::of(Invariant::LEADER_COMPLETENESS),
    Check::of(Invariant::STATE_MACHINE_SAFETY),
    Check::of(Invariant::MONOTONIC_TERM),
    Check::of(Invariant::MONOTONIC_COMMIT),
];

const ALL_SAFETY: &[Check] = &[
    Check::of(Invariant::ELECTION_SAFETY),
    Check::of(Invariant::LEADER_APPEND_ONLY),
    Check::of(Invariant::LOG_MATCHING),
    Check::of(Invariant::LEADER_COMPLETENESS),
    Check::of(Invariant::STATE_MACHINE_SAFETY),
    Check::of(Invariant::MONOTONIC_TERM),
    Check::of(Invariant::MONOTONIC_COMMIT),
    Check::of(Invariant::LINEARIZABLE),
];

/// A small deterministic generator for fault schedules (independent of the engine's).
struct Gen(u64);

impl rand::TryRng for Gen {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        Ok(splitmix64(self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

/// A random nemesis: every `gap_ms` (uniform) one of: crash a random node or the leader,
/// restart everything crashed, bounce a random node (down 5-60 ms), isolate the leader, cut
/// off a random minority, cut one link, or heal; at `quiet` everything heals and restarts.
fn nemesis(seed: u64, nodes: usize, quiet: Duration, gap_ms: (u64, u64)) -> Vec<(Time, Fault)> {
    let mut g = Gen(seed ^ 0x5eed);
    let mut t = 300_000_000u64;
    let mut out = Vec::new();
    while t < quiet.as_nanos() as u64 {
        let f = match index(&mut g, 11) {
            9 | 10 => {
                let a = index(&mut g, nodes);
                let b = (a + 1 + index(&mut g, nodes - 1)) % nodes;
                Fault::CutLink(
                    Target::Node(NodeId(a as u32)),
                    Target::Node(NodeId(b as u32)),
                )
            }
            7 | 8 => {
                // A bounce: down for 5-60 ms, often in the middle of an election.
                out.push((Time(t), Fault::Crash(Target::Random)));
                t += uniform_u64(&mut g, 5_000_000, 60_000_000);
                Fault::Restart(Target::Crashed)
            }
            0 => Fault::Crash(Target::Random),
            1 => Fault::Crash(Target::Leader),
            2 | 3 => Fault::Restart(Target::Crashed),
            4 => Fault::Isolate(Target::Leader),
            5 => {
                let cut = uniform_u64(&mut g, 1, nodes as u64 / 2) as usize;
                let start = index(&mut g, nodes);
                let group: Vec<Target> = (0..cut)
                    .map(|k| Target::Node(NodeId(((start + k) % nodes) as u32)))
                    .collect();
                Fault::Partition(vec![group])
            }
            _ => Fault::Heal,
        };
        out.push((Time(t), f));
        t += uniform_u64(&mut g, gap_ms.0 * 1_000_000, gap_ms.1 * 1_000_000);
    }
    out.push((Time(quiet.as_nanos() as u64), Fault::Heal));
    out.push((
        Time(quiet.as_nanos() as u64),
        Fault::Restart(Target::Crashed),
    ));
    out
}

fn sim_config(seed: u64, nodes: usize, secs: u64) -> SimConfig {
    let mut network = NetConfig::default();
    network.default.latency = Latency::uniform(Duration::from_millis(1), Duration::from_millis(10));
    SimConfig {
        nodes,
        seed,
        network,
        limits: Limits {
            duration: Some(Duration::from_secs(secs)),
            max_events: Some(5_000_000),
            ..Limits::default()
        },
        ..SimConfig::default()
    }
}

fn workload() -> KvWorkloadConfig {
    KvWorkloadConfig {
        clients: 4,
        rate: 40.0,
        keys: 6,
        timeout: Dur::ms(300),
        ..KvWorkloadConfig::default()
    }
}

/// Runs one seed with the random nemesis; returns the verdict and the ok-op count.
fn run(
    seed: u64,
    nodes: usize,
    cfg: &RaftConfig,
    checks: &[Check],
    faults: Vec<(Time, Fault)>,
    secs: u64,
) -> (Verdict, sim::Metrics) {
    let quiet = faults.last().map_or(Time::ZERO, |f| f.0);
    let setup = Setup {
        nodes,
        duration: Duration::from_secs(secs),
        quiet_from: quiet,
        seed,
        zones: vec![],
    };
    let checks = Checks(checks.to_vec());
    RaftFamily
        .check(&setup, cfg, &workload(), &checks)
        .expect("valid config");
    let built = RaftFamily.build(&setup, cfg, &workload(), &checks);
    let rep = built.simulate(sim_config(seed, nodes, secs), faults).run();
    (rep.verdict, rep.metrics)
}

/// Runs seeds `0..seeds` under random faults; returns the first violation's invariant name.
fn hunt(cfg: &RaftConfig, seeds: u64, checks: &[Check]) -> Option<(u64, String)> {
    hunt_with(cfg, seeds, checks, 5, (200, 700))
}

/// `hunt` on `nodes` servers with faults every `gap_ms`.
fn hunt_with(
    cfg: &RaftConfig,
    seeds: u64,
    checks: &[Check],
    nodes: usize,
    gap_ms: (u64, u64),
) -> Option<(u64, String)> {
    for seed in 0..seeds {
        let faults = nemesis(seed, nodes, Duration::from_secs(8), gap_ms);
        let (v, _) = run(seed, nodes, cfg, checks, faults, 10);
        match v {
            Verdict::Completed => {}
            Verdict::Violated(v) => return Some((seed, format!("{}: {}", v.invariant, v.message))),
            other => panic!("seed {seed}: unexpected verdict {other:?}"),
        }
    }
    None
}

#[test]
fn steady_state_commits_and_holds() {
    let (v, m) = run(1, 5, &RaftConfig::default(), ALL_SAFETY, vec![], 5);
    let ok = m.counter("kv.ok");
    assert_eq!(v, Verdict::Completed);
    assert!(ok > 300, "only {ok} operations completed");
}

#[test]
fn correct_raft_survives_random_faults() {
    for cfg in [
        RaftConfig::default(),
        RaftConfig {
            pre_vote: true,
            check_quorum: true,
            ..RaftConfig::default()
        },
        RaftConfig {
            reads: ReadMode::Log,
            ..RaftConfig::default()
        },
    ] {
        assert_eq!(hunt(&cfg, 12, ALL_SAFETY), None, "{cfg:?}");
    }
}

#[test]
fn snapshots_and_install_snapshot_survive_random_faults() {
    let cfg = RaftConfig {
        snapshot_every: 25,
        ..RaftConfig::default()
    };
    let (mut taken, mut installed) = (0, 0);
    for seed in 0..12 {
        let faults = nemesis(seed, 5, Duration::from_secs(8), (200, 700));
        let (v, m) = run(seed, 5, &cfg, ALL_SAFETY, faults, 10);
        assert_eq!(v, Verdict::Completed, "seed {seed}");
        taken += m.counter("raft.snapshots_taken");
        installed += m.counter("raft.snapshots_installed");
    }
    // Restarted and lagging servers must have caught up through InstallSnapshot.
    eprintln!("snapshots taken {taken}, installed {installed}");
    assert!(
        taken > 100 && installed > 5,
        "taken {taken}, installed {installed}"
    );
    // The checkers still see through compaction.
    let buggy = RaftConfig {
        bug: Some(RaftBug::VoteWithoutLogCheck),
        ..cfg
    };
    let found = hunt(&buggy, 12, ALL_SAFETY);
    eprintln!("with snapshots, VoteWithoutLogCheck: {found:?}");
    assert!(found.is_some());
}

/// Hunts `bug` on top of `base` over `seeds` seeds; the same seeds must find nothing
/// without the bug.
fn expect_bug_with(
    base: RaftConfig,
    bug: RaftBug,
    (nodes, gap_ms, seeds): (usize, (u64, u64), u64),
    checks: &[Check],
    any_of: &[&str],
) {
    let cfg = RaftConfig {
        bug: Some(bug),
        ..base.clone()
    };
    let (seed, msg) = hunt_with(&cfg, seeds, checks, nodes, gap_ms)
        .unwrap_or_else(|| panic!("{bug:?} not found in {seeds} seeds"));
    eprintln!("{bug:?} found with seed {seed}: {msg}");
    assert!(
        any_of.iter().any(|n| msg.starts_with(n)),
        "{bug:?} caught as {msg}"
    );
    // The correct configuration under the very schedule that caught the bug, and under the
    // first 50 schedules, finds nothing.
    for seed in (0..50.min(seed)).chain([seed]) {
        let faults = nemesis(seed, nodes, Duration::from_secs(8), gap_ms);
        let (v, _) = run(seed, nodes, &base, checks, faults, 10);
        assert_eq!(
            v,
            Verdict::Completed,
            "correct {base:?} failed on seed {seed}"
        );
    }
}

fn expect_bug(bug: RaftBug, seeds: u64, any_of: &[&str]) {
    expect_bug_with(
        RaftConfig::default(),
        bug,
        (5, (200, 700), seeds),
        ALL_SAFETY,
        any_of,
    );
}

#[test]
fn bug_local_reads_is_not_linearizable() {
    expect_bug(RaftBug::LocalReads, 12, &["Linearizable"]);
}

#[test]
fn bug_no_truncate_breaks_log_matching() {
    expect_bug(
        RaftBug::NoTruncate,
        12,
        &["LogMatching", "StateMachineSafety", "LeaderCompleteness"],
    );
}

#[test]
fn bug_stale_digests_breaks_log_matching_recomputed_from_the_entries() {
    // The stored digests after the overwritten entry still match the old leader's; only a
    // check that chains its own digests from terms and commands sees the divergence.
    expect_bug(RaftBug::StaleDigests, 12, &["LogMatching"]);
}

#[test]
fn bug_snapshot_keeps_suffix_breaks_log_matching() {
    let base = RaftConfig {
        snapshot_every: 3,
        ..RaftConfig::default()
    };
    expect_bug_with(
        base,
        RaftBug::SnapshotKeepsSuffix,
        (5, (200, 700), 60),
        ALL_SAFETY,
        &["LogMatching", "StateMachineSafety", "LeaderCompleteness"],
    );
}

#[test]
fn bug_vote_without_log_check_loses_committed_entries() {
    expect_bug(
        RaftBug::VoteWithoutLogCheck,
        12,
        &["LeaderCompleteness", "StateMachineSafety"],
    );
}

#[test]
fn bug_forget_vote_breaks_election_safety() {
    // A voter that forgets its vote on restart grants a second candidate of the same term.
    // The double vote needs a restart inside an election that a partly cut-off candidate is
    // still running; rare: the first seed is 1935 since replication is pipelined (162
    // before, when a heartbeat resent the window and so shifted every later timing).
    let base = RaftConfig {
        max_entries_per_message: 1,
        max_inflight: 1,
        ..RaftConfig::default()
    };
    expect_bug_with(
        base,
        RaftBug::ForgetVote,
        (5, (100, 400), 2500),
        MONITORS,
        &["ElectionSafety"],
    );
}

#[test]
fn bug_commit_previous_term_loses_committed_entries() {
    // Figure 8 needs three leadership changes in a row with divergent uncommitted suffixes;
    // one entry per message lets a majority hold an old-term entry before the new term's
    // no-op. About 0.2% of churn-heavy seeds produce it.
    let base = RaftConfig {
        max_entries_per_message: 1,
        max_inflight: 1,
        ..RaftConfig::default()
    };
    expect_bug_with(
        base,
        RaftBug::CommitPreviousTerm,
        (3, (50, 250), 1500),
        MONITORS,
        &["LeaderCompleteness", "StateMachineSafety"],
    );
}

#[test]
#[ignore]
fn explore() {
    for bug in [RaftBug::ForgetVote, RaftBug::CommitPreviousTerm] {
        for nodes in [3, 5] {
            for gap in [(50, 250), (100, 400)] {
                for (et, me) in [((150, 300), 64), ((150, 300), 1)] {
                    let cfg = RaftConfig {
                        bug: Some(bug),
                        election_timeout: (Dur::ms(et.0), Dur::ms(et.1)),
                        max_entries_per_message: me,
                        max_inflight: if me == 1 { 1 } else { 4 },
                        ..RaftConfig::default()
                    };
                    let mut found = Vec::new();
                    for seed in 0..200 {
                        let faults = nemesis(seed, nodes, Duration::from_secs(8), gap);
                        if let (Verdict::Violated(v), _) =
                            run(seed, nodes, &cfg, MONITORS, faults, 10)
                        {
                            found.push((seed, v.invariant));
                        }
                    }
                    eprintln!(
                        "{bug:?} nodes {nodes} gap {gap:?} et {et:?} me {me}: {} {:?}",
                        found.len(),
                        &found[..found.len().min(4)]
                    );
                }
            }
        }
    }
}

/// Prints the materialized fault schedules of the seeds the bug tests find, for the
/// scenario library.
#[test]
#[ignore]
fn print_found_schedules() {
    for (name, seed, nodes, gap) in [
        ("VoteWithoutLogCheck", 0, 5, (200, 700)),
        ("LocalReads", 1, 5, (200, 700)),
        ("NoTruncate", 5, 5, (200, 700)),
        ("ForgetVote", 1935, 5, (100, 400)),
        ("CommitPreviousTerm", 1261, 3, (50, 250)),
    ] {
        eprintln!("== {name} seed {seed} nodes {nodes}");
        for (t, f) in nemesis(seed, nodes, Duration::from_secs(8), gap) {
            eprintln!("  {:>12}ns {f:?}", t.as_nanos());
        }
    }
}
