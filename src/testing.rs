//! `cargo test` integration: scenario campaigns as ordinary tests, and the one-node harness.
//!
//! ```no_run
//! use faultline::testing::Campaign;
//!
//! #[test]
//! fn raft_survives_the_nemesis() {
//!     Campaign::file("scenarios/raft/nemesis.ron").seeds(0..200).run();
//! }
//! ```
//!
//! A [`Campaign`] runs one scenario (a file, RON text, or a [`Scenario`] built in Rust) over
//! a range of seeds, in parallel across cores, with `faultline fuzz`'s rules: for a scenario
//! that expects `Holds`, a seed fails when a check is violated, the run panics or stalls; for
//! a known-bug scenario (`expect: Violates(X)`), the campaign passes when X shows in at least
//! one seed and nothing else goes wrong. On failure the run is saved as a replayable scenario file under
//! `target/faultline/<test>/`, shrunk beside it, and the test panics with the violation, the
//! files, and the exact commands that replay it. The environment steers a campaign without
//! editing the test:
//!
//! | variable | effect |
//! |---|---|
//! | `FAULTLINE_SEED=N` | run seed N only (replay a failure) |
//! | `FAULTLINE_SEEDS=N` or `A..B` | run N seeds from the first (or `A..B`) instead of the test's range |
//! | `FAULTLINE_JOBS=N` | worker threads (default: one per core) |
//!
//! [`Campaign::check_determinism`] runs every seed twice and fails naming the first event
//! where the two runs differ. For unit tests of one node, see [`Harness`] (etcd-io/raft's
//! `Step` tests) and [`golden`] (readable input → expected-output files).

pub use sim::harness::{Harness, Step, golden};

use crate::fuzz::campaign::{self, CampaignConfig, Failure, Shard};
use crate::scenario::{self, Scenario};
use protocols::family::{Family, Registry};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Replays one seed: `FAULTLINE_SEED=N`.
pub const SEED_ENV: &str = "FAULTLINE_SEED";
/// Seeds of a campaign: `FAULTLINE_SEEDS=N` (N seeds from the first) or `A..B`.
pub const SEEDS_ENV: &str = "FAULTLINE_SEEDS";
/// Worker threads: `FAULTLINE_JOBS=N`.
pub const JOBS_ENV: &str = "FAULTLINE_JOBS";

/// Where a campaign's scenario comes from.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Text { name: String, text: String },
    Built(Box<Scenario>),
}

/// One scenario over many seeds, as a test (see the module docs).
#[derive(Clone, Debug)]
pub struct Campaign {
    registry: Registry,
    source: Source,
    seeds: Option<Range<u64>>,
    jobs: usize,
    shrink: bool,
    determinism: bool,
    replay_command: Option<String>,
}

/// Why a campaign did not pass.
#[derive(Clone, Debug)]
pub struct Failed {
    /// The report [`Campaign::run`] panics with: the violation, the saved and shrunk files,
    /// the replay commands.
    pub message: String,
    /// The first failing seed, when a seed failed (not when the scenario was invalid, a
    /// known bug never showed, or a check could not decide): its invariant or kind of
    /// failure, message, saved file and shrunk reproducer.
    pub failure: Option<Box<Failure>>,
}

impl Failed {
    /// Whether the report mentions `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.message.contains(text)
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

/// What a campaign that passed ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passed {
    /// The seeds run.
    pub seeds: Range<u64>,
    /// Seeds run twice and compared ([`Campaign::check_determinism`]).
    pub determinism_checked: u64,
    /// For a known-bug scenario (`expect: Violates(X)`), the seeds that showed X.
    pub hits: u64,
}

impl Campaign {
    fn new(source: Source) -> Campaign {
        Campaign {
            registry: protocols::builtin(),
            source,
            seeds: None,
            jobs: 0,
            shrink: true,
            determinism: false,
            replay_command: None,
        }
    }

    /// A scenario file (a relative path is relative to the package's directory, where
    /// `cargo test` runs).
    pub fn file(path: impl Into<PathBuf>) -> Campaign {
        Campaign::new(Source::File(path.into()))
    }

    /// A scenario written as RON text in the test; `name` stands for its file in messages
    /// and names the saved failures.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Campaign {
        Campaign::new(Source::Text {
            name: name.into(),
            text: text.into(),
        })
    }

    /// A scenario built (or edited) in Rust.
    pub fn scenario(s: Scenario) -> Campaign {
        Campaign::new(Source::Built(Box::new(s)))
    }

    /// Adds a family to the registry the scenario is read with (the built-in ones are there).
    pub fn family(mut self, family: impl Family) -> Campaign {
        self.registry.add(family);
        self
    }

    /// Reads the scenario with this registry instead.
    pub fn registry(mut self, registry: Registry) -> Campaign {
        self.registry = registry;
        self
    }

    /// The seeds to run (default: the scenario's own seed only).
    pub fn seeds(mut self, seeds: Range<u64>) -> Campaign {
        self.seeds = Some(seeds);
        self
    }

    /// Worker threads (default: one per core; `FAULTLINE_JOBS` overrides).
    pub fn jobs(mut self, jobs: usize) -> Campaign {
        self.jobs = jobs;
        self
    }

    /// Whether the first failure is shrunk (default: yes).
    pub fn shrink(mut self, shrink: bool) -> Campaign {
        self.shrink = shrink;
        self
    }

    /// Runs every seed twice and fails if the runs differ, naming the first event where they
    /// do (default: no).
    pub fn check_determinism(mut self, on: bool) -> Campaign {
        self.determinism = on;
        self
    }

    /// The command that runs a saved scenario file with the families of this registry, for
    /// the panic message (e.g. `cargo run -p mycrate --`); `faultline` by default.
    pub fn replay_command(mut self, command: impl Into<String>) -> Campaign {
        self.replay_command = Some(command.into());
        self
    }

    /// Runs the campaign; panics with a replayable report on the first failing seed (see the
    /// module docs).
    pub fn run(self) -> Passed {
        match self.try_run() {
            Ok(p) => p,
            Err(failed) => panic!("{failed}"),
        }
    }

    /// Runs the campaign; `Err` carries what failed, and the report [`Campaign::run`] panics
    /// with as its `Display`.
    pub fn try_run(self) -> Result<Passed, Failed> {
        let mut failure = None;
        self.attempt(&mut failure).map_err(|message| Failed {
            message,
            failure: failure.map(Box::new),
        })
    }

    fn attempt(mut self, failure: &mut Option<Failure>) -> Result<Passed, String> {
        // A scenario built in Rust carries its family: the registry knows it even if the test
        // did not add it.
        if let Source::Built(s) = &self.source
            && self.registry.get(s.protocol.name()).is_none()
        {
            self.registry.insert(s.protocol.family.clone());
        }
        let (name, scenario) = self.load()?;
        let env = |k: &str| std::env::var(k).ok();
        let seeds = self.seed_range(scenario.seed, env)?;
        let jobs = match env(JOBS_ENV) {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{JOBS_ENV}={v}: expected a number of threads"))?,
            None => self.jobs,
        };
        let out = failure_dir(&name);
        let cfg = CampaignConfig {
            registry: self.registry.clone(),
            file: PathBuf::from(&name),
            scenario: scenario.clone(),
            start: seeds.start,
            end: seeds.end,
            shard: Shard::ALL,
            jobs,
            out: Some(out.clone()),
            budget: None,
            shrink: usize::from(self.shrink),
            shrink_runs: crate::fuzz::shrink::DEFAULT_MAX_RUNS,
            progress: false,
            max_failures: Some(1),
            check_determinism: if self.determinism { 100 } else { 0 },
            guided: false,
        };
        let report = campaign::run_campaign(&cfg)?;
        if let Some(f) = report.failures.first() {
            let message = self.failure_message(&name, &scenario, f, report.failures.len());
            *failure = Some(f.clone());
            return Err(message);
        }
        if report.undecided.count > 0 {
            // A test must prove its checks; a check that ran out of budget proves nothing.
            let seed = report.undecided.seeds[0];
            return Err(format!(
                "faultline: {name} ({}) could not be decided with seed {seed} ({} seed(s) undecided): {}\n  raise the check's budget, or shorten the run\n  replay: {}",
                scenario.name,
                report.undecided.count,
                report.undecided.reason,
                replay_test(seed)
            ));
        }
        if let Some(h) = report.hits.as_ref().filter(|h| h.count == 0) {
            return Err(format!(
                "faultline: {name} ({}) expects {} to be violated, but none of seeds {}..{} showed it\n  replay a seed: {}",
                scenario.name,
                h.invariant,
                seeds.start,
                seeds.end,
                replay_test(seeds.start)
            ));
        }
        Ok(Passed {
            seeds,
            determinism_checked: report.determinism_checked,
            hits: report.hits.map_or(0, |h| h.count),
        })
    }

    fn load(&self) -> Result<(String, Scenario), String> {
        match &self.source {
            Source::File(p) => {
                let s = scenario::load_with(&self.registry, p).map_err(|e| e.to_string())?;
                Ok((p.display().to_string(), s))
            }
            Source::Text { name, text } => {
                let s =
                    scenario::parse_with(&self.registry, name, text).map_err(|e| e.to_string())?;
                Ok((name.clone(), s))
            }
            Source::Built(s) => {
                // Checked like a file, so a scenario edited in Rust cannot skip validation.
                let text = campaign::to_text(s);
                let name = format!("{}.ron", slug(&s.name));
                let s = scenario::parse_with(&self.registry, &name, &text)
                    .map_err(|e| format!("the scenario built in the test is invalid: {e}"))?;
                Ok((name, s))
            }
        }
    }

    /// The seeds to run: `FAULTLINE_SEED`, else `FAULTLINE_SEEDS`, else the test's range,
    /// else the scenario's own seed.
    fn seed_range(
        &self,
        own: u64,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Range<u64>, String> {
        if let Some(v) = env(SEED_ENV) {
            let seed: u64 = v
                .trim()
                .parse()
                .map_err(|_| format!("{SEED_ENV}={v}: expected a seed number"))?;
            return Ok(seed..seed + 1);
        }
        let start = self.seeds.as_ref().map_or(own, |r| r.start);
        if let Some(v) = env(SEEDS_ENV) {
            if let Ok(n) = v.trim().parse::<u64>() {
                return Ok(start..start.saturating_add(n.max(1)));
            }
            let (a, b) = crate::fuzz::parse_seeds(&v).map_err(|e| format!("{SEEDS_ENV}: {e}"))?;
            return Ok(a..b);
        }
        Ok(self.seeds.clone().unwrap_or(own..own + 1))
    }

    fn failure_message(&self, name: &str, s: &Scenario, f: &Failure, count: usize) -> String {
        let mut m = format!(
            "faultline: {name} ({}) failed with seed {}: {} {} at {:.6}s: {}\n",
            s.name,
            f.seed,
            f.verdict,
            f.key,
            f.time_ns as f64 / 1e9,
            f.message
        );
        if count > 1 {
            m += &format!("  ({count} failing seeds found; this is the first)\n");
        }
        let replay = self
            .replay_command
            .clone()
            .unwrap_or_else(crate::cli::program);
        if let Some(file) = &f.file {
            m += &format!("  saved:  {}\n", file.display());
        }
        let mut rerun = f.file.clone();
        if let Some(sh) = &f.shrunk {
            m += &format!(
                "  shrunk: {} (faults {} -> {}, {} nodes)\n",
                sh.file.display(),
                sh.faults_before,
                sh.faults_after,
                sh.nodes
            );
            rerun = Some(sh.file.clone());
        }
        m += &format!("  replay: {}\n", replay_test(f.seed));
        if let Some(file) = rerun {
            m += &format!("      or: {replay} run {}\n", file.display());
        }
        m
    }
}

/// The command that re-runs the current test with one seed.
fn replay_test(seed: u64) -> String {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(|n| format!(" -- {n} --exact"))
        .unwrap_or_default();
    let package = std::env::var("CARGO_PKG_NAME")
        .map(|p| format!(" -p {p}"))
        .unwrap_or_default();
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .and_then(|stem| stem.rsplit_once('-').map(|(name, _hash)| name.to_string()))
        .map(|t| format!(" --test {t}"))
        .unwrap_or_default();
    format!("{SEED_ENV}={seed} cargo test{package}{target}{test}")
}

/// `target/faultline/<test>/`: beside the build, named after the running test.
fn failure_dir(scenario: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // <target>/<profile>/deps/<test binary>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(slug)
        .unwrap_or_else(|| {
            slug(
                &Path::new(scenario)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        });
    target.join("faultline").join(test)
}

/// A name safe as a file name.
fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "scenario".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_environment_picks_the_seeds() {
        let c = Campaign::text("t.ron", "").seeds(10..20);
        assert_eq!(c.seed_range(3, env(&[])), Ok(10..20));
        assert_eq!(c.seed_range(3, env(&[(SEED_ENV, "17")])), Ok(17..18));
        assert_eq!(c.seed_range(3, env(&[(SEEDS_ENV, "5")])), Ok(10..15));
        assert_eq!(
            c.seed_range(3, env(&[(SEEDS_ENV, "100..=101")])),
            Ok(100..102)
        );
        // One seed wins over a range; nonsense is an error naming the variable.
        assert_eq!(
            c.seed_range(3, env(&[(SEED_ENV, "4"), (SEEDS_ENV, "9")])),
            Ok(4..5)
        );
        assert!(
            c.seed_range(3, env(&[(SEED_ENV, "x")]))
                .unwrap_err()
                .contains(SEED_ENV)
        );
        let own = Campaign::text("t.ron", "");
        assert_eq!(own.seed_range(3, env(&[])), Ok(3..4));
        assert_eq!(own.seed_range(3, env(&[(SEEDS_ENV, "2")])), Ok(3..5));
    }
}
