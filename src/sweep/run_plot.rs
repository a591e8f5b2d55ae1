//! `faultline run FILE --plot DIR`: one run's time series as charts.
//!
//! Draws, when the run has them: the gossip informed fraction against time, the leader (or
//! primary) over time, and messages delivered per second. The last two come from the trace,
//! so the run must be made with `RunOptions::record_trace`; without a trace they are left out.
//! Every other sample series with more than one point gets a chart of its own too.

use crate::runner::Outcome;
use crate::scenario::Scenario;
use reports::{Axis, Chart, PlotError, Series, render};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The message names that only a leader (Raft) or a primary (failover) sends.
const LEADER_MESSAGES: [&str; 2] = ["AppendEntries {", "Append {"];

/// Draws one run's charts into `dir` (created if missing) and returns the files written
/// (PNG and SVG of each chart).
pub fn plot_run(
    dir: &Path,
    scenario: &Scenario,
    outcome: &Outcome,
) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let what = format!(
        "{} (seed {}, {} nodes)",
        scenario.name, outcome.seed, scenario.nodes
    );
    let secs = |ns: u64| ns as f64 / 1e9;
    let mut files = vec![];
    for (name, pts) in &outcome.samples {
        if pts.len() < 2 {
            continue;
        }
        let y = if name == "gossip.informed_fraction" {
            Axis::new("informed fraction of nodes").range(0.0, 1.02)
        } else {
            Axis::new(&unit_label(name))
        };
        let mut c = Chart::new(&format!("{name}: {what}"), Axis::new("time (s)"), y);
        let mut s = Series::line(name, pts.iter().map(|&(t, v)| (secs(t), v)).collect());
        s.markers = pts.len() <= 200;
        c.series.push(s);
        files.extend(render(&c, &dir.join(name.replace('.', "_")))?);
    }
    if outcome.trace.is_empty() {
        return Ok(files);
    }
    // Who sent leader-only messages, per 10 ms bucket: one dot per (bucket, sender).
    let mut leaders: BTreeMap<(u64, u32), ()> = BTreeMap::new();
    let mut per_second: BTreeMap<u64, u64> = BTreeMap::new();
    for e in &outcome.trace {
        if e.kind != "deliver" {
            continue;
        }
        *per_second.entry(e.time_ns / 1_000_000_000).or_default() += 1;
        if let Some(from) = e.peer
            && LEADER_MESSAGES.iter().any(|m| e.summary.starts_with(m))
        {
            leaders.insert((e.time_ns / 10_000_000, from), ());
        }
    }
    if !leaders.is_empty() {
        let mut c = Chart::new(
            &format!("leader over time: {what}"),
            Axis::new("time (s)"),
            Axis::new("node sending AppendEntries / Append (node id)")
                .range(-0.5, scenario.nodes as f64 - 0.5),
        );
        // The buckets are distinct and in time order, so no point repeats.
        let points = leaders
            .keys()
            .map(|&(b, n)| (b as f64 / 100.0, f64::from(n)))
            .collect();
        c.series.push(Series::line("leader", points));
        files.extend(render_dots(&c, &dir.join("leader"))?);
    }
    let mut c = Chart::new(
        &format!("messages delivered per second: {what}"),
        Axis::new("time (s)"),
        Axis::new("messages delivered per second"),
    );
    c.series.push(Series::line(
        "delivered",
        per_second
            .iter()
            .map(|(&s, &n)| (s as f64 + 0.5, n as f64))
            .collect(),
    ));
    files.extend(render(&c, &dir.join("messages_per_second"))?);
    Ok(files)
}

/// The leader chart: one colour per node, and a line only while the same node keeps
/// leading, so no line joins two leaders (which would suggest the nodes in between).
fn render_dots(c: &Chart, stem: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut dots = c.clone();
    let s = dots.series.remove(0);
    // One series per node keeps a colour per leader and no connecting lines.
    let mut by_node: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for p in s.points {
        by_node.entry(p.1 as u64).or_default().push(p);
    }
    for (node, pts) in by_node {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![];
        for p in pts {
            // Break the line wherever this node stopped leading for more than 100 ms.
            match runs.last_mut() {
                Some(r) if r.last().is_some_and(|q| p.0 - q.0 <= 0.1) => r.push(p),
                _ => runs.push(vec![p]),
            }
        }
        for (i, r) in runs.into_iter().enumerate() {
            let name = if i == 0 {
                format!("node {node}")
            } else {
                String::new()
            };
            dots.series.push(Series {
                name,
                points: r,
                markers: true,
                colour: Some(node as usize),
                ..Default::default()
            });
        }
    }
    render(&dots, stem)
}

/// A y label with the unit the metric's name carries.
fn unit_label(name: &str) -> String {
    if let Some(base) = name.strip_suffix("_ms") {
        format!("{base} (ms)")
    } else {
        name.to_string()
    }
}
