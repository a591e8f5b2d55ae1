//! Running a scenario: build the family's protocol, workload and monitors, schedule the faults,
//! run the engine, and judge the result against the scenario's expectation.

use crate::scenario::Scenario;
use protocols::checks::Expect;
use protocols::units::Dur;
use serde::Serialize;
use sim::{RunReport, Summary, TraceRecord, Verdict};
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the trace in memory (for `--trace`).
    pub record_trace: bool,
    /// Overrides the scenario's wall-time guard.
    pub max_wall: Option<Dur>,
    /// Show a progress line on stderr (a terminal only) for a run longer than a second.
    pub progress: bool,
    /// Keep the workload's exports (the client history as JSON lines and EDN).
    pub history: bool,
}

/// One violation, as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViolationOut {
    pub invariant: String,
    pub time_ns: u64,
    pub event: u64,
    pub message: String,
}

/// The judged result of one run; its JSON form is `faultline run --json`'s output.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// The file it came from.
    pub file: String,
    /// The seed this run used.
    pub seed: u64,
    /// Hash of the configuration (without the seed), 16 hex digits.
    pub config_hash: String,
    /// `holds`, `violated`, `stalled`, `panicked`, or `unknown` (an end-of-run check could
    /// not decide within its budget).
    pub verdict: &'static str,
    /// Why a run stalled (`event limit`, `virtual time limit`, `wall time limit`), the panic
    /// message, or which check could not decide and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `holds` or `violates <Invariant>`.
    pub expected: String,
    /// Whether the verdict is what the scenario expects.
    pub matched: bool,
    /// The violations found (at most one: a violation stops the run).
    pub violations: Vec<ViolationOut>,
    /// The trace hash, 16 hex digits.
    pub trace_hash: String,
    /// Processed events.
    pub events: u64,
    /// Virtual time at the end.
    pub virtual_time_ns: u64,
    /// Wall-clock milliseconds the run took.
    pub wall_ms: f64,
    /// Counters, and summaries of sample series.
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Coverage points reached, with how many times (`Context::cover`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub coverage: BTreeMap<String, u64>,
    /// Pairs of coverage points one node reached in a row (`a > b`), with how many times:
    /// what guided fuzzing also counts as coverage. Not printed.
    #[serde(skip)]
    pub coverage_edges: BTreeMap<String, u64>,
    /// The build that ran it (`faultline::BUILD`).
    pub build: &'static str,
    /// With `run --check-determinism`: where two runs of this seed diverged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nondeterministic: Option<String>,
    /// When the file records the run it was saved from (a fuzz failure, a shrunk file) and
    /// this run differs: what differs, and whether the builds do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_note: Option<String>,
    /// The recorded trace (only with `--trace`; not part of the JSON).
    #[serde(skip)]
    pub trace: Vec<TraceRecord>,
    /// Every sample series in full, `(true time ns, value)`, for plots (not part of the JSON).
    #[serde(skip)]
    pub samples: BTreeMap<String, Vec<(u64, f64)>>,
    /// The faults applied, role targets resolved to nodes (for the shrinker; not in the JSON).
    #[serde(skip)]
    pub applied_faults: Vec<(sim::Time, sim::Fault)>,
    /// The workload's exports by format (`jsonl`, `edn`), when asked for (not in the JSON).
    #[serde(skip)]
    pub exports: Vec<(&'static str, String)>,
}

/// Runs a scenario once and judges the result.
pub fn run(file: &str, scenario: &Scenario, opts: &RunOptions) -> Outcome {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut prep = scenario.prepare(seed, opts.record_trace, opts.max_wall);
    prep.sim.record_exports = opts.history;
    #[allow(clippy::disallowed_methods)] // Wall time is reported, never used by the run.
    let started = std::time::Instant::now();
    let progress = (opts.progress && std::io::stderr().is_terminal())
        .then(|| progress_line(scenario.duration));
    let report = scenario.run_prepared(prep, progress);
    if opts.progress && std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K"); // Clear the progress line, if one was drawn.
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    judge(file, scenario, report, wall_ms)
}

/// A progress callback that, once the run has taken a second, redraws one line on stderr:
/// virtual time reached of the run's duration, events, wall time.
fn progress_line(duration: Dur) -> sim::Progress {
    #[allow(clippy::disallowed_methods)] // Wall time is shown, never used by the run.
    let started = std::time::Instant::now();
    let total = duration.0.as_secs_f64();
    Box::new(move |now: sim::Time, events: u64| {
        let wall = started.elapsed().as_secs_f64();
        if wall >= 1.0 {
            let at = now.as_nanos() as f64 / 1e9;
            eprint!(
                "\r\x1b[K  running: {at:.1}s of {total:.1}s virtual ({:.0}%), {events} events, {wall:.0}s",
                100.0 * at / total.max(1e-9)
            );
        }
    })
}

/// Compares a run's verdict with the scenario's expectation.
pub fn judge(file: &str, scenario: &Scenario, report: RunReport, wall_ms: f64) -> Outcome {
    let expect = scenario.expect();
    let mut violations = vec![];
    let (verdict, detail) = match &report.verdict {
        Verdict::Completed => ("holds", None),
        Verdict::Violated(v) => {
            violations.push(ViolationOut {
                invariant: v.invariant.clone(),
                time_ns: v.time.as_nanos(),
                event: v.event,
                message: v.message.clone(),
            });
            ("violated", None)
        }
        Verdict::EventLimit => ("stalled", Some("event limit reached".to_string())),
        Verdict::TimeLimit => ("stalled", Some("virtual time limit reached".to_string())),
        Verdict::WallLimit => ("stalled", Some("wall time limit reached".to_string())),
        Verdict::MemoryLimit(why) => ("stalled", Some(why.clone())),
        Verdict::Panicked(m) => ("panicked", Some(m.clone())),
        Verdict::Unknown(v) => ("unknown", Some(format!("{}: {}", v.invariant, v.message))),
    };
    let matched = match expect {
        Expect::Holds => verdict == "holds",
        Expect::Violates(inv) => violations.iter().any(|v| v.invariant == inv.name()),
    };
    Outcome {
        scenario: scenario.name.clone(),
        file: file.to_string(),
        seed: report.seed,
        config_hash: format!("{:016x}", scenario.config_hash()),
        verdict,
        detail,
        expected: expect.to_string(),
        matched,
        violations,
        trace_hash: format!("{:016x}", report.trace_hash),
        events: report.events,
        virtual_time_ns: report.end_time.as_nanos(),
        wall_ms,
        metrics: metrics_json(&report.metrics),
        coverage: report
            .metrics
            .coverage
            .iter()
            .map(|(k, &v)| (k.to_string(), v))
            .collect(),
        coverage_edges: report
            .metrics
            .coverage_edges
            .iter()
            .map(|((a, b), &v)| (format!("{a} > {b}"), v))
            .collect(),
        samples: report
            .metrics
            .samples
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.iter().map(|&(t, x)| (t.as_nanos(), x)).collect(),
                )
            })
            .collect(),
        trace: report.trace,
        applied_faults: report.applied_faults,
        exports: report.exports,
        build: crate::BUILD,
        nondeterministic: None,
        replay_note: None,
    }
}

/// Counters as numbers; a series of one sample as that number; longer sample series as
/// `{count, mean, min, p50, p90, p99, max}` (quantiles are nearest-rank).
pub fn metrics_json(m: &sim::Metrics) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for (k, v) in &m.counters {
        out.insert(k.to_string(), serde_json::json!(v));
    }
    for (k, series) in &m.samples {
        let values: Vec<f64> = series.iter().map(|&(_, v)| v).collect();
        if let [one] = values[..] {
            out.insert(k.to_string(), serde_json::json!(one));
        } else if let Some(s) = Summary::of(&values) {
            out.insert(
                k.to_string(),
                serde_json::json!({"count": s.count, "mean": s.mean, "min": s.min, "p50": s.p50, "p90": s.p90, "p99": s.p99, "max": s.max}),
            );
        }
    }
    out
}

/// Runs `scenario` with `seed` twice, recording both traces; `Err` says where the two runs
/// first differ (the event, and what each run did there). Everything a run does is a
/// function of the scenario and the seed, so a difference is a determinism bug: iteration
/// over a hash map, the wall clock, a thread, or state shared between runs.
pub fn check_determinism(file: &str, scenario: &Scenario, seed: u64) -> Result<(), String> {
    let opts = RunOptions {
        seed: Some(seed),
        record_trace: true,
        ..RunOptions::default()
    };
    let a = run(file, scenario, &opts);
    let b = run(file, scenario, &opts);
    if let Some(d) = first_divergence(&a.trace, &b.trace) {
        return Err(d);
    }
    if a.trace_hash != b.trace_hash || a.verdict != b.verdict || a.metrics != b.metrics {
        return Err(format!(
            "the traces match but the results differ: trace hash {} vs {}, verdict {} vs {}",
            a.trace_hash, b.trace_hash, a.verdict, b.verdict
        ));
    }
    Ok(())
}

/// The first record where two recorded traces differ, described; `None` when they are equal.
pub fn first_divergence(a: &[TraceRecord], b: &[TraceRecord]) -> Option<String> {
    let show = |e: Option<&TraceRecord>| {
        e.map_or("(the run had ended)".to_string(), |e| {
            format!(
                "{} {}",
                sim::Time(e.time_ns),
                serde_json::to_string(e).unwrap_or_default()
            )
        })
    };
    let i = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(format!(
        "the runs diverge at trace record {} (event {}):\n    first run:  {}\n    second run: {}",
        i + 1,
        a.get(i).or(b.get(i)).map_or(0, |e| e.event_number()),
        show(a.get(i)),
        show(b.get(i))
    ))
}
