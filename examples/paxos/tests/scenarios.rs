//! The scenario library: every file under `scenarios/` runs, matches its expectation (`Holds`,
//! or the violation a known-bug file shows), and replays to the same trace hash. Known-bug
//! files hold once the bug is switched off, so the violation is the bug's doing; and the
//! stories the files tell are held to their numbers.

use faultline::Registry;
use faultline::runner::{Outcome, RunOptions, run};
use faultline::scenario::{Scenario, load_with, parse_with};
use paxos::PaxosFamily;
use std::path::{Path, PathBuf};

fn registry() -> Registry {
    Registry::new().with(PaxosFamily)
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `.ron` file of the library, sorted.
fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("scenarios/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    load_with(&registry(), path).unwrap_or_else(|e| panic!("{e}"))
}

fn outcome(file: &str) -> Outcome {
    let path = dir().join(file);
    run(
        &path.display().to_string(),
        &load(&path),
        &RunOptions::default(),
    )
}

fn metric(o: &Outcome, name: &str) -> f64 {
    o.metrics.get(name).and_then(|v| v.as_f64()).unwrap_or(0.0)
}

#[test]
fn the_library_has_its_scenarios() {
    let names: Vec<String> = files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "steady_state",
        "leader_crash",
        "leader_isolated",
        "minority_partition",
        "majority_partition",
        "nemesis",
        "bug_accept_ignores_promise",
        "bug_ignore_promised_values",
        "bug_forget_promise",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "scenarios/{want}.ron is missing"
        );
    }
}

#[test]
fn every_scenario_matches_its_expectation_and_replays() {
    let mut failures = vec![];
    for path in files() {
        let name = path.display().to_string();
        let s = load(&path);
        let first = run(&name, &s, &RunOptions::default());
        let again = run(&name, &s, &RunOptions::default());
        if !first.matched {
            failures.push(format!(
                "{name}: {} (expected {}): {:?} {:?}",
                first.verdict, first.expected, first.violations, first.detail
            ));
        }
        if first.trace_hash != again.trace_hash {
            failures.push(format!(
                "{name}: replays to trace {} then {}",
                first.trace_hash, again.trace_hash
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn known_bug_files_hold_without_the_bug() {
    let mut checked = 0;
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let Some(bug) = paxos::PaxosBug::ALL
            .iter()
            .map(|b| format!("bug: {b:?}"))
            .find(|b| text.contains(b.as_str()))
        else {
            continue;
        };
        let fixed = text
            .replace(&bug, "")
            .replace("expect: Violates(Agreement)", "expect: Holds");
        let name = path.display().to_string();
        let s = parse_with(&registry(), &name, &fixed).unwrap_or_else(|e| panic!("{e}"));
        let o = run(&name, &s, &RunOptions::default());
        assert!(
            o.matched,
            "{name} without {bug}: {} {:?}",
            o.verdict, o.violations
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        paxos::PaxosBug::ALL.len(),
        "one file per known bug"
    );
}

#[test]
fn the_stories_hold_to_their_numbers() {
    let steady = outcome("steady_state.ron");
    assert_eq!(
        metric(&steady, "paxos.leaders"),
        1.0,
        "one phase 1 for the whole run"
    );
    let crash = outcome("leader_crash.ron");
    assert_eq!(metric(&crash, "paxos.leaders"), 2.0);
    assert_eq!(metric(&crash, "paxos.recoveries"), 1.0);
    let isolated = outcome("leader_isolated.ron");
    assert!(
        metric(&isolated, "paxos.step_downs") >= 1.0,
        "the old leader steps down"
    );
    let batching = outcome("batching.ron");
    let batch = batching.metrics["paxos.batch_size"]["mean"]
        .as_f64()
        .unwrap();
    assert!(batch >= 2.0, "a narrow window batches requests: {batch}");
    let majority = outcome("majority_partition.ron");
    assert!(
        metric(&majority, "paxos.max_round") >= 5.0,
        "the cut-off followers inflate their ballots"
    );
    assert_eq!(
        metric(&majority, "paxos.leaders"),
        2.0,
        "and depose the healthy leader at the heal"
    );
}
