//! The contract between a protocol family and the scenario runner.
//!
//! A family (raft, gossip, failover, ...) turns its part of a scenario (protocol config,
//! workload config, the checks asked for) into what the engine runs: the protocol config,
//! a workload and the monitors. The runner owns everything generic (network, clocks, faults,
//! nemesis, limits, seeds).

use crate::checks::{Check, Invariant};
use sim::{Fault, Monitor, Protocol, SimConfig, Simulation, Time, Workload};
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
}

/// What a family hands the engine.
pub struct Built<P: Protocol> {
    /// The protocol configuration shared by every node.
    pub config: P::Config,
    /// The clients.
    pub workload: Box<dyn Workload<P>>,
    /// One monitor per check asked for (a monitor may cover several checks).
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

/// A description for `faultline list`.
#[derive(Clone, Debug)]
pub struct InvariantInfo {
    /// The invariant.
    pub invariant: Invariant,
    /// One line on what it checks.
    pub about: &'static str,
}

/// Checks that every asked-for check is offered; the error names the first that is not.
pub fn ensure_offered(family: &str, offered: &[Invariant], checks: &[Check]) -> Result<(), String> {
    for c in checks {
        if !offered.contains(&c.invariant()) {
            let names: Vec<&str> = offered.iter().map(|i| i.name()).collect();
            return Err(format!(
                "{family} does not offer the invariant {}; it offers: {}",
                c.invariant().name(),
                names.join(", ")
            ));
        }
    }
    Ok(())
}
