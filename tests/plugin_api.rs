//! faultline as a library: a protocol family written here, outside the crate, against the
//! public API only, gets positioned errors for its own config fields, the whole command line,
//! `faultline list`, fuzzing with saved and shrunk failures, and `cargo test` campaigns.
//!
//! The protocol is a token ring: node 0 starts with the token and each holder passes it to
//! the next node after `hop`. The invariant `OneToken` says at most one node holds it. The
//! known bug `regenerate_after` makes a node that has not seen the token for that long mint a
//! new one, which breaks the invariant as soon as the token is merely slow.

use faultline::fuzz::{FuzzArgs, ShrinkArgs, cmd_fuzz, cmd_shrink};
use faultline::prelude::*;
use faultline::scenario::parse_with;
use faultline::testing::Campaign;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TokenConfig {
    /// How long a holder keeps the token.
    hop: Dur,
    /// The known bug: mint a token after this long without one.
    regenerate_after: Option<Dur>,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            hop: Dur::ms(10),
            regenerate_after: None,
        }
    }
}

#[derive(Clone, Debug)]
struct TokenNode {
    holding: bool,
}

#[derive(Clone, Copy, Debug, Serialize)]
enum Tick {
    Pass,
    Regenerate,
}

impl Protocol for TokenNode {
    type Config = TokenConfig;
    type Message = ();
    type Timer = Tick;
    type Request = ();
    type Reply = ();
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let holding = ctx.id() == NodeId(0);
        if holding {
            ctx.set_timer(ctx.config().hop.0, Tick::Pass);
        }
        if let Some(after) = ctx.config().regenerate_after {
            ctx.set_timer(after.0, Tick::Regenerate);
        }
        TokenNode { holding }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _from: NodeId, _: ()) {
        self.holding = true;
        ctx.set_timer(ctx.config().hop.0, Tick::Pass);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, tick: Tick) {
        match tick {
            Tick::Pass if self.holding => {
                self.holding = false;
                let next = NodeId((ctx.id().0 + 1) % ctx.node_count() as u32);
                ctx.send(next, ());
            }
            Tick::Pass => {}
            Tick::Regenerate => {
                if !self.holding {
                    self.holding = true;
                    ctx.set_timer(ctx.config().hop.0, Tick::Pass);
                }
                let after = ctx.config().regenerate_after.expect("set").0;
                ctx.set_timer(after, Tick::Regenerate);
            }
        }
    }

    fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: ClientId, _: ()) {}
}

const ONE_TOKEN: Invariant = Invariant::new("OneToken");

struct OneTokenMonitor;

impl Monitor<TokenNode> for OneTokenMonitor {
    fn name(&self) -> &str {
        "one-token"
    }

    fn on_event(&mut self, view: &View<'_, TokenNode>, _: &EventInfo) -> faultline::sim::Check {
        let holders: Vec<NodeId> = view
            .live_nodes()
            .filter(|(_, n)| n.holding)
            .map(|(id, _)| id)
            .collect();
        if holders.len() > 1 {
            return faultline::sim::Check::Violated(Violation::new(
                ONE_TOKEN.name(),
                format!("{holders:?} all hold the token"),
            ));
        }
        faultline::sim::Check::Ok
    }
}

struct TokenFamily;

impl Family for TokenFamily {
    type Protocol = TokenNode;
    type Config = TokenConfig;
    type Workload = NoClients;

    fn name(&self) -> &'static str {
        "Token"
    }

    fn about(&self) -> &'static str {
        "a token ring"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        vec![InvariantInfo::safety(
            ONE_TOKEN,
            "at most one node holds the token",
        )]
    }

    fn check(
        &self,
        setup: &Setup,
        cfg: &TokenConfig,
        _: &NoClients,
        _: &Checks,
    ) -> Result<(), String> {
        if setup.nodes < 2 {
            return Err("a ring needs at least 2 nodes".into());
        }
        if cfg.hop.0.is_zero() {
            return Err("hop must be above zero".into());
        }
        Ok(())
    }

    fn build(&self, _: &Setup, cfg: &TokenConfig, _: &NoClients, _: &Checks) -> Built<TokenNode> {
        Built {
            config: cfg.clone(),
            workload: Box::new(faultline::sim::NoWorkload),
            monitors: vec![Box::new(OneTokenMonitor)],
        }
    }
}

fn registry() -> Registry {
    faultline::builtin::registry().with(TokenFamily)
}

fn ring(config: &str, expect: &str) -> String {
    format!(
        "Scenario(\n    name: \"token ring\",\n    protocol: Token(({config})),\n    nodes: 4,\n    duration: \"2s\",\n    network: (latency: Uniform(\"1ms\", \"30ms\")),\n    nemesis: (faults: [Crash, Pause], start: \"100ms\", length: (\"50ms\", \"200ms\"), gap: (\"50ms\", \"200ms\")),\n    expect: {expect},\n)\n"
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-plugin-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_user_family_gets_positioned_errors_for_its_own_fields() {
    let r = registry();
    parse_with(&r, "ok.ron", &ring("hop: \"5ms\"", "Holds")).expect("valid");
    let e = parse_with(&r, "t.ron", &ring("hopp: \"5ms\"", "Holds")).unwrap_err();
    assert_eq!((e.line, e.file.as_str()), (3, "t.ron"), "{e}");
    assert!(
        e.message.contains("hopp") && e.message.contains("hop"),
        "{e}"
    );
    let e = parse_with(&r, "t.ron", &ring("hop: 5", "Holds")).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("duration"), "{e}");
    // The family's own validation, and invariants it does not offer, are located too.
    let e = parse_with(&r, "t.ron", &ring("hop: \"0s\"", "Holds")).unwrap_err();
    assert!(e.message.contains("hop must be above zero"), "{e}");
    let e = parse_with(&r, "t.ron", &ring("", "Violates(ElectionSafety)")).unwrap_err();
    assert_eq!(e.line, 8, "{e}");
    assert!(e.message.contains("Token protocol does not offer"), "{e}");
    // A workload it does not take, and a misspelled family name with a suggestion.
    let e = parse_with(
        &r,
        "t.ron",
        &ring("", "Holds").replace("nodes: 4,", "nodes: 4, workload: Kv(()),"),
    )
    .unwrap_err();
    assert!(e.message.contains("takes a workload of None"), "{e}");
    let e = parse_with(&r, "t.ron", &ring("", "Holds").replace("Token(", "Tokn(")).unwrap_err();
    assert!(e.message.contains("did you mean `Token`"), "{e}");
    // Without the family registered, the name is unknown.
    let e = faultline::scenario::parse("t.ron", &ring("", "Holds")).unwrap_err();
    assert!(e.message.contains("unknown protocol Token"), "{e}");
}

#[test]
fn the_command_line_runs_checks_and_lists_a_user_family() {
    let dir = temp_dir("cli");
    let good = dir.join("good.ron");
    std::fs::write(&good, ring("", "Holds")).unwrap();
    let bug = dir.join("bug.ron");
    std::fs::write(&bug, ring("regenerate_after: \"25ms\"", "Holds")).unwrap();
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, ring("hopp: \"5ms\"", "Holds")).unwrap();
    let cli = || Cli::empty().family(TokenFamily).name("token");
    let run = |args: &[&str]| cli().run_with(std::iter::once("token").chain(args.iter().copied()));
    let path = |p: &PathBuf| p.display().to_string();
    assert_eq!(run(&["check", &path(&good)]), 0);
    assert_eq!(run(&["check", &path(&bad)]), 2);
    assert_eq!(run(&["run", &path(&good)]), 0);
    assert_eq!(run(&["run", &path(&bug)]), 1, "the bug breaks OneToken");
    assert_eq!(run(&["list"]), 0);
    let list = faultline::cli::list_text(cli().registry());
    assert!(list.contains("Token — a token ring"), "{list}");
    assert!(list.contains("hop: \"10ms\""), "{list}");
    assert!(list.contains("OneToken"), "{list}");
    assert!(
        !list.contains("Raft"),
        "an empty command line lists only its own families"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fuzzing_a_user_family_saves_and_shrinks_failures_that_replay() {
    let dir = temp_dir("fuzz");
    let bug = dir.join("bug.ron");
    std::fs::write(&bug, ring("regenerate_after: \"25ms\"", "Holds")).unwrap();
    let out = dir.join("failures");
    let args = FuzzArgs {
        file: bug,
        seeds: (0, 8),
        jobs: 2,
        shard: None,
        out: Some(out.clone()),
        budget: None,
        shrink: 1,
        shrink_runs: 300,
        junit: None,
        max_failures: Some(2),
        fail_fast: false,
        check_determinism: Some(50),
        guided: false,
        json: true,
        quiet: true,
    };
    assert_eq!(cmd_fuzz(&registry(), &args), 1, "failures found");
    let saved = out.join("bug.seed0.ron");
    let shrunk = out.join("bug.seed0.shrunk.ron");
    assert!(saved.exists() && shrunk.exists());
    assert!(
        !out.join("bug.seed2.ron").exists(),
        "--max-failures 2 stops after seeds 0 and 1"
    );
    let s = faultline::scenario::load_with(&registry(), &shrunk).expect("the shrunk file parses");
    let o = faultline::runner::run("shrunk", &s, &Default::default());
    assert_eq!(o.violations[0].invariant, "OneToken");
    // The bug needs no fault at all: the shrinker removes every one.
    assert!(s.faults.is_empty(), "{:?}", s.faults);
    let again = ShrinkArgs {
        file: saved,
        out: Some(dir.join("again.ron")),
        max_runs: 300,
        hop_seeds: 0,
        json: true,
    };
    assert_eq!(cmd_shrink(&registry(), &again), 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cargo_test_campaigns_pass_clean_runs_and_report_failures_with_replay_commands() {
    let passed = Campaign::text("ring.ron", ring("", "Holds"))
        .family(TokenFamily)
        .seeds(0..20)
        .check_determinism(true)
        .run();
    assert_eq!(passed.seeds, 0..20);
    assert_eq!(passed.determinism_checked, 20, "every seed ran twice");
    let report = Campaign::text("ring_bug.ron", ring("regenerate_after: \"25ms\"", "Holds"))
        .family(TokenFamily)
        .seeds(0..20)
        .replay_command("cargo run -p mycrate --")
        .try_run()
        .unwrap_err();
    assert!(report.contains("failed with seed 0"), "{report}");
    assert!(report.contains("OneToken"), "{report}");
    assert!(report.contains("FAULTLINE_SEED=0 cargo test"), "{report}");
    assert!(
        report.contains("or: cargo run -p mycrate -- run "),
        "{report}"
    );
    let saved = report
        .message
        .lines()
        .find_map(|l| l.trim().strip_prefix("saved:"))
        .expect("a saved file")
        .trim()
        .to_string();
    let failure = report.failure.as_ref().expect("a failing seed");
    assert_eq!((failure.seed, failure.key.as_str()), (0, "OneToken"));
    assert_eq!(failure.file.as_ref().unwrap().display().to_string(), saved);
    assert!(failure.shrunk.is_some(), "the first failure is shrunk");
    assert!(
        saved.contains("faultline"),
        "saved under target/faultline: {saved}"
    );
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("regenerate_after"), "{text}");
    faultline::scenario::parse_with(&registry(), &saved, &text).expect("replayable");
}

#[test]
fn a_scenario_built_in_rust_runs_as_a_campaign() {
    use faultline::scenario::Scenario;
    let mut s = Scenario::of("ring in rust", TokenFamily, TokenConfig::default());
    s.nodes = 5;
    s.duration = Dur::secs(1);
    let passed = Campaign::scenario(s.clone()).seeds(0..3).run();
    assert_eq!(passed.seeds, 0..3);
    // The same scenario with the bug fails, and an invalid edit is refused before running.
    let mut bug = s.clone();
    bug.protocol
        .config_as_mut::<TokenConfig>()
        .unwrap()
        .regenerate_after = Some(Dur::ms(25));
    let report = Campaign::scenario(bug).seeds(0..3).try_run().unwrap_err();
    assert!(report.contains("OneToken"), "{report}");
    let mut bad = s;
    bad.nodes = 1;
    let report = Campaign::scenario(bad).try_run().unwrap_err();
    assert!(report.contains("a ring needs at least 2 nodes"), "{report}");
}

#[test]
fn the_one_node_harness_steps_a_user_protocol() {
    use faultline::testing::Harness;
    let mut h = Harness::<TokenNode>::new(TokenConfig::default(), NodeId(0), 3, 1);
    let start = h.start();
    assert_eq!(start.timers_set().count(), 1);
    let pass = h.fire_next().expect("the pass timer");
    assert_eq!(h.now(), Time::from_millis(10));
    let sends: Vec<NodeId> = pass.sends().map(|(to, _)| to).collect();
    assert_eq!(sends, [NodeId(1)]);
    assert!(!h.node().unwrap().holding);
    let back = h.deliver(NodeId(2), ());
    assert!(h.node().unwrap().holding);
    assert_eq!(format!("{back:?}"), "set timer 1 after 10ms: Pass\n");
}

#[test]
fn a_user_family_name_may_not_shadow_another() {
    let taken = std::panic::catch_unwind(|| registry().with(TokenFamily));
    assert!(taken.is_err(), "two families named Token");
    let _ = Duration::ZERO;
}

/// A protocol that reads global state (here, a counter shared by every run in the process)
/// is not deterministic; `check_determinism` catches it and names the first event where two
/// runs of one seed differ.
mod flaky {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    static GLOBAL: AtomicU64 = AtomicU64::new(0);

    #[derive(Debug)]
    pub struct Flaky;

    impl Protocol for Flaky {
        type Config = ();
        type Message = u64;
        type Timer = ();
        type Request = ();
        type Reply = ();
        type Durable = ();
        fn start(ctx: &mut Context<'_, Self>) -> Self {
            ctx.set_timer(Duration::from_millis(10), ());
            Flaky
        }
        fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: u64) {}
        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
            // The bug: a value from outside the run reaches a message.
            let n = GLOBAL.fetch_add(1, Ordering::Relaxed);
            let peer = NodeId((ctx.id().0 + 1) % ctx.node_count() as u32);
            ctx.send(peer, n);
            ctx.set_timer(Duration::from_millis(10), ());
        }
        fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: ClientId, _: ()) {}
    }

    pub struct FlakyFamily;

    impl Family for FlakyFamily {
        type Protocol = Flaky;
        type Config = ();
        type Workload = NoClients;
        fn name(&self) -> &'static str {
            "Flaky"
        }
        fn about(&self) -> &'static str {
            "reads a global counter"
        }
        fn invariants(&self) -> Vec<InvariantInfo> {
            vec![]
        }
        fn build(&self, _: &Setup, _: &(), _: &NoClients, _: &Checks) -> Built<Flaky> {
            Built {
                config: (),
                workload: Box::new(faultline::sim::NoWorkload),
                monitors: vec![],
            }
        }
    }
}

#[test]
fn determinism_checks_catch_a_protocol_that_reads_global_state() {
    let text = "Scenario(name: \"flaky\", protocol: Flaky(()), nodes: 2, duration: \"100ms\")";
    let report = Campaign::text("flaky.ron", text)
        .family(flaky::FlakyFamily)
        .seeds(0..2)
        .check_determinism(true)
        .try_run()
        .unwrap_err();
    assert!(report.contains("nondeterministic"), "{report}");
    assert!(
        report.contains("the runs diverge at trace record"),
        "{report}"
    );
    // The same campaign without the check passes: every run holds.
    Campaign::text("flaky.ron", text)
        .family(flaky::FlakyFamily)
        .seeds(0..2)
        .run();
}
