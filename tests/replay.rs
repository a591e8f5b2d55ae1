//! Replay: every scenario in the library, run twice with its seed, gives the same trace hash
//! and the same verdict; a different seed gives a different hash.

use faultline::cli::expand;
use faultline::runner::{RunOptions, run};
use faultline::scenario::load;
use std::path::PathBuf;

#[test]
fn every_library_scenario_replays_to_the_same_hash() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
    // Benchmark scenarios (`bench_*.ron`: a 60 s run of 10^5 operations, timed by `faultline
    // bench --linearizability`) would take minutes here; the benchmark runs them.
    let files: Vec<PathBuf> = expand(&[root])
        .expect("the library has scenarios")
        .into_iter()
        .filter(|f| {
            !f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("bench_"))
        })
        .collect();
    assert!(!files.is_empty());
    let mut distinct_seed_differs = 0;
    for f in &files {
        let s = load(f).unwrap_or_else(|e| panic!("{e}"));
        let name = f.display().to_string();
        let a = run(&name, &s, &RunOptions::default());
        let b = run(&name, &s, &RunOptions::default());
        assert_eq!(
            a.trace_hash, b.trace_hash,
            "{name}: same seed, different trace hash"
        );
        assert_eq!(a.verdict, b.verdict, "{name}");
        assert_eq!(a.events, b.events, "{name}");
        assert_eq!(a.metrics, b.metrics, "{name}");
        let c = run(
            &name,
            &s,
            &RunOptions {
                seed: Some(s.seed.wrapping_add(1)),
                ..Default::default()
            },
        );
        if c.trace_hash != a.trace_hash {
            distinct_seed_differs += 1;
        }
    }
    // A scenario with no randomness at all could legitimately ignore the seed; the library as a
    // whole must not.
    assert!(
        distinct_seed_differs * 2 > files.len(),
        "most scenarios must depend on their seed"
    );
}

#[test]
fn recording_a_trace_does_not_change_the_hash() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
    let f = &expand(&[root]).unwrap()[0];
    let s = load(f).unwrap();
    let name = f.display().to_string();
    let plain = run(&name, &s, &RunOptions::default());
    let traced = run(
        &name,
        &s,
        &RunOptions {
            record_trace: true,
            ..Default::default()
        },
    );
    assert_eq!(plain.trace_hash, traced.trace_hash);
    assert!(!traced.trace.is_empty());
    assert!(plain.trace.is_empty());
}

/// A matching hash means a matching run: two runs whose events happen at the same times but
/// whose messages differ (the clients write other keys) hash differently.
#[test]
fn the_trace_hash_covers_message_contents() {
    let text = |keys: u32| {
        format!(
            "Scenario(name: \"keys\", protocol: Raft(()), nodes: 3, duration: \"3s\", \
             workload: Kv((clients: 2, rate: 20.0, keys: {keys})))"
        )
    };
    let run_with = |keys| {
        let s = faultline::scenario::parse("keys.ron", &text(keys)).unwrap();
        run("keys.ron", &s, &RunOptions::default())
    };
    let (one, hundred) = (run_with(1), run_with(100));
    assert_eq!(
        one.events, hundred.events,
        "the same events at the same times"
    );
    assert_ne!(
        one.trace_hash, hundred.trace_hash,
        "different message contents must give different hashes"
    );
    assert_eq!(one.trace_hash, run_with(1).trace_hash);
}
