//! `faultline run FILE --plot DIR`: one run's time series as charts.
//!
//! Draws, when the run has them: the gossip informed fraction against time, who believes it
//! leads over time (from the nodes' `role` annotations, with fault periods shaded), and
//! messages delivered per second. The last two come from the trace, so the run must be made
//! with `RunOptions::record_trace`; without a trace they are left out.
//! Kafka runs get their ISR sizes per partition as one step chart. Every other sample series
//! with more than one point gets a chart of its own too.

use crate::runner::Outcome;
use crate::scenario::Scenario;
use reports::{Axis, Chart, PlotError, Series, render};
use sim::RecordKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
        if pts.len() < 2 || name.starts_with("kafka.isr_") {
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
    if let Some(chart) = isr_chart(outcome, &what) {
        files.extend(render(&chart, &dir.join("isr"))?);
    }
    if let Some(chart) = operations_chart(outcome, &what) {
        files.extend(render(&chart, &dir.join("operations"))?);
    }
    if outcome.trace.is_empty() {
        return Ok(files);
    }
    // Deliveries per bin; about 60 bins over the run, of a round width, empty ones included
    // (an outage shows as zero).
    let bin_ns = bin_width_ns(outcome.virtual_time_ns);
    let mut bins = vec![0u64; (outcome.virtual_time_ns.div_ceil(bin_ns)).max(1) as usize];
    for e in &outcome.trace {
        if e.is_event() && e.kind == RecordKind::Deliver {
            let b = ((e.time_ns / bin_ns) as usize).min(bins.len() - 1);
            bins[b] += 1;
        }
    }
    if let Some(c) = leader_chart(outcome, scenario.nodes, &what) {
        files.extend(render(&c, &dir.join("leader"))?);
    }
    let bin_s = bin_ns as f64 / 1e9;
    let rates: Vec<(f64, f64)> = bins
        .iter()
        .enumerate()
        .map(|(i, &n)| ((i as f64 + 0.5) * bin_s, n as f64 / bin_s))
        .collect();
    let top = rates.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let mut c = Chart::new(
        &format!("messages delivered per second: {what}"),
        Axis::new("time (s)"),
        Axis::new(&format!(
            "messages delivered per second ({} bins)",
            sim::units::Dur::from_nanos(bin_ns)
        ))
        .range(0.0, top * 1.08),
    );
    c.series.push(Series::line("delivered", rates));
    files.extend(render(&c, &dir.join("messages_per_second"))?);
    Ok(files)
}

/// Who believed it led, over time: a bar per node for every period its `role` annotation
/// said `leader` (Raft) or `primary` (failover), so a split brain shows as two bars at once.
/// Crashed and paused periods shade the node's row; partitions shade the whole chart. `None`
/// when no node ever led or the protocol publishes no role.
fn leader_chart(outcome: &Outcome, nodes: usize, what: &str) -> Option<Chart> {
    let end = outcome.virtual_time_ns;
    let secs = |ns: u64| ns as f64 / 1e9;
    let mut since: BTreeMap<u32, u64> = BTreeMap::new();
    let mut periods: Vec<(u32, u64, u64)> = Vec::new();
    for r in &outcome.trace {
        let (RecordKind::Annotate, Some(node), Some("role")) = (r.kind, r.node, r.key.as_deref())
        else {
            continue;
        };
        let leads = matches!(
            r.value.as_ref().and_then(|v| v.as_str()),
            Some("leader" | "primary")
        );
        match (leads, since.get(&node).copied()) {
            (true, None) => {
                since.insert(node, r.time_ns);
            }
            (false, Some(from)) => {
                since.remove(&node);
                periods.push((node, from, r.time_ns));
            }
            _ => {}
        }
    }
    periods.extend(since.into_iter().map(|(n, from)| (n, from, end)));
    if periods.is_empty() {
        return None;
    }
    let mut c = Chart::new(
        &format!("who believes it leads: {what}"),
        Axis::new("time (s)").range(0.0, secs(end)),
        Axis::new("node (id)")
            .range(-0.5, nodes as f64 - 0.5)
            .integer(),
    );
    let mut named: std::collections::BTreeSet<String> = Default::default();
    let mut shade = |c: &mut Chart, name: &str, colour: usize, band: Vec<(f64, f64, f64)>| {
        let name = if named.insert(name.to_string()) {
            name.to_string()
        } else {
            String::new()
        };
        c.series.push(Series {
            name,
            band,
            colour: Some(colour),
            ..Default::default()
        });
    };
    for p in crate::trace::fault_periods(&outcome.trace) {
        let (lo, hi) = p.node.map_or((-0.5, nodes as f64 - 0.5), |n| {
            (f64::from(n) - 0.4, f64::from(n) + 0.4)
        });
        let colour = if p.node.is_some() { 7 } else { 3 };
        shade(
            &mut c,
            p.label,
            colour,
            vec![(secs(p.from_ns), lo, hi), (secs(p.to_ns), lo, hi)],
        );
    }
    periods.sort();
    for (node, from, to) in periods {
        let y = f64::from(node);
        let name = format!("node {node} leads");
        let name = if named.insert(name.clone()) {
            name
        } else {
            String::new()
        };
        c.series.push(Series {
            name,
            points: vec![(secs(from), y), (secs(to), y)],
            markers: true,
            colour: Some(node as usize),
            ..Default::default()
        });
    }
    Some(c)
}

/// Kafka's in-sync replica sets over time: a step line per partition (the ISR size its newest
/// leader applied, `kafka.isr_size.pN`) and the smallest over the partitions, held to the end
/// of the run. `None` for runs without them.
fn isr_chart(outcome: &Outcome, what: &str) -> Option<Chart> {
    let end = outcome.virtual_time_ns as f64 / 1e9;
    let step = |pts: &[(u64, f64)]| {
        let mut out: Vec<(f64, f64)> = Vec::new();
        for &(t, v) in pts {
            let t = t as f64 / 1e9;
            if let Some(&(_, prev)) = out.last() {
                out.push((t, prev));
            }
            out.push((t, v));
        }
        if let Some(&(_, last)) = out.last() {
            out.push((end, last));
        }
        out
    };
    let mut partitions: Vec<(u64, &Vec<(u64, f64)>)> = outcome
        .samples
        .iter()
        .filter_map(|(name, pts)| {
            let p = name.strip_prefix("kafka.isr_size.p")?.parse().ok()?;
            Some((p, pts))
        })
        .collect();
    if partitions.is_empty() {
        return None;
    }
    partitions.sort_by_key(|p| p.0);
    let top = partitions
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let mut c = Chart::new(
        &format!("ISR size per partition: {what}"),
        Axis::new("time (s)"),
        Axis::new("in-sync replicas").range(0.0, top + 0.5),
    );
    for (p, pts) in partitions {
        c.series
            .push(Series::line(&format!("partition {p}"), step(pts)));
    }
    if let Some(min) = outcome.samples.get("kafka.isr_min") {
        let mut s = Series::line("smallest over the partitions", step(min));
        s.dashed = true;
        c.series.push(s);
    }
    c.legend = reports::Corner::LowerRight;
    Some(c)
}

/// The clients' operations (from the history the run exported): one dot per operation at
/// its invocation time, its latency up, coloured by how it ended, so an outage shows as a
/// gap and a column of timeouts rather than a line drawn across it.
fn operations_chart(outcome: &Outcome, what: &str) -> Option<Chart> {
    use protocols::linearizability::{History, Outcome as Op};
    let (_, text) = outcome.exports.iter().find(|(f, _)| *f == "jsonl")?;
    let history = History::from_jsonl(text).ok()?;
    if history.is_empty() {
        return None;
    }
    let mut by: [(&str, Vec<(f64, f64)>); 3] = [
        ("ok", vec![]),
        (
            "fail (did not take effect, such as a cas that found another value)",
            vec![],
        ),
        ("info (gave up: unknown)", vec![]),
    ];
    for op in history.operations() {
        let Some(ms) = op.latency_ns().map(|ns| ns as f64 / 1e6) else {
            continue;
        };
        let at = op.invoke_ns as f64 / 1e9;
        // As the exported history types it (Jepsen's convention): a cas that found another
        // value took no effect, so it is a fail, as in the HTML report's timeline.
        let i = match op.outcome() {
            Op::Ok(protocols::linearizability::Ret::Cas(false)) | Op::Fail => 1,
            Op::Ok(_) => 0,
            Op::Info => 2,
        };
        by[i].1.push((at, ms));
    }
    let mut c = Chart::new(
        &format!("client operations: {what}"),
        Axis::new("invoked at (s)"),
        Axis::new("latency (ms)").log(),
    );
    for (i, (name, points)) in by.into_iter().enumerate() {
        if !points.is_empty() {
            c.series.push(Series {
                name: format!("{name}: {}", points.len()),
                points,
                scatter: true,
                colour: Some(i),
                ..Default::default()
            });
        }
    }
    c.legend = reports::Corner::UpperRight;
    Some(c)
}

/// A round bin width (1, 2 or 5 times a power of ten, from 1 ms) giving about 60 bins over a
/// run of `run_ns`.
fn bin_width_ns(run_ns: u64) -> u64 {
    let target = (run_ns / 60).max(1_000_000);
    let mut magnitude = 1_000_000u64;
    loop {
        for m in [1, 2, 5] {
            if m * magnitude >= target {
                return m * magnitude;
            }
        }
        magnitude *= 10;
    }
}

/// A y label with the unit the metric's name carries.
fn unit_label(name: &str) -> String {
    if let Some(base) = name.strip_suffix("_ms") {
        format!("{base} (ms)")
    } else {
        name.to_string()
    }
}
