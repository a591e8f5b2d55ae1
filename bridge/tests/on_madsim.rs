//! The bridge on madsim's simulator (`RUSTFLAGS="--cfg madsim"` builds only): scenario files
//! run the engine's Raft code, judged by the engine's monitors and linearizability checker;
//! runs replay exactly; known bugs are caught; what madsim cannot express is refused.
#![cfg(madsim)]

use faultline::scenario::{Scenario, load, parse};
use faultline_bridge::madsim_run::{Report, run_scenario};
use std::path::Path;

fn scenario(path: &str) -> Scenario {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

/// A stock scenario file rewritten onto madsim's terms (datagram links, ideal clocks, no
/// latency under madsim's 2 ms floor).
fn on_madsim_terms(path: &str) -> Scenario {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replace(
        "network: (latency: Uniform(\"1ms\", \"10ms\")),",
        "network: (latency: Uniform(\"2ms\", \"10ms\"), links: Datagram),\n    clocks: (max_drift_ppm: 0),",
    );
    assert!(
        text.contains("links: Datagram"),
        "{path} changed its network"
    );
    parse(path, &text).unwrap()
}

fn run(s: &Scenario, seed: u64) -> Report {
    run_scenario(s, seed).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn raft_kv_through_crashes_and_partitions_holds_and_is_linearizable() {
    let s = scenario("scenarios/madsim/raft_kv_faults.ron");
    let r = run(&s, s.seed);
    assert!(r.violation.is_none(), "{}", r.describe());
    assert!(
        r.linearizable.as_ref().is_some_and(|l| l.is_linearizable()),
        "{}",
        r.describe()
    );
    assert!(
        r.operations.summary().ok > 300,
        "the clients got work done: {}",
        r.describe()
    );
    // The crash and restart happened to the nodes the monitors watch.
    assert_eq!(r.metrics.counter("raft.recoveries"), 1, "{}", r.describe());
    assert!(r.metrics.counter("raft.leaders") >= 2, "{}", r.describe());
    assert!(r.delivered > 1000);
}

#[test]
fn the_same_seed_replays_exactly_and_another_does_not() {
    let s = scenario("scenarios/madsim/raft_kv_faults.ron");
    let a = run(&s, 3);
    let b = run(&s, 3);
    let c = run(&s, 4);
    assert_eq!(a.digest, b.digest);
    assert_eq!((a.events, a.delivered), (b.events, b.delivered));
    assert_eq!(a.operations.summary(), b.operations.summary());
    assert_ne!(a.digest, c.digest);
}

#[test]
fn the_engines_monitors_catch_a_known_raft_bug_on_madsim() {
    let s = scenario("scenarios/madsim/raft_bug_vote_without_log_check.ron");
    let r = run(&s, s.seed);
    let v = r.violation.as_ref().expect("the bug shows");
    assert_eq!(v.invariant, "LeaderCompleteness", "{v}");
    assert!(r.matches(s.expect()));
    // The correct protocol under the same faults holds.
    let mut fixed = s.clone();
    fixed.protocol = parse(
        "fixed",
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/madsim/raft_kv_faults.ron"),
        )
        .unwrap(),
    )
    .unwrap()
    .protocol;
    for seed in 0..4 {
        let r = run(&fixed, seed);
        assert!(r.violation.is_none(), "seed {seed}: {}", r.describe());
    }
}

#[test]
fn the_linearizability_checker_catches_stale_local_reads_on_madsim() {
    let s = on_madsim_terms("scenarios/raft/bug_local_reads.ron");
    // madsim draws its own schedule: search seeds as a campaign would (seeds 52 and 57 of
    // the first 60 show it).
    let found = (0..100).find_map(|seed| {
        let r = run(&s, seed);
        r.violation
            .filter(|v| v.invariant == "Linearizable")
            .map(|v| (seed, v))
    });
    let (seed, v) = found.expect("a stale read within 100 seeds");
    assert!(v.message.contains("no linearization"), "seed {seed}: {v}");
}

#[test]
fn what_madsim_cannot_express_is_refused_with_every_reason() {
    let stock = scenario("scenarios/raft/leader_crash.ron");
    let why = run_scenario(&stock, 0).unwrap_err().to_string();
    assert!(why.contains("links: Datagram"), "{why}");
    assert!(why.contains("max_drift_ppm: 0"), "{why}");
    let text = r#"Scenario(
        name: "spiky", protocol: Raft(()), nodes: 3,
        network: (latency: Exponential(mean: "2ms"), links: Datagram, duplicate: 0.1),
        clocks: (max_drift_ppm: 0),
        faults: [(at: "1s", do: DelaySpike(extra: Constant("50ms"), duration: "1s")),
                 (at: "2s", do: ClockJump(target: Node(0), by: "1s"))],
    )"#;
    let why = run_scenario(&parse("spiky.ron", text).unwrap(), 0)
        .unwrap_err()
        .to_string();
    for needle in ["Exponential", "duplicate", "delay spikes", "ClockJump"] {
        assert!(why.contains(needle), "{needle} missing from: {why}");
    }
    let gossip = parse(
        "g.ron",
        r#"Scenario(name: "g", protocol: Gossip(()), clocks: (max_drift_ppm: 0),
            network: (latency: Uniform("2ms", "5ms"), links: Datagram))"#,
    )
    .unwrap();
    let why = run_scenario(&gossip, 0).unwrap_err().to_string();
    assert!(why.contains("update injection"), "{why}");
    let fast = parse(
        "f.ron",
        r#"Scenario(name: "f", protocol: Raft(()), clocks: (max_drift_ppm: 0),
            network: (latency: Uniform("1ms", "5ms"), links: Datagram))"#,
    )
    .unwrap();
    let why = run_scenario(&fast, 0).unwrap_err().to_string();
    assert!(why.contains("at least 2 ms"), "{why}");
    let zoned = parse(
        "z.ron",
        r#"Scenario(name: "z", protocol: Raft(()), nodes: 4, clocks: (max_drift_ppm: 0),
            network: (latency: Uniform("2ms", "5ms"), links: Datagram),
            topology: (zones: [(name: "a", nodes: 2), (name: "b", nodes: 2)]),
            faults: [(at: "1s", do: Isolate(Zone("a"))),
                     (at: "2s", do: Degrade(a: Zone("a"), b: Zone("b"), loss: 0.5, duration: "1s"))])"#,
    )
    .unwrap();
    let why = run_scenario(&zoned, 0).unwrap_err().to_string();
    for needle in ["topology", "no zones to aim at", "Degrade"] {
        assert!(why.contains(needle), "{needle} missing from: {why}");
    }
    let slow = parse(
        "s.ron",
        r#"Scenario(name: "s", protocol: Raft(()), clocks: (max_drift_ppm: 0),
            network: (latency: Uniform("2ms", "5ms"), links: Datagram),
            processing: (time: Exponential(mean: "200us")),
            faults: [(at: "1s", do: Slow(target: Leader, factor: 50.0, duration: "1s"))])"#,
    )
    .unwrap();
    let why = run_scenario(&slow, 0).unwrap_err().to_string();
    for needle in [
        "processing: the bridge",
        "no processing-time model to slow down",
    ] {
        assert!(why.contains(needle), "{needle} missing from: {why}");
    }
}

#[test]
fn election_times_after_200_leader_crashes_agree_with_the_engine() {
    use faultline_bridge::elections::{compare, ks_test, on_engine, on_madsim, scenario};
    let cmp = compare(200);
    assert!(cmp.engine.len() >= 200 && cmp.madsim.len() >= 200, "{cmp}");
    assert!(cmp.p_value > 0.05, "{cmp}");
    // The test has the power to tell a model 10 ms slower per message from this one.
    let s = scenario(200);
    let mut slower = s.clone();
    slower.network.latency = sim::Latency::Uniform(12_000_000, 16_000_000);
    let (d, p) = ks_test(&on_engine(&slower), &on_madsim(&s));
    assert!(p < 0.01, "D {d} p {p}");
}
