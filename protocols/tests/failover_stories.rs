//! The failover story, one run per claim: the naive design splits its brain when the primary
//! is isolated or paused; epochs used as fencing tokens, a lease whose clock bound holds, and
//! quorum promotion survive the same faults; a lease whose clock drifts beyond its bound
//! does not. Each known-bug run must be caught, and the correct modes under the same faults
//! must be clean (with the client history linearizable).

use protocols::checks::{Check, Checks, Invariant};
use protocols::failover::{FailoverConfig, FailoverFamily, Mode, metric};
use protocols::family::Family;
use protocols::family::Setup;
use protocols::kv::KvWorkloadConfig;
use protocols::units::Dur;
use sim::{Clock, Fault, Latency, Limits, NetConfig, RunReport, SimConfig, Target, Time, Verdict};
use std::time::Duration;

/// Faults at true times.
type Schedule = Vec<(Time, Fault)>;

/// A named way to build a schedule.
type Named = (&'static str, fn() -> Schedule);

/// One run's inputs besides the mode.
struct Story {
    cfg: FailoverConfig,
    nodes: usize,
    seed: u64,
    duration: Duration,
    faults: Vec<(Time, Fault)>,
    clocks: Vec<Clock>,
    checks: Vec<Check>,
    /// Lossy datagram links (1% loss, 1% reordering) instead of streams.
    datagram: bool,
}

impl Story {
    fn new(mode: Mode, faults: Vec<(Time, Fault)>) -> Story {
        Story {
            cfg: FailoverConfig {
                mode,
                ..FailoverConfig::default()
            },
            nodes: 3,
            seed: 7,
            duration: Duration::from_secs(10),
            faults,
            clocks: Vec::new(),
            datagram: false,
            checks: vec![
                Check::of(Invariant::NO_SPLIT_BRAIN),
                Check::of(Invariant::ONE_PRIMARY_PER_EPOCH),
                Check::of(Invariant::LINEARIZABLE),
                Check::within(Invariant::PRIMARY_WITHIN, Dur::secs(3)),
            ],
        }
    }

    fn run(&self) -> RunReport {
        let quiet_from = self.faults.iter().map(|f| f.0).max().unwrap_or(Time::ZERO);
        let setup = Setup {
            nodes: self.nodes,
            duration: self.duration,
            quiet_from,
            seed: self.seed,
            zones: vec![],
        };
        let workload = KvWorkloadConfig {
            clients: 4,
            rate: 20.0,
            // Shorter than failure detection, so clients wander off a silent primary and some
            // find the new one while others stay with the old.
            timeout: Dur::ms(200),
            give_up: Dur::secs(6),
            ..KvWorkloadConfig::default()
        };
        let checks = Checks(self.checks.clone());
        FailoverFamily
            .check(&setup, &self.cfg, &workload, &checks)
            .expect("a valid config");
        let built = FailoverFamily.build(&setup, &self.cfg, &workload, &checks);
        let sim_cfg = SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            network: NetConfig {
                default: sim::LinkParams {
                    latency: Latency::uniform(Duration::from_millis(1), Duration::from_millis(10)),
                    loss: if self.datagram { 0.01 } else { 0.0 },
                    reorder: if self.datagram { 0.01 } else { 0.0 },
                    kind: if self.datagram {
                        sim::LinkKind::Datagram
                    } else {
                        sim::LinkKind::Stream
                    },
                    ..sim::LinkParams::default()
                },
                ..NetConfig::default()
            },
            clocks: self.clocks.clone(),
            limits: Limits {
                duration: Some(self.duration),
                max_events: Some(5_000_000),
                ..Limits::default()
            },
            ..SimConfig::default()
        };
        built.simulate(sim_cfg, self.faults.clone()).run()
    }
}

fn isolate_then_heal() -> Vec<(Time, Fault)> {
    vec![
        (Time::from_secs(3), Fault::Isolate(Target::Leader)),
        (Time::from_secs(7), Fault::Heal),
    ]
}

fn pause_then_resume(pause_ms: u64) -> Vec<(Time, Fault)> {
    vec![
        (Time::from_secs(3), Fault::Pause(Target::Leader)),
        (
            Time::from_millis(3000 + pause_ms),
            Fault::Resume(Target::Paused),
        ),
    ]
}

fn violated(report: &RunReport) -> Option<Invariant> {
    match &report.verdict {
        Verdict::Violated(v) => {
            eprintln!("found: {v}");
            FailoverFamily
                .invariants()
                .iter()
                .map(|i| i.invariant)
                .find(|i| i.name() == v.invariant)
        }
        _ => None,
    }
}

fn assert_holds(report: &RunReport) {
    assert_eq!(report.verdict, Verdict::Completed, "expected a clean run");
    assert!(
        report.metrics.counter("kv.ok") > 100,
        "too few operations completed for the run to mean anything: {}",
        report.metrics.counter("kv.ok")
    );
}

fn one(report: &RunReport, name: &str) -> f64 {
    report
        .metrics
        .values(name)
        .last()
        .copied()
        .unwrap_or(f64::NAN)
}

#[test]
fn naive_primary_isolated_splits_brain() {
    let report = Story::new(Mode::Naive, isolate_then_heal()).run();
    assert_eq!(
        violated(&report),
        Some(Invariant::NO_SPLIT_BRAIN),
        "{:?}",
        report.verdict
    );
}

#[test]
fn naive_primary_paused_splits_brain() {
    let report = Story::new(Mode::Naive, pause_then_resume(2000)).run();
    assert_eq!(
        violated(&report),
        Some(Invariant::NO_SPLIT_BRAIN),
        "{:?}",
        report.verdict
    );
}

#[test]
fn fencing_primary_isolated_holds_and_rejects_stale_writes() {
    let report = Story::new(Mode::Fencing, isolate_then_heal()).run();
    assert_holds(&report);
    assert!(report.metrics.counter(metric::STALE_WRITES_REJECTED) > 0);
    assert!(
        one(&report, metric::DUAL_BELIEF_MS) > 0.0,
        "the old primary believed on"
    );
}

#[test]
fn fencing_primary_paused_holds_and_rejects_stale_writes() {
    let report = Story::new(Mode::Fencing, pause_then_resume(2000)).run();
    assert_holds(&report);
    assert!(report.metrics.counter(metric::STALE_REJECTED) > 0);
    assert!(report.metrics.counter(metric::STALE_WRITES_REJECTED) > 0);
    // One failure (the pause) and one failover: the resume is not measured as a failure.
    assert_eq!(report.metrics.values(metric::FAILOVER_MS).len(), 1);
    assert!(
        one(&report, metric::DUAL_BELIEF_MS) >= 1000.0,
        "paused, it believed on"
    );
}

/// Clocks at ±0.9% (inside the assumed ρ = 1%), the primary slow and the backups fast: the
/// worst case the lease margin must cover.
fn clocks_within_bound() -> Vec<Clock> {
    vec![
        Clock::new(0, -9_000),
        Clock::new(0, 9_000),
        Clock::new(0, 9_000),
    ]
}

#[test]
fn lease_drift_within_bound_holds() {
    let mut story = Story::new(Mode::Lease, pause_then_resume(2000));
    story.clocks = clocks_within_bound();
    let report = story.run();
    assert_holds(&report);
    assert!(report.metrics.counter("failover.lease_expired") > 0);
}

#[test]
fn lease_drift_beyond_bound_splits_brain() {
    // The primary's clock runs at half speed: after a 1.5 s pause it believes 0.75 s passed
    // and that its 1 s lease still holds, while the backups promoted after ~1.02 s.
    let mut faults = vec![(
        Time::from_secs(2),
        Fault::SetDrift {
            target: Target::Leader,
            ppm: -500_000,
        },
    )];
    faults.extend(pause_then_resume(1500));
    for seed in 1..=6 {
        let mut story = Story::new(Mode::Lease, faults.clone());
        story.seed = seed;
        let report = story.run();
        assert_eq!(
            violated(&report),
            Some(Invariant::NO_SPLIT_BRAIN),
            "seed {seed}: {:?}",
            report.verdict
        );
    }
}

#[test]
fn quorum_primary_isolated_holds_and_reports_unavailability() {
    let report = Story::new(Mode::Quorum, isolate_then_heal()).run();
    assert_holds(&report);
    let windows = report.metrics.values(metric::UNAVAILABLE_MS);
    let failover = report.metrics.values(metric::FAILOVER_MS);
    eprintln!(
        "quorum/isolate: unavailable windows {windows:?} ms, failover {failover:?} ms, \
         detection {:?} ms, dual belief {} ms",
        report.metrics.values(metric::DETECTION_MS),
        one(&report, metric::DUAL_BELIEF_MS)
    );
    assert_eq!(failover.len(), 1);
    // Detection takes the timeout (300 ms) plus up to one check period; promotion one
    // round trip more; the window cannot be shorter than detection.
    assert!((300.0..1000.0).contains(&failover[0]), "{failover:?}");
    assert_eq!(windows.len(), 1);
    assert!(
        windows[0] >= 300.0 && windows[0] <= failover[0],
        "{windows:?}"
    );
}

#[test]
fn quorum_primary_paused_holds() {
    let report = Story::new(Mode::Quorum, pause_then_resume(2000)).run();
    assert_holds(&report);
}

#[test]
fn crash_failover_times_are_measured() {
    for mode in [Mode::Fencing, Mode::Quorum] {
        let faults = vec![
            (Time::from_secs(3), Fault::Crash(Target::Leader)),
            (Time::from_secs(6), Fault::Restart(Target::Crashed)),
        ];
        let report = Story::new(mode, faults).run();
        assert_holds(&report);
        let detection = report.metrics.values(metric::DETECTION_MS);
        let failover = report.metrics.values(metric::FAILOVER_MS);
        eprintln!("{mode:?}/crash: detection {detection:?} ms, failover {failover:?} ms");
        // docs/references.md §5: detection falls in [τ − h, τ] after the crash, plus one check
        // period here (backups look every heartbeat), plus a network delay.
        assert_eq!(detection.len(), 1, "{mode:?}");
        assert!(
            (250.0..=370.0).contains(&detection[0]),
            "{mode:?}: {detection:?}"
        );
        assert!(failover[0] >= detection[0], "{mode:?}: {failover:?}");
    }
}

#[test]
fn async_replication_loses_acknowledged_writes() {
    // sync: false answers the client at the primary's own append: a crash right after loses
    // writes the clients were told about.
    let faults = vec![
        (Time::from_secs(3), Fault::Crash(Target::Leader)),
        (Time::from_secs(6), Fault::Restart(Target::Crashed)),
    ];
    let mut story = Story::new(Mode::Quorum, faults);
    story.cfg.sync = false;
    story.cfg.heartbeat = Dur::ms(200);
    story.cfg.timeout = Dur::ms(600);
    let found = (1..=5).find_map(|seed| {
        story.seed = seed;
        violated(&story.run())
    });
    assert_eq!(found, Some(Invariant::LINEARIZABLE));
}

#[test]
fn same_seed_same_trace() {
    let story = Story::new(Mode::Fencing, pause_then_resume(2000));
    let (a, b) = (story.run(), story.run());
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.events, b.events);
}

#[test]
fn check_refuses_bad_configs() {
    let setup = Setup {
        nodes: 3,
        duration: Duration::from_secs(1),
        quiet_from: Time::ZERO,
        seed: 1,
        zones: vec![],
    };
    let wl = KvWorkloadConfig::default();
    let none = Checks::default();
    assert!(
        FailoverFamily
            .check(&setup, &FailoverConfig::default(), &wl, &none)
            .is_ok()
    );
    let bad = FailoverConfig {
        timeout: Dur::ms(10),
        ..FailoverConfig::default()
    };
    assert!(FailoverFamily.check(&setup, &bad, &wl, &none).is_err());
    let cfg: FailoverConfig =
        serde_json::from_str(r#"{"mode": "Lease", "lease": "2s"}"#).expect("partial config");
    assert_eq!(
        (cfg.mode, cfg.lease, cfg.heartbeat),
        (Mode::Lease, Dur::secs(2), Dur::ms(50))
    );
    assert!(serde_json::from_str::<FailoverConfig>(r#"{"leese": "2s"}"#).is_err());
}

fn crash_then_restart() -> Vec<(Time, Fault)> {
    vec![
        (Time::from_secs(3), Fault::Crash(Target::Leader)),
        (Time::from_secs(6), Fault::Restart(Target::Crashed)),
    ]
}

/// The correct modes hold, and Naive splits its brain, over several seeds and both link
/// kinds (lossy datagrams included), for every primary fault of the story.
#[test]
fn seed_sweep_correct_modes_hold_naive_does_not() {
    let faults: [Named; 3] = [
        ("isolate", isolate_then_heal),
        ("pause", || pause_then_resume(2000)),
        ("crash", crash_then_restart),
    ];
    let mut naive_found = 0;
    let mut naive_runs = 0;
    for seed in 1..=6 {
        for (name, make) in faults {
            for mode in [Mode::Naive, Mode::Fencing, Mode::Lease, Mode::Quorum] {
                let mut story = Story::new(mode, make());
                story.seed = seed;
                story.datagram = seed % 2 == 0;
                if mode == Mode::Lease {
                    story.clocks = clocks_within_bound();
                }
                let report = story.run();
                if mode == Mode::Naive {
                    if name != "crash" {
                        naive_runs += 1;
                        naive_found +=
                            usize::from(violated(&report) == Some(Invariant::NO_SPLIT_BRAIN));
                    }
                    continue;
                }
                assert_eq!(
                    report.verdict,
                    Verdict::Completed,
                    "{mode:?} {name} seed {seed}"
                );
            }
        }
    }
    eprintln!("naive split brain found in {naive_found}/{naive_runs} runs");
    assert!(
        naive_found * 10 >= naive_runs * 8,
        "{naive_found}/{naive_runs}"
    );
}

/// Five nodes, the primary and one backup cut off as a minority: the majority side promotes,
/// the minority primary cannot commit (and steps down), and after the heal it is fenced.
#[test]
fn quorum_minority_partition_holds() {
    let faults = vec![
        (
            Time::from_secs(3),
            Fault::Partition(vec![vec![Target::Leader, Target::Node(sim::NodeId(1))]]),
        ),
        (Time::from_secs(7), Fault::Heal),
    ];
    for mode in [Mode::Quorum, Mode::Naive] {
        let mut story = Story::new(mode, faults.clone());
        story.nodes = 5;
        let report = story.run();
        if mode == Mode::Naive {
            assert_eq!(violated(&report), Some(Invariant::NO_SPLIT_BRAIN));
            continue;
        }
        assert_holds(&report);
        let windows = report.metrics.values(metric::UNAVAILABLE_MS);
        eprintln!("quorum/minority partition: unavailable {windows:?} ms");
        assert_eq!(windows.len(), 1);
        assert!((300.0..1000.0).contains(&windows[0]), "{windows:?}");
    }
}

/// Promotion by rank without votes can crown two nodes in one epoch when the backups cannot
/// hear each other; quorum promotion cannot (and, after the heal, serves again in time).
#[test]
fn one_primary_per_epoch_catches_promotion_without_votes() {
    let faults = vec![
        (
            Time::from_secs(3),
            Fault::Partition(vec![
                vec![Target::Node(sim::NodeId(0))],
                vec![Target::Node(sim::NodeId(1))],
                vec![Target::Node(sim::NodeId(2))],
            ]),
        ),
        (Time::from_secs(6), Fault::Heal),
    ];
    for mode in [Mode::Naive, Mode::Fencing, Mode::Quorum] {
        let mut story = Story::new(mode, faults.clone());
        story.checks = vec![
            Check::of(Invariant::ONE_PRIMARY_PER_EPOCH),
            Check::within(Invariant::PRIMARY_WITHIN, Dur::secs(2)),
        ];
        let report = story.run();
        let expected = (mode != Mode::Quorum).then_some(Invariant::ONE_PRIMARY_PER_EPOCH);
        assert_eq!(violated(&report), expected, "{mode:?}");
    }
}

/// With two of three nodes crashed for good, no majority is left: PrimaryWithin must fail.
#[test]
fn primary_within_fails_without_a_majority() {
    let faults = vec![
        (Time::from_secs(3), Fault::Crash(Target::Leader)),
        (
            Time::from_millis(3001),
            Fault::Crash(Target::Node(sim::NodeId(2))),
        ),
    ];
    let mut story = Story::new(Mode::Quorum, faults.clone());
    story.checks = vec![Check::within(Invariant::PRIMARY_WITHIN, Dur::secs(2))];
    assert_eq!(violated(&story.run()), Some(Invariant::PRIMARY_WITHIN));
    // The same crashes of one node only: a primary is back well within the deadline.
    story.faults.truncate(1);
    assert_eq!(story.run().verdict, Verdict::Completed);
}

/// A one-node cluster is its own majority: after a crash and restart it serves again in
/// every mode (a lone Lease node renews its lease on its own tick).
#[test]
fn single_node_recovers_in_every_mode() {
    for mode in [Mode::Naive, Mode::Fencing, Mode::Lease, Mode::Quorum] {
        let mut story = Story::new(mode, crash_then_restart());
        story.nodes = 1;
        let report = story.run();
        assert_eq!(report.verdict, Verdict::Completed, "{mode:?}");
    }
}
