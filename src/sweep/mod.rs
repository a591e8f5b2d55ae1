//! `faultline sweep FILE`: one scenario run over a grid of parameters and seeds, written out
//! as a tidy CSV, charts (PNG and SVG) and an index.
//!
//! A sweep file (RON, documented in `docs/sweeps.md`) names a base scenario, the parameters
//! to vary as paths into the scenario (`protocol.fanout`, `nodes`) with their values, how many
//! seeds each point gets, and which charts to draw ([`PlotKind`]). Before anything runs,
//! [`check::load`] checks the whole sweep — the file, the base scenario, every path, every
//! chart against the family, every point — with errors located in the sweep file; every point
//! is built by editing the base scenario's serialized form ([`tree`]) and parsing the result
//! with `scenario::parse_with`, so a point is validated exactly like a scenario file.
//! `faultline check FILE.sweep` runs the same checks ([`check()`], each value once). Runs go in
//! parallel across cores ([`grid`]); each run is single-threaded and deterministic, so the CSV
//! is the same whatever the number of workers.
//!
//! Files: `check.rs` (reading and checking a sweep, building its points), `tree.rs` (RON
//! with positions, paths, edits by path), `grid.rs` (parallel runs, the CSV), `plots.rs` (the
//! charts and the index), `run_plot.rs` (`faultline run --plot`).

pub mod check;
pub mod grid;
pub mod plots;
mod plots_kafka;
mod plots_swim;
pub mod run_plot;
pub mod tree;

pub use check::{CheckMode, Loaded, SweepFile, SweepSummary, check, load, read};
pub use grid::{Point, RunRow, run_all, write_csv};
pub use plots::{PlotKind, draw_plots, write_index};
pub use run_plot::plot_run;

use protocols::family::Registry;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// The largest number of runs one sweep may ask for (points × seeds).
pub const MAX_RUNS: usize = 100_000;

/// A sweep file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "Sweep", deny_unknown_fields)]
pub struct SweepSpec {
    /// A short title; chart titles start with it.
    pub name: String,
    /// What the sweep shows, in a sentence or two (copied into the index).
    #[serde(default)]
    pub about: String,
    /// The base scenario, relative to the sweep file.
    pub base: String,
    /// The parameters to vary; the grid is their product, in the order given.
    #[serde(default)]
    pub params: Vec<Param>,
    /// Seeds per point: `first_seed`, `first_seed + 1`, ...
    #[serde(default = "one")]
    pub seeds: u64,
    /// The first seed.
    #[serde(default = "one")]
    pub first_seed: u64,
    /// The charts to draw.
    #[serde(default)]
    pub plots: Vec<PlotKind>,
}

fn one() -> u64 {
    1
}

/// One parameter: a path into the scenario and the values it takes, written as they would
/// be in the scenario file (`Push`, `1000`, `("100ms", "200ms")`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Dotted field names from the scenario's top level, each followed by any number of list
    /// indices; a variant such as `Gossip(..)` or `Some(..)` on the way is looked through:
    /// `protocol.fanout`, `network.latency`, `nodes`, `faults[0].at`, `checks[2]`.
    pub path: String,
    /// The values, in the order they are run and plotted.
    pub values: Vec<Box<ron::value::RawValue>>,
}

/// A sweep that could not be read, built or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepError(pub String);

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SweepError {}

/// Parses a sweep file's text and checks what the file alone can say (see [`check::read`]);
/// `file` is only used in error messages, which give its line and column.
pub fn parse(file: &str, text: &str) -> Result<SweepSpec, SweepError> {
    read(file, text, None).map(|f| f.spec)
}

/// `faultline sweep` options.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// The sweep file.
    pub file: PathBuf,
    /// Where the CSV, the charts and index.md go (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = crate::cli::parse_jobs)]
    pub jobs: usize,
    /// Override the number of seeds per point.
    #[arg(long)]
    pub seeds: Option<u64>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs a sweep: builds and validates every point, runs them all, writes `runs.csv`, the
/// charts and `index.md` into `--out`. Exit code 0 when everything was written (whatever the
/// verdicts: a sweep measures, and the CSV says which runs matched), 2 for bad input or an
/// unwritable directory.
pub fn cmd_sweep(registry: &Registry, args: &SweepArgs) -> i32 {
    match sweep(registry, args) {
        Ok(summary) => {
            println!("{summary}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// [`cmd_sweep`]'s work; returns the summary line. Everything is checked first
/// ([`check::load`], every point): a sweep that is not valid runs nothing and writes nothing.
pub fn sweep(registry: &Registry, args: &SweepArgs) -> Result<String, SweepError> {
    let file = args.file.display().to_string();
    let loaded = load(registry, &args.file, CheckMode::Full, args.seeds)?;
    let spec = &loaded.file.spec;
    let points = &loaded.points;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| SweepError(format!("{}: {e}", args.out.display())))?;
    let rows = run_all(spec, points, args.jobs, !args.quiet)?;
    let csv = args.out.join("runs.csv");
    write_csv(&csv, spec, points, &rows)?;
    let charts = draw_plots(&args.out, spec, points, &rows)?;
    write_index(
        &args.out.join("index.md"),
        &file,
        spec,
        points,
        &rows,
        &charts,
    )?;
    let matched = rows.iter().filter(|r| r.outcome.matched).count();
    Ok(format!(
        "sweep \"{}\": {} points x {} seeds = {} runs ({matched} matched their expectation); wrote {}, {} chart(s) and {}",
        spec.name,
        points.len(),
        spec.seeds,
        rows.len(),
        csv.display(),
        charts.len(),
        args.out.join("index.md").display()
    ))
}
