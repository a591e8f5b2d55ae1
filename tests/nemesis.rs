//! The nemesis: drawn from the seed, reproducible, inside its window, every fault recovered.

use faultline::scenario::parse;
use faultline::scenario::spec::FaultSpec;

fn scenario(nemesis: &str) -> faultline::scenario::Scenario {
    let text = format!(
        "Scenario(name: \"n\", protocol: Raft(()), nodes: 5, duration: \"30s\", nemesis: {nemesis})"
    );
    parse("n.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn same_seed_same_faults_different_seed_different_faults() {
    let s =
        scenario("(faults: [Crash, Isolate, Partition, Pause, Bridge, Drift, ClockJump, OneWay])");
    let a = s.fault_list(1);
    assert_eq!(a, s.fault_list(1));
    assert_ne!(a, s.fault_list(2));
    assert!(
        a.len() >= 6,
        "a 20 s window with 0.5-3 s faults and gaps holds several faults: {}",
        a.len()
    );
}

#[test]
fn faults_stay_in_the_window_and_are_recovered() {
    let s = scenario("(faults: [Crash, Pause, Isolate, Partition], start: \"2s\", stop: \"12s\")");
    for seed in 0..50 {
        let faults = s.fault_list(seed);
        let mut crashed = 0i32;
        let mut paused = 0i32;
        let mut cut = false;
        for f in &faults {
            let t = f.at.0.0.as_secs_f64();
            assert!(
                (2.0..=12.0).contains(&t),
                "seed {seed}: fault at {t}s outside [2s, 12s]"
            );
            match &f.action {
                FaultSpec::Crash(_) => crashed += 1,
                FaultSpec::Restart(_) => crashed -= 1,
                FaultSpec::Pause(_) => paused += 1,
                FaultSpec::Resume(_) => paused -= 1,
                FaultSpec::Isolate(_) | FaultSpec::Partition(_) => cut = true,
                FaultSpec::Heal => cut = false,
                other => panic!("unexpected fault {other:?}"),
            }
            assert!(
                (0..=1).contains(&crashed) && (0..=1).contains(&paused),
                "seed {seed}: faults overlap"
            );
        }
        assert_eq!(
            (crashed, paused, cut),
            (0, 0, false),
            "seed {seed}: a fault was not recovered"
        );
    }
}

#[test]
fn nemesis_faults_merge_with_timed_faults_in_time_order() {
    let text = "Scenario(name: \"n\", protocol: Raft(()), nodes: 5, duration: \"30s\",
        faults: [(at: \"25s\", do: Crash(Node(0))), (at: \"0s\", do: Pause(Node(1)))],
        nemesis: (faults: [Isolate]))";
    let s = parse("n.ron", text).unwrap();
    let all = s.fault_list(3);
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(
        all.first().unwrap().action,
        FaultSpec::Pause(faultline::scenario::spec::TargetSpec::Node(
            faultline::scenario::validate::NodeRef(1)
        ))
    );
    assert!(matches!(all.last().unwrap().action, FaultSpec::Crash(_)));
}

#[test]
fn a_bad_nemesis_is_rejected_with_its_position() {
    let text =
        "Scenario(name: \"n\", protocol: Raft(()), duration: \"10s\",\n  nemesis: (faults: []))";
    let e = parse("n.ron", text).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("nemesis.faults is empty"), "{e}");
    let text =
        "Scenario(name: \"n\", protocol: Raft(()), duration: \"10s\",\n  nemesis: (stop: \"20s\"))";
    assert!(
        parse("n.ron", text)
            .unwrap_err()
            .message
            .contains("after the end")
    );
}

#[test]
fn overlapping_faults_overlap_and_all_recover_at_stop() {
    let s = scenario(
        "(faults: [Crash, Pause, Isolate], overlap: true, gap: (\"50ms\", \"200ms\"), stop: \"15s\")",
    );
    let mut most_down = 0;
    let mut recovered_at_stop = 0;
    for seed in 0..20 {
        let faults = s.fault_list(seed);
        let (mut crashed, mut paused) = (
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::new(),
        );
        for f in &faults {
            assert!(
                f.at.0.0.as_secs_f64() <= 15.0,
                "seed {seed}: a fault after stop"
            );
            match &f.action {
                FaultSpec::Crash(t) => {
                    crashed.insert(format!("{t:?}"));
                }
                FaultSpec::Restart(t) => {
                    crashed.remove(&format!("{t:?}"));
                }
                FaultSpec::Pause(t) => {
                    paused.insert(format!("{t:?}"));
                }
                FaultSpec::Resume(t) => {
                    paused.remove(&format!("{t:?}"));
                }
                _ => {}
            }
            most_down = most_down.max(crashed.len() + paused.len());
        }
        assert!(
            crashed.is_empty() && paused.is_empty(),
            "seed {seed}: not every fault recovered"
        );
        if faults.last().map(|f| f.at.0.0.as_secs()) == Some(15) {
            recovered_at_stop += 1;
        }
    }
    assert!(
        most_down >= 2,
        "overlap mode must sometimes have two nodes down at once"
    );
    assert!(
        recovered_at_stop > 0,
        "what is still pending recovers at stop"
    );
}

#[test]
fn slow_episodes_slow_a_node_and_replay() {
    let s = scenario("(faults: [Slow], start: \"2s\", stop: \"12s\")");
    let faults = s.fault_list(4);
    assert!(faults.len() >= 3, "{faults:?}");
    for f in &faults {
        let FaultSpec::Slow {
            factor,
            per_event,
            duration,
            ..
        } = &f.action
        else {
            panic!("unexpected fault {:?}", f.action);
        };
        assert!((5.0..=50.0).contains(factor), "{factor}");
        // No processing section here, so the drawn fault brings its own base cost.
        assert!(per_event.is_some());
        assert!(f.at.0.0 + duration.0 <= std::time::Duration::from_secs(12));
    }
    // Written back as a file (as a fuzzing failure is), it parses and replays the same run.
    let mut pinned = s.clone();
    pinned.faults = faults;
    pinned.nemesis = None;
    let text = ron::to_string(&pinned).unwrap();
    let again = parse("n.ron", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let opts = faultline::runner::RunOptions {
        seed: Some(4),
        ..Default::default()
    };
    let a = faultline::runner::run("a", &s, &opts);
    let b = faultline::runner::run("b", &again, &opts);
    assert!(a.matched, "{} {:?}", a.verdict, a.violations);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert!(a.metrics["node.queued"].as_f64().unwrap() > 0.0);
}
