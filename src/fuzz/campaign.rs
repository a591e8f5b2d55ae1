//! A fuzzing campaign: one scenario, many seeds, run in parallel across cores; every failure
//! saved as a scenario file that replays exactly, then shrunk (the first of each group of
//! failures with one signature). What counts as a failure, a group and a hit is in
//! [`super::report`].
//!
//! Parallelism is across seeds only (rayon); each simulation stays on one thread, as
//! docs/architecture.md requires. Failure files have deterministic names (`<stem>.seed<N>.ron`)
//! and are written atomically (temporary file, then rename), so a campaign that is killed and
//! started again with the same arguments rewrites the same files with the same bytes: nothing
//! is lost and nothing is duplicated; the temporaries a killed campaign left are removed. Which seeds a shard runs is fixed by the arguments alone, never by
//! timing; only `--budget` (a wall-time limit) can end a campaign early.

use super::coverage;
use super::guided::{self, Entry, Guide};
use super::progress::Progress;
use super::report::{self, MAX_SAVED_HITS, SHOWN};
pub use super::report::{CampaignReport, Failure, Group, GuidedStats, Hits, ShrunkFile, Undecided};
use super::shrink::{self, ShrinkOptions};
use super::swarm;
use crate::output::one_line;
use crate::runner::{self, Outcome, RunOptions};
use crate::scenario::{self, Scenario};
use protocols::checks::Expect;
use protocols::family::Registry;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which part of a seed range this process runs: seeds whose offset from the range start is
/// `index` modulo `count` (0-based, `0 <= index < count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole range.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The seeds of `start..end` this shard runs, in increasing order (lazily: a range may be
    /// as large as `u64`).
    pub fn iter(self, start: u64, end: u64) -> impl Iterator<Item = u64> {
        let first = start.saturating_add(self.index);
        (first..end.max(first)).step_by(self.count.max(1) as usize)
    }

    /// How many seeds of `start..end` this shard runs.
    pub fn count(self, start: u64, end: u64) -> u64 {
        let span = end.saturating_sub(start);
        span.saturating_sub(self.index).div_ceil(self.count.max(1))
    }
}

/// What a campaign runs.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    /// The families scenario files are read with (saved failures are re-read to check them).
    pub registry: Registry,
    /// The scenario file as given (for names and replay commands).
    pub file: PathBuf,
    /// Its parsed scenario.
    pub scenario: Scenario,
    /// Seeds `start..end` (end excluded).
    pub start: u64,
    pub end: u64,
    pub shard: Shard,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Where failures are saved (none: not saved, not shrunk).
    pub out: Option<PathBuf>,
    /// Stop starting new seeds after this much wall time.
    pub budget: Option<Duration>,
    /// Shrink at most this many saved failures (lowest seeds first).
    pub shrink: usize,
    /// Candidate runs per shrink.
    pub shrink_runs: usize,
    /// Draw a progress bar or print progress lines on stderr.
    pub progress: bool,
    /// Stop once this many failing seeds are found (the first ones in seed order).
    pub max_failures: Option<usize>,
    /// Run this percentage of seeds (0 to 100, chosen by seed) twice and report a difference
    /// as a `nondeterministic` failure.
    pub check_determinism: u32,
    /// Coverage-guided: half the runs mutate schedules that reached new coverage
    /// ([`super::guided`]); the range's seeds are the fresh ones, and its length the number of
    /// runs.
    pub guided: bool,
}

impl CampaignConfig {
    /// Seeds `start..end` of `scenario` on every core, with nothing saved, shrunk or shown
    /// and no stopping early: the base benchmarks and tests adjust with `..`.
    pub fn quiet(
        registry: Registry,
        file: PathBuf,
        scenario: Scenario,
        start: u64,
        end: u64,
    ) -> Self {
        CampaignConfig {
            registry,
            file,
            scenario,
            start,
            end,
            shard: Shard::ALL,
            jobs: 0,
            out: None,
            budget: None,
            shrink: 0,
            shrink_runs: 0,
            progress: false,
            max_failures: None,
            check_determinism: 0,
            guided: false,
        }
    }
}

/// What a failure is "the same as" when shrinking and grouping: the violated invariant, or
/// the kind of abnormal end.
pub fn failure_key(o: &Outcome) -> String {
    match (o.violations.first(), o.verdict) {
        (Some(v), _) => v.invariant.clone(),
        // The kind of limit, without its numbers ("memory limit reached: 812 MiB ..."), so
        // every run stopped by one limit fails "the same way".
        (None, "stalled") => format!(
            "stalled ({})",
            o.detail
                .as_deref()
                .and_then(|d| d.split(':').next())
                .unwrap_or("limit")
        ),
        (None, verdict) => verdict.to_string(),
    }
}

/// The scenario as it runs with `seed`: swarm knobs drawn and written in, the nemesis's faults
/// materialized into the explicit list, no `nemesis` and no `swarm` section. `Err` when the
/// swarm's drawn parameters make an invalid scenario.
pub fn materialize(s: &Scenario, seed: u64) -> Result<Scenario, String> {
    draw(s, seed).map(|d| d.scenario)
}

/// [`materialize`], with what the swarm drew.
pub fn draw(s: &Scenario, seed: u64) -> Result<swarm::Drawn, String> {
    let mut d = swarm::draw(s, seed)?;
    let out = &mut d.scenario;
    out.seed = seed;
    out.faults = out.fault_list(seed);
    out.nemesis = None;
    out.swarm = None;
    Ok(d)
}

/// The scenario as RON text, in the format `scenario::parse` reads.
pub fn to_text(s: &Scenario) -> String {
    let pretty = ron::ser::PrettyConfig::new().struct_names(false);
    // Serializing plain data into a String cannot fail.
    let body = ron::ser::to_string_pretty(s, pretty).expect("scenarios serialize");
    format!("Scenario{body}\n")
}

/// The file a failing seed is saved to.
pub fn failure_path(out: &Path, source: &Path, seed: u64) -> PathBuf {
    let stem = source
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    out.join(format!("{stem}.seed{seed}.ron"))
}

/// The shrunk file beside a failure file: `x.seed7.ron` -> `x.seed7.shrunk.ron`.
pub fn shrunk_path(failure: &Path) -> PathBuf {
    let stem = failure
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    failure.with_file_name(format!("{stem}.shrunk.ron"))
}

/// Writes `text` to `path` atomically (a temporary file beside it, then a rename; see
/// [`crate::io::write_file`]).
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    crate::io::write_file(path, text.as_bytes())
}

/// The failure file's text: a header saying how it was found, then the scenario.
fn failure_text(
    source: &Path,
    original: &Scenario,
    c: &Candidate,
    o: &Outcome,
    path: &Path,
) -> String {
    let d = &c.drawn;
    let drawn = &d.scenario;
    let mut h = format!(
        "// Found by `{} fuzz {}` with seed {}{}: {} ({}).\n",
        crate::cli::program(),
        source.display(),
        drawn.seed,
        c.mutant
            .as_ref()
            .map(|(k, how)| format!(" (guided mutant {k}: {how})"))
            .unwrap_or_default(),
        o.verdict,
        failure_key(o)
    );
    if let Some(v) = o.violations.first() {
        h += &format!(
            "// Violation at {:.6}s (event {}): {}\n",
            v.time_ns as f64 / 1e9,
            v.event,
            one_line(&v.message)
        );
    } else if let Some(d) = &o.detail {
        h += &format!("// Detail: {}\n", one_line(d));
    }
    if original.swarm.is_some() {
        h += &format!("// Swarm knobs drawn for this seed: {}.\n", d.describe());
    }
    h += &format!("// Build: {}.\n", crate::BUILD);
    h += &format!(
        "// Trace hash {}. Replay: {} run {}\n",
        o.trace_hash,
        crate::cli::program(),
        path.display()
    );
    h + &to_text(drawn)
}

/// The failure key of a seed whose two runs differed.
pub const NONDETERMINISTIC: &str = "nondeterministic";

/// What one seed's run was, against what the scenario expects.
enum Class {
    /// Nothing to report.
    Clean,
    /// An end-of-run check could not decide within its budget: counted, not a failure.
    Undecided,
    /// The known bug a `Violates(X)` scenario expects showed.
    Hit,
    /// A failure (see [`super::report`]).
    Failure,
}

/// Classifies a run: for a scenario that expects `Holds`, anything but a clean run is a
/// failure; for one that expects `Violates(X)`, X is a hit, a clean run or a stall is nothing,
/// and any other violation or a panic is a failure. A run whose end-of-run check could not
/// decide is neither (counted as undecided).
fn classify(expect: Expect, o: &Outcome) -> Class {
    if o.verdict == "unknown" {
        return Class::Undecided;
    }
    match expect {
        Expect::Holds if o.matched => Class::Clean,
        Expect::Holds => Class::Failure,
        Expect::Violates(_) if o.matched => Class::Hit,
        Expect::Violates(_) => match o.verdict {
            "holds" | "stalled" => Class::Clean,
            _ => Class::Failure,
        },
    }
}

/// Whether `seed` is one of the `percent`% re-run to check determinism (chosen by the seed
/// alone, so every shard and every re-run of a campaign checks the same seeds).
fn rechecked(seed: u64, percent: u32) -> bool {
    percent > 0 && sim::rng::splitmix64(seed ^ 0x5eed_c4ec) % 100 < u64::from(percent)
}

/// A seed worth reporting, with the text of its file (written only if it is kept).
struct Found {
    failure: Failure,
    hit: bool,
    undecided: bool,
    text: Option<(PathBuf, String)>,
}

/// One run of a campaign: a seed's draw, or (guided) a mutant of a corpus entry.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The seed it runs with (network, workload and node randomness).
    pub seed: u64,
    /// The scenario as it runs (no nemesis, no swarm) and what the swarm drew.
    pub drawn: swarm::Drawn,
    /// For a mutant: its number in the campaign and what was changed, for names and headers.
    pub mutant: Option<(u64, String)>,
}

/// One run to make in a batch: a seed of the range, or a candidate the guide made (with the
/// corpus entry it was drawn from).
enum Job {
    Seed(u64),
    Made(Box<Candidate>, Option<Box<Entry>>),
}

impl Job {
    fn seed(&self) -> u64 {
        match self {
            Job::Seed(s) => *s,
            Job::Made(c, _) => c.seed,
        }
    }
}

/// What one run gave: a failure or hit worth reporting, and the coverage it reached.
struct RunResult {
    found: Option<Found>,
    coverage: coverage::RunCoverage,
    edges: coverage::RunCoverage,
}

/// Runs one seed's draw.
fn run_seed(cfg: &CampaignConfig, name: &str, seed: u64) -> Result<RunResult, String> {
    let c = Candidate {
        seed,
        drawn: draw(&cfg.scenario, seed)?,
        mutant: None,
    };
    run_candidate(cfg, name, &c)
}

/// Runs one candidate; a failure or a hit comes back with its file's text when `out` is set.
fn run_candidate(cfg: &CampaignConfig, name: &str, c: &Candidate) -> Result<RunResult, String> {
    let d = &c.drawn;
    let drawn = &d.scenario;
    let mut o = runner::run(name, drawn, &RunOptions::default());
    // Moved out: the report and the failure file do not use them.
    let coverage = std::mem::take(&mut o.coverage);
    let edges = std::mem::take(&mut o.coverage_edges);
    let found = judge_run(cfg, name, c, o)?;
    Ok(RunResult {
        found,
        coverage,
        edges,
    })
}

/// Classifies a finished run and, for a failure or a hit, prepares its report and file.
fn judge_run(
    cfg: &CampaignConfig,
    name: &str,
    c: &Candidate,
    o: Outcome,
) -> Result<Option<Found>, String> {
    let seed = c.seed;
    let d = &c.drawn;
    let drawn = &d.scenario;
    let mut class = classify(drawn.expect(), &o);
    let mut key = failure_key(&o);
    let mut message = o
        .violations
        .first()
        .map(|v| v.message.clone())
        .or_else(|| o.detail.clone())
        .unwrap_or_default();
    if rechecked(seed, cfg.check_determinism) {
        let again = runner::run(name, drawn, &RunOptions::default());
        if again.trace_hash != o.trace_hash || again.verdict != o.verdict {
            class = Class::Failure;
            key = NONDETERMINISTIC.into();
            message = runner::check_determinism(name, drawn, seed)
                .err()
                .unwrap_or_else(|| {
                    format!(
                        "two runs gave trace hashes {} and {} (verdicts {}, {})",
                        o.trace_hash, again.trace_hash, o.verdict, again.verdict
                    )
                });
        }
    }
    let (hit, undecided) = match class {
        Class::Clean => return Ok(None),
        Class::Undecided => {
            let found = Found {
                failure: Failure {
                    run: 0,
                    seed,
                    key: key.clone(),
                    signature: key,
                    verdict: o.verdict,
                    message,
                    time_ns: o.virtual_time_ns,
                    trace_hash: o.trace_hash,
                    file: None,
                    replay: format!("{} run {name} --seed {seed}", crate::cli::program()),
                    shrunk: None,
                },
                hit: false,
                undecided: true,
                text: None,
            };
            return Ok(Some(found));
        }
        Class::Hit => (true, false),
        Class::Failure => (false, false),
    };
    let v = o.violations.first();
    let mut f = Failure {
        run: 0,
        seed,
        signature: report::signature(&key, &message),
        key,
        verdict: o.verdict,
        message,
        time_ns: v.map_or(o.virtual_time_ns, |v| v.time_ns),
        trace_hash: o.trace_hash.clone(),
        file: None,
        // `run` ignores `swarm`, so only the saved file replays a swarm seed's knobs.
        replay: if cfg.scenario.swarm.is_some() || c.mutant.is_some() {
            format!(
                "{p} fuzz {name} --seeds {seed}..={seed} --out DIR, then {p} run the saved file",
                p = crate::cli::program()
            )
        } else {
            format!("{} run {name} --seed {seed}", crate::cli::program())
        },
        shrunk: None,
    };
    let mut text = None;
    if let Some(dir) = &cfg.out {
        let mut path = failure_path(dir, &cfg.file, seed);
        if let Some((k, _)) = &c.mutant {
            path.set_extension(format!("g{k}.ron"));
        }
        let body = failure_text(&cfg.file, &cfg.scenario, c, &o, &path);
        // A saved file that does not parse back would be a useless bug report: check it now.
        scenario::parse_with(&cfg.registry, &path.display().to_string(), &body)
            .map_err(|e| format!("internal error: a failure file does not parse back: {e}"))?;
        f.replay = format!("{} run {}", crate::cli::program(), path.display());
        f.file = Some(path.clone());
        text = Some((path, body));
    }
    Ok(Some(Found {
        failure: f,
        hit,
        undecided,
        text,
    }))
}

/// Shrinks a saved failure into `<name>.shrunk.ron`, or reads the one a previous run of the
/// same campaign left.
fn shrink_saved(registry: &Registry, path: &Path, runs: usize) -> Result<ShrunkFile, String> {
    let out = shrunk_path(path);
    let original = scenario::load_with(registry, path).map_err(|e| e.to_string())?;
    if let Ok(done) = scenario::load_with(registry, &out) {
        if !crate::trace::diagram_path(&out).exists() {
            crate::trace::write_failure_diagram(&out, &done)?;
        }
        return Ok(ShrunkFile {
            file: out,
            faults_before: original.faults.len(),
            faults_after: done.faults.len(),
            nodes: done.nodes,
        });
    }
    let name = path.display().to_string();
    let s = shrink::shrink(
        registry,
        &name,
        &original,
        ShrinkOptions {
            max_runs: runs,
            ..ShrinkOptions::default()
        },
    )?;
    write_atomic(&out, &s.file_text(&name))?;
    // Its Lamport diagram beside it: the last events before the violation, drawn.
    crate::trace::write_failure_diagram(&out, &s.scenario)?;
    Ok(ShrunkFile {
        file: out,
        faults_before: s.faults_before,
        faults_after: s.faults_after,
        nodes: s.scenario.nodes,
    })
}

/// Runs a campaign. `Err` only for I/O problems (an output directory that cannot be written).
///
/// Seeds run in chunks, in parallel within a chunk, and results are taken in seed order, so
/// memory does not grow with the size of the range (only what is reported is kept) and
/// `max_failures` stops at a deterministic point: every seed before the last failure reported
/// has run, whatever the number of threads.
pub fn run_campaign(cfg: &CampaignConfig) -> Result<CampaignReport, String> {
    let name = cfg.file.display().to_string();
    if let Some(dir) = &cfg.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // What a killed campaign was writing when it died.
        crate::io::remove_stale_temporaries(dir);
    }
    let planned = cfg.shard.count(cfg.start, cfg.end);
    let pool = crate::cli::worker_pool(cfg.jobs)?;
    let progress = Progress::new(planned, cfg.progress);
    let chunk = 32 * pool.current_num_threads().max(1);
    let mut seeds = cfg.shard.iter(cfg.start, cfg.end);
    let mut seeds_run = 0u64;
    let mut determinism_checked = 0u64;
    let mut undecided = Undecided::default();
    let mut failures: Vec<Failure> = vec![];
    let expect = cfg.scenario.expect();
    let mut hits = match expect {
        Expect::Violates(inv) => Some(Hits {
            invariant: inv.name().to_string(),
            ..Hits::default()
        }),
        Expect::Holds => None,
    };
    let max_failures = cfg.max_failures.unwrap_or(usize::MAX);
    let write = |found: &Found| -> Result<(), String> {
        if let Some((path, text)) = &found.text {
            write_atomic(path, text)?;
        }
        Ok(())
    };
    let mut guide = cfg.guided.then(|| Guide::new(&cfg.scenario, cfg.start));
    let mut tally = coverage::Tally::default();
    let mut started = 0u64;
    while started < planned {
        if failures.len() >= max_failures || cfg.budget.is_some_and(|b| progress.elapsed() >= b) {
            break;
        }
        let batch: Vec<Job> = match guide.as_mut() {
            Some(g) => {
                let n = (planned - started).min(guided::BATCH as u64) as usize;
                g.next_batch(&mut seeds, n, &tally)?
                    .into_iter()
                    .map(|(c, e)| Job::Made(Box::new(c), Some(Box::new(e))))
                    .collect()
            }
            None => seeds.by_ref().take(chunk).map(Job::Seed).collect(),
        };
        if batch.is_empty() {
            break;
        }
        started += batch.len() as u64;
        let results: Vec<Option<Result<RunResult, String>>> = pool.install(|| {
            batch
                .par_iter()
                .map(|job| {
                    if cfg.budget.is_some_and(|b| progress.elapsed() >= b) {
                        return None;
                    }
                    let r = match job {
                        Job::Seed(seed) => run_seed(cfg, &name, *seed),
                        Job::Made(c, _) => run_candidate(cfg, &name, c),
                    };
                    progress.tick(matches!(
                        r,
                        Ok(RunResult {
                            found: Some(Found { hit: false, .. }),
                            ..
                        })
                    ));
                    Some(r)
                })
                .collect()
        });
        for (job, r) in batch.into_iter().zip(results) {
            let Some(r) = r else { continue };
            let seed = job.seed();
            seeds_run += 1;
            determinism_checked += u64::from(rechecked(seed, cfg.check_determinism));
            let r = r?;
            let new = tally.add(seed, &r.coverage, &r.edges);
            if let (Some(g), Job::Made(_, Some(entry))) = (guide.as_mut(), job)
                && !new.is_empty()
            {
                g.keep(*entry, new);
            }
            let mut found = r.found;
            if let Some(f) = found.as_mut() {
                f.failure.run = seeds_run;
            }
            let Some(found) = found else { continue };
            // Kept (and their files written) in seed order, up to the limits.
            if found.undecided {
                undecided.count += 1;
                if undecided.seeds.len() < SHOWN {
                    undecided.seeds.push(found.failure.seed);
                }
                if undecided.reason.is_empty() {
                    undecided.reason = found.failure.message;
                }
            } else if found.hit {
                let h = hits.as_mut().expect("hits exist for a known-bug scenario");
                h.count += 1;
                if h.seeds.len() < SHOWN {
                    h.seeds.push(found.failure.seed);
                }
                if h.saved.len() < MAX_SAVED_HITS {
                    write(&found)?;
                    h.saved.extend(found.failure.file);
                }
            } else if failures.len() < max_failures {
                write(&found)?;
                failures.push(found.failure);
            }
        }
    }
    let wall = progress.finish();
    let mut groups = report::group(&failures);
    // A nondeterministic run cannot be shrunk: its failure does not replay.
    let shrinkable: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].key != NONDETERMINISTIC)
        .take(cfg.shrink)
        .collect();
    if cfg.out.is_some() && !shrinkable.is_empty() {
        if cfg.progress {
            eprintln!(
                "fuzz: shrinking the first failure of {} group(s), up to {} runs each (--shrink 0 skips this)",
                shrinkable.len(),
                cfg.shrink_runs
            );
        }
        let shrunk: Vec<Result<ShrunkFile, String>> = pool.install(|| {
            shrinkable
                .par_iter()
                .map(|&i| {
                    let saved = groups[i]
                        .file
                        .as_deref()
                        .expect("failures are saved when --out is set");
                    shrink_saved(&cfg.registry, saved, cfg.shrink_runs)
                })
                .collect()
        });
        for (&i, s) in shrinkable.iter().zip(shrunk) {
            let g = &mut groups[i];
            match s {
                Ok(s) => {
                    if let Some(f) = failures.iter_mut().find(|f| f.file == g.file) {
                        f.shrunk = Some(s.clone());
                    }
                    g.shrunk = Some(s);
                }
                // A failure that stops failing when re-run alone is reported, not fatal.
                Err(e) => g.shrink_error = Some(e),
            }
        }
    }
    let mut by_invariant: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for f in &failures {
        by_invariant.entry(f.key.clone()).or_default().push(f.seed);
    }
    let secs = wall.as_secs_f64();
    let stopped_at_max_failures = failures.len() >= max_failures && seeds_run < planned;
    Ok(CampaignReport {
        scenario: cfg.scenario.name.clone(),
        file: name,
        build: crate::BUILD.to_string(),
        seeds: format!("{}..{}", cfg.start, cfg.end),
        shard: format!("{}/{}", cfg.shard.index, cfg.shard.count),
        expected: expect.to_string(),
        seeds_planned: planned,
        seeds_run,
        budget_exhausted: seeds_run < planned && !stopped_at_max_failures,
        stopped_at_max_failures,
        determinism_checked,
        undecided,
        wall_secs: secs,
        seeds_per_sec: if secs > 0.0 {
            seeds_run as f64 / secs
        } else {
            0.0
        },
        by_invariant,
        groups,
        failures,
        hits,
        coverage: tally.report(&cfg.scenario.protocol.family.coverage()),
        guided: guide.map(|g| GuidedStats {
            corpus: g.corpus_len(),
            mutants: g.mutants(),
        }),
    })
}

/// The summary for people.
pub fn summary_text(r: &CampaignReport) -> String {
    report::summary_text(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_range() {
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| Shard { index: i, count: 3 }.iter(10, 21))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..21).collect::<Vec<_>>());
        let one = Shard { index: 1, count: 3 };
        assert_eq!(one.iter(10, 21).collect::<Vec<_>>(), vec![11, 14, 17, 20]);
        assert_eq!(one.count(10, 21), 4);
        for i in 0..3 {
            let shard = Shard { index: i, count: 3 };
            assert_eq!(shard.count(10, 21), shard.iter(10, 21).count() as u64);
        }
        assert_eq!(Shard::ALL.iter(5, 5).count(), 0);
        assert_eq!(Shard::ALL.count(0, u64::MAX), u64::MAX);
        // A huge range costs nothing until it is iterated.
        assert_eq!(
            Shard { index: 2, count: 4 }
                .iter(0, u64::MAX)
                .take(2)
                .collect::<Vec<_>>(),
            vec![2, 6]
        );
    }

    #[test]
    fn materialized_text_parses_back_without_nemesis_or_swarm() {
        let text = r#"Scenario(name: "s", protocol: Gossip(()), nodes: 4, duration: "6s",
            network: (links: Datagram), nemesis: (faults: [Crash, Partition]),
            swarm: (loss: (0.0, 0.2), faults: [Crash, Partition]))"#;
        let s = scenario::parse("t.ron", text).unwrap();
        let m = materialize(&s, 9).unwrap();
        assert!(!m.faults.is_empty());
        let back = scenario::parse("t.ron", &to_text(&m))
            .unwrap_or_else(|e| panic!("{e}\n{}", to_text(&m)));
        assert!(back.nemesis.is_none() && back.swarm.is_none());
        assert_eq!(back.faults, m.faults);
        assert_eq!(back.seed, 9);
        assert_eq!(to_text(&back), to_text(&m));
        assert!(!to_text(&m).contains("swarm"));
    }
}
