//! Scenario files: one experiment, complete and replayable, in RON.
//!
//! [`parse`] reads a file into a [`Scenario`] and validates it completely before anything runs:
//! syntax, unknown fields, types, ranges, node ids, fault times, invariants the protocol
//! offers. Every error names the file, line and column and what was expected
//! ([`ScenarioError`]). [`Scenario::prepare`] turns a valid scenario into what the engine runs
//! (network, clocks, faults with the nemesis materialized, limits).
//!
//! The format is documented field by field in `docs/scenario-format.md`; a test parses every
//! example there, so the document cannot drift from this parser.

pub mod families;
pub mod nemesis;
pub mod spec;
pub mod validate;

pub use families::{ProtocolSpec, WorkloadSpec};
use nemesis::NemesisSpec;
use protocols::checks::{Check, Expect, Invariant};
use protocols::family::Setup;
use protocols::units::Dur;
use serde::{Deserialize, Deserializer, Serialize};
use sim::{Fault, Limits, SimConfig, Time};
use spec::{ClocksSpec, LimitsSpec, NetworkSpec, TimedFault};
use std::fmt;
use validate::{CheckRef, Facts, InvariantRef};

/// The largest cluster a scenario may ask for.
pub const MAX_NODES: usize = 10_000_000;

/// One experiment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short title.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub about: String,
    /// The protocol and its configuration.
    pub protocol: ProtocolSpec,
    /// Cluster size.
    #[serde(default = "default_nodes", deserialize_with = "de_nodes")]
    pub nodes: usize,
    /// The root seed (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// How long the run lasts, in virtual time.
    #[serde(default = "default_duration")]
    pub duration: Dur,
    /// The network.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Node clocks.
    #[serde(default)]
    pub clocks: ClocksSpec,
    /// The clients.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// Faults at fixed times.
    #[serde(default)]
    pub faults: Vec<TimedFault>,
    /// Random faults drawn from the seed.
    #[serde(default)]
    pub nemesis: Option<NemesisSpec>,
    /// What to check (default: every safety invariant the protocol offers).
    #[serde(default)]
    pub checks: Option<Vec<CheckRef>>,
    /// What the run should show.
    #[serde(default)]
    pub expect: ExpectSpec,
    /// Guards against runaway runs.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Fuzzing only: knobs drawn per seed within ranges (`faultline fuzz`; ignored by `run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<crate::fuzz::swarm::SwarmSpec>,
}

fn default_nodes() -> usize {
    3
}

fn default_duration() -> Dur {
    Dur::secs(10)
}

fn de_nodes<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = usize::deserialize(d)?;
    if n == 0 || n > MAX_NODES {
        return Err(serde::de::Error::custom(format!(
            "expected a node count from 1 to {MAX_NODES}, got {n}"
        )));
    }
    Ok(n)
}

/// `expect:` — `Holds` or `Violates(Invariant)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectSpec {
    #[default]
    Holds,
    Violates(InvariantRef),
}

impl ExpectSpec {
    /// The plain expectation.
    pub fn get(self) -> Expect {
        match self {
            ExpectSpec::Holds => Expect::Holds,
            ExpectSpec::Violates(i) => Expect::Violates(i.0),
        }
    }
}

/// A scenario that failed to parse or validate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based line and column, when known.
    pub line: usize,
    pub col: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

/// The RON options every scenario is read with: `Some(..)` may be left out around optional
/// values (`nemesis: (faults: [Crash])`), and nesting is limited so hostile input cannot blow
/// the stack.
pub fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_recursion_limit(64)
}

fn ron_error(file: &str, e: ron::error::SpannedError) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    }
}

/// The position of the first `key:` in the text, to locate errors found after parsing.
fn locate(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("{key}:");
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if let Some(col) = code.find(&needle)
            && (col == 0
                || !code.as_bytes()[col - 1].is_ascii_alphanumeric()
                    && code.as_bytes()[col - 1] != b'_')
        {
            return (i + 1, col + 1);
        }
    }
    (1, 1)
}

/// Parses and fully validates a scenario. `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let opts = ron_options();
    // Pass 1: syntax, types and self-contained ranges.
    let first: Scenario = opts.from_str(text).map_err(|e| ron_error(file, e))?;
    // Pass 2: the same text, with facts that node ids, fault times and invariants need.
    let facts = Facts {
        nodes: first.nodes,
        duration: first.duration,
        family: first.protocol.family(),
        offered: first.protocol.offered(),
    };
    let s: Scenario =
        validate::with_facts(facts, || opts.from_str(text)).map_err(|e| ron_error(file, e))?;
    let at = |key: &str, message: String| {
        let (line, col) = locate(text, key);
        ScenarioError {
            file: file.to_string(),
            line,
            col,
            message,
        }
    };
    if s.duration.0.is_zero() {
        return Err(at("duration", "expected a duration above zero".into()));
    }
    s.network.to_sim().map_err(|m| at("network", m))?;
    s.clocks.to_sim(s.nodes, 0).map_err(|m| at("clocks", m))?;
    for (i, f) in s.faults.iter().enumerate() {
        f.action
            .to_sim()
            .map_err(|m| at("faults", format!("faults[{i}]: {m}")))?;
    }
    if let Some(n) = &s.nemesis {
        n.validate(s.duration).map_err(|m| at("nemesis", m))?;
    }
    let setup = Setup {
        nodes: s.nodes,
        duration: s.duration.0,
        quiet_from: Time::ZERO,
        seed: s.seed,
    };
    s.protocol
        .validate(&setup, &s.workload, &s.checks())
        .map_err(|m| {
            // Point at the workload when it is the workload that does not fit.
            let key = if m.contains("takes a workload") || m.starts_with("workload") {
                "workload"
            } else {
                "protocol"
            };
            at(key, m)
        })?;
    if let Some(w) = &s.swarm {
        w.validate(&s).map_err(|m| at("swarm", m))?;
    }
    if let ExpectSpec::Violates(inv) = s.expect
        && !s.checks().iter().any(|c| c.invariant() == inv.0)
    {
        return Err(at(
            "expect",
            format!(
                "the scenario expects a violation of {} but does not check it: add it to `checks`",
                inv.0.name()
            ),
        ));
    }
    Ok(s)
}

/// Reads and parses a scenario file.
pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read the file: {e}"),
    })?;
    parse(&file, &text)
}

/// What the engine needs for one run of a scenario.
pub struct Prepared {
    /// Engine configuration.
    pub sim: SimConfig,
    /// Faults with their true times, nemesis included, in time order.
    pub faults: Vec<(Time, Fault)>,
    /// Facts for the family's checks.
    pub setup: Setup,
}

impl Scenario {
    /// The checks in force: those listed, or every parameterless invariant the protocol offers.
    pub fn checks(&self) -> Vec<Check> {
        match &self.checks {
            Some(list) => list.iter().map(|c| c.0).collect(),
            None => self.protocol.default_checks(),
        }
    }

    /// The timed faults, with the nemesis's drawn for `seed` and merged in time order.
    pub fn fault_list(&self, seed: u64) -> Vec<TimedFault> {
        let mut all = self.faults.clone();
        if let Some(n) = &self.nemesis {
            all.extend(n.materialize(seed, self.nodes, self.duration));
        }
        // A stable sort keeps the file's order for faults at the same instant.
        all.sort_by_key(|f| f.at);
        all
    }

    /// Everything the engine needs for a run with `seed`.
    pub fn prepare(&self, seed: u64, record_trace: bool, max_wall: Option<Dur>) -> Prepared {
        let faults: Vec<(Time, Fault)> = self
            .fault_list(seed)
            .iter()
            .map(|f| {
                (
                    Time::ZERO + f.at.0.0,
                    f.action.to_sim().expect("validated by parse"),
                )
            })
            .collect();
        let quiet_from = faults.last().map_or(Time::ZERO, |(t, _)| *t);
        let sim = SimConfig {
            nodes: self.nodes,
            seed,
            network: self.network.to_sim().expect("validated by parse"),
            clocks: self
                .clocks
                .to_sim(self.nodes, seed)
                .expect("validated by parse"),
            limits: Limits {
                duration: Some(self.duration.0),
                max_virtual_time: None,
                max_events: self.limits.max_events,
                max_wall: max_wall.or(self.limits.max_wall).map(|d| d.0),
            },
            record_trace,
            tick: None,
        };
        let setup = Setup {
            nodes: self.nodes,
            duration: self.duration.0,
            quiet_from,
            seed,
        };
        Prepared { sim, faults, setup }
    }

    /// A hash of the configuration (everything but the seed), shown in the seed banner so two
    /// runs can be compared at a glance.
    pub fn config_hash(&self) -> u64 {
        let mut copy = self.clone();
        copy.seed = 0;
        let text = ron::to_string(&copy).unwrap_or_default();
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// The invariant a verdict is measured against, for messages.
pub fn expect_name(e: Expect) -> String {
    match e {
        Expect::Holds => "holds".into(),
        Expect::Violates(i) => format!("violates {}", i.name()),
    }
}

/// Invariant names for lists.
pub fn names(list: &[Invariant]) -> Vec<&'static str> {
    list.iter().map(|i| i.name()).collect()
}
