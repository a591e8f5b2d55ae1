//! The command line: `run`, `check`, `fuzz`, `shrink`, `sweep`, `list`, `bench`, for the
//! families of a registry.
//!
//! [`Cli`] is the whole command line as a library: `faultline::Cli::new().family(MyFamily).run()`
//! in a user's `main` gives every subcommand for scenario files of that family, next to the
//! built-in ones. The `faultline` binary is `Cli::new().run()`.
//!
//! Exit codes: 0 when every run matched its scenario's expectation (or every file is valid);
//! 1 when a run did not; 2 for bad input or usage (a scenario that does not parse or validate,
//! a missing file, an unknown flag).

use crate::output;
use crate::runner::{self, RunOptions};
use crate::scenario::nemesis::NemesisKind;
use crate::scenario::{self, Scenario};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use protocols::family::{Family, Registry};
use protocols::units::Dur;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The name of the running command line (`faultline`, or what [`Cli::name`] set), for the
/// replay commands printed in reports and written into failure files.
static PROGRAM: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// The running command line's name: `faultline` unless a [`Cli`] was named otherwise.
pub fn program() -> String {
    PROGRAM
        .read()
        .ok()
        .and_then(|p| p.clone())
        .unwrap_or_else(|| "faultline".to_string())
}

/// Every run matched its expectation.
pub const EXIT_OK: i32 = 0;
/// A run did not match its expectation.
pub const EXIT_MISMATCH: i32 = 1;
/// Bad input or usage.
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    about = "Deterministic simulation testbed for distributed protocols",
    long_about = "Deterministic simulation testbed for distributed protocols.\n\n\
        faultline runs Raft, gossip and primary/backup failover in a single-threaded \
        discrete-event simulator with a virtual network and virtual clocks, injects \
        partitions, delays, crashes and clock faults from replayable scenario files (RON), \
        and checks the invariants each protocol must hold. Same scenario + same seed = same \
        trace hash, always.",
    after_help = "Examples:\n  faultline run scenarios/raft/leader_crash.ron\n  faultline run scenarios/ --json\n  faultline check scenarios/\n  faultline fuzz scenarios/raft/nemesis.ron --seeds 0..1000 --out failures/\n  faultline shrink failures/nemesis.seed17.ron\n  faultline trace out.jsonl --perfetto out.json --lamport out.svg\n  faultline sweep scenarios/sweeps/convergence.sweep --out out/convergence\n  faultline list\n\nExit codes: 0 all runs matched their expectation, 1 a run did not, 2 bad input or usage."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenario files (or every .ron file under a directory) and judge each run.
    #[command(
        after_help = "Examples:\n  faultline run scenarios/raft/leader_crash.ron\n  faultline run scenarios/raft/leader_crash.ron --seed 42 --trace out.jsonl\n  faultline run scenarios/raft/leader_crash.ron --plot out/plots\n  faultline run scenarios/raft/bug_forget_vote.ron --report out/report   (open out/report/report.html)\n  faultline run scenarios/ --json > results.jsonl\n\nHuman output starts with a seed banner: SEED=<seed> scenario=\"<name>\" config=<hash>.\nTo replay a run exactly, pass the same file and --seed."
    )]
    Run {
        /// Scenario files or directories.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the trace as JSON lines (with several files, each file's path below their
        /// common folder is inserted: `run scenarios/ --trace t.jsonl` writes
        /// t.raft.nemesis.jsonl, t.gossip.nemesis.jsonl, ...).
        #[arg(long, value_name = "OUT.jsonl")]
        trace: Option<PathBuf>,
        /// Write the clients' history (every invocation and completion) for other checkers:
        /// `.edn` as Jepsen EDN (Knossos, Elle), `.jsonl` as JSON lines (Porcupine and
        /// scripts); several files are named as with --trace. Protocols without KV clients
        /// write nothing.
        #[arg(long, value_name = "OUT.edn|OUT.jsonl", value_parser = parse_history_path)]
        history: Option<PathBuf>,
        /// Print one JSON object per run instead of text.
        #[arg(long)]
        json: bool,
        /// Draw each run's time series (metrics, client operations by outcome, leader over
        /// time, messages per second) as PNG
        /// and SVG, each with a CSV of the series drawn, into DIR (with several files, one subdirectory per file, named like the
        /// traces: DIR/raft.nemesis/).
        #[arg(long, value_name = "DIR")]
        plot: Option<PathBuf>,
        /// Write a self-contained HTML report of each run to DIR/report.html (with several
        /// files, DIR/<label>/report.html, labels as with --trace): verdict and violation,
        /// fault and client-operation timelines, charts, the Lamport diagram before the
        /// violation, the scenario's text, and links to the trace (JSON lines, Perfetto,
        /// ShiViz), the history (EDN, JSON lines) and the charts' CSVs, written beside it.
        /// It opens offline in any browser (inline SVG and style, no script).
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Stop any run that takes longer than this in real time ("30s"); it is reported as
        /// stalled (and an end-of-run check that runs out of the time left, as unknown).
        #[arg(long, value_name = "DURATION", value_parser = parse_max_wall)]
        max_wall: Option<Dur>,
        /// Run each scenario twice more with traces recorded and fail if the runs differ,
        /// naming the first event where they diverge.
        #[arg(long)]
        check_determinism: bool,
    },
    /// Run a scenario's nemesis over many seeds in parallel; save, shrink and report failures.
    Fuzz(crate::fuzz::FuzzCommand),
    /// Shrink a failing scenario file: fewer faults, nodes, run time and client operations.
    Shrink(crate::fuzz::ShrinkArgs),
    /// Check a recorded trace against its schema, summarise it, or convert it: Perfetto
    /// (Chrome trace JSON), ShiViz log, Lamport diagram (SVG).
    Trace(crate::trace::cli::TraceArgs),
    /// Run a scenario over a grid of parameters and seeds: a CSV, charts (PNG, SVG) and index.md.
    #[command(
        after_help = "Example:\n  faultline sweep scenarios/sweeps/convergence.sweep --out out/convergence\n\nThe sweep file format is in docs/sweeps.md."
    )]
    Sweep(crate::sweep::SweepArgs),
    /// Validate scenario files (and sweep files, `.sweep`) without running them.
    #[command(
        after_help = "Examples:\n  faultline check scenarios/raft/leader_crash.ron\n  faultline check scenarios/\n\nEach error names the file, line and column and what was expected; exit code 2 if any file is invalid."
    )]
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List protocols (with their config fields and defaults), invariants, fault kinds,
    /// targets, latency distributions and nemesis fault kinds.
    #[command(after_help = "Example:\n  faultline list")]
    List,
    /// Measure the engine: events per second against a bare binary-heap event loop doing the
    /// same work (same run, best of several), Raft's messages per committed entry, and
    /// optionally gossip at scale and fuzzing.
    #[command(
        after_help = "Examples:\n  faultline bench\n  faultline bench --json\n  faultline bench --gossip-nodes 100000 --gossip-nodes 1000000\n  faultline bench --swim-members 10000\n  faultline bench --fuzz --fuzz-seeds 2000\n  faultline bench --linearizability --events 100000 --repeats 1\n\nThe ratio engine/baseline is the fraction of a plain BinaryHeap loop's speed the engine reaches (target >= 0.8).\nRaft replication: 5 servers, puts only, at 1x5, 4x50, 4x500 and 16x500 clients x ops/s, without batching\n(one entry per message: 2(n-1) = 8 messages per entry when nothing is resent) and with it (the default 64).\nGossip runs spread one update by push-pull anti-entropy to every node and report wall time and peak memory.\nSWIM runs 60 s of a LAN pool with Lifeguard and two crashes, and report wall time, memory and messages per member.\n--fuzz runs seeds of scenarios/raft/nemesis.ron (5 nodes, 10 s virtual) on every core for seeds/s, then up to 500\nof them on one core, split into setup, events (the run without checks), checkers and report, then\neach known bug's campaign from seed 0 until its first failure (time to first failure).\n--guided races random against coverage-guided campaigns on the rare known bugs (runs to first failure).\n--linearizability runs scenarios/raft/bench_kv_60s.ron once without its Linearizable check, then times the\ncheck of its history alone (best of 3, no step limit): the steps it takes are the check_budget it needs.\nWith --json, each measurement is under its own key: \"raft_replication\", \"gossip\", \"swim\", \"fuzz\", \"guided\", \"linearizability\"."
    )]
    Bench {
        /// Events per run.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Runs per side; the best is kept (the machine may be noisy).
        #[arg(long, default_value_t = 7)]
        repeats: u32,
        /// Also spread a gossip update to this many nodes (repeatable).
        #[arg(long, value_name = "N")]
        gossip_nodes: Vec<usize>,
        /// Also run a SWIM pool of this many members for 60 s of virtual time (repeatable).
        #[arg(long, value_name = "N")]
        swim_members: Vec<usize>,
        /// Also measure fuzzing: seeds per second on scenarios/raft/nemesis.ron, and the time
        /// to the first failure of every known bug's campaign.
        #[arg(long)]
        fuzz: bool,
        /// Seeds for the fuzzing throughput.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        fuzz_seeds: u64,
        /// Also race random against coverage-guided campaigns: runs (and wall time) to the
        /// first failure of every rare known bug (campaign budget >= 500 seeds) and of the
        /// rarer bugs on the deep nemesis scenarios, over --campaigns campaigns each (at most
        /// 40,000 runs per campaign).
        #[arg(long)]
        guided: bool,
        /// Campaigns per bug and mode for --guided.
        #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
        campaigns: u64,
        /// With --guided: only the bugs whose name contains this ("CommitPreviousTerm").
        #[arg(long, value_name = "NAME", requires = "guided")]
        bug: Option<String>,
        /// Also time the linearizability checker on the history of
        /// scenarios/raft/bench_kv_60s.ron (5 nodes, 60 s, 32 clients, about 10^5 operations):
        /// ops, keys, wall time of the check alone and the step budget it needs, and the same
        /// with one stale read planted.
        #[arg(long)]
        linearizability: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn parse_max_wall(s: &str) -> Result<Dur, String> {
    let d = protocols::units::parse_duration(s).map(Dur)?;
    protocols::limits::duration("--max-wall", d, std::time::Duration::from_millis(1))
        .map_err(|e| format!("{e}; leave it out for no limit"))?;
    Ok(d)
}

/// The most worker threads `--jobs` accepts: beyond it a thread pool is only memory.
pub const MAX_JOBS: usize = 1024;

/// Parses `--jobs N`: 0 (one per core) to [`MAX_JOBS`].
pub(crate) fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n <= MAX_JOBS => Ok(n),
        _ => Err(format!(
            "expected a number of threads from 1 to {MAX_JOBS} (0: one per core), got \"{s}\""
        )),
    }
}

/// The worker pool for `--jobs N` (0: one per core). Runs are single-threaded and CPU-bound,
/// so threads beyond four per core only cost memory (a stack and an allocator arena each, which
/// under `ulimit -v` can abort the process while a thread starts): the pool is capped there,
/// with a note on stderr.
pub(crate) fn worker_pool(jobs: usize) -> Result<rayon::ThreadPool, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = (4 * cores).min(MAX_JOBS);
    let threads = if jobs > cap {
        eprintln!("note: --jobs {jobs} on {cores} cores: using {cap} worker threads (4 per core)");
        cap
    } else {
        jobs
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} worker threads: {e}"))
}

/// The command line for the families of a registry.
///
/// ```no_run
/// use faultline::Cli;
///
/// // In a user's crate: `Cli::new().family(MyFamily).run()` gives the whole command line for
/// // scenario files of `MyFamily`, next to the built-in families.
/// fn main() -> std::process::ExitCode {
///     Cli::new().run()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Cli {
    registry: Registry,
    name: Option<String>,
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    /// The command line with the built-in families (Raft, gossip, failover).
    pub fn new() -> Cli {
        Cli {
            registry: protocols::builtin(),
            name: None,
        }
    }

    /// The command line with no family at all (add yours with [`Cli::family`]).
    pub fn empty() -> Cli {
        Cli {
            registry: Registry::new(),
            name: None,
        }
    }

    /// Adds a family: scenario files may then say `protocol: <its name>((...))`. Panics if a
    /// family of that name is already registered.
    pub fn family(mut self, family: impl Family) -> Cli {
        self.registry.add(family);
        self
    }

    /// The program name shown in `--help` and in the replay commands of reports and failure
    /// files (default: `faultline`).
    pub fn name(mut self, name: impl Into<String>) -> Cli {
        self.name = Some(name.into());
        self
    }

    /// The families this command line knows.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Parses the process's arguments, runs the command and returns its exit code.
    pub fn run(self) -> ExitCode {
        let code = self.run_with(std::env::args_os());
        ExitCode::from(u8::try_from(code).unwrap_or(EXIT_BAD_INPUT as u8))
    }

    /// Runs the command given by `args` (the first is the program name); returns the exit
    /// code (see the module docs).
    pub fn run_with<I, T>(self, args: I) -> i32
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = Args::command();
        if let Some(name) = &self.name {
            command = command.name(name.clone()).bin_name(name.clone());
        }
        if let Ok(mut p) = PROGRAM.write() {
            *p = self.name.clone();
        }
        let parsed = command
            .try_get_matches_from(args)
            .and_then(|m| Args::from_arg_matches(&m));
        let args = match parsed {
            Ok(a) => a,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    EXIT_BAD_INPUT
                } else {
                    EXIT_OK
                };
            }
        };
        let registry = &self.registry;
        match args.command {
            Command::Run {
                files,
                seed,
                trace,
                history,
                json,
                plot,
                report,
                max_wall,
                check_determinism,
            } => cmd_run(
                registry,
                RunArgs {
                    files: &files,
                    seed,
                    trace: trace.as_deref(),
                    history: history.as_deref(),
                    plot: plot.as_deref(),
                    report: report.as_deref(),
                    json,
                    max_wall,
                    check_determinism,
                },
            ),
            Command::Check { files } => cmd_check(registry, &files),
            Command::Fuzz(a) => {
                crate::fuzz::cmd_fuzz_report(registry, &a.args, a.report.as_deref())
            }
            Command::Sweep(a) => crate::sweep::cmd_sweep(registry, &a),
            Command::Shrink(a) => crate::fuzz::cmd_shrink(registry, &a),
            Command::Trace(a) => crate::trace::cli::cmd_trace(&a),
            Command::Bench {
                events,
                repeats,
                gossip_nodes,
                swim_members,
                fuzz,
                fuzz_seeds,
                guided,
                campaigns,
                bug,
                linearizability,
                json,
            } => cmd_bench(
                events,
                repeats,
                Scales {
                    gossip_nodes: &gossip_nodes,
                    swim_members: &swim_members,
                },
                fuzz.then_some(fuzz_seeds),
                guided.then_some((campaigns, bug)),
                linearizability,
                json,
            ),
            Command::List => {
                crate::output::print_text(&list_text(registry));
                EXIT_OK
            }
        }
    }
}

/// Runs the `faultline` command line (the built-in families) on the process's arguments;
/// returns the exit code.
pub fn main() -> i32 {
    Cli::new().run_with(std::env::args_os())
}

/// Expands directories into the `.ron` files under them (sorted; symbolic links followed,
/// each real directory once, see [`crate::io::scan`]); files are kept as given.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    for p in paths {
        if p.is_dir() {
            let found = crate::io::scan(p, "ron")?;
            if found.is_empty() {
                return Err(format!("{}: no .ron files in this directory", p.display()));
            }
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

/// Loads every file, reporting every invalid one; `None` if any failed.
fn load_all(registry: &Registry, files: &[PathBuf]) -> Option<Vec<(PathBuf, Scenario)>> {
    let paths = match expand(files) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let mut ok = true;
    let mut out = vec![];
    for p in paths {
        match scenario::load_with(registry, &p) {
            Ok(s) => out.push((p, s)),
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// `faultline check`: scenario files, and sweep files (`.sweep`), named or found under
/// directories; every invalid one is reported.
fn cmd_check(registry: &Registry, files: &[PathBuf]) -> i32 {
    let (sweeps, scenarios): (Vec<PathBuf>, Vec<PathBuf>) = files
        .iter()
        .cloned()
        .partition(|p| p.extension().is_some_and(|e| e == "sweep"));
    let mut sweeps = sweeps;
    for dir in scenarios.iter().filter(|p| p.is_dir()) {
        match crate::io::scan(dir, "sweep") {
            Ok(found) => sweeps.extend(found),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let mut ok = true;
    if !scenarios.is_empty() {
        match load_all(registry, &scenarios) {
            Some(all) => {
                for (p, s) in &all {
                    crate::say!(
                        "ok: {} ({})",
                        output::printable(&p.display().to_string()),
                        output::printable(&s.name)
                    );
                }
            }
            None => ok = false,
        }
    }
    for p in &sweeps {
        match crate::sweep::check(registry, p, crate::sweep::CheckMode::Quick) {
            Ok(summary) => crate::say!(
                "ok: {} ({summary})",
                output::printable(&p.display().to_string())
            ),
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
            }
        }
    }
    if ok { EXIT_OK } else { EXIT_BAD_INPUT }
}

/// What `faultline run` was asked to do.
struct RunArgs<'a> {
    files: &'a [PathBuf],
    seed: Option<u64>,
    trace: Option<&'a Path>,
    history: Option<&'a Path>,
    plot: Option<&'a Path>,
    report: Option<&'a Path>,
    json: bool,
    max_wall: Option<Dur>,
    check_determinism: bool,
}

/// A short label per file, unique among `paths`: the path below their common directory, with
/// `.` for `/` and without `.ron` (`raft.nemesis` for `scenarios/raft/nemesis.ron`), so the
/// outputs of several runs never overwrite one another.
fn labels(paths: &[PathBuf]) -> Vec<String> {
    let parts: Vec<Vec<String>> = paths
        .iter()
        .map(|p| {
            p.with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .collect();
    let common = (0..)
        .take_while(|&i| {
            parts
                .iter()
                .all(|p| i + 1 < p.len() && p.get(i) == parts[0].get(i))
        })
        .count();
    parts
        .iter()
        .map(|p| {
            p[common..]
                .iter()
                .map(|c| output::file_safe(c))
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// `--history OUT`: the extension says the format ([`crate::io::history_format`]).
fn parse_history_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    crate::io::history_format(&path).map(|_| path)
}

/// The trace path for one of several scenarios: `out.jsonl` → `out.<label>.jsonl`.
fn trace_path(base: &Path, label: &str, many: bool) -> PathBuf {
    if !many {
        return base.to_path_buf();
    }
    let base_stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = base
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "jsonl".into());
    base.with_file_name(format!("{base_stem}.{label}.{ext}"))
}

fn cmd_run(registry: &Registry, a: RunArgs<'_>) -> i32 {
    let Some(all) = load_all(registry, a.files) else {
        return EXIT_BAD_INPUT;
    };
    // A report directory that cannot be made fails before anything runs.
    if let Some(dir) = a.report
        && let Err(e) = crate::report::prepare_dir(dir)
    {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    // The leader-over-time and message-rate charts are drawn from the recorded trace.
    let opts = RunOptions {
        seed: a.seed,
        record_trace: a.trace.is_some() || a.plot.is_some() || a.report.is_some(),
        max_wall: a.max_wall,
        progress: !a.json,
        // The operations chart is drawn from the clients' history.
        history: a.history.is_some() || a.plot.is_some() || a.report.is_some(),
    };
    let many = all.len() > 1;
    let paths: Vec<PathBuf> = all.iter().map(|(p, _)| p.clone()).collect();
    let labels = labels(&paths);
    let mut mismatches = 0;
    let mut index = Vec::new();
    for ((path, s), label) in all.iter().zip(&labels) {
        let file = path.display().to_string();
        if !a.json {
            // The banner goes out before the run, so a run that hangs or crashes still says
            // which seed to replay.
            let config = format!("{:016x}", s.config_hash());
            crate::say!(
                "{}",
                output::banner(a.seed.unwrap_or(s.seed), &s.name, &config, &file)
            );
        }
        let mut outcome = runner::run(&file, s, &opts);
        if a.check_determinism {
            let seed = a.seed.unwrap_or(s.seed);
            if let Err(d) = runner::check_determinism(&file, s, seed) {
                outcome.matched = false;
                outcome.nondeterministic = Some(d);
            }
        }
        outcome.replay_note = crate::io::read_text(path)
            .ok()
            .and_then(|text| output::replay_note(&text, &outcome));
        if !outcome.matched {
            mismatches += 1;
        }
        if a.json {
            crate::say!("{}", output::json_line(&outcome));
        } else {
            crate::output::print_text(&output::human(&outcome));
        }
        if let Some(base) = a.trace {
            let out = trace_path(base, label, many);
            let header = crate::trace::header(s, &outcome);
            if let Err(e) = crate::trace::write(&out, &header, &outcome.trace) {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
            if !a.json {
                crate::say!(
                    "  trace: {} ({} events, {} records)",
                    out.display(),
                    outcome.events,
                    outcome.trace.len()
                );
            }
        }
        if let Some(base) = a.history {
            let out = trace_path(base, label, many);
            let format = crate::io::history_format(base).expect("checked when parsed");
            if let Some((_, text)) = outcome.exports.iter().find(|(f, _)| *f == format) {
                if let Err(e) = crate::io::write_file(&out, text.as_bytes()) {
                    eprintln!("error: {e}");
                    return EXIT_BAD_INPUT;
                }
                if !a.json {
                    crate::say!(
                        "  history: {} ({} lines)",
                        out.display(),
                        text.lines().count()
                    );
                }
            } else if !a.json {
                crate::say!("  history: none (this protocol's workload has no client history)");
            }
        }
        if let Some(dir) = a.plot {
            let dir = if many {
                dir.join(label)
            } else {
                dir.to_path_buf()
            };
            if let Err(e) = crate::sweep::plot_run(&dir, s, &outcome) {
                eprintln!("error: cannot draw the plots into {}: {e}", dir.display());
                return EXIT_BAD_INPUT;
            }
            if !a.json {
                crate::say!("  plots: {}", dir.display());
            }
        }
        if let Some(dir) = a.report {
            let dir = if many {
                dir.join(label)
            } else {
                dir.to_path_buf()
            };
            match crate::report::run::write(&dir, path, s, &outcome) {
                Ok(page) if !a.json => crate::say!("  report: {}", page.display()),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("error: cannot write the report into {}: {e}", dir.display());
                    return EXIT_BAD_INPUT;
                }
            }
            index.push(crate::report::IndexRow {
                label: label.clone(),
                scenario: s.name.clone(),
                verdict: match outcome.violations.first() {
                    Some(v) => format!("{} {}", outcome.verdict, v.invariant),
                    None => outcome.verdict.to_string(),
                },
                expected: outcome.expected.clone(),
                matched: outcome.matched,
            });
        }
    }
    if let Some(dir) = a.report.filter(|_| many) {
        match crate::report::write_index(dir, &index) {
            Ok(page) if !a.json => crate::say!("reports: {}", page.display()),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if !a.json && many {
        crate::say!(
            "{} scenario(s), {} matched, {} did not",
            all.len(),
            all.len() - mismatches,
            mismatches
        );
    }
    if mismatches > 0 {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}

/// The scale runs `faultline bench` adds: gossip spreads and SWIM pools, by size.
struct Scales<'a> {
    gossip_nodes: &'a [usize],
    swim_members: &'a [usize],
}

fn cmd_bench(
    events: u64,
    repeats: u32,
    scales: Scales<'_>,
    fuzz_seeds: Option<u64>,
    guided: Option<(u64, Option<String>)>,
    linearizability: bool,
    json: bool,
) -> i32 {
    let Scales {
        gossip_nodes,
        swim_members,
    } = scales;
    if events == 0 || repeats == 0 || fuzz_seeds == Some(0) {
        eprintln!("error: --events, --repeats and --fuzz-seeds must be at least 1");
        return EXIT_BAD_INPUT;
    }
    if let Some(n) = gossip_nodes
        .iter()
        .find(|&&n| n == 0 || n > scenario::MAX_NODES)
    {
        eprintln!(
            "error: --gossip-nodes {n}: expected 1 to {}",
            scenario::MAX_NODES
        );
        return EXIT_BAD_INPUT;
    }
    if let Some(n) = swim_members
        .iter()
        .find(|&&n| !(2..=scenario::MAX_NODES).contains(&n))
    {
        eprintln!(
            "error: --swim-members {n}: expected 2 to {}",
            scenario::MAX_NODES
        );
        return EXIT_BAD_INPUT;
    }
    let r = sim::bench::compare(events, 1, repeats);
    if !json {
        crate::say!(
            "engine:   {:>12.0} events/s  ({} events, best of {repeats})",
            r.engine_events_per_sec,
            r.engine_events
        );
        crate::say!(
            "baseline: {:>12.0} events/s  (a bare BinaryHeap loop doing the same work)",
            r.baseline_events_per_sec
        );
        crate::say!(
            "ratio:    {:>12.3}  (engine / baseline; target >= 0.8)",
            r.ratio
        );
    }
    let replication = crate::bench::raft_replication();
    if !json {
        crate::output::print_text(&crate::bench::raft_replication_text(&replication));
    }
    let mut scales = vec![];
    for &n in gossip_nodes {
        let g = crate::bench::gossip_scale(n);
        if !json {
            crate::say!(
                "gossip push-pull to {} nodes: {} rounds, {} events in {:.2} s ({:.0} events/s, {} CPU), peak RSS {}",
                g.nodes,
                g.rounds_to_100.map_or("?".into(), |r| format!("{r:.0}")),
                g.events,
                g.wall_secs,
                g.events_per_sec,
                g.cpu_secs.map_or("unknown".into(), |c| format!("{c:.2} s")),
                g.peak_rss_mib
                    .zip(g.peak_rss_bytes_per_node)
                    .map_or("unknown".into(), |(m, b)| format!(
                        "{m:.0} MiB, {b:.0} bytes/node"
                    ))
            );
        }
        scales.push(g);
    }
    let mut swims = vec![];
    for &n in swim_members {
        let w = crate::bench::swim_scale(n);
        if !json {
            crate::say!(
                "swim LAN pool of {} members: {:.0} s virtual, {} events in {:.2} s ({:.0} events/s, {} CPU), peak RSS {}, {} messages/member/s, deaths spread in {} periods, {}",
                w.members,
                w.virtual_secs,
                w.events,
                w.wall_secs,
                w.events_per_sec,
                w.cpu_secs.map_or("unknown".into(), |c| format!("{c:.2} s")),
                w.peak_rss_mib
                    .map_or("unknown".into(), |m| format!("{m:.0} MiB")),
                w.messages_per_member_s
                    .map_or("?".into(), |m| format!("{m:.2}")),
                w.dissemination_periods
                    .map_or("?".into(), |p| format!("{p:.2}")),
                w.verdict
            );
        }
        swims.push(w);
    }
    let fuzz = fuzz_seeds.map(|seeds| {
        let tp = crate::fuzz::bench::throughput(seeds);
        let prof = crate::fuzz::bench::profile(seeds.min(500));
        let firsts = crate::fuzz::bench::first_failures();
        if !json {
            crate::output::print_text(&crate::fuzz::bench::text(&tp, &prof, &firsts));
        }
        serde_json::json!({"throughput": tp, "one_core": prof, "first_failures": firsts})
    });
    let guided = guided.map(|(campaigns, bug)| {
        let races = crate::fuzz::guided_bench::races(campaigns, 40_000, bug.as_deref());
        if !json {
            crate::output::print_text(&crate::fuzz::guided_bench::text(&races));
        }
        races
    });
    let linearizability = linearizability.then(|| {
        let b = crate::bench::linearizability::measure(3);
        if !json {
            crate::output::print_text(&crate::bench::linearizability::text(&b));
        }
        b
    });
    if json {
        let out = serde_json::json!({
            "engine_events_per_sec": r.engine_events_per_sec,
            "baseline_events_per_sec": r.baseline_events_per_sec,
            "ratio": r.ratio,
            "engine": r,
            "raft_replication": replication,
            "gossip": scales,
            "swim": swims,
            "fuzz": fuzz,
            "guided": guided,
            "linearizability": linearizability,
        });
        crate::say!("{out}");
    }
    EXIT_OK
}

/// The text of `faultline list`: every family of the registry (config fields with their
/// defaults and enum choices, workload, invariants, metrics), then the fault vocabulary.
pub fn list_text(registry: &Registry) -> String {
    use crate::scenario::describe::{Field, fields};
    let section = |fields: &[Field]| -> String {
        let width = fields
            .iter()
            .map(|f| f.name.len() + f.default.len())
            .max()
            .unwrap_or(0);
        fields
            .iter()
            .map(|f| {
                let line = format!("{}: {},", f.name, f.default);
                if f.choices.is_empty() {
                    format!("      {line}\n")
                } else {
                    format!(
                        "      {line:<w$}  // {}\n",
                        f.choices.join(" | "),
                        w = width + 3
                    )
                }
            })
            .collect()
    };
    let mut s = String::new();
    s += "PROTOCOLS (protocol: Name((field: value, ...)); every field is optional)\n";
    for family in registry.families() {
        let f = family.as_ref();
        s += &format!("\n  {} — {}\n", f.name(), f.about());
        s += &format!("    protocol: {}((\n", f.name());
        s += &section(&fields(f, false));
        s += "    ))\n";
        s += &format!(
            "    workload: {}((   // {}; or Idle (no clients)\n",
            f.workload_name(),
            f.workload_about()
        );
        s += &section(&fields(f, true));
        s += "    ))\n";
        s += "    invariants (a scenario without `checks` gets those without a deadline):\n";
        for i in f.invariants() {
            let name = if i.deadline {
                format!("{}(\"T\")", i.invariant)
            } else {
                i.invariant.to_string()
            };
            s += &format!("      {name:<26} {}\n", i.about);
        }
        s += "    metrics:\n";
        for m in f.metrics() {
            s += &format!("      {:<40} {}\n", m.name, m.about);
        }
    }
    s += "\nENGINE METRICS (every run)\n";
    for (name, about) in ENGINE_METRICS {
        s += &format!("  {name:<40} {about}\n");
    }
    s += "\nFAULTS (faults: [(at: \"5s\", do: <fault>)])\n";
    for k in sim::fault::catalogue() {
        // As a file writes it: `extra: Uniform(..)`, not `extra: Some(Uniform(..))`.
        let text = crate::scenario::ron_options().to_string(&k.example);
        let example = spaced(&text.unwrap_or_default());
        s += &format!("  {example:<72} {}\n", k.about);
    }
    s += "\nTARGETS (resolved when the fault fires; a bare id such as 2 means Node(2))\n";
    s += "  Node(2)  Nodes([0, 1])  Range(0, 499)  Leader (or Primary)  Follower  Random  All  Crashed  Paused\n";
    s += "  Zone(\"dc2\")  every node of a zone the `topology` section names\n";
    let clocks = crate::scenario::spec::ClocksSpec::default();
    s += "\nCLOCKS (clocks: (...); every field is optional)\n";
    s += &format!(
        "  max_drift_ppm: {:<8} each node's rate drawn in [-max, +max] ppm (a quartz crystal's tolerance); 0: ideal clocks\n",
        format!("{},", clocks.max_drift_ppm)
    );
    s += &format!(
        "  max_offset: {:<11} each node's reading offset drawn in [-max, +max]\n",
        format!("\"{}\",", clocks.max_offset)
    );
    s += "  nodes: [],              exact (node, drift_ppm, offset) for some nodes\n";
    s += "\nLATENCY DISTRIBUTIONS (network: (latency: ...))\n";
    for (l, what) in LATENCIES {
        s += &format!("  {l:<44} {what}\n");
    }
    s += "\nNEMESIS FAULT KINDS (nemesis: (faults: [...]))\n  ";
    s += &NemesisKind::ALL
        .iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join("  ");
    s += "\n";
    s
}

/// Compact RON with a space after each `,` and `:` outside strings, as people write it.
fn spaced(ron: &str) -> String {
    let mut out = String::with_capacity(ron.len() + 16);
    let mut in_string = false;
    for c in ron.chars() {
        out.push(c);
        match c {
            '"' => in_string = !in_string,
            ',' | ':' if !in_string => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Metrics the engine records in every run, whatever the family.
pub const ENGINE_METRICS: &[(&str, &str)] = &[
    ("net.sent", "messages sent"),
    ("net.delivered", "messages delivered"),
    ("net.lost", "messages lost (datagram loss)"),
    ("net.cut", "messages dropped at send by a partition"),
    ("net.duplicated", "messages duplicated"),
    (
        "net.dropped_in_flight",
        "messages dropped on arrival: their link was cut in flight",
    ),
    (
        "net.dropped_node_down",
        "messages dropped on arrival: the receiver had crashed",
    ),
    (
        "storage.writes",
        "durable writes (Context::durable_mut calls)",
    ),
];

const LATENCIES: &[(&str, &str)] = &[
    ("Constant(\"2ms\")", "always the same"),
    ("Uniform(\"1ms\", \"10ms\")", "uniform between bounds"),
    (
        "Normal(mean: \"10ms\", std_dev: \"2ms\")",
        "normal, truncated at zero",
    ),
    ("Exponential(mean: \"5ms\")", "memoryless"),
    ("LogNormal(median: \"5ms\", sigma: 0.5)", "right-skewed"),
    (
        "Pareto(scale: \"1ms\", shape: 2.5)",
        "heavy tail, never below scale",
    ),
];
