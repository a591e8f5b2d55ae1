//! The grid of a sweep: its points (built and validated by `check.rs`), runs in parallel, and
//! the tidy CSV (one row per run).
//!
//! Points are the product of the parameters' values, the first parameter varying slowest.
//! Each run is deterministic and single-threaded; rayon only spreads runs over cores, and the
//! rows come back in (point, seed) order, so the CSV does not depend on the worker count.

use super::{SweepError, SweepSpec};
use crate::runner::{self, Outcome, RunOptions};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use reports::stats::quantile;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One point of the grid.
#[derive(Clone, Debug)]
pub struct Point {
    /// Position in the grid (0-based).
    pub index: usize,
    /// `(path, value as written)` for every parameter, in the sweep's order.
    pub assignment: Vec<(String, String)>,
    /// The validated scenario.
    pub scenario: Scenario,
}

impl Point {
    /// `fanout=2, direction=Push`: the parameters' last path segments, leaving out `skip`.
    pub fn label(&self, skip: &[&str]) -> String {
        let parts: Vec<String> = self
            .assignment
            .iter()
            .filter(|(p, _)| !skip.contains(&p.as_str()))
            .map(|(p, v)| {
                format!(
                    "{}={}",
                    p.rsplit('.').next().unwrap_or(p),
                    v.replace('"', "")
                )
            })
            .collect();
        parts.join(", ")
    }
}

/// One finished run.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// Index of its point.
    pub point: usize,
    pub seed: u64,
    pub outcome: Outcome,
}

/// Runs every point with every seed, `jobs` workers (0: every core), with a progress bar on
/// a terminal and a plain line per tenth otherwise. Rows come back in (point, seed) order.
pub fn run_all(
    spec: &SweepSpec,
    points: &[Point],
    jobs: usize,
    show: bool,
) -> Result<Vec<RunRow>, SweepError> {
    let work: Vec<(usize, u64)> = points
        .iter()
        .flat_map(|p| (0..spec.seeds).map(move |s| (p.index, spec.first_seed + s)))
        .collect();
    let total = work.len();
    let bar = (show && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} runs {per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let plain = show && bar.is_none();
    let done = AtomicUsize::new(0);
    let pool = crate::cli::worker_pool(jobs).map_err(SweepError)?;
    let rows = pool.install(|| {
        work.par_iter()
            .map(|&(point, seed)| {
                let p = &points[point];
                let file = format!("{} [point {point}]", spec.base);
                let opts = RunOptions {
                    seed: Some(seed),
                    ..Default::default()
                };
                let outcome = runner::run(&file, &p.scenario, &opts);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(bar) = &bar {
                    bar.inc(1);
                } else if plain && (n * 10 / total != (n - 1) * 10 / total || n == total) {
                    eprintln!("sweep: {n}/{total} runs");
                }
                RunRow {
                    point,
                    seed,
                    outcome,
                }
            })
            .collect::<Vec<_>>()
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(rows)
}

/// A parameter value for the CSV: a plain string literal loses its RON quotes (`"300ms"` is
/// `300ms`); anything else stays as written.
fn plain(v: &str) -> String {
    match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => inner.to_string(),
        _ => v.to_string(),
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The statistics a sample series contributes to the CSV, in column order.
pub const SUMMARY_STATS: [&str; 6] = ["count", "mean", "min", "p50", "p90", "max"];

/// The CSV's header: `point`, the parameters' paths, `seed`, `verdict`, `matched`, `events`,
/// `virtual_time_ms`, then every metric the runs reported in name order (counters as one
/// column, sample series as `<name>.<stat>` for each of [`SUMMARY_STATS`]).
pub fn csv_header(spec: &SweepSpec, rows: &[RunRow]) -> Vec<String> {
    let mut head = vec!["point".to_string()];
    head.extend(spec.params.iter().map(|p| p.path.clone()));
    head.extend(["seed", "verdict", "matched", "events", "virtual_time_ms"].map(String::from));
    head.extend(metric_columns(rows));
    head
}

fn metric_columns(rows: &[RunRow]) -> Vec<String> {
    let mut cols = BTreeSet::new();
    for r in rows {
        // Sample series come from the full series, so a series has the same columns whether
        // a run recorded one sample or many.
        for k in r.outcome.samples.keys() {
            cols.extend(SUMMARY_STATS.iter().map(|s| format!("{k}.{s}")));
        }
        cols.extend(
            r.outcome
                .metrics
                .keys()
                .filter(|k| !r.outcome.samples.contains_key(*k))
                .cloned(),
        );
    }
    cols.into_iter().collect()
}

/// A metric column's value in a run ("" when the run did not report it).
fn metric_value(o: &Outcome, col: &str) -> String {
    if let Some((name, stat)) = col.rsplit_once('.')
        && let Some(series) = o.samples.get(name)
    {
        let mut v: Vec<f64> = series
            .iter()
            .map(|p| p.1)
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            return String::new();
        }
        v.sort_by(f64::total_cmp);
        let x = match stat {
            "count" => return v.len().to_string(),
            "mean" => v.iter().sum::<f64>() / v.len() as f64,
            "min" => v[0],
            "p50" => quantile(&v, 0.5),
            "p90" => quantile(&v, 0.9),
            _ => v[v.len() - 1],
        };
        return format!("{x}");
    }
    if o.samples.contains_key(col) {
        return String::new();
    }
    o.metrics.get(col).map_or(String::new(), |v| v.to_string())
}

/// Writes the tidy CSV: one row per run.
pub fn write_csv(
    path: &Path,
    spec: &SweepSpec,
    points: &[Point],
    rows: &[RunRow],
) -> Result<(), SweepError> {
    let head = csv_header(spec, rows);
    let metrics = metric_columns(rows);
    let mut out = head.iter().map(|h| field(h)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        let o = &r.outcome;
        let mut cells = vec![r.point.to_string()];
        cells.extend(
            points[r.point]
                .assignment
                .iter()
                .map(|(_, v)| field(&plain(v))),
        );
        cells.extend([
            r.seed.to_string(),
            o.verdict.to_string(),
            o.matched.to_string(),
            o.events.to_string(),
            format!("{}", o.virtual_time_ns as f64 / 1e6),
        ]);
        cells.extend(metrics.iter().map(|c| metric_value(o, c)));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    crate::io::write_file(path, out.as_bytes()).map_err(SweepError)
}
