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
        &["expected comma"],
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

#[test]
fn misspellings_get_a_suggestion_and_the_line_with_a_caret() {
    let e = err(&scenario_with("sead: 3,"));
    assert!(e.message.contains("did you mean `seed`"), "{e}");
    let shown = e.to_string();
    assert!(shown.contains("\n        sead: 3,\n        ^"), "{shown}");
    let e = err(&scenario_with("about: \"\",").replace("Raft(())", "Raft((prevote: true))"));
    assert!(e.message.contains("did you mean `pre_vote`"), "{e}");
    let e = err(&scenario_with("about: \"\",").replace("Raft(())", "Raft((reads: Leese))"));
    assert!(e.message.contains("did you mean `Lease`"), "{e}");
    let e = err(&scenario_with("about: \"\",").replace("Raft(())", "Rafts(())"));
    assert!(e.message.contains("did you mean `Raft`"), "{e}");
    let e = err(&scenario_with("checks: [ElectionSafty],"));
    assert!(e.message.contains("did you mean `ElectionSafety`"), "{e}");
    let e = err(&scenario_with("workload: Kvv(()),"));
    assert!(e.message.contains("did you mean `Kv`"), "{e}");
    // The gossip counter rule (issue 15): a bad value names the choices.
    let gossip = |cfg: &str| scenario_with("about: \"\",").replace("Raft(())", cfg);
    let e = err(&gossip("Gossip((counter: Demer))"));
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("did you mean `Demers`"), "{e}");
    let e = err(&gossip("Gossip((counter: Reset))"));
    for choice in ["Demers", "Cumulative"] {
        assert!(e.message.contains(choice), "{e}");
    }
}

#[test]
fn a_section_without_its_own_parentheses_gets_the_double_parentheses_hint() {
    let e = err(&scenario_with("about: \"\",").replace("Raft(())", "Raft(pre_vote: true)"));
    assert_eq!(e.line, 4);
    assert!(e.message.contains("write Raft((pre_vote: true))"), "{e}");
}

#[test]
fn messages_never_name_internal_types() {
    let cases = [
        scenario_with("network: (latncy: Constant(\"1ms\")),"),
        scenario_with("network: \"fast\","),
        scenario_with("faults: [(at: \"1s\", do: Crash(Leadr))],"),
        scenario_with("about: \"\",").replace("Raft(())", "Raft(pre_vote: true)"),
        scenario_with("clocks: [1],"),
        scenario_with("workload: Kv((clients: \"x\")),"),
    ];
    for text in cases {
        let e = err(&text);
        for internal in [
            "Spec",
            "RaftConfig",
            "KvWorkloadConfig",
            "NetworkSpec",
            "TargetSpec",
            "NodeRef",
            "::",
            "std ",
        ] {
            assert!(!e.message.contains(internal), "`{internal}` in: {e}");
        }
    }
}

/// Every count, rate, size and duration has a range; each is checked before a run, with a
/// message naming the field and the limit.
#[test]
fn values_out_of_range_are_refused_before_anything_runs() {
    let with = |from: &str, to: &str| scenario_with("about: \"\",").replace(from, to);
    let raft = |cfg: &str| with("Raft(())", &format!("Raft(({cfg}))"));
    let cases: Vec<(String, &str)> = vec![
        (raft("heartbeat: \"1ns\""), "heartbeat must be at least 1us"),
        (
            raft("election_timeout: (\"1us\", \"2us\"), heartbeat: \"1us\""),
            "heartbeat must be below",
        ),
        (
            with("nodes: 5", "nodes: 10000000"),
            "nodes must be from 1 to 1000",
        ),
        (
            with("Raft(())", "Gossip((fanout: 4294967295))"),
            "fanout must be from 1 to 1024",
        ),
        (
            with("Raft(())", "Gossip((period: \"1us\"))").replace("nodes: 5", "nodes: 10000"),
            "events per second of virtual time",
        ),
        (
            scenario_with("workload: Kv((rate: NaN)),"),
            "rate must be a number",
        ),
        (
            scenario_with("workload: Kv((rate: inf)),"),
            "rate must be a number",
        ),
        (
            scenario_with("workload: Kv((rate: 1e300)),"),
            "rate must be a number",
        ),
        (
            scenario_with("workload: Kv((rate: -1.0)),"),
            "rate must be a number",
        ),
        (
            scenario_with("workload: Kv((reads: 0.9, cas: 0.9)),"),
            "add up to more than 1",
        ),
        (
            scenario_with("workload: Kv((keys: 0)),"),
            "keys must be from 1",
        ),
        (
            scenario_with("workload: Kv((backoff: \"0s\")),"),
            "backoff must be at least",
        ),
        (
            scenario_with("faults: [(at: \"1s\", do: Crash(Range(4, 0)))],"),
            "Range(4, 0) counts down",
        ),
        (
            scenario_with("faults: [(at: \"1s\", do: Partition([[0, 1], [1, 2]]))],"),
            "node 1 is in two partition groups",
        ),
        (
            scenario_with(
                "faults: [(at: \"1s\", do: SetDrift(target: All, ppm: 9223372036854775807))],",
            ),
            "SetDrift ppm must be between",
        ),
        (
            scenario_with("clocks: (nodes: [(node: 1), (node: 1, drift_ppm: 5)]),"),
            "sets node 1 again",
        ),
        (
            with("Raft(())", "Gossip(())").replace(
                "nodes: 5,",
                "nodes: 5, workload: Updates((updates: [(at: \"11s\", node: 0)])),",
            ),
            "after the end of the run",
        ),
        (
            scenario_with("limits: (max_wall: \"0s\"),"),
            "limits.max_wall must be at least",
        ),
        (
            scenario_with("limits: (max_events: 0),"),
            "max_events must be at least 1",
        ),
        (
            scenario_with(
                "nemesis: (faults: [Crash], length: (\"1ns\", \"1ns\"), gap: (\"1ns\", \"1ns\")),",
            ),
            "could draw up to",
        ),
        (
            with("name: \"t\"", "name: \"x\\nSEED=1\""),
            "control characters",
        ),
        (
            with("duration: \"10s\"", "duration: \"100days\""),
            "duration must be above zero and at most",
        ),
    ];
    for (text, fragment) in cases {
        let e = err(&text);
        assert!(
            e.message.contains(fragment),
            "`{fragment}` not in: {e}\n{text}"
        );
        assert!(e.line >= 1, "located: {e}");
    }
}

#[test]
fn bad_storage_sections_and_storage_faults() {
    assert_err(
        &scenario_with("storage: (sync: Uniform(\"10ms\", \"1ms\")),"),
        3,
        &["storage.sync", "min <= max"],
    );
    assert_err(
        &scenario_with(
            "storage: (nodes: [(node: 0, sync: Constant(\"1ms\")), (node: 0, sync: Constant(\"2ms\"))]),",
        ),
        3,
        &["storage.nodes[1] sets node 0 again"],
    );
    assert_err(
        &scenario_with("storage: (nodes: [(node: 7, sync: Constant(\"1ms\"))]),"),
        3,
        &["node 7 does not exist"],
    );
    assert_err(
        &scenario_with("storage: (sink: Constant(\"1ms\")),"),
        3,
        &["unknown field `sink`", "did you mean `sync`"],
    );
    assert_err(
        &scenario_with("storage: (nodes: [(node: 1)]),"),
        3,
        &["missing field `sync`"],
    );
    assert_err(
        &scenario_with(
            "faults: [(at: \"1s\", do: SlowDisk(target: 0, extra: Uniform(\"5ms\", \"1ms\"), duration: \"1s\"))],",
        ),
        3,
        &["SlowDisk.extra", "min <= max"],
    );
    assert_err(
        &scenario_with("faults: [(at: \"1s\", do: Corrupt(9))],"),
        3,
        &["node 9 does not exist"],
    );
    parse(
        "case.ron",
        &scenario_with(
            "faults: [(at: \"1s\", do: TornWrite(Leader)), (at: \"2s\", do: FsyncFail(Nodes([1, 2]))), (at: \"3s\", do: ReadError(Random))],",
        ),
    )
    .expect("storage faults with role targets are valid");
}

/// The base scenario (5 nodes) with a topology of two zones on line 3 and `line4` after it.
fn zoned(line4: &str) -> String {
    scenario_with(&format!(
        "topology: (zones: [(name: \"dc1\", nodes: 2), (name: \"dc2\", nodes: 3)]),\n    {line4}"
    ))
}

#[test]
fn topology_sections_and_zone_targets() {
    parse(
        "case.ron",
        &zoned(
            "faults: [(at: \"1s\", do: Partition([[Zone(\"dc1\")], [Zone(\"dc2\")]])), (at: \"2s\", do: Isolate(Zone(\"dc2\"))), (at: \"3s\", do: Degrade(a: Zone(\"dc1\"), b: Zone(\"dc2\"), extra: Uniform(\"10ms\", \"20ms\"), loss: 0.1, duration: \"1s\")), (at: \"4s\", do: Crash(Zone(\"dc1\")))],",
        ),
    )
    .expect("a topology with zone targets is valid");
    // An unknown zone in a target: its line and column, and the closest name.
    let text = zoned("faults: [(at: \"1s\", do: Isolate(Zone(\"dc22\")))],");
    assert_err(
        &text,
        4,
        &[
            "zone `dc22` does not exist",
            "did you mean `dc2`",
            "dc1, dc2",
        ],
    );
    assert!(err(&text).col > 20, "{}", err(&text));
    assert_err(
        &zoned(
            "faults: [(at: \"1s\", do: Degrade(a: Zone(\"dc1\"), b: Zone(\"cd2\"), duration: \"1s\"))],",
        ),
        4,
        &["zone `cd2` does not exist"],
    );
    // A zone target with no topology at all.
    assert_err(
        &scenario_with("faults: [(at: \"1s\", do: Crash(Zone(\"dc1\")))],"),
        3,
        &["zone `dc1` does not exist", "no `topology` section"],
    );
    // An unknown zone in the matrix.
    assert_err(
        &scenario_with(
            "topology: (zones: [(name: \"dc1\", nodes: 5)],\n        links: [(from: \"dc1\", to: \"dc9\", latency: Constant(\"5ms\"))]),",
        ),
        4,
        &["zone `dc9` does not exist"],
    );
}

#[test]
fn topology_counts_names_and_links_are_checked() {
    assert_err(
        &scenario_with(
            "topology: (zones: [(name: \"dc1\", nodes: 2), (name: \"dc2\", nodes: 2)]),",
        ),
        3,
        &["zones hold 4 nodes", "`nodes: 5`"],
    );
    assert_err(
        &scenario_with(
            "topology: (zones: [(name: \"dc1\", nodes: 2), (name: \"dc1\", nodes: 3)]),",
        ),
        3,
        &["topology.zones[1] is named `dc1` again", "unique"],
    );
    assert_err(
        &scenario_with("topology: (zones: [(name: \"1a\", nodes: 5)]),"),
        3,
        &["topology.zones[0]", "a zone name is a letter"],
    );
    assert_err(
        &scenario_with("topology: (zones: []),"),
        3,
        &["at least one zone"],
    );
    assert_err(
        &scenario_with(
            "topology: (zones: [(name: \"a\", nodes: 5)], inside: Uniform(\"5ms\", \"1ms\")),",
        ),
        3,
        &["topology.inside", "min <= max"],
    );
    // Loss on a stream link is refused, as in `network`.
    assert_err(
        &scenario_with(
            "topology: (zones: [(name: \"a\", nodes: 5)], links: [(from: \"a\", to: \"a\", loss: 0.1)]),",
        ),
        3,
        &[
            "topology: the links from a to a",
            "stream links are reliable",
        ],
    );
    parse(
        "case.ron",
        &scenario_with(
            "network: (links: Datagram), topology: (zones: [(name: \"a\", nodes: 5)], links: [(from: \"a\", to: \"a\", loss: 0.1)]),",
        ),
    )
    .expect("loss on a datagram zone link is fine");
    // A zone and one of its nodes on two sides of a partition.
    assert_err(
        &zoned("faults: [(at: \"1s\", do: Partition([[Zone(\"dc1\")], [Node(0)]]))],"),
        4,
        &["node 0 is in two partition groups"],
    );
    assert_err(
        &zoned(
            "faults: [(at: \"1s\", do: Degrade(a: Zone(\"dc1\"), b: Zone(\"dc2\"), loss: 1.5, duration: \"1s\"))],",
        ),
        4,
        &["Degrade loss", "[0, 1]"],
    );
}

#[test]
fn bad_processing_sections_and_slow_faults() {
    assert_err(
        &scenario_with("processing: (time: Uniform(\"10ms\", \"1ms\")),"),
        3,
        &["processing.time", "min <= max"],
    );
    assert_err(
        &scenario_with(
            "processing: (nodes: [(node: 0, time: Constant(\"1ms\")), (node: 0, time: Constant(\"2ms\"))]),",
        ),
        3,
        &["processing.nodes[1] sets node 0 again (processing.nodes[0] already does)"],
    );
    assert_err(
        &scenario_with("processing: (nodes: [(node: 7, time: Constant(\"1ms\"))]),"),
        3,
        &["node 7 does not exist"],
    );
    assert_err(
        &scenario_with("processing: (tme: Constant(\"1ms\")),"),
        3,
        &["unknown field `tme`", "did you mean `time`"],
    );
    assert_err(
        &scenario_with("processing: (nodes: [(node: 1)]),"),
        3,
        &["missing field `time`"],
    );
    assert_err(
        &scenario_with(
            "processing: (time: Constant(\"1ms\")), faults: [(at: \"1s\", do: Slow(target: 0, factor: 0.5, duration: \"1s\"))],",
        ),
        3,
        &["Slow factor must be a number from 1 to 1000000", "got 0.5"],
    );
    assert_err(
        &scenario_with(
            "faults: [(at: \"1s\", do: Slow(target: 0, factor: 2.0, per_event: Uniform(\"5ms\", \"1ms\"), duration: \"1s\"))],",
        ),
        3,
        &["Slow.per_event", "min <= max"],
    );
    assert_err(
        &scenario_with(
            "faults: [(at: \"1s\", do: Slow(target: 9, factor: 2.0, duration: \"1s\"))],",
        ),
        3,
        &["node 9 does not exist"],
    );
    // Nothing to multiply: no processing section and no `per_event`. The error points at the
    // fault, on its own line here.
    let text = "Scenario(\n    name: \"t\",\n    protocol: Raft(()),\n    nodes: 5,\n    faults: [\n        (at: \"1s\", do: Crash(1)),\n        (at: \"2s\", do: Slow(target: Leader, factor: 50.0, duration: \"1s\")),\n    ],\n)\n";
    assert_err(
        text,
        7,
        &[
            "a Slow fault multiplies",
            "add a `processing` section",
            "per_event",
        ],
    );
    assert_eq!(err(text).col, 24);
    // Either fixes it.
    parse(
        "case.ron",
        &scenario_with(
            "faults: [(at: \"2s\", do: Slow(target: Leader, factor: 50, per_event: Constant(\"1ms\"), duration: \"1s\"))],",
        ),
    )
    .expect("a Slow fault with its own base cost");
    let s = parse(
        "case.ron",
        &scenario_with(
            "processing: (time: Exponential(mean: \"200us\"), nodes: [(node: 4, time: Constant(\"5ms\"))]), faults: [(at: \"2s\", do: Slow(target: Random, factor: 50.0, duration: \"1s\"))],",
        ),
    )
    .expect("a Slow fault on a scenario with processing times");
    // The section survives a round trip through the serializer, and a scenario without it
    // serializes as before (no `processing` key).
    let text = ron::to_string(&s).unwrap();
    assert!(text.contains("processing:"), "{text}");
    let plain = parse("case.ron", &scenario_with("about: \"x\",")).unwrap();
    assert!(!ron::to_string(&plain).unwrap().contains("processing"));
}

#[test]
fn swim_sections_are_checked() {
    let swim = |protocol: &str| {
        format!(
            "Scenario(\n    name: \"t\",\n    protocol: Swim(({protocol})),\n    nodes: 6,\n    duration: \"10s\",\n)\n"
        )
    };
    parse("case.ron", &swim("preset: Wan")).expect("valid");
    // Consul's layout needs zones to lay pools on.
    assert_err(&swim("layout: Consul(servers: 3)"), 3, &["topology"]);
    // The probe timeout must leave room for the indirect probes.
    assert_err(
        &swim("probe_interval: \"1s\", probe_timeout: \"1s\""),
        3,
        &["probe_timeout", "below probe_interval"],
    );
    assert_err(
        &swim("max_false_positive_rate: -1.0"),
        3,
        &["max_false_positive_rate"],
    );
    assert_err(&swim("presett: Lan"), 3, &["presett", "preset"]);
    assert_err(&swim("bug: NoIncarnation"), 3, &["NoIncarnationCheck"]);
    // SWIM's liveness checks take a deadline; an invariant of another family is refused.
    let text = swim("").replace(
        "duration: \"10s\",",
        "duration: \"10s\",\n    checks: [DeadWithin],",
    );
    assert!(err(&text).message.contains("DeadWithin"));
    let text = swim("").replace(
        "duration: \"10s\",",
        "duration: \"10s\",\n    checks: [ElectionSafety],",
    );
    assert!(err(&text).message.contains("ElectionSafety"));
}

#[test]
fn kafka_sections_are_checked() {
    let kafka = |protocol: &str, workload: &str| {
        format!(
            "Scenario(\n    name: \"t\",\n    protocol: Kafka(({protocol})),\n    nodes: 3,\n    duration: \"10s\",\n    workload: Queue(({workload})),\n)\n"
        )
    };
    parse("case.ron", &kafka("", "")).expect("valid");
    parse("case.ron", &kafka("", "acks: One, idempotent: false")).expect("valid");
    // min.insync.replicas cannot exceed the replicas.
    assert_err(
        &kafka("min_insync_replicas: 4", ""),
        3,
        &["min_insync_replicas", "replication_factor"],
    );
    // Dedicated controllers leave too few brokers for three replicas.
    assert_err(
        &kafka("controllers: 1, dedicated_controllers: true", ""),
        3,
        &["replication_factor", "2 brokers"],
    );
    assert_err(&kafka("controllers: 4", ""), 3, &["controllers"]);
    assert_err(
        &kafka("heartbeat: \"1s\"", ""),
        3,
        &["session_timeout", "heartbeat"],
    );
    assert_err(
        &kafka("leader_epoch: false", ""),
        3,
        &["leader_epoch", "leader_epochs"],
    );
    // Kafka's rule: idempotent producers need acks=all.
    assert_err(
        &kafka("", "acks: One, idempotent: true"),
        6,
        &["idempotent", "acks"],
    );
    assert_err(&kafka("", "acks: Two"), 6, &["Two"]);
    assert_err(
        &kafka("", "start: \"6s\", drain: \"5s\""),
        6,
        &["start", "drain"],
    );
    // A Kafka invariant on another family, and another family's on Kafka, are refused.
    let text = kafka("", "").replace(
        "duration: \"10s\",",
        "duration: \"10s\",\n    checks: [ElectionSafety],",
    );
    assert!(err(&text).message.contains("ElectionSafety"));
    let text = kafka("", "").replace(
        "duration: \"10s\",",
        "duration: \"10s\",\n    checks: [LeaderPerPartitionWithin],",
    );
    assert!(err(&text).message.contains("LeaderPerPartitionWithin"));
}
