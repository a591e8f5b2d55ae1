//! Shared helpers for the gossip integration tests: build a run with `GossipFamily` and drive
//! `sim::Simulation` directly, with faults scheduled by the test.
#![allow(dead_code)]

use protocols::checks::{Check, Checks};
use protocols::family::{Family, Setup};
use protocols::gossip::{GossipConfig, GossipFamily, UpdateAt, UpdatesConfig};
use protocols::units::Dur;
use sim::{Fault, LinkKind, LinkParams, NetConfig, RunReport, SimConfig, Time};
use sim::{Latency, Limits};
use std::time::Duration;

/// One gossip run's inputs.
pub struct Run {
    pub nodes: usize,
    pub seed: u64,
    pub cfg: GossipConfig,
    pub workload: UpdatesConfig,
    pub checks: Vec<Check>,
    pub faults: Vec<(Time, Fault)>,
    pub duration: Duration,
    pub latency: Latency,
    pub loss: f64,
}

impl Run {
    /// A complete graph, synchronous rounds of 100ms, 1ms latency, one update at node 0 at
    /// time zero, stopping once spread.
    pub fn spread(nodes: usize, seed: u64, cfg: GossipConfig) -> Run {
        Run {
            nodes,
            seed,
            cfg,
            workload: UpdatesConfig {
                updates: vec![UpdateAt {
                    at: Dur::ms(0),
                    node: Some(0),
                    key: 0,
                }],
                stop_when_spread: true,
                ..UpdatesConfig::default()
            },
            checks: vec![],
            faults: vec![],
            duration: Duration::from_secs(30),
            latency: Latency::Constant(1_000_000),
            loss: 0.0,
        }
    }

    pub fn run(&self) -> RunReport {
        let quiet = self.faults.iter().map(|f| f.0).max().unwrap_or(Time::ZERO);
        let setup = Setup {
            nodes: self.nodes,
            duration: self.duration,
            quiet_from: quiet,
            seed: self.seed,
            zones: vec![],
        };
        let checks = Checks(self.checks.clone());
        GossipFamily
            .check(&setup, &self.cfg, &self.workload, &checks)
            .expect("a valid config");
        let built = GossipFamily.build(&setup, &self.cfg, &self.workload, &checks);
        let sim_cfg = SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            network: NetConfig {
                default: LinkParams {
                    latency: self.latency,
                    loss: self.loss,
                    kind: LinkKind::Datagram,
                    ..LinkParams::default()
                },
                client_latency: Latency::Constant(1_000_000),
                ..NetConfig::default()
            },
            limits: Limits {
                duration: Some(self.duration),
                ..Limits::default()
            },
            ..SimConfig::default()
        };
        built.simulate(sim_cfg, self.faults.clone()).run()
    }
}

/// The single value of a per-run sample series (panics if it is missing: the run must have
/// produced it).
pub fn one(r: &RunReport, name: &str) -> f64 {
    let v = r.metrics.values(name);
    assert_eq!(v.len(), 1, "{name}: expected one sample, got {v:?}");
    v[0]
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

pub fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
