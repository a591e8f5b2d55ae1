//! `faultline bench`: the engine against a bare binary-heap event loop doing the same work
//! (events per second and their ratio, measured in the same run), and gossip at scale (a
//! push-pull spread to every node: wall time and peak memory). [`linearizability`] times the
//! linearizability checker on a 10^5-operation history.

pub mod linearizability;

use crate::runner::{RunOptions, run};
use crate::scenario::parse;
use serde::Serialize;

/// One gossip scale measurement.
#[derive(Clone, Debug, Serialize)]
pub struct GossipScale {
    pub nodes: usize,
    pub events: u64,
    pub rounds_to_100: Option<f64>,
    pub wall_secs: f64,
    pub events_per_sec: f64,
    /// The process's peak resident memory after the run (Linux `VmHWM`), in MiB.
    pub peak_rss_mib: Option<f64>,
    pub verdict: &'static str,
}

/// A push-pull anti-entropy spread of one update to `nodes` nodes, stopping at full spread.
pub fn gossip_scale(nodes: usize) -> GossipScale {
    let text = format!(
        "Scenario(name: \"bench: push-pull spread to {nodes} nodes\", protocol: Gossip((style: AntiEntropy, direction: PushPull)),
          nodes: {nodes}, seed: 1, duration: \"60s\", network: (latency: Uniform(\"1ms\", \"20ms\"), links: Datagram),
          workload: Updates((updates: [(at: \"0s\", node: 0, key: 0)], stop_when_spread: true)),
          checks: [NoInventedValues, VersionsMonotonic])"
    );
    let s = parse("<bench>", &text).expect("the benchmark scenario is valid");
    let o = run("<bench>", &s, &RunOptions::default());
    let rounds_to_100 = o
        .metrics
        .get("gossip.update.rounds_to_100")
        .and_then(|v| v.as_f64());
    GossipScale {
        nodes,
        events: o.events,
        rounds_to_100,
        wall_secs: o.wall_ms / 1e3,
        events_per_sec: o.events as f64 / (o.wall_ms / 1e3),
        peak_rss_mib: peak_rss_mib(),
        verdict: o.verdict,
    }
}

/// The process's peak resident set size in MiB, where the OS tells it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
