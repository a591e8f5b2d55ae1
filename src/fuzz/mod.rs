//! `faultline fuzz` and `faultline shrink`: many seeds of one scenario in parallel, failures
//! saved as scenario files that replay exactly, then shrunk.
//!
//! - [`bench`]: `faultline bench --fuzz` (seeds per second, time to first failure);
//! - [`campaign`]: the seed loop (rayon across seeds), failure files, the summary;
//! - [`shrink`]: ddmin over the fault list, then fewer nodes, a shorter run, fewer clients;
//! - [`pin`]: a run's role targets (`Leader`, `Crashed`...) rewritten as the nodes they hit;
//! - [`swarm`]: per-seed knobs drawn within the scenario's `swarm:` ranges;
//! - [`coverage`]: coverage points over a campaign; [`guided`]: `--guided` campaigns
//!   ([`guided_bench`] races them against random ones);
//! - [`healed`]: whether a run ends with every fault recovered (shrinking liveness failures);
//! - [`junit`]: JUnit XML for CI; [`progress`]: the bar or progress lines;
//! - [`targets`]: the known-bug campaigns the tests and `faultline bench --fuzz` run.
//!
//! Exit codes follow `cli`: 0 no failure found (or shrink succeeded), 1 failures found,
//! 2 bad input or usage. `docs/fuzzing.md` documents seed ranges and sharding.

pub mod bench;
pub mod campaign;
pub mod coverage;
pub mod guided;
pub mod guided_bench;
pub mod healed;
pub mod junit;
pub mod pin;
pub mod progress;
pub mod report;
pub mod shrink;
pub mod swarm;
pub mod targets;
pub mod tidy;

use crate::cli::{EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK};
use crate::scenario;
use campaign::{CampaignConfig, Shard};
use protocols::family::Registry;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `faultline fuzz`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..1000 --out failures/\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..100000 --shard 3/8 --jobs 4 --budget 1h --junit fuzz.xml\n\nSeeds A..B run A up to B-1 (A..=B includes B). --shard i/n is 0-based (0 <= i < n): shard i runs the\nseeds whose offset from A is i modulo n, so shards 0/n .. n-1/n together run the range exactly once.\nFailures are saved as <stem>.seed<N>.ron in --out and shrunk into <stem>.seed<N>.shrunk.ron.\nExit codes: 0 no failure found, 1 failures found, 2 bad input or usage."
)]
pub struct FuzzArgs {
    /// The scenario file (usually with a `nemesis:` section).
    pub file: PathBuf,
    /// Seed range: A..B (B excluded) or A..=B.
    #[arg(long, value_name = "A..B", value_parser = parse_seeds)]
    pub seeds: (u64, u64),
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = crate::cli::parse_jobs)]
    pub jobs: usize,
    /// Run only shard i of n (0-based): seeds whose offset from A is i modulo n.
    #[arg(long, value_name = "i/n", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Save failing seeds here as scenario files (and shrink them).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop starting new seeds after this much wall time ("10m").
    #[arg(long, value_name = "TIME", value_parser = parse_wall)]
    pub budget: Option<Duration>,
    /// Shrink at most this many saved failures, lowest seeds first (0: do not shrink).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub shrink: usize,
    /// Candidate runs per shrink, at most (see `faultline shrink --help`).
    #[arg(long, value_name = "N", default_value_t = shrink::DEFAULT_MAX_RUNS)]
    pub shrink_runs: usize,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Stop after this many failing seeds (the first ones in seed order are reported, whatever
    /// the number of threads).
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub max_failures: Option<usize>,
    /// Stop at the first failing seed (the same as --max-failures 1).
    #[arg(long, conflicts_with = "max_failures")]
    pub fail_fast: bool,
    /// Run P% of the seeds (0-100, chosen by seed) a second time and report any difference
    /// as a `nondeterministic` failure naming the first event where the runs diverge
    /// (FoundationDB re-runs about 5%).
    #[arg(long, value_name = "P", value_parser = parse_percent)]
    pub check_determinism: Option<u32>,
    /// Coverage-guided: keep the runs that reached new coverage points (or a point a new
    /// number of times) and spend half the runs mutating them — adding, dropping, moving or
    /// retargeting a fault, redrawing a swarm knob or the seed — instead of drawing fresh
    /// seeds. The range's length is the number of runs; its seeds are the fresh ones, in
    /// order. The same arguments give the same campaign whatever --jobs is.
    #[arg(long, conflicts_with = "shard")]
    pub guided: bool,
    /// Print the summary as one JSON object (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// The `faultline fuzz` command line: [`FuzzArgs`] and `--report` (kept apart so that code
/// building a [`FuzzArgs`] for [`cmd_fuzz`] is unchanged).
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..1000 --out failures/\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..100000 --shard 3/8 --jobs 4 --budget 1h --junit fuzz.xml\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..1000 --out failures/ --report report/\n\nSeeds A..B run A up to B-1 (A..=B includes B). --shard i/n is 0-based (0 <= i < n): shard i runs the\nseeds whose offset from A is i modulo n, so shards 0/n .. n-1/n together run the range exactly once.\nFailures are saved as <stem>.seed<N>.ron in --out and shrunk into <stem>.seed<N>.shrunk.ron.\nExit codes: 0 no failure found, 1 failures found, 2 bad input or usage."
)]
pub struct FuzzCommand {
    #[command(flatten)]
    pub args: FuzzArgs,
    /// Write a self-contained HTML report of the campaign to DIR/report.html: the summary,
    /// failures grouped by signature with their counts and first seeds, and for each group
    /// its shrunk reproducer (text inline, linked) with the Lamport diagram of its last
    /// events. Reproducers exist only with --out; without it the report is the summary.
    /// It opens offline in any browser (inline SVG and style, no script).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

/// `faultline shrink`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  faultline shrink failures/nemesis.seed17.ron\n  faultline shrink failures/nemesis.seed17.ron --out small.ron --max-runs 1000\n\nThe file must fail when run with its own seed. Its nemesis is materialized and role targets\n(Leader, Crashed...) are pinned to the nodes they hit; then faults are removed (ddmin), then\nnodes, run length and client operations, keeping the same failure. If more than 4 faults are\nleft, the reductions run again accepting a candidate that fails with any of the --hop-seeds\nseeds after the file's (rare failures are too chaotic for one seed); the shrunk file keeps\nthe seed that failed.\nThe result goes to <name>.shrunk.ron beside the file, with a // header saying what was removed.\nExit codes: 0 shrunk, 1 the file does not fail (nothing to shrink), 2 bad input or usage."
)]
pub struct ShrinkArgs {
    /// A scenario file that fails with its own seed.
    pub file: PathBuf,
    /// Where to write the result (default: `<name>.shrunk.ron` beside the file).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Candidate runs at most.
    #[arg(long, value_name = "N", default_value_t = shrink::DEFAULT_MAX_RUNS)]
    pub max_runs: usize,
    /// When the failing seed alone leaves more than 4 faults, also try each candidate with
    /// the K seeds after the file's and keep the first that fails the same way (0: never).
    #[arg(long, value_name = "K", default_value_t = shrink::DEFAULT_HOP_SEEDS)]
    pub hop_seeds: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses `A..B` or `A..=B` into a half-open range.
pub fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected a seed range A..B or A..=B, such as 0..1000, got \"{s}\"");
    let (a, b, inclusive) = if let Some((a, b)) = s.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = s.split_once("..") {
        (a, b, false)
    } else {
        return Err(bad());
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive {
        b.checked_add(1).ok_or_else(bad)?
    } else {
        b
    };
    if end <= a {
        return Err(format!("the seed range {s} is empty"));
    }
    Ok((a, end))
}

/// Parses a 0-based `i/n` shard.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad =
        || format!("expected a shard i/n with 0 <= i < n (0-based), such as 0/4, got \"{s}\"");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u64 = i.trim().parse().map_err(|_| bad())?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn parse_percent(s: &str) -> Result<u32, String> {
    match s.trim().trim_end_matches('%').parse::<u32>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("expected a percentage from 0 to 100, got \"{s}\"")),
    }
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 1, got \"{s}\""
        )),
    }
}

fn parse_wall(s: &str) -> Result<Duration, String> {
    protocols::units::parse_duration(s)
}

/// Runs `faultline fuzz`; returns the exit code.
pub fn cmd_fuzz(registry: &Registry, args: &FuzzArgs) -> i32 {
    cmd_fuzz_report(registry, args, None)
}

/// Runs `faultline fuzz` and, with `report`, writes the campaign's HTML report into that
/// directory ([`crate::report::campaign`]); returns the exit code (2 if the report cannot be
/// written).
pub fn cmd_fuzz_report(registry: &Registry, args: &FuzzArgs, report_dir: Option<&Path>) -> i32 {
    // A report directory that cannot be made fails before the campaign runs.
    if let Some(dir) = report_dir
        && let Err(e) = crate::report::prepare_dir(dir)
    {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let scenario = match scenario::load_with(registry, &args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let cfg = CampaignConfig {
        registry: registry.clone(),
        file: args.file.clone(),
        scenario,
        start: args.seeds.0,
        end: args.seeds.1,
        shard: args.shard.unwrap_or(Shard::ALL),
        jobs: args.jobs,
        out: args.out.clone(),
        budget: args.budget,
        shrink: args.shrink,
        shrink_runs: args.shrink_runs,
        progress: !args.quiet,
        max_failures: if args.fail_fast {
            Some(1)
        } else {
            args.max_failures
        },
        check_determinism: args.check_determinism.unwrap_or(0),
        guided: args.guided,
    };
    let report = match campaign::run_campaign(&cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json {
        crate::say!(
            "{}",
            serde_json::to_string(&report).expect("reports serialize")
        );
    } else {
        crate::output::print_text(&campaign::summary_text(&report));
    }
    if let Some(path) = &args.junit
        && let Err(e) = campaign::write_atomic(path, &junit::junit_xml(&report))
    {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Some(dir) = report_dir {
        match crate::report::campaign::write(
            dir,
            registry,
            &args.file,
            &report,
            args.out.as_deref(),
        ) {
            Ok(page) if !args.json => crate::say!("  report: {}", page.display()),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: cannot write the report into {}: {e}", dir.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    if report.failed() {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}

/// Runs `faultline shrink`; returns the exit code.
pub fn cmd_shrink(registry: &Registry, args: &ShrinkArgs) -> i32 {
    let s = match scenario::load_with(registry, &args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let name = args.file.display().to_string();
    let shrunk = match shrink::shrink(
        registry,
        &name,
        &s,
        shrink::ShrinkOptions {
            max_runs: args.max_runs,
            hop_seeds: args.hop_seeds,
        },
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_MISMATCH;
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| campaign::shrunk_path(&args.file));
    if let Err(e) = campaign::write_atomic(&out, &shrunk.file_text(&name)) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let diagram = match crate::trace::write_failure_diagram(&out, &shrunk.scenario) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json {
        let v = serde_json::json!({
            "file": name,
            "shrunk": out.display().to_string(),
            "fails_with": shrunk.key,
            "faults_before": shrunk.faults_before,
            "faults_after": shrunk.faults_after,
            "nodes": shrunk.scenario.nodes,
            "removed": shrunk.removed,
            "runs": shrunk.runs,
            "trace_hash": shrunk.outcome.trace_hash,
            "diagram": diagram.display().to_string(),
        });
        crate::say!("{v}");
    } else {
        crate::say!(
            "shrunk {name} -> {}: still fails with {}; faults {} -> {}{} ({} runs)\n  replay: {} run {}\n  diagram: {} (the last {} events before the violation)",
            out.display(),
            shrunk.key,
            shrunk.faults_before,
            shrunk.faults_after,
            shrunk
                .removed
                .iter()
                .map(|r| format!("; {r}"))
                .collect::<String>(),
            shrunk.runs,
            crate::cli::program(),
            out.display(),
            diagram.display(),
            crate::trace::FAILURE_DIAGRAM_EVENTS
        );
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards_parse_and_reject_nonsense() {
        assert_eq!(parse_seeds("0..1000"), Ok((0, 1000)));
        assert_eq!(parse_seeds("5..=5"), Ok((5, 6)));
        for bad in [
            "",
            "10..5",
            "5..5",
            "a..b",
            "0-10",
            "1..=18446744073709551615",
        ] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_shard("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(parse_shard("3/4"), Ok(Shard { index: 3, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
