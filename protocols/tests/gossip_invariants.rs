//! The gossip invariants under partitions and churn: the correct configuration holds every
//! check, and each known-bug variant is caught by the invariant it breaks, under the same
//! faults and seeds.

#[path = "gossip_support.rs"]
mod support;

use protocols::checks::{Check, Invariant};
use protocols::gossip::{
    Bug, Direction, GossipConfig, Interest, PeerView, Rounds, Stop, Style, UpdatesConfig,
};
use protocols::units::Dur;
use sim::{Fault, NodeId, Target, Time, Verdict};
use std::time::Duration;
use support::{Run, one};

const ALL: [Check; 4] = [
    Check::of(Invariant::NO_INVENTED_VALUES),
    Check::of(Invariant::VERSIONS_MONOTONIC),
    Check::of(Invariant::UPDATES_SURVIVE_RESTART),
    Check::within(Invariant::CONVERGED_WITHIN, Dur::secs(3)),
];

fn half(n: u32) -> Vec<Target> {
    (0..n / 2).map(|i| Target::Node(NodeId(i))).collect()
}

/// 100 nodes, 40 concurrent updates per second on 3 keys at random nodes for 4s; a partition
/// into halves from 1s to 3s; two crashes and restarts; then quiet.
fn stormy(seed: u64, cfg: GossipConfig) -> Run {
    let mut run = Run::spread(100, seed, cfg);
    run.workload = UpdatesConfig {
        updates: vec![],
        rate: 40.0,
        keys: 3,
        start: Dur::ms(100),
        stop: Dur::secs(4),
        ..UpdatesConfig::default()
    };
    run.checks = ALL.to_vec();
    run.duration = Duration::from_secs(10);
    run.latency = sim::Latency::uniform(Duration::from_millis(1), Duration::from_millis(10));
    run.loss = 0.01;
    run.faults = vec![
        (Time::from_secs(1), Fault::Partition(vec![half(100)])),
        (
            Time::from_millis(1500),
            Fault::Crash(Target::Node(NodeId(7))),
        ),
        (
            Time::from_millis(2000),
            Fault::Crash(Target::Node(NodeId(70))),
        ),
        (Time::from_millis(2500), Fault::Restart(Target::Crashed)),
        (Time::from_secs(3), Fault::Heal),
    ];
    run
}

fn anti_entropy(bug: Option<Bug>) -> GossipConfig {
    GossipConfig {
        period: Dur::ms(50),
        bug,
        ..GossipConfig::default()
    }
}

fn violated(v: &Verdict) -> Option<&str> {
    match v {
        Verdict::Violated(v) => Some(&v.invariant),
        _ => None,
    }
}

#[test]
fn correct_anti_entropy_holds_every_check_under_partition_and_churn() {
    for seed in 0..5 {
        let r = stormy(seed, anti_entropy(None)).run();
        assert_eq!(r.verdict, Verdict::Completed, "seed {seed}");
        assert!(r.metrics.counter("gossip.updates") > 100, "seed {seed}");
        assert_eq!(r.metrics.counter("gossip.invented"), 0);
        // Every update, even those written during the partition, reached everyone (a node
        // holding a newer version of the key counts as informed).
        assert_eq!(
            r.metrics.counter("gossip.updates_fully_spread"),
            r.metrics.counter("gossip.updates"),
            "seed {seed}"
        );
        assert!(
            r.metrics
                .values("gossip.update.residue")
                .iter()
                .all(|&x| x == 0.0)
        );
    }
}

#[test]
fn a_lost_store_passes_versions_monotonic_but_not_updates_survive_restart() {
    // The same restart, checked without the durability invariant: VersionsMonotonic exempts
    // restarts, so the lost store goes unnoticed.
    let mut old = stormy(0, anti_entropy(Some(Bug::ForgetOnRestart)));
    old.checks = vec![
        Check::of(Invariant::NO_INVENTED_VALUES),
        Check::of(Invariant::VERSIONS_MONOTONIC),
    ];
    assert_eq!(old.run().verdict, Verdict::Completed);
    let r = stormy(0, anti_entropy(Some(Bug::ForgetOnRestart))).run();
    assert_eq!(
        violated(&r.verdict),
        Some(Invariant::UPDATES_SURVIVE_RESTART.name()),
        "{:?}",
        r.verdict
    );
}

#[test]
fn amnesia_restarts_are_refilled_by_anti_entropy() {
    let cfg = GossipConfig {
        persist: false,
        ..anti_entropy(None)
    };
    for seed in 0..3 {
        let r = stormy(seed, cfg.clone()).run();
        assert_eq!(r.verdict, Verdict::Completed, "seed {seed}");
    }
}

#[test]
fn each_known_bug_is_caught_by_its_invariant() {
    for (bug, inv) in [
        (Bug::OverwriteOlder, Invariant::VERSIONS_MONOTONIC),
        (Bug::VersionOnly, Invariant::NO_INVENTED_VALUES),
        (Bug::DigestKeysOnly, Invariant::CONVERGED_WITHIN),
        (Bug::ForgetOnRestart, Invariant::UPDATES_SURVIVE_RESTART),
    ] {
        for seed in 0..3 {
            let r = stormy(seed, anti_entropy(Some(bug))).run();
            assert_eq!(
                violated(&r.verdict),
                Some(inv.name()),
                "{bug:?} seed {seed}: {:?}",
                r.verdict
            );
        }
    }
}

#[test]
fn a_partition_leaves_a_rumor_residue_that_anti_entropy_repairs() {
    // The update is written on one side of a partition that lasts until the rumor is dead.
    let faults = vec![
        (Time::ZERO, Fault::Partition(vec![half(1000)])),
        (Time::from_secs(5), Fault::Heal),
    ];
    let rumor = GossipConfig {
        style: Style::RumorMongering,
        direction: Direction::Push,
        interest: Interest::Feedback,
        stop: Stop::Counter,
        k: 3,
        ..GossipConfig::default()
    };
    let mut run = Run::spread(1000, 1, rumor);
    run.faults = faults.clone();
    run.checks = vec![
        Check::of(Invariant::NO_INVENTED_VALUES),
        Check::of(Invariant::VERSIONS_MONOTONIC),
    ];
    let r = run.run();
    assert_eq!(r.verdict, Verdict::Completed);
    let residue = one(&r, "gossip.residue");
    assert!(
        residue >= 0.5,
        "the other half never hears the rumor: {residue}"
    );

    let mut run = Run::spread(1000, 1, anti_entropy(None));
    run.faults = faults;
    run.checks = ALL.to_vec();
    let r = run.run();
    assert_eq!(r.verdict, Verdict::Completed);
    assert_eq!(one(&r, "gossip.residue"), 0.0);
    assert!(
        r.end_time > Time::from_secs(5),
        "spread completes only after the heal"
    );
}

#[test]
fn partial_views_and_unsynchronized_rounds_still_spread() {
    for (view, rounds) in [
        (PeerView::KOut(4), Rounds::Synchronous),
        (PeerView::Ring(2), Rounds::Synchronous),
        (
            PeerView::Full,
            Rounds::Unsynchronized {
                jitter: Dur::ms(20),
            },
        ),
    ] {
        let cfg = GossipConfig {
            view,
            rounds,
            ..GossipConfig::default()
        };
        let r = Run::spread(500, 3, cfg).run();
        assert_eq!(r.verdict, Verdict::Completed, "{view:?}");
        let rounds_all = one(&r, "gossip.update.rounds_to_100");
        eprintln!("{view:?} {rounds:?}: {rounds_all} rounds");
        if let PeerView::Ring(2) = view {
            // Push-pull on a ring of radius 2 advances at most 2 hops per side per round.
            assert!(rounds_all >= 249.0 / 4.0, "{rounds_all}");
        } else {
            assert!(rounds_all <= 20.0, "{view:?}: {rounds_all}");
        }
    }
}

#[test]
fn same_seed_same_trace_hash() {
    let a = stormy(11, anti_entropy(None)).run();
    let b = stormy(11, anti_entropy(None)).run();
    let c = stormy(12, anti_entropy(None)).run();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.metrics, b.metrics);
    assert_ne!(a.trace_hash, c.trace_hash);
}

#[test]
fn check_rejects_bad_configs() {
    use protocols::checks::Checks;
    use protocols::family::{Family, Setup};
    use protocols::gossip::GossipFamily;
    let check = |cfg: &GossipConfig, wl: &UpdatesConfig| {
        GossipFamily.check(&setup_of(10), cfg, wl, &Checks(ALL.to_vec()))
    };
    fn setup_of(nodes: usize) -> Setup {
        Setup {
            nodes,
            duration: Duration::from_secs(1),
            quiet_from: Time::ZERO,
            seed: 1,
            zones: vec![],
        }
    }
    let (cfg, wl) = (GossipConfig::default(), UpdatesConfig::default());
    assert!(check(&cfg, &wl).is_ok());
    let ring = GossipConfig {
        view: PeerView::Ring(5),
        ..GossipConfig::default()
    };
    assert!(check(&ring, &wl).is_err());
    let far = UpdatesConfig {
        node: Some(10),
        ..UpdatesConfig::default()
    };
    assert!(check(&cfg, &far).is_err());
}

#[test]
fn configs_default_every_field_and_reject_unknown_ones() {
    let cfg: GossipConfig =
        serde_json::from_str(r#"{"style":"RumorMongering","k":3,"period":"50ms"}"#).unwrap();
    assert_eq!(
        (cfg.style, cfg.k, cfg.period),
        (Style::RumorMongering, 3, Dur::ms(50))
    );
    assert_eq!(cfg.fanout, 1);
    assert!(serde_json::from_str::<GossipConfig>(r#"{"fan_out":2}"#).is_err());
    let wl: UpdatesConfig = serde_json::from_str(r#"{"rate":10.0,"stop":"2s"}"#).unwrap();
    assert_eq!(wl.last_update(), Duration::from_secs(2));
    assert!(serde_json::from_str::<UpdatesConfig>(r#"{"rte":1}"#).is_err());
}

#[test]
fn anti_entropy_sends_digests_not_the_whole_state_every_round() {
    // 100 nodes, one update, 10s of 100ms rounds: ~100 rounds of digests per node, but each
    // node should receive the entry itself only a few times.
    let mut run = Run::spread(100, 5, anti_entropy(None));
    run.workload.stop_when_spread = false;
    run.duration = Duration::from_secs(10);
    let r = run.run();
    assert_eq!(r.verdict, Verdict::Completed);
    let (msgs, entries) = (
        r.metrics.counter("gossip.messages"),
        r.metrics.counter("gossip.entries_received"),
    );
    eprintln!(
        "messages {msgs}, entries received {entries}, redundant ratio {}",
        one(&r, "gossip.redundant_ratio")
    );
    assert!(msgs > 100 * 150, "every node gossips every round: {msgs}");
    assert!(
        entries < 100 * 3,
        "entries travel only when missing: {entries}"
    );
    assert!(one(&r, "gossip.redundant_ratio") < 0.5);
}
