//! Printing results: a seed banner and a verdict for people, one JSON object per run for
//! machines, and traces as JSON lines.
//!
//! Trace format (`--trace OUT.jsonl`): one JSON object per line, one line per processed event
//! (and per message dropped at send time), in order:
//! `{"event":12,"time_ns":1500000,"node":2,"kind":"deliver","peer":0,"summary":"AppendEntries { .. }"}`.
//! `node`/`peer` are omitted when not applicable; `kind` is one of deliver, drop, timer,
//! request, reply, workload, fault, start, tick.

use crate::runner::Outcome;
use sim::TraceEvent;
use std::io::Write;
use std::path::Path;

/// The seed banner that starts every run's human output, printed before the run starts so
/// that a run which hangs or crashes has already said how to replay it.
pub fn banner(seed: u64, scenario: &str, config_hash: &str, file: &str) -> String {
    format!("SEED={seed} scenario=\"{scenario}\" config={config_hash} file={file}")
}

/// The verdict, violations and metrics for people, after the banner.
pub fn human(o: &Outcome) -> String {
    let mark = if o.matched { "ok" } else { "MISMATCH" };
    let mut s = String::new();
    let detail = o
        .detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    s += &format!(
        "  {mark}: {}{detail}, expected {} — {} events, {:.3}s virtual, {:.0} ms wall, trace {}\n",
        o.verdict,
        o.expected,
        o.events,
        o.virtual_time_ns as f64 / 1e9,
        o.wall_ms,
        o.trace_hash
    );
    for v in &o.violations {
        s += &format!(
            "  violation: {} at {:.6}s (event {}): {}\n",
            v.invariant,
            v.time_ns as f64 / 1e9,
            v.event,
            v.message
        );
    }
    let metrics = metrics_line(o);
    if !metrics.is_empty() {
        s += &format!("  metrics: {metrics}\n");
    }
    if !o.matched {
        s += &format!("  replay: faultline run {} --seed {}\n", o.file, o.seed);
    }
    s
}

/// Writes a trace as JSON lines (atomically, see [`crate::io::write_stream`]).
pub fn write_trace(path: &Path, events: &[TraceEvent]) -> Result<(), String> {
    crate::io::write_stream(path, |f| {
        for e in events {
            serde_json::to_writer(&mut *f, e)?;
            f.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// The protocol's metrics on one line (network counters are left to `--json`): counters and
/// single values as `name=value`, series as `name=mean (p50 .., p99 .., n=count)`.
fn metrics_line(o: &Outcome) -> String {
    let fmt = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{v:.0}")
        } else {
            format!("{v:.3}")
        }
    };
    o.metrics
        .iter()
        .filter(|(k, _)| !k.starts_with("net.") && !k.starts_with("storage."))
        .map(|(k, v)| match v {
            serde_json::Value::Object(m) => {
                let get = |f: &str| m.get(f).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
                format!(
                    "{k}={} (p50 {}, p99 {}, n={})",
                    fmt(get("mean")),
                    fmt(get("p50")),
                    fmt(get("p99")),
                    get("count")
                )
            }
            other => format!(
                "{k}={}",
                other.as_f64().map_or_else(|| other.to_string(), fmt)
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
