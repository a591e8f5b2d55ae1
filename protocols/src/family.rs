//! The plug-in contract: how a protocol family reaches the scenario runner.
//!
//! ```text
//!   scenario file ── protocol: Name((config)) ──► Registry ──► Family ──┐
//!                    workload: Kv((...))                                  │ build(setup, config,
//!                    checks: [...]                                        │       workload, checks)
//!                                                                         ▼
//!   runner: network, clocks, faults, nemesis, seeds ──► Simulation<Protocol> ◄── Built { config,
//!                                                                                  workload, monitors }
//! ```
//!
//! A family (Raft, gossip, failover, or a user's protocol in its own crate) implements
//! [`Family`]: its name, its configuration type with defaults, the workload it accepts, the
//! invariants it offers with a line each, the metrics it records, and `build`, which turns a
//! scenario's part into what the engine runs. The runner owns everything generic (network,
//! clocks, faults, nemesis, limits, seeds, fuzzing, shrinking, sweeps, plots), so a family that
//! implements this trait gets all of it. A [`Registry`] holds the families a program knows;
//! the built-in ones register like any user's.
//!
//! The runner works with families through [`DynFamily`], implemented for every `Family`: it
//! carries configurations as [`AnyConfig`] trait objects (serde through `erased-serde`), so
//! a scenario names its protocol at run time and still gets positioned errors for every field.

use crate::checks::{Checks, InvariantInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sim::{Fault, Monitor, Progress, Protocol, RunReport, SimConfig, Simulation, Time, Workload};
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// Scenario facts a family needs to build its checks.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Number of nodes.
    pub nodes: usize,
    /// The planned run length.
    pub duration: Duration,
    /// The true time of the last scheduled fault (zero if none): liveness deadlines count
    /// from here ("after the last fault heals").
    pub quiet_from: Time,
    /// The root seed.
    pub seed: u64,
    /// The topology's zones, in order, each with its consecutive node ids (empty when the
    /// scenario names none): a family can lay itself out by them (a pool per zone).
    pub zones: Vec<sim::ZoneInfo>,
}

/// What a family hands the engine.
pub struct Built<P: Protocol> {
    /// The protocol configuration shared by every node.
    pub config: P::Config,
    /// The clients.
    pub workload: Box<dyn Workload<P>>,
    /// The monitors for the checks asked for (a monitor may cover several checks).
    pub monitors: Vec<Box<dyn Monitor<P>>>,
}

impl<P: Protocol> Built<P> {
    /// A simulation of the family on `sim`: its clients and monitors attached and `faults`
    /// scheduled, ready to `run`.
    pub fn simulate(
        self,
        sim: SimConfig,
        faults: impl IntoIterator<Item = (Time, Fault)>,
    ) -> Simulation<P> {
        let mut s = Simulation::new(sim, self.config);
        s.set_workload(self.workload);
        for m in self.monitors {
            s.add_monitor(m);
        }
        for (at, f) in faults {
            s.schedule_fault(at, f);
        }
        s
    }
}

/// A metric a family (or its workload) records, or a coverage point it marks, for
/// `faultline list` and campaign reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricInfo {
    /// Its name in `sim::Metrics` (`raft.election_time_ms`).
    pub name: &'static str,
    /// One line on what it measures, with its unit.
    pub about: &'static str,
}

impl MetricInfo {
    /// A metric and what it measures.
    pub const fn new(name: &'static str, about: &'static str) -> MetricInfo {
        MetricInfo { name, about }
    }
}

/// A section of a scenario a family reads: its configuration (`protocol: Name((...))`) or
/// its workload (`workload: Kv((...))`). Implemented for every type with these traits; derive
/// them, with `#[serde(default, deny_unknown_fields)]` so that a short section is a complete
/// one and a misspelled field is an error.
pub trait Settings:
    Serialize + DeserializeOwned + Clone + Debug + Default + PartialEq + Send + Sync + 'static
{
}

impl<T> Settings for T where
    T: Serialize + DeserializeOwned + Clone + Debug + Default + PartialEq + Send + Sync + 'static
{
}

/// The configuration of a family's clients: `workload: <NAME>((...))` in a scenario.
///
/// Families that share clients share the type: Raft, failover and any user family serving
/// [`crate::kv::KvRequest`]s take [`crate::kv::KvWorkloadConfig`] (`Kv`).
pub trait WorkloadConfig: Settings {
    /// The name scenarios give it (`Kv`).
    const NAME: &'static str;
    /// One line for `faultline list`.
    const ABOUT: &'static str;

    /// The configuration of a run without clients (`workload: Idle`).
    fn idle() -> Self;

    /// Checks the values against the run (`crate::limits` has the shared ranges). Runs once
    /// per scenario, before the family's own `check`.
    fn validate(&self, _setup: &Setup) -> Result<(), String> {
        Ok(())
    }

    /// The shrinker's reductions of this workload, applied one after another (after it has
    /// tried no clients at all). Each step proposes smaller versions of the current workload,
    /// each with a phrase saying what it reduced ("clients 4 -> 1"); the first that still
    /// fails is kept. The default has none.
    fn reductions() -> Vec<Reduction<Self>> {
        vec![]
    }

    /// The metrics these clients record.
    fn metrics() -> Vec<MetricInfo> {
        vec![]
    }
}

/// One shrinking step of a workload: smaller versions of it, most reduced first, each with a
/// phrase saying what was reduced.
pub type Reduction<W> = fn(&W) -> Vec<(String, W)>;

/// A workload for families without clients: `workload: None(())` is all a file may say, and
/// `Idle` or no `workload` at all mean the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoClients;

impl WorkloadConfig for NoClients {
    const NAME: &'static str = "None";
    const ABOUT: &'static str = "no clients";
    fn idle() -> Self {
        NoClients
    }
}

/// A protocol family: everything the runner needs to run scenarios of one protocol.
///
/// ```ignore
/// impl Family for MyFamily {
///     type Protocol = MyNode;
///     type Config = MyConfig;
///     type Workload = KvWorkloadConfig;
///     fn name(&self) -> &'static str { "Mine" }
///     fn about(&self) -> &'static str { "my protocol" }
///     fn invariants(&self) -> Vec<InvariantInfo> { vec![...] }
///     fn metrics(&self) -> Vec<MetricInfo> { vec![] }
///     fn build(&self, setup: &Setup, config: &MyConfig, workload: &KvWorkloadConfig,
///              checks: &Checks) -> Built<MyNode> { ... }
/// }
/// ```
///
/// `docs/writing-a-protocol.md` walks through a whole one.
pub trait Family: Send + Sync + 'static {
    /// The node state machine.
    type Protocol: Protocol;
    /// `protocol: <name>((...))`: every field optional, `Default` gives the defaults.
    type Config: Settings;
    /// The clients it accepts.
    type Workload: WorkloadConfig;

    /// The name scenarios use (`Raft`): an identifier, unique in a registry.
    fn name(&self) -> &'static str;

    /// One line on what it is, for `faultline list`.
    fn about(&self) -> &'static str;

    /// The invariants it offers. A scenario may check only these; one that lists no `checks`
    /// gets every one without a deadline.
    fn invariants(&self) -> Vec<InvariantInfo>;

    /// The metrics its nodes and monitors record (the workload's are added to these).
    fn metrics(&self) -> Vec<MetricInfo> {
        vec![]
    }

    /// The coverage points its nodes and monitors mark with `Context::cover` (`sim::Metrics::
    /// cover`): the states worth reaching, each with a line on what it means. Campaigns list
    /// the declared points never reached, and a point marked but not declared is reported as
    /// such.
    fn coverage(&self) -> Vec<MetricInfo> {
        vec![]
    }

    /// Validates a scenario's part before anything runs (config values, the cluster size, the
    /// workload against the config). Runs once per scenario; `build` may then assume it held.
    fn check(
        &self,
        _setup: &Setup,
        _config: &Self::Config,
        _workload: &Self::Workload,
        _checks: &Checks,
    ) -> Result<(), String> {
        Ok(())
    }

    /// Builds one run: the protocol config, the clients and the monitors for `checks`.
    fn build(
        &self,
        setup: &Setup,
        config: &Self::Config,
        workload: &Self::Workload,
        checks: &Checks,
    ) -> Built<Self::Protocol>;
}

/// A configuration or workload section behind a trait object: cloned, compared, printed and
/// serialized without knowing its type.
pub trait AnyConfig: erased_serde::Serialize + Debug + Send + Sync + 'static {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn AnyConfig>;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Equality with another section of the same type.
    fn eq_box(&self, other: &dyn AnyConfig) -> bool;
}

impl<T: Settings> AnyConfig for T {
    fn clone_box(&self) -> Box<dyn AnyConfig> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn eq_box(&self, other: &dyn AnyConfig) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

erased_serde::serialize_trait_object!(AnyConfig);

impl Clone for Box<dyn AnyConfig> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl PartialEq for Box<dyn AnyConfig> {
    fn eq(&self, other: &Self) -> bool {
        self.eq_box(other.as_ref())
    }
}

/// A family behind a trait object: what the runner calls. Implemented for every [`Family`];
/// never implement it yourself.
pub trait DynFamily: Send + Sync {
    /// [`Family::name`].
    fn name(&self) -> &'static str;
    /// [`Family::about`].
    fn about(&self) -> &'static str;
    /// [`Family::invariants`].
    fn invariants(&self) -> Vec<InvariantInfo>;
    /// [`Family::metrics`], then the workload's.
    fn metrics(&self) -> Vec<MetricInfo>;
    /// [`Family::coverage`].
    fn coverage(&self) -> Vec<MetricInfo>;
    /// [`WorkloadConfig::NAME`].
    fn workload_name(&self) -> &'static str;
    /// [`WorkloadConfig::ABOUT`].
    fn workload_about(&self) -> &'static str;
    /// Reads the family's configuration.
    fn deserialize_config(
        &self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<Box<dyn AnyConfig>, erased_serde::Error>;
    /// Reads the family's workload configuration.
    fn deserialize_workload(
        &self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<Box<dyn AnyConfig>, erased_serde::Error>;
    /// The default configuration.
    fn default_config(&self) -> Box<dyn AnyConfig>;
    /// The default workload (what a scenario without `workload` runs).
    fn default_workload(&self) -> Box<dyn AnyConfig>;
    /// The workload of `workload: Idle`.
    fn idle_workload(&self) -> Box<dyn AnyConfig>;
    /// How many shrinking steps [`WorkloadConfig::reductions`] has.
    fn workload_reductions(&self) -> usize;
    /// The alternatives shrinking step `step` proposes for `workload`.
    fn reduce_workload(
        &self,
        step: usize,
        workload: &dyn AnyConfig,
    ) -> Vec<(String, Box<dyn AnyConfig>)>;
    /// [`WorkloadConfig::validate`] (its errors start with `workload:`), then [`Family::check`].
    fn check(
        &self,
        setup: &Setup,
        config: &dyn AnyConfig,
        workload: &dyn AnyConfig,
        checks: &Checks,
    ) -> Result<(), String>;
    /// [`Family::build`], then the run: the simulation with `faults` scheduled, to the end,
    /// calling `progress` now and then (see `sim::Simulation::set_progress`).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        setup: &Setup,
        sim: SimConfig,
        faults: Vec<(Time, Fault)>,
        config: &dyn AnyConfig,
        workload: &dyn AnyConfig,
        checks: &Checks,
        progress: Option<Progress>,
    ) -> RunReport;
}

/// The concrete section a trait object holds. Sections reach a family only from its own
/// `deserialize_*` and `default_*` methods, so another type is a bug in the caller.
fn concrete<'a, T: 'static>(family: &str, section: &'a dyn AnyConfig) -> &'a T {
    section.as_any().downcast_ref::<T>().unwrap_or_else(|| {
        panic!(
            "the {family} family was handed a section of another type: {section:?} (expected {})",
            std::any::type_name::<T>()
        )
    })
}

impl<F: Family> DynFamily for F {
    fn name(&self) -> &'static str {
        Family::name(self)
    }
    fn about(&self) -> &'static str {
        Family::about(self)
    }
    fn invariants(&self) -> Vec<InvariantInfo> {
        Family::invariants(self)
    }
    fn metrics(&self) -> Vec<MetricInfo> {
        let mut m = Family::metrics(self);
        m.extend(F::Workload::metrics());
        m
    }
    fn coverage(&self) -> Vec<MetricInfo> {
        Family::coverage(self)
    }
    fn workload_name(&self) -> &'static str {
        F::Workload::NAME
    }
    fn workload_about(&self) -> &'static str {
        F::Workload::ABOUT
    }
    fn deserialize_config(
        &self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<Box<dyn AnyConfig>, erased_serde::Error> {
        erased_serde::deserialize::<F::Config>(d).map(|c| Box::new(c) as Box<dyn AnyConfig>)
    }
    fn deserialize_workload(
        &self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<Box<dyn AnyConfig>, erased_serde::Error> {
        erased_serde::deserialize::<F::Workload>(d).map(|c| Box::new(c) as Box<dyn AnyConfig>)
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        Box::new(F::Config::default())
    }
    fn default_workload(&self) -> Box<dyn AnyConfig> {
        Box::new(F::Workload::default())
    }
    fn idle_workload(&self) -> Box<dyn AnyConfig> {
        Box::new(F::Workload::idle())
    }
    fn workload_reductions(&self) -> usize {
        F::Workload::reductions().len()
    }
    fn reduce_workload(
        &self,
        step: usize,
        workload: &dyn AnyConfig,
    ) -> Vec<(String, Box<dyn AnyConfig>)> {
        let w = concrete::<F::Workload>(Family::name(self), workload);
        F::Workload::reductions()
            .get(step)
            .map_or_else(Vec::new, |reduce| reduce(w))
            .into_iter()
            .map(|(what, w)| (what, Box::new(w) as Box<dyn AnyConfig>))
            .collect()
    }
    fn check(
        &self,
        setup: &Setup,
        config: &dyn AnyConfig,
        workload: &dyn AnyConfig,
        checks: &Checks,
    ) -> Result<(), String> {
        let name = Family::name(self);
        let workload: &F::Workload = concrete(name, workload);
        workload
            .validate(setup)
            .map_err(|e| format!("workload: {e}"))?;
        Family::check(self, setup, concrete(name, config), workload, checks)
    }
    fn run(
        &self,
        setup: &Setup,
        sim: SimConfig,
        faults: Vec<(Time, Fault)>,
        config: &dyn AnyConfig,
        workload: &dyn AnyConfig,
        checks: &Checks,
        progress: Option<Progress>,
    ) -> RunReport {
        let name = Family::name(self);
        let built = self.build(
            setup,
            concrete(name, config),
            concrete(name, workload),
            checks,
        );
        let mut simulation = built.simulate(sim, faults);
        if let Some(p) = progress {
            simulation.set_progress(p);
        }
        simulation.run()
    }
}

/// The families a program knows, by name. `protocols::builtin()` holds Raft, gossip and
/// failover; add a user's with [`Registry::with`].
#[derive(Clone, Default)]
pub struct Registry {
    families: Vec<Arc<dyn DynFamily>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// This registry with `family` added. Panics if the name is taken or not an identifier:
    /// two families with one name would make scenario files ambiguous.
    pub fn with(mut self, family: impl Family) -> Registry {
        self.add(family);
        self
    }

    /// Adds a family (see [`Registry::with`]).
    pub fn add(&mut self, family: impl Family) {
        self.insert(Arc::new(family));
    }

    /// Adds a family already behind a trait object (see [`Registry::with`]).
    pub fn insert(&mut self, family: Arc<dyn DynFamily>) {
        let name = family.name();
        assert!(
            name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a family name must be an identifier, got {name:?}"
        );
        assert!(
            !["Default", "Idle"].contains(&name),
            "{name} is reserved for workloads"
        );
        assert!(
            self.get(name).is_none(),
            "two families are named {name}: family names must be unique"
        );
        self.families.push(family);
    }

    /// The family named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn DynFamily>> {
        self.families.iter().find(|f| f.name() == name)
    }

    /// Every family, in the order they were added.
    pub fn families(&self) -> impl Iterator<Item = &Arc<dyn DynFamily>> {
        self.families.iter()
    }

    /// Every family's name, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.families.iter().map(|f| f.name()).collect()
    }
}

impl Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
