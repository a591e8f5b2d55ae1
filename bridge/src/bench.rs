//! faultline's engine and madsim's simulator on the same protocol code, in one run
//! (`faultline-madsim bench`).
//!
//! Each workload is one scenario that both can express, run on the engine
//! (`faultline::runner`) and through the bridge on madsim ([`crate::madsim_run`]), with the
//! same monitors on both sides. For each side: virtual seconds per wall second, delivered
//! messages per wall second, and heap allocations per delivered message (counted by the
//! binary's allocator). Each side runs `REPEAT` times and the fastest run counts, which
//! filters out most of a noisy machine's interference; the ratios come from the same run.

use crate::madsim_run::run_scenario;
use faultline::runner::{RunOptions, run};
use faultline::scenario::{Scenario, parse};
use serde::Serialize;
use std::time::Instant;

/// How many times each side runs; the fastest counts.
const REPEAT: usize = 3;

/// One simulator's numbers on one workload.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    /// Wall seconds of the fastest run.
    pub wall_secs: f64,
    /// Virtual seconds simulated.
    pub virtual_secs: f64,
    /// Protocol messages delivered to nodes.
    pub delivered: u64,
    /// Heap allocations during the run.
    pub allocations: u64,
    /// `virtual_secs / wall_secs`.
    pub virtual_per_wall: f64,
    /// `delivered / wall_secs`.
    pub messages_per_sec: f64,
    /// `allocations / delivered`.
    pub allocations_per_message: f64,
}

impl Side {
    fn new(wall_secs: f64, virtual_secs: f64, delivered: u64, allocations: u64) -> Side {
        Side {
            wall_secs,
            virtual_secs,
            delivered,
            allocations,
            virtual_per_wall: virtual_secs / wall_secs,
            messages_per_sec: delivered as f64 / wall_secs,
            allocations_per_message: allocations as f64 / delivered.max(1) as f64,
        }
    }
}

/// Both simulators on one workload.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// What ran.
    pub workload: String,
    pub faultline: Side,
    pub madsim: Side,
    /// faultline's virtual-per-wall over madsim's.
    pub speedup: f64,
}

/// The 5-node Raft KV workload: 2-10 ms latency, 8 clients at 50 ops/s each, no faults;
/// with every Raft check and the linearizability check (`checked`), or with none, which
/// leaves the two simulators and the protocol alone.
pub fn raft_kv(secs: u64, checked: bool) -> Scenario {
    let (what, checks) = if checked {
        ("checked", "")
    } else {
        ("unchecked", "checks: [],")
    };
    scenario(&format!(
        r#"Scenario(
            name: "bench: raft kv, 5 nodes, {secs} s, {what}",
            {checks}
            protocol: Raft(()),
            nodes: 5,
            seed: 1,
            duration: "{secs}s",
            network: (latency: Uniform("2ms", "10ms"), links: Datagram),
            clocks: (max_drift_ppm: 0),
            workload: Kv((clients: 8, rate: 50.0, keys: 8, start: "300ms")),
        )"#
    ))
}

/// Push-pull anti-entropy among `nodes` nodes (1 s rounds, 1-10 ms latency) for 10 s.
pub fn gossip(nodes: usize) -> Scenario {
    scenario(&format!(
        r#"Scenario(
            name: "bench: gossip anti-entropy, {nodes} nodes, 10 s",
            protocol: Gossip((style: AntiEntropy, direction: PushPull)),
            nodes: {nodes},
            seed: 1,
            duration: "10s",
            network: (latency: Uniform("2ms", "10ms"), links: Datagram),
            clocks: (max_drift_ppm: 0),
            workload: Idle,
        )"#
    ))
}

fn scenario(text: &str) -> Scenario {
    parse("bench.ron", text).expect("the benchmark scenarios are valid")
}

/// Runs `s` on both simulators; `allocations` reads the binary's allocation counter.
#[allow(clippy::disallowed_methods)] // wall time is what a benchmark measures
pub fn compare(s: &Scenario, allocations: fn() -> u64) -> Row {
    let mut engine: Option<Side> = None;
    let mut madsim: Option<Side> = None;
    let opts = RunOptions::default();
    for _ in 0..REPEAT {
        let (a0, t0) = (allocations(), Instant::now());
        let out = run("bench.ron", s, &opts);
        let wall = t0.elapsed().as_secs_f64();
        let delivered = out
            .metrics
            .get("net.delivered")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let side = Side::new(
            wall,
            out.virtual_time_ns as f64 / 1e9,
            delivered,
            allocations() - a0,
        );
        if engine.as_ref().is_none_or(|e| side.wall_secs < e.wall_secs) {
            engine = Some(side);
        }
        let (a0, t0) = (allocations(), Instant::now());
        let report = run_scenario(s, s.seed).expect("madsim can express the benchmark");
        let wall = t0.elapsed().as_secs_f64();
        let side = Side::new(
            wall,
            report.virtual_time.as_secs_f64(),
            report.delivered,
            allocations() - a0,
        );
        if madsim.as_ref().is_none_or(|m| side.wall_secs < m.wall_secs) {
            madsim = Some(side);
        }
    }
    let (faultline, madsim) = (engine.unwrap(), madsim.unwrap());
    Row {
        workload: s.name.trim_start_matches("bench: ").to_string(),
        speedup: faultline.virtual_per_wall / madsim.virtual_per_wall,
        faultline,
        madsim,
    }
}

/// The Raft KV workload for `secs` virtual seconds, then gossip at each size.
pub fn run_all(secs: u64, gossip_sizes: &[usize], allocations: fn() -> u64) -> Vec<Row> {
    let mut rows = vec![
        compare(&raft_kv(secs, true), allocations),
        compare(&raft_kv(secs, false), allocations),
    ];
    for &n in gossip_sizes {
        rows.push(compare(&gossip(n), allocations));
    }
    rows
}

/// The rows as a table.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<40} {:>9} {:>13} {:>12} {:>10} {:>8}\n",
        "workload", "simulator", "virt s/wall s", "delivered/s", "allocs/msg", "speedup"
    );
    for r in rows {
        for (name, s, speedup) in [
            ("faultline", &r.faultline, format!("{:.1}x", r.speedup)),
            ("madsim", &r.madsim, String::new()),
        ] {
            out += &format!(
                "{:<40} {:>9} {:>13.1} {:>12.0} {:>10.2} {:>8}\n",
                if name == "faultline" {
                    r.workload.as_str()
                } else {
                    ""
                },
                name,
                s.virtual_per_wall,
                s.messages_per_sec,
                s.allocations_per_message,
                speedup
            );
        }
    }
    out
}
