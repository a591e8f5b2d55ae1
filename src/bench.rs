//! `faultline bench`: the engine against a bare binary-heap event loop doing the same work
//! (events per second and their ratio, measured in the same run), and gossip at scale (a
//! push-pull spread to every node: wall time and peak memory).

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
    /// CPU time the process spent during the run (user + system, Linux only), in seconds: on
    /// a loaded machine wall time also counts other processes' turns.
    pub cpu_secs: Option<f64>,
    pub events_per_sec: f64,
    /// The process's peak resident memory after the run (Linux `VmHWM`), in MiB.
    pub peak_rss_mib: Option<f64>,
    /// That peak divided by the node count, in bytes.
    pub peak_rss_bytes_per_node: Option<f64>,
    pub verdict: &'static str,
}

/// A push-pull anti-entropy spread of one update to `nodes` nodes, stopping at full spread.
/// Rounds are 100 ms up to 10^6 nodes and 1 s above, so that the scenario stays within the
/// event-rate limit (`protocols::limits::MAX_EVENTS_PER_SECOND`); the work per node and the
/// rounds to spread do not depend on the period.
pub fn gossip_scale(nodes: usize) -> GossipScale {
    let period = if nodes > 1_000_000 { "1s" } else { "100ms" };
    let text = format!(
        "Scenario(name: \"bench: push-pull spread to {nodes} nodes\", protocol: Gossip((style: AntiEntropy, direction: PushPull, period: \"{period}\")),
          nodes: {nodes}, seed: 1, duration: \"60s\", network: (latency: Uniform(\"1ms\", \"20ms\"), links: Datagram),
          workload: Updates((updates: [(at: \"0s\", node: 0, key: 0)], stop_when_spread: true)),
          checks: [NoInventedValues, VersionsMonotonic])"
    );
    let s = parse("<bench>", &text).expect("the benchmark scenario is valid");
    let cpu_before = cpu_secs();
    let o = run("<bench>", &s, &RunOptions::default());
    let cpu = cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let peak = peak_rss_mib();
    let rounds_to_100 = o
        .metrics
        .get("gossip.update.rounds_to_100")
        .and_then(|v| v.as_f64());
    GossipScale {
        nodes,
        events: o.events,
        rounds_to_100,
        wall_secs: o.wall_ms / 1e3,
        cpu_secs: cpu,
        events_per_sec: o.events as f64 / (o.wall_ms / 1e3),
        peak_rss_mib: peak,
        peak_rss_bytes_per_node: peak.map(|m| m * 1024.0 * 1024.0 / nodes as f64),
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

/// CPU time used by the process so far (user + system), in seconds, where the OS tells it.
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
