//! `faultline-madsim`: faultline's protocols and scenario files on madsim's simulator, and the
//! side-by-side benchmark. Build it with `RUSTFLAGS="--cfg madsim"`; see `--help`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Runs faultline's protocol code on madsim's deterministic simulator.
///
/// Built with RUSTFLAGS="--cfg madsim" (in its own target directory):
///
///   RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim \
///     cargo run --release -p faultline-bridge --bin faultline-madsim -- run scenarios/madsim/raft_kv_faults.ron
///
/// A scenario runs when madsim can express it: Constant or Uniform latency of at least 2 ms, loss,
/// `links: Datagram`, ideal clocks (`clocks: (max_drift_ppm: 0)`), and crashes, restarts,
/// pauses, partitions, cuts and heals. Anything else is refused with every reason.
#[derive(Parser)]
#[command(name = "faultline-madsim", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file on madsim and judge it with the family's monitors and the
    /// linearizability checker.
    Run {
        /// The scenario file (RON).
        file: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the clients' history: `.edn` as Jepsen EDN, `.jsonl` as JSON lines (as
        /// `faultline run --history`).
        #[arg(long, value_name = "OUT.edn|OUT.jsonl")]
        history: Option<PathBuf>,
    },
    /// The same workloads on faultline's engine and on madsim, in one run: virtual seconds
    /// per wall second, delivered messages per second, allocations per message, and ratios.
    Bench {
        /// Seconds of virtual time for the Raft KV workload.
        #[arg(long, default_value_t = 10)]
        secs: u64,
        /// Gossip cluster sizes to compare.
        #[arg(long, value_delimiter = ',', default_value = "100,1000")]
        gossip: Vec<usize>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Election time after a leader crash, on both simulators: the two distributions and a
    /// two-sample Kolmogorov-Smirnov test.
    Elections {
        /// Leader crashes per simulator.
        #[arg(long, default_value_t = 200)]
        crashes: usize,
    },
}

/// Counts heap allocations, for the benchmark's allocations per message.
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[cfg_attr(not(madsim), allow(dead_code))]
fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => ExitCode::from(code),
        Err((code, msg)) => {
            eprintln!("faultline-madsim: {msg}");
            ExitCode::from(code)
        }
    }
}

#[cfg(madsim)]
fn run(command: Command) -> Result<u8, (u8, String)> {
    use faultline_bridge::madsim_run::run_scenario;
    /// Exit codes: 0 the run matched its expectation, 1 it did not, 2 bad input or usage,
    /// 3 the scenario asks for something madsim cannot express.
    const EXIT_REFUSED: u8 = 3;
    use faultline_bridge::{bench, elections};
    match command {
        Command::Run {
            file,
            seed,
            history,
        } => {
            let format = history
                .as_deref()
                .map(faultline::io::history_format)
                .transpose()
                .map_err(|e| (2, format!("--history {e}")))?;
            let scenario = faultline::scenario::load(&file).map_err(|e| (2, e.to_string()))?;
            let seed = seed.unwrap_or(scenario.seed);
            let wall = std::time::Instant::now();
            let report =
                run_scenario(&scenario, seed).map_err(|e| (EXIT_REFUSED, e.to_string()))?;
            let wall = wall.elapsed().as_secs_f64();
            println!("{} (seed {seed}) on madsim", scenario.name);
            print!("{}", report.describe());
            println!("  wall time           {wall:.2} s");
            if let (Some(path), Some(format)) = (&history, format) {
                let ops = &report.operations;
                let text = if format == "edn" {
                    ops.to_edn()
                } else {
                    ops.to_jsonl()
                };
                std::fs::write(path, text)
                    .map_err(|e| (2, format!("cannot write {}: {e}", path.display())))?;
                println!(
                    "  history             {} ({} operations)",
                    path.display(),
                    ops.len()
                );
            }
            let matched = report.matches(scenario.expect());
            println!(
                "  expected            {:?}: {}",
                scenario.expect(),
                if matched { "matched" } else { "MISMATCH" }
            );
            Ok(if matched { 0 } else { 1 })
        }
        Command::Bench { secs, gossip, json } => {
            let results = bench::run_all(secs, &gossip, allocations);
            if json {
                println!("{}", serde_json::to_string_pretty(&results).expect("json"));
            } else {
                print!("{}", bench::table(&results));
            }
            Ok(0)
        }
        Command::Elections { crashes } => {
            let cmp = elections::compare(crashes);
            print!("{cmp}");
            Ok(0)
        }
    }
}

#[cfg(not(madsim))]
fn run(_: Command) -> Result<u8, (u8, String)> {
    Err((
        2,
        "built without --cfg madsim: build with RUSTFLAGS=\"--cfg madsim\" \
         CARGO_TARGET_DIR=target/madsim to run on madsim's simulator"
            .into(),
    ))
}
