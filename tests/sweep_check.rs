//! Checking a sweep before anything runs (`sweep::check`, `sweep::load`): every error names
//! the sweep file with the line and column of the path, value, chart or field at fault and
//! says what is wrong in the scenario's terms; list indices in paths (`faults[0].at`) reach
//! the run; hostile sweep files are clean errors (exit code 2), never panics; a chart that does
//! not fit the family stops the sweep before any run.

use faultline::sweep::{self, CheckMode, SweepArgs};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Raft base with ten faults (the leader crashes every two seconds and comes back a second
/// later), for paths into lists.
const RAFT_BASE: &str = r#"Scenario(
    name: "raft leader crashes every 2s",
    protocol: Raft((election_timeout: ("150ms", "300ms"), heartbeat: "50ms")),
    nodes: 5,
    seed: 1,
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
    checks: [ElectionSafety, LeaderAppendOnly, LogMatching, MonotonicTerm],
    expect: Holds,
)
"#;

/// A scratch directory with a copy of the library's gossip base scenario (`gossip.ron`) and
/// [`RAFT_BASE`] (`raft.ron`), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "faultline-sweep-check-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            root().join("scenarios/sweeps/base/gossip_spread.ron"),
            dir.join("gossip.ron"),
        )
        .unwrap();
        std::fs::write(dir.join("raft.ron"), RAFT_BASE).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The error for a sweep file's text (every point checked), without the file name:
    /// `line:col: message`.
    fn error(&self, text: &str) -> String {
        let file = self.write("x.sweep", text);
        let err = sweep::check(&registry(), &file, CheckMode::Full)
            .expect_err("the sweep should be refused")
            .0;
        strip(&file, &err)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn registry() -> faultline::Registry {
    faultline::builtin::registry()
}

/// `message` without its leading `file:`, which must be there.
fn strip(file: &Path, message: &str) -> String {
    let prefix = format!("{}:", file.display());
    message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{message:?} does not start with {prefix:?}"))
        .to_string()
}

/// Fragments of Rust type and module names that must never reach a user.
const INTERNAL: [&str; 12] = [
    "Spec",
    "PlotKind",
    "`Param`",
    "RawValue",
    "ron::",
    "serde",
    "::",
    "in enum",
    "for struct",
    "`Node`",
    "Latency`",
    "Option<",
];

fn assert_user_terms(message: &str) {
    for bad in INTERNAL {
        assert!(
            !message.contains(bad),
            "{message:?} names an internal type ({bad})"
        );
    }
}

#[test]
fn a_path_that_does_not_exist_is_refused_at_the_step_that_is_wrong() {
    let s = Scratch::new("paths");
    let cases: [(&str, &str, &str); 6] = [
        (
            "gossip.ron",
            r#"(path: "protocol.fanot", values: [1, 2])"#,
            "6:26: parameter protocol.fanot: the scenario has no field `fanot` under `protocol` \
             (did you mean `fanout`?); the fields there are: style, direction, interest, stop, \
             counter, k, fanout, period, rounds, view, persist, bug",
        ),
        (
            "gossip.ron",
            r#"(path: "nodez", values: [10])"#,
            "6:17: parameter nodez: the scenario has no field `nodez` (did you mean `nodes`?); \
             its fields are: name, about, protocol, nodes, seed, duration, network, clocks, \
             workload, faults, nemesis, checks, expect, limits",
        ),
        (
            "raft.ron",
            r#"(path: "faults[10].at", values: ["1s"])"#,
            "6:23: parameter faults[10].at: faults[10]: the base scenario has 10 faults \
             (`faults[0]` to `faults[9]`)",
        ),
        (
            "raft.ron",
            r#"(path: "network.overrides[1].latency", values: ["1ms"])"#,
            "6:34: parameter network.overrides[1].latency: network.overrides[1]: the base \
             scenario has no overrides",
        ),
        (
            "raft.ron",
            r#"(path: "faults.at", values: ["1s"])"#,
            "6:24: parameter faults.at: `faults` is a list: pick an item by its index, as in \
             `faults[0].at`",
        ),
        (
            "raft.ron",
            r#"(path: "faults[x].at", values: ["1s"])"#,
            "6:23: parameter \"faults[x].at\": expected an index such as [0]: a number in \
             square brackets",
        ),
    ];
    for (base, param, want) in cases {
        let text = format!(
            "// A sweep with a bad path.\nSweep(\n    name: \"paths\",\n    base: \"{base}\",\n    params: [\n        {param},\n    ],\n)\n"
        );
        assert_eq!(s.error(&text), want, "{param}");
        // The quick check finds it too: paths are checked before any point is built.
        let file = s.write("x.sweep", &text);
        let quick = sweep::check(&registry(), &file, CheckMode::Quick).unwrap_err();
        assert_eq!(strip(&file, &quick.0), want);
    }
}

#[test]
fn a_value_that_does_not_fit_is_refused_at_the_value() {
    let s = Scratch::new("values");
    let sweep_of = |base: &str, params: &str| {
        format!(
            "Sweep(\n    name: \"values\",\n    base: \"{base}\",\n    params: [\n{params}\n    ],\n)\n"
        )
    };
    // Inside a string: the very character the scenario parser stopped at.
    assert!(
        s.error(&sweep_of(
            "gossip.ron",
            r#"        (path: "protocol.period", values: ["100ms", "fast"]),"#
        ))
        .starts_with(
            "5:54: value \"fast\" for protocol.period: expected a duration with units such as \
             \"150ms\""
        )
    );
    // The wrong type, at the value.
    assert_eq!(
        s.error(&sweep_of(
            "gossip.ron",
            r#"        (path: "protocol.fanout", values: [1, "two"]),"#
        )),
        "5:47: value \"two\" for protocol.fanout: expected a whole number"
    );
    // An enum's variants, with no Rust type name.
    let e = s.error(&sweep_of(
        "gossip.ron",
        r#"        (path: "network.latency", values: [Uniform("1ms", "2ms"), Foo])"#,
    ));
    assert!(
        e.starts_with(
            "5:67: value Foo for network.latency: unknown variant `Foo`; expected one of \
             `Constant`, `Uniform`,"
        ),
        "{e}"
    );
    assert_user_terms(&e);
    // A value written over several lines: the line and column inside it.
    let e = s.error(&sweep_of(
        "raft.ron",
        "        (path: \"protocol.election_timeout\", values: [\n            (\"150ms\", \"300ms\"),\n            (\"150ms\",\n             \"quick\"),\n        ]),",
    ));
    assert!(
        e.starts_with(
            "8:15: value (\"150ms\", \"quick\") for protocol.election_timeout: expected a \
             duration with units"
        ),
        "{e}"
    );
    // A check made after parsing (the family's own, whose wording is the family's): pinned on
    // the value that brings it.
    let e = s.error(&sweep_of(
        "gossip.ron",
        r#"        (path: "protocol.fanout", values: [1, 0]),"#,
    ));
    assert!(
        e.starts_with("5:47: value 0 for protocol.fanout: fanout must be"),
        "{e}"
    );
    // A node that exists in the base but not with the other parameter's value: the point is
    // named.
    let combination = sweep_of(
        "raft.ron",
        "        (path: \"nodes\", values: [5, 2]),\n        (path: \"faults[0].do\", values: [Crash(1), Crash(3)]),",
    );
    let e = s.error(&combination);
    assert!(
        e.starts_with(
            "6:57: value Crash(3) for faults[0].do (with nodes=2): node 3 does not exist"
        ),
        "{e}"
    );
    // The quick check builds each value once (with the others at their first values), so it
    // passes this one; the sweep itself checks every point and refuses it before any run.
    let file = s.write("combination.sweep", &combination);
    let quick = sweep::check(&registry(), &file, CheckMode::Quick).unwrap();
    assert_eq!((quick.points, quick.checked), (4, 3), "{quick}");
    let out = s.0.join("out");
    let err = sweep::sweep(
        &registry(),
        &SweepArgs {
            file: file.clone(),
            out: out.clone(),
            jobs: 1,
            seeds: None,
            quiet: true,
        },
    )
    .unwrap_err();
    assert!(err.0.contains("6:57: value Crash(3)"), "{err}");
    assert!(
        !out.exists(),
        "nothing is written for a sweep that is refused"
    );
}

#[test]
fn a_chart_that_does_not_fit_the_family_stops_the_sweep_before_any_run() {
    let s = Scratch::new("charts");
    let text = "Sweep(\n    name: \"mismatch\",\n    base: \"gossip.ron\",\n    params: [(path: \"nodes\", values: [10, 20])],\n    plots: [Convergence, ElectionCdf],\n)\n";
    assert_eq!(
        s.error(text),
        "5:26: chart ElectionCdf needs a Raft scenario, but the base scenario gossip.ron is Gossip"
    );
    let file = s.write("x.sweep", text);
    let out = s.0.join("out");
    let code = faultline::Cli::new().run_with([
        "faultline".as_ref(),
        "sweep".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(!out.exists(), "no run, no output directory");
    // A parameter that changes the family is caught at the point that does.
    s.write(
        "any.ron",
        "Scenario(name: \"any family\", protocol: Gossip(()), nodes: 3, duration: \"1s\")",
    );
    assert_eq!(
        s.error(
            "Sweep(\n    name: \"families\",\n    base: \"any.ron\",\n    params: [(path: \"protocol\", values: [Gossip(()), Raft(())])],\n    plots: [Convergence],\n)\n"
        ),
        "5:13: chart Convergence needs a Gossip scenario, but point 1 (protocol=Raft(())) is Raft"
    );
}

#[test]
fn hostile_sweep_files_are_clean_errors() {
    let s = Scratch::new("hostile");
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let many: Vec<String> = (0..12)
        .map(|_| {
            let v: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
            format!("(path: \"nodes\", values: [{}])", v.join(", "))
        })
        .collect();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "not RON",
            "Sweep(name: \"x\", base: \"gossip.ron\",, )".into(),
            "1:37: expected a name",
        ),
        ("empty file", String::new(), "1:1: expected `Sweep(`"),
        (
            "a scenario file",
            std::fs::read_to_string(s.0.join("gossip.ron")).unwrap(),
            "3:1: a sweep file holds `Sweep(...)`, not `Scenario(...)`: this is a scenario file",
        ),
        (
            "empty params entry",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [()])".into(),
            "1:48: a parameter needs `path`: (path: \"protocol.fanout\", values: [1, 2])",
        ),
        (
            "no values",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"nodes\", values: [])])"
                .into(),
            "1:63: parameter nodes has no values",
        ),
        (
            "empty path",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"\", values: [1])])".into(),
            "1:55: parameter \"\": the path is empty",
        ),
        (
            "a value that is not RON",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"nodes\", values: [1, @])])"
                .into(),
            "1:75: unexpected char '@'",
        ),
        (
            "10,000 nested brackets in a value",
            format!(
                "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"nodes\", values: [{deep}])])"
            ),
            "1:100: nested more than 64 levels deep",
        ),
        (
            "10,000 nested brackets in a field",
            format!("Sweep(name: {deep}, base: \"gossip.ron\")"),
            "1:13: expected string",
        ),
        (
            "huge seeds",
            "Sweep(name: \"x\", base: \"gossip.ron\", seeds: 18446744073709551615)".into(),
            "1:45: 1 point × 18446744073709551615 seeds = 18446744073709551615 runs; a sweep \
             may have at most 100000",
        ),
        (
            "seeds beyond u64",
            "Sweep(name: \"x\", base: \"gossip.ron\", seeds: 99999999999999999999999)".into(),
            "1:45: the number is out of range",
        ),
        (
            "a number where a chart's name goes",
            "Sweep(name: \"x\", base: \"gossip.ron\", plots: [5])".into(),
            "1:46: expected a name, found 5",
        ),
        (
            "seeds past the last seed",
            "Sweep(name: \"x\", base: \"gossip.ron\", seeds: 2, first_seed: 18446744073709551615)"
                .into(),
            "1:60: 2 seeds from 18446744073709551615 go past the largest seed",
        ),
        (
            "no seeds",
            "Sweep(name: \"x\", base: \"gossip.ron\", seeds: 0)".into(),
            "1:45: seeds must be at least 1",
        ),
        (
            "a grid whose size overflows",
            format!(
                "Sweep(name: \"x\", base: \"gossip.ron\", params: [{}])",
                many.join(", ")
            ),
            "1:38: the grid of 12 parameters × 1 seed = more runs than can be counted; a sweep \
             may have at most 100000",
        ),
        (
            "too many runs",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"nodes\", values: [1, 2, 3])], seeds: 40000)"
                .into(),
            "1:38: 3 points × 40000 seeds = 120000 runs; a sweep may have at most 100000",
        ),
        (
            "base is a directory",
            "Sweep(name: \"x\", base: \".\")".into(),
            "1:24: base \".\" is a directory",
        ),
        (
            "base is missing",
            "Sweep(name: \"x\", base: \"nope.ron\")".into(),
            "1:24: base \"nope.ron\": no such file (looked for",
        ),
        (
            "unknown field",
            "Sweep(name: \"x\", base: \"gossip.ron\", colour: 1)".into(),
            "1:38: unknown field `colour` in the sweep; its fields are: name, about, base, \
             params, seeds, first_seed, plots",
        ),
        (
            "unknown chart",
            "Sweep(name: \"x\", base: \"gossip.ron\", plots: [Convergense])".into(),
            "1:46: unknown chart `Convergense` (did you mean `Convergence`?); the charts are: \
             Convergence, RoundsVsN, ElectionCdf, Failover, Residue",
        ),
        (
            "overlapping parameters",
            "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"protocol.fanout\", values: [1]), (path: \"protocol\", values: [Gossip(())])])"
                .into(),
            "1:95: parameter protocol overlaps parameter protocol.fanout (line 1): a part of \
             the scenario can be swept by one parameter only",
        ),
    ];
    for (what, text, want) in &cases {
        let file = s.write("x.sweep", text);
        let err = sweep::check(&registry(), &file, CheckMode::Full)
            .expect_err(what)
            .0;
        let got = strip(&file, &err);
        assert!(got.starts_with(want), "{what}: {got}");
        assert_user_terms(&got);
        // The command line says so with exit code 2, and writes nothing.
        let out = s.0.join("out");
        let code = faultline::Cli::new().run_with([
            "faultline".as_ref(),
            "sweep".as_ref(),
            file.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--quiet".as_ref(),
        ]);
        assert_eq!(code, 2, "{what}");
        assert!(!out.exists(), "{what}");
    }
    // Files that cannot be read as sweeps at all.
    let not_text = s.0.join("binary.sweep");
    std::fs::write(&not_text, [0xff, 0xfe, 0x00, 0x28]).unwrap();
    for (file, want) in [
        (s.0.clone(), "cannot read the file: it is a directory"),
        (s.0.join("missing.sweep"), "cannot read the file"),
        (not_text, "the file is not UTF-8 text"),
    ] {
        let err = sweep::check(&registry(), &file, CheckMode::Quick).unwrap_err();
        assert!(
            err.0.starts_with(&format!("{}: {want}", file.display())),
            "{err}"
        );
    }
    // An invalid base scenario is reported in the base file, naming the sweep.
    s.write(
        "bad.ron",
        "Scenario(\n    name: \"bad\",\n    protocol: Gossip(()),\n    nodes: 0,\n)\n",
    );
    let file = s.write("x.sweep", "Sweep(name: \"x\", base: \"bad.ron\")");
    let err = sweep::check(&registry(), &file, CheckMode::Quick)
        .unwrap_err()
        .0;
    assert_eq!(
        err,
        format!(
            "{}:4:12: expected a node count from 1 to 10000000, got 0 (the base scenario of {})\n        nodes: 0,\n               ^",
            s.0.join("bad.ron").display(),
            file.display()
        )
    );
}

#[test]
fn list_indices_reach_the_run() {
    let s = Scratch::new("indices");
    let file = s.write(
        "x.sweep",
        "Sweep(\n    name: \"first crash\",\n    base: \"raft.ron\",\n    params: [\n        (path: \"faults[0].at\", values: [\"1s\", \"1500ms\"]),\n        (path: \"checks[3]\", values: [MonotonicCommit]),\n        (path: \"protocol.election_timeout[1]\", values: [\"250ms\"]),\n    ],\n    plots: [ElectionCdf],\n)\n",
    );
    let loaded = sweep::load(&registry(), &file, CheckMode::Full, Some(1)).unwrap();
    assert_eq!(loaded.points.len(), 2);
    for (p, at) in loaded.points.iter().zip([1000, 1500]) {
        let sc = &p.scenario;
        assert_eq!(sc.faults[0].at.0.0, std::time::Duration::from_millis(at));
        // The other faults are the base scenario's.
        assert_eq!(sc.faults.len(), 10);
        assert_eq!(sc.faults[1].at.0.0, std::time::Duration::from_secs(2));
        let checks: Vec<&str> = sc
            .checks
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.0.invariant.name())
            .collect();
        assert_eq!(
            checks,
            [
                "ElectionSafety",
                "LeaderAppendOnly",
                "LogMatching",
                "MonotonicCommit"
            ]
        );
        let text = ron::to_string(sc).unwrap();
        assert!(
            text.contains(r#"election_timeout:("150ms","250ms")"#),
            "{text}"
        );
    }
    // The runs differ only by the first crash's time, and they differ.
    let out = s.0.join("out");
    sweep::sweep(
        &registry(),
        &SweepArgs {
            file,
            out: out.clone(),
            jobs: 1,
            seeds: Some(1),
            quiet: true,
        },
    )
    .unwrap();
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("point,faults[0].at,checks[3],protocol.election_timeout[1],seed"));
    let row = |i: usize| lines[i].split(',').skip(4).collect::<Vec<_>>();
    assert!(
        lines[1].starts_with("0,1s,MonotonicCommit,250ms,1,"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("1,1500ms,MonotonicCommit,250ms,1,"),
        "{csv}"
    );
    assert_ne!(row(1), row(2), "moving the first crash changes the run");
}

#[test]
fn seeds_given_on_the_command_line_count_against_the_limit() {
    let s = Scratch::new("seeds");
    let file = s.write(
        "x.sweep",
        "Sweep(name: \"x\", base: \"gossip.ron\", params: [(path: \"nodes\", values: [10, 20])], seeds: 60000)",
    );
    assert!(
        sweep::load(&registry(), &file, CheckMode::Quick, None)
            .unwrap_err()
            .0
            .contains("120000 runs")
    );
    let loaded = sweep::load(&registry(), &file, CheckMode::Quick, Some(3)).unwrap();
    assert_eq!(
        (
            loaded.summary.points,
            loaded.summary.seeds,
            loaded.summary.runs
        ),
        (2, 3, 6)
    );
    assert!(loaded.points.is_empty(), "the quick check keeps no points");
    let err = sweep::load(&registry(), &file, CheckMode::Quick, Some(60_000)).unwrap_err();
    assert!(
        err.0.contains("2 points × 60000 seeds = 120000 runs"),
        "{err}"
    );
}

#[test]
fn the_summary_says_what_would_run() {
    let file = root().join("scenarios/sweeps/rounds_vs_n.sweep");
    let quick = sweep::check(&registry(), &file, CheckMode::Quick).unwrap();
    assert_eq!(
        quick.to_string(),
        format!(
            "sweep \"anti-entropy rounds to full spread\": 10 points x 8 seeds = 80 runs of {} \
             (Gossip), charts: RoundsVsN; every value checked (6 of 10 points)",
            root()
                .join("scenarios/sweeps/base/gossip_spread.ron")
                .display()
        )
    );
    let full = sweep::check(&registry(), &file, CheckMode::Full).unwrap();
    assert_eq!(full.checked, 10);
    assert!(!full.to_string().contains("every value"), "{full}");
}

/// The error shown in `docs/sweeps.md` is the one the program prints.
#[test]
fn documented_error_is_the_real_one() {
    let doc = std::fs::read_to_string(root().join("docs/sweeps.md")).unwrap();
    let block = |fence: &str, start: &str| -> String {
        doc.split(fence)
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .find(|b| b.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("docs/sweeps.md has no {fence} block starting {start:?}"))
            .trim_start_matches('\n')
            .to_string()
    };
    let bad = block("```ron", "// bad.sweep");
    let shown = block("```text", "error: bad.sweep:");
    // The sweep file as in the library: its base is `base/gossip_spread.ron`.
    let s = Scratch::new("doc");
    std::fs::create_dir_all(s.0.join("base")).unwrap();
    std::fs::copy(
        root().join("scenarios/sweeps/base/gossip_spread.ron"),
        s.0.join("base/gossip_spread.ron"),
    )
    .unwrap();
    let file = s.write("bad.sweep", &bad);
    let err = sweep::check(&registry(), &file, CheckMode::Quick).unwrap_err();
    assert_eq!(
        format!("error: bad.sweep:{}", strip(&file, &err.0)),
        shown.trim()
    );
    // And the next one, once the path is fixed.
    let next = doc
        .split("With the path fixed, the next error is\n`")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("docs/sweeps.md shows the next error");
    let fixed = s.write(
        "bad.sweep",
        &bad.replace("protocol.fanot", "protocol.fanout"),
    );
    let err = sweep::check(&registry(), &fixed, CheckMode::Quick).unwrap_err();
    assert_eq!(format!("bad.sweep:{}", strip(&fixed, &err.0)), next);
}
