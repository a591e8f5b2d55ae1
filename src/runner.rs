//! Running a scenario: build the family's protocol, workload and monitors, schedule the faults,
//! run the engine, and judge the result against the scenario's expectation.

use crate::scenario::{Prepared, Scenario, expect_name};
use protocols::checks::Expect;
use protocols::family::Built;
use protocols::units::Dur;
use serde::Serialize;
use sim::{Protocol, RunReport, Summary, TraceEvent, Verdict};
use std::collections::BTreeMap;

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the trace in memory (for `--trace`).
    pub record_trace: bool,
    /// Overrides the scenario's wall-time guard.
    pub max_wall: Option<Dur>,
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
    /// `holds`, `violated`, `stalled` or `panicked`.
    pub verdict: &'static str,
    /// Why a run stalled (`event limit`, `virtual time limit`, `wall time limit`) or the panic
    /// message.
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
    /// The recorded trace (only with `--trace`; not part of the JSON).
    #[serde(skip)]
    pub trace: Vec<TraceEvent>,
    /// Every sample series in full, `(true time ns, value)`, for plots (not part of the JSON).
    #[serde(skip)]
    pub samples: BTreeMap<String, Vec<(u64, f64)>>,
    /// The faults applied, role targets resolved to nodes (for the shrinker; not in the JSON).
    #[serde(skip)]
    pub applied_faults: Vec<(sim::Time, sim::Fault)>,
}

/// Runs a built family on a prepared scenario.
pub fn run_built<P: Protocol>(prep: Prepared, built: Built<P>) -> RunReport {
    built.simulate(prep.sim, prep.faults).run()
}

/// Runs a scenario once and judges the result.
pub fn run(file: &str, scenario: &Scenario, opts: &RunOptions) -> Outcome {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let prep = scenario.prepare(seed, opts.record_trace, opts.max_wall);
    #[allow(clippy::disallowed_methods)] // Wall time is reported, never used by the run.
    let started = std::time::Instant::now();
    let report = scenario
        .protocol
        .run(prep, &scenario.workload, &scenario.checks());
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    judge(file, scenario, report, wall_ms)
}

/// Compares a run's verdict with the scenario's expectation.
pub fn judge(file: &str, scenario: &Scenario, report: RunReport, wall_ms: f64) -> Outcome {
    let expect = scenario.expect.get();
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
        Verdict::Panicked(m) => ("panicked", Some(m.clone())),
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
        expected: expect_name(expect),
        matched,
        violations,
        trace_hash: format!("{:016x}", report.trace_hash),
        events: report.events,
        virtual_time_ns: report.end_time.as_nanos(),
        wall_ms,
        metrics: metrics_json(&report.metrics),
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
