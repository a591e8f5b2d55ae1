//! Scenario files: one experiment, complete and replayable, in RON.
//!
//! [`parse_with`] reads a file into a [`Scenario`] for the families of a registry, and validates
//! it completely before anything runs: syntax, unknown fields, types, ranges, node ids, fault
//! times, the family's configuration and workload, invariants the family offers. Every error
//! names the file, line and column and what was expected ([`ScenarioError`]). [`parse`] does
//! the same for the built-in families. Validation happens once, here; [`Scenario::prepare`]
//! then turns a valid scenario into what the engine runs (network, clocks, faults with the
//! nemesis materialized, limits) without failing.
//!
//! The format is documented field by field in `docs/scenario-format.md`; a test parses every
//! example there, so the document cannot drift from this parser.

pub mod describe;
pub mod limits;
pub mod nemesis;
pub mod protocol;
pub mod spec;
pub mod validate;

use nemesis::NemesisSpec;
pub use protocol::{ProtocolSpec, WorkloadSpec};
use protocols::checks::{Checks, Expect};
use protocols::family::{Family, Registry, Setup};
use protocols::units::Dur;
use serde::{Deserialize, Deserializer, Serialize};
use sim::{Fault, Limits, SimConfig, Time};
use spec::{
    ClocksSpec, LimitsSpec, NetworkSpec, ProcessingSpec, StorageSpec, TimedFault, TopologySpec,
};
use std::fmt;
use validate::{CheckRef, ExpectSpec, Facts, SecondPass};

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
    /// Zones (datacenters, racks) and the latency inside and between them (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologySpec>,
    /// Node clocks (default: rates spread by ±[`spec::DEFAULT_MAX_DRIFT_PPM`], no offsets).
    #[serde(default)]
    pub clocks: ClocksSpec,
    /// How long disk syncs take (default: a sync completes at once).
    #[serde(default, skip_serializing_if = "StorageSpec::is_default")]
    pub storage: StorageSpec,
    /// How long nodes take to handle events (default: every event at once).
    #[serde(default, skip_serializing_if = "ProcessingSpec::is_default")]
    pub processing: ProcessingSpec,
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

/// A scenario that failed to parse or validate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based line and column; 0 for an error about the file as a whole.
    pub line: usize,
    pub col: usize,
    /// What was wrong and what was expected.
    pub message: String,
    /// The offending line of the file, shown under the message with a caret at the column.
    pub source_line: Option<String>,
}

impl fmt::Display for ScenarioError {
    /// `file:line:col: message`, or `file: message` for an error about the file as a whole
    /// (one that cannot be read).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )?;
        if let Some(line) = &self.source_line {
            // The caret goes under the column, counted in characters; tabs are kept so the
            // caret lines up in a terminal.
            let pad: String = line
                .chars()
                .take(self.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n    {line}\n    {pad}^")?;
        }
        Ok(())
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

fn ron_error(file: &str, text: &str, e: ron::error::SpannedError) -> ScenarioError {
    let (line, col) = (e.span.start.line, e.span.start.col);
    let source_line = source_line(text, line);
    let mut message = e.code.to_string();
    // A target is "a node id or a target": when neither reading fits because the node does not
    // exist, say so rather than list the forms a target takes.
    if message.contains("a node id or a target")
        && let Some(why) = validate::take_node_refusal()
    {
        message = why;
    }
    let message = friendly(&message, source_line.as_deref().unwrap_or(""));
    ScenarioError {
        file: file.to_string(),
        line,
        col,
        message,
        source_line,
    }
}

/// Line `n` (1-based) of `text`, if it exists and is not too long to show.
fn source_line(text: &str, n: usize) -> Option<String> {
    let line = text.lines().nth(n.checked_sub(1)?)?;
    (line.chars().count() <= 300).then(|| crate::output::printable(line.trim_end()))
}

/// A parser message in the file's terms: no Rust type names, a suggestion for a misspelled
/// field or variant, and the double-parentheses hint when a protocol's or workload's section
/// was written without its own parentheses (`Raft(pre_vote: true)`).
fn friendly(message: &str, line: &str) -> String {
    let mut m = crate::sweep::check::user_terms(message);
    for (from, to) in [
        ("expected integer", "expected a whole number"),
        ("expected boolean", "expected true or false"),
        ("expected float", "expected a number"),
        ("expected string", "expected a string in double quotes"),
    ] {
        if m == from {
            m = to.to_string();
        }
    }
    // "unknown field `sead`, expected one of `name`, ...": suggest the closest.
    if (m.starts_with("unknown field `") || m.starts_with("unknown variant `"))
        && let Some(found) = m.split('`').nth(1)
    {
        let candidates: Vec<&str> = m
            .split_once("expected")
            .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let hint = validate::did_you_mean(found, candidates.iter().copied());
        let m2 = m.trim_end_matches(" instead").to_string();
        m = match m2.split_once(", expected") {
            Some((head, tail)) => format!("{head}{hint}; expected{tail}"),
            None => format!("{m2}{hint}"),
        };
    }
    let section = m.starts_with("expected a section written");
    let one_paren = line.contains("protocol:") || line.contains("workload:");
    if section && one_paren && !line.contains("((") {
        m = format!(
            "{m}: a protocol's or workload's settings are a section inside the variant, with \
             its own parentheses: write Raft((pre_vote: true)), not Raft(pre_vote: true)"
        );
    }
    m
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

/// Parses and fully validates a scenario of a built-in family. `file` is only used in error
/// messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    parse_with(&protocols::builtin(), file, text)
}

/// Parses and fully validates a scenario of one of `registry`'s families. `file` is only used
/// in error messages.
pub fn parse_with(registry: &Registry, file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let opts = ron_options();
    // Pass 1: syntax, types, self-contained ranges and the protocol section.
    let first_facts = Facts {
        registry: registry.clone(),
        second: None,
    };
    validate::take_node_refusal();
    let first: Scenario = validate::with_facts(first_facts, || opts.from_str(text))
        .map_err(|e| ron_error(file, text, e))?;
    // Pass 2: the same text, with what node ids, fault times, the workload and the checks need.
    let facts = Facts {
        registry: registry.clone(),
        second: Some(SecondPass {
            nodes: first.nodes,
            duration: first.duration,
            family: first.protocol.family.clone(),
            zones: first
                .topology
                .as_ref()
                .map(TopologySpec::names)
                .unwrap_or_default()
                .into(),
        }),
    };
    let s: Scenario = validate::with_facts(facts, || opts.from_str(text))
        .map_err(|e| ron_error(file, text, e))?;
    let at = |key: &str, message: String| {
        let (line, col) = locate(text, key);
        ScenarioError {
            file: file.to_string(),
            line,
            col,
            message,
            source_line: source_line(text, line),
        }
    };
    limits::check(&s).map_err(|(key, m)| at(key, m))?;
    s.network.validate().map_err(|m| at("network", m))?;
    if let Some(t) = &s.topology {
        t.validate(s.nodes, &s.network)
            .map_err(|m| at("topology", m))?;
    }
    s.clocks.validate().map_err(|m| at("clocks", m))?;
    s.storage.validate().map_err(|m| at("storage", m))?;
    s.processing.validate().map_err(|m| at("processing", m))?;
    s.processing
        .check_slow(s.faults.iter().map(|f| &f.action))
        .map_err(|m| {
            // Point at the first `Slow(` without a `per_event`, or else at `faults`.
            let found = text.lines().enumerate().find_map(|(i, line)| {
                let code = line.split("//").next().unwrap_or("");
                let col = code.find("Slow(")?;
                (!code.contains("per_event")).then_some((i + 1, col + 1))
            });
            match found {
                Some((line, col)) => ScenarioError {
                    file: file.to_string(),
                    line,
                    col,
                    message: m,
                    source_line: source_line(text, line),
                },
                None => at("faults", m),
            }
        })?;
    if let Some(n) = &s.nemesis {
        n.validate(s.duration).map_err(|m| at("nemesis", m))?;
    }
    let setup = Setup {
        nodes: s.nodes,
        duration: s.duration.0,
        quiet_from: Time::ZERO,
        seed: s.seed,
        zones: s.zones(),
    };
    let family = &s.protocol.family;
    family
        .check(
            &setup,
            s.protocol.config.as_ref(),
            s.workload.resolve(family.as_ref()).as_ref(),
            &s.checks(),
        )
        .map_err(|m| {
            // Point at the workload when it is the workload that does not fit.
            let key = if m.starts_with("workload") || m.contains("update at") {
                "workload"
            } else {
                "protocol"
            };
            at(key, m)
        })?;
    if let Some(w) = &s.swarm {
        w.validate(&s).map_err(|m| at("swarm", m))?;
        crate::fuzz::swarm::check_params(&s).map_err(|m| at("swarm", m))?;
    }
    if let Expect::Violates(inv) = s.expect.0
        && !s.checks().has(inv)
    {
        return Err(at(
            "expect",
            format!(
                "the scenario expects a violation of {inv} but does not check it: add it to `checks`"
            ),
        ));
    }
    Ok(s)
}

/// Reads and parses a scenario file of a built-in family.
pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    load_with(&protocols::builtin(), path)
}

/// Reads and parses a scenario file of one of `registry`'s families.
pub fn load_with(registry: &Registry, path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = crate::io::read_text(path).map_err(|message| ScenarioError {
        file: file.clone(),
        line: 0,
        col: 0,
        message,
        source_line: None,
    })?;
    parse_with(registry, &file, &text)
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
    /// A scenario of `family` with `config`, built in Rust: 3 nodes, seed 0, 10 s, the
    /// default network and clocks, the family's default clients, no faults, every safety
    /// check, expecting `Holds` — what a file with only `name` and `protocol` says. Edit the
    /// fields, then run it (`faultline::testing::Campaign::scenario` validates it first).
    pub fn of<F: Family>(name: &str, family: F, config: F::Config) -> Scenario {
        Scenario {
            name: name.to_string(),
            about: String::new(),
            protocol: ProtocolSpec {
                family: std::sync::Arc::new(family),
                config: Box::new(config),
            },
            nodes: default_nodes(),
            seed: 0,
            duration: default_duration(),
            network: NetworkSpec::default(),
            topology: None,
            clocks: ClocksSpec::default(),
            storage: StorageSpec::default(),
            processing: ProcessingSpec::default(),
            workload: WorkloadSpec::Default,
            faults: vec![],
            nemesis: None,
            checks: None,
            expect: ExpectSpec::default(),
            limits: LimitsSpec::default(),
            swarm: None,
        }
    }

    /// The checks in force: those listed, or every invariant without a deadline the family
    /// offers.
    pub fn checks(&self) -> Checks {
        match &self.checks {
            Some(list) => list.iter().map(|c| c.0).collect(),
            None => self.protocol.default_checks(),
        }
    }

    /// What the run should show.
    pub fn expect(&self) -> Expect {
        self.expect.0
    }

    /// The topology's zones with their node ids (empty without a `topology` section).
    pub fn zones(&self) -> Vec<sim::ZoneInfo> {
        self.topology
            .as_ref()
            .map(TopologySpec::zone_infos)
            .unwrap_or_default()
    }

    /// The engine's network: the `network` section with the topology's zones.
    pub fn net_config(&self) -> sim::NetConfig {
        let mut net = self.network.to_sim();
        if let Some(t) = &self.topology {
            net.zones = t.to_sim(&self.network);
        }
        net
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

    /// Everything the engine needs for a run with `seed`. The scenario is valid (it came from
    /// [`parse_with`], or is a valid one with values drawn within validated ranges), so this
    /// cannot fail.
    pub fn prepare(&self, seed: u64, record_trace: bool, max_wall: Option<Dur>) -> Prepared {
        let faults: Vec<(Time, Fault)> = self
            .fault_list(seed)
            .iter()
            .map(|f| (Time::ZERO + f.at.0.0, spec::to_engine(&f.action)))
            .collect();
        let quiet_from = faults.last().map_or(Time::ZERO, |(t, _)| *t);
        let sim = SimConfig {
            nodes: self.nodes,
            seed,
            network: self.net_config(),
            clocks: self.clocks.to_sim(self.nodes, seed),
            storage: self.storage.to_sim(),
            processing: self.processing.to_sim(),
            limits: Limits {
                duration: Some(self.duration.0),
                max_virtual_time: None,
                max_events: self.limits.max_events,
                max_wall: max_wall.or(self.limits.max_wall).map(|d| d.0),
                max_memory: self.limits.max_memory.map(|b| b.0),
            },
            record_trace,
            record_exports: false,
            tick: None,
        };
        let setup = Setup {
            nodes: self.nodes,
            duration: self.duration.0,
            quiet_from,
            seed,
            zones: self.zones(),
        };
        Prepared { sim, faults, setup }
    }

    /// Runs the scenario's family on a prepared run, calling `progress` now and then.
    pub fn run_prepared(&self, prep: Prepared, progress: Option<sim::Progress>) -> sim::RunReport {
        let family = &self.protocol.family;
        let workload = self.workload.resolve(family.as_ref());
        family.run(
            &prep.setup,
            prep.sim,
            prep.faults,
            self.protocol.config.as_ref(),
            workload.as_ref(),
            &self.checks(),
            progress,
        )
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
