//! Bad input: every kind of mistake in a scenario file gets a message naming the file, line
//! and column and what was expected — and `faultline check` exits with code 2, never a panic.

use faultline::scenario::{ScenarioError, parse};
use std::process::Command;

/// A valid scenario with one line replaced, so each case differs by exactly one mistake.
fn scenario_with(line3: &str) -> String {
    format!(
        "Scenario(\n    name: \"t\",\n    {line3}\n    protocol: Raft(()),\n    nodes: 5,\n    duration: \"10s\",\n)\n"
    )
}

fn err(text: &str) -> ScenarioError {
    match parse("case.ron", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the error is on `line` and its message contains every fragment.
fn assert_err(text: &str, line: usize, fragments: &[&str]) {
    let e = err(text);
    assert_eq!(e.file, "case.ron");
    assert_eq!(e.line, line, "wrong line for {e}");
    assert!(e.col >= 1, "no column in {e}");
    for f in fragments {
        assert!(e.message.contains(f), "message `{}` lacks `{f}`", e.message);
    }
    // The rendered form leads with file:line:col.
    assert!(
        e.to_string()
            .starts_with(&format!("case.ron:{}:{}: ", e.line, e.col))
    );
}

#[test]
fn the_base_scenario_is_valid() {
    parse("case.ron", &scenario_with("about: \"fine\",")).expect("valid");
}

#[test]
fn bad_syntax() {
    assert_err(
        &scenario_with("about: \"x\" seed: 3,"),
        3,
        &["Expected comma"],
    );
    assert_err(&scenario_with("about: \"x\",, seed: 3,"), 3, &[]);
    // An unterminated string swallows the rest of the file: the error is still positioned.
    let e = err(&scenario_with("about: \"unterminated,"));
    assert!(e.line >= 3, "{e}");
}

#[test]
fn unknown_field() {
    assert_err(&scenario_with("sead: 3,"), 3, &["sead"]);
    // Unknown fields are rejected at every depth, not just the top.
    assert_err(
        &scenario_with("network: (latncy: Constant(\"1ms\")),"),
        3,
        &["latncy"],
    );
}

#[test]
fn wrong_type() {
    assert_err(&scenario_with("seed: \"seven\","), 3, &[]);
    assert_err(&scenario_with("network: (loss: \"high\"),"), 3, &[]);
}

#[test]
fn zero_nodes() {
    let text = scenario_with("about: \"\",").replace("nodes: 5", "nodes: 0");
    assert_err(&text, 5, &["expected a node count from 1"]);
}

#[test]
fn probability_out_of_range() {
    assert_err(
        &scenario_with("network: (links: Datagram, loss: 1.5),"),
        3,
        &["probability in [0, 1]", "1.5"],
    );
    assert_err(
        &scenario_with("network: (links: Datagram, duplicate: -0.1),"),
        3,
        &["probability"],
    );
}

#[test]
fn garbled_and_negative_durations() {
    let garbled = scenario_with("about: \"\",").replace("\"10s\"", "\"10 parsecs\"");
    assert_err(&garbled, 6, &["expected a duration with units"]);
    let bare = scenario_with("about: \"\",").replace("\"10s\"", "\"10\"");
    assert_err(&bare, 6, &["expected a duration with units"]);
    assert_err(
        &scenario_with("faults: [(at: \"-1s\", do: Heal)],"),
        3,
        &["negative"],
    );
}

#[test]
fn node_id_that_does_not_exist() {
    assert_err(
        &scenario_with("faults: [(at: \"1s\", do: Crash(Node(9)))],"),
        3,
        &["node 9 does not exist", "ids 0 to 4"],
    );
    assert_err(
        &scenario_with("network: (overrides: [(from: [0], to: [7])]),"),
        3,
        &["node 7 does not exist"],
    );
}

#[test]
fn fault_after_the_end() {
    assert_err(
        &scenario_with("faults: [(at: \"11s\", do: Heal)],"),
        3,
        &["after the end of the run"],
    );
}

#[test]
fn invariant_the_protocol_does_not_offer() {
    assert_err(
        &scenario_with("checks: [ElectionSafety, NoSplitBrain],"),
        3,
        &["does not offer the invariant NoSplitBrain"],
    );
    assert_err(
        &scenario_with("expect: Violates(ConvergedWithin),"),
        3,
        &["does not offer"],
    );
    assert_err(
        &scenario_with("checks: [Linearizible],"),
        3,
        &["Linearizible"],
    );
}

#[test]
fn inconsistent_sections_are_located() {
    // Stream links cannot lose messages: the error points at the network section.
    assert_err(
        &scenario_with("network: (loss: 0.1),"),
        3,
        &["stream links are reliable"],
    );
    assert_err(
        &scenario_with("expect: Violates(LogMatching), checks: [ElectionSafety],"),
        3,
        &["does not check it"],
    );
    assert_err(
        &scenario_with("workload: Updates(()),"),
        3,
        &["takes a workload of Kv"],
    );
}

#[test]
fn cli_exits_2_with_the_position_on_bad_input() {
    let dir = std::env::temp_dir().join(format!("faultline-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    std::fs::write(
        &file,
        scenario_with("faults: [(at: \"1s\", do: Crash(Node(9)))],"),
    )
    .unwrap();
    for sub in ["check", "run"] {
        let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg(sub)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("bad.ron:3:"), "{sub}: {stderr}");
        assert!(stderr.contains("node 9 does not exist"), "{sub}: {stderr}");
        assert!(!stderr.contains("panicked"), "{sub}: {stderr}");
    }
    // A missing file and an unknown flag are usage errors too.
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "no/such/file.ron"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "Scenario(name: \"t\", protocol: Raft(()), about: {}1{})",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let e = err(&deep);
    assert_eq!(e.line, 1);
}
