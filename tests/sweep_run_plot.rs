//! `faultline run FILE --plot DIR` (`sweep::plot_run`): one run's charts, from its sample
//! series and, with a recorded trace, the leader over time and messages per second.

use faultline::runner::{self, RunOptions};
use faultline::scenario;
use faultline::sweep::plot_run;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_raft_run_with_a_trace_draws_the_leader_and_message_rate() {
    let dir = std::env::temp_dir().join(format!("faultline-run-plot-raft-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The leader crashes five times and comes back a second later: five elections.
    let s = scenario::parse(
        "crashes.ron",
        r#"Scenario(
            name: "raft leader crashes every 2s",
            protocol: Raft(()),
            nodes: 5,
            duration: "11s",
            network: (latency: Uniform("1ms", "5ms")),
            workload: Idle,
            faults: [
                (at: "1s", do: Crash(Leader)), (at: "2s", do: Restart(Crashed)),
                (at: "3s", do: Crash(Leader)), (at: "4s", do: Restart(Crashed)),
                (at: "5s", do: Crash(Leader)), (at: "6s", do: Restart(Crashed)),
                (at: "7s", do: Crash(Leader)), (at: "8s", do: Restart(Crashed)),
                (at: "9s", do: Crash(Leader)), (at: "10s", do: Restart(Crashed)),
            ],
        )"#,
    )
    .unwrap();
    let out = runner::run(
        "raft",
        &s,
        &RunOptions {
            record_trace: true,
            history: true,
            ..Default::default()
        },
    );
    let files = plot_run(&dir, &s, &out).unwrap();
    let names = names(&files);
    for want in [
        "messages_per_second.csv",
        "leader.png",
        "leader.svg",
        "messages_per_second.png",
        "messages_per_second.svg",
        "raft_election_time_ms.svg",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    // No clients, no operations chart.
    assert!(
        !names.iter().any(|n| n.starts_with("operations")),
        "{names:?}"
    );
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e != "csv"))
    {
        assert!(
            std::fs::metadata(f).unwrap().len() > 3000,
            "{} is nearly empty",
            f.display()
        );
    }
    let svg = std::fs::read_to_string(dir.join("leader.svg")).unwrap();
    assert!(
        svg.contains("time (s)") && svg.contains("node (id)"),
        "leader.svg lacks its axis labels"
    );
    // The leader crashes five times, so at least two different nodes believe they lead, and
    // the crashed periods are shaded.
    let leading = (0..5)
        .filter(|n| svg.contains(&format!("node {n} leads")))
        .count();
    assert!(leading >= 2, "{leading} nodes lead");
    assert!(svg.contains("crashed"), "crashes are shaded");
    // The CSV beside it holds each leadership period, read from the nodes' role annotations.
    let csv = std::fs::read_to_string(dir.join("leader.csv")).unwrap();
    assert!(
        csv.lines().filter(|l| l.contains("leads")).count() >= 2 * leading,
        "{csv}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_gossip_run_without_a_trace_draws_its_informed_fraction() {
    let dir =
        std::env::temp_dir().join(format!("faultline-run-plot-gossip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = scenario::load(&root().join("scenarios/sweeps/base/gossip_spread.ron")).unwrap();
    let out = runner::run("gossip", &s, &RunOptions::default());
    let files = plot_run(&dir, &s, &out).unwrap();
    let names = names(&files);
    assert!(
        names.contains(&"gossip_informed_fraction.png".to_string()),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("leader") || n.starts_with("messages")),
        "no trace, no trace charts: {names:?}"
    );
    let svg = std::fs::read_to_string(dir.join("gossip_informed_fraction.svg")).unwrap();
    assert!(svg.contains("informed fraction of nodes") && svg.contains("time (s)"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_with_clients_draws_every_operation_by_outcome() {
    let dir = std::env::temp_dir().join(format!("faultline-run-plot-ops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/raft/leader_crash.ron"
    )))
    .unwrap();
    let opts = RunOptions {
        history: true,
        ..Default::default()
    };
    let out = runner::run("raft", &s, &opts);
    let files = plot_run(&dir, &s, &out).unwrap();
    assert!(names(&files).contains(&"operations.png".to_string()));
    // One CSV row per completed operation: every ok one, and never more than were invoked.
    let csv = std::fs::read_to_string(dir.join("operations.csv")).unwrap();
    let rows = csv.lines().skip(1).count() as u64;
    let count = |k: &str| out.metrics.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let ok_rows = csv.lines().filter(|l| l.starts_with("ok: ")).count() as u64;
    // A cas that found another value is a fail there, as the exported history types it.
    use faultline::linearizability::{History, Outcome, Ret};
    let (_, jsonl) = out.exports.iter().find(|(f, _)| *f == "jsonl").unwrap();
    let history = History::from_jsonl(jsonl).unwrap();
    let mismatches = history
        .operations()
        .filter(|op| matches!(op.outcome(), Outcome::Ok(Ret::Cas(false))))
        .count() as u64;
    assert!(
        mismatches > 0,
        "the workload's cas operations sometimes miss"
    );
    assert_eq!(ok_rows + mismatches, count("kv.ok"), "{rows} rows");
    assert!(
        rows <= count("kv.ops") && count("kv.ok") > 500,
        "{rows} rows"
    );
    assert!(csv.starts_with("series,kind,invoked at (s),latency (ms),low,high\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kafka_run_draws_its_isr_sizes_as_steps() {
    let dir = std::env::temp_dir().join(format!("faultline-run-plot-kafka-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = scenario::load(&root().join("scenarios/kafka/jepsen_2013_safe.ron")).unwrap();
    let out = runner::run("kafka", &s, &RunOptions::default());
    let files = plot_run(&dir, &s, &out).unwrap();
    let names = names(&files);
    assert!(names.contains(&"isr.png".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("kafka_isr")),
        "the ISR series are drawn once, as steps: {names:?}"
    );
    // The CSV holds the steps: the ISR of partition 0 falls to 1 when n3 is cut off from its
    // followers (3 s) and is back to 3 after the heal (7 s), held to the end of the run.
    let csv = std::fs::read_to_string(dir.join("isr.csv")).unwrap();
    let steps: Vec<(f64, f64)> = csv
        .lines()
        .filter(|l| l.starts_with("partition 0,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    let at = |t: f64| steps.iter().rev().find(|p| p.0 <= t).map(|p| p.1);
    assert_eq!(at(2.0), Some(3.0), "{steps:?}");
    assert_eq!(at(5.0), Some(1.0), "{steps:?}");
    assert_eq!(at(11.0), Some(3.0), "{steps:?}");
    assert_eq!(steps.last().unwrap().0, 12.0, "held to the end");
    std::fs::remove_dir_all(&dir).unwrap();
}
