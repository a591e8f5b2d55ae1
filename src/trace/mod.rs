//! Trace files: writing a run's structured trace (docs/trace-format.md), reading one back with
//! errors that name the line and column, and what the exporters share (fault periods, labels).
//!
//! A file is a header line ([`TraceHeader`]) then one [`TraceRecord`] per line. The exporters
//! ([`perfetto`], [`shiviz`], [`lamport`]) and the checker ([`validate`]) read this form, so a
//! trace written today can be converted later, by `faultline trace`.

pub mod cli;
pub mod lamport;
pub mod perfetto;
pub mod shiviz;
pub mod validate;

use crate::runner::Outcome;
use crate::scenario::Scenario;
use sim::trace::record::{SCHEMA_NAME, SCHEMA_VERSION};
use sim::{RecordKind, TraceHeader, TraceRecord};
use std::io::Write;
use std::path::Path;

/// A trace read back: its header and records.
#[derive(Clone, Debug)]
pub struct TraceFile {
    pub header: TraceHeader,
    pub records: Vec<TraceRecord>,
}

impl TraceFile {
    /// A run's recorded trace with its header, in memory (as `read` would give it back).
    pub fn of(s: &Scenario, o: &Outcome) -> TraceFile {
        TraceFile {
            header: header(s, o),
            records: o.trace.clone(),
        }
    }
}

/// The header of a run's trace.
pub fn header(s: &Scenario, o: &Outcome) -> TraceHeader {
    TraceHeader {
        schema: SCHEMA_NAME.into(),
        version: SCHEMA_VERSION,
        scenario: s.name.clone(),
        protocol: s.protocol.name().into(),
        nodes: u32::try_from(s.nodes).unwrap_or(u32::MAX),
        seed: o.seed,
        trace_hash: o.trace_hash.clone(),
        events: o.events,
        verdict: match o.violations.first() {
            Some(v) => format!("{} {}", o.verdict, v.invariant),
            None => o.verdict.to_string(),
        },
        violation: o.violations.first().map(|v| sim::trace::TraceViolation {
            invariant: v.invariant.clone(),
            event: v.event,
            message: v.message.clone(),
        }),
    }
}

/// Writes a trace as JSON lines, header first (atomically, see [`crate::io::write_stream`]).
pub fn write(path: &Path, header: &TraceHeader, records: &[TraceRecord]) -> Result<(), String> {
    crate::io::write_stream(path, |f| {
        serde_json::to_writer(&mut *f, header)?;
        f.write_all(b"\n")?;
        for r in records {
            serde_json::to_writer(&mut *f, r)?;
            f.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Reads a trace file (of any size: it is read line by line); an error names the file, line
/// and column and what was expected.
pub fn read(path: &Path) -> Result<TraceFile, String> {
    use std::io::BufRead;
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = std::io::BufReader::new(f).lines();
    let at = |line: usize, e: String| format!("{}:{line}:{e}", path.display());
    let first = match lines.next() {
        Some(l) => l.map_err(|e| at(1, format!("1: {e}")))?,
        None => String::new(),
    };
    let header = parse_header(&first).map_err(|e| at(1, e))?;
    let mut records = Vec::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(|e| at(n, format!("1: {e}")))?;
        if let Some(r) = parse_record(&line).map_err(|e| at(n, e))? {
            records.push(r);
        }
    }
    Ok(TraceFile { header, records })
}

/// Parses a trace's text; an error starts with `line:column: `.
pub fn parse(text: &str) -> Result<TraceFile, String> {
    let mut lines = text.lines();
    let header = parse_header(lines.next().unwrap_or("")).map_err(|e| format!("1:{e}"))?;
    let mut records = Vec::new();
    for (i, line) in lines.enumerate() {
        if let Some(r) = parse_record(line).map_err(|e| format!("{}:{e}", i + 2))? {
            records.push(r);
        }
    }
    Ok(TraceFile { header, records })
}

/// The header line; an error starts with the column.
fn parse_header(line: &str) -> Result<TraceHeader, String> {
    if line.trim().is_empty() {
        return Err("1: the file is empty; expected a trace header line".into());
    }
    let header: TraceHeader = serde_json::from_str(line).map_err(|e| {
        format!(
            "{}: not a faultline trace header ({e}); expected {{\"schema\":\"{SCHEMA_NAME}\",\"version\":{SCHEMA_VERSION},...}}",
            e.column()
        )
    })?;
    if header.schema != SCHEMA_NAME {
        return Err(format!(
            "1: schema is {:?}; expected {SCHEMA_NAME:?}",
            header.schema
        ));
    }
    if header.version != SCHEMA_VERSION {
        return Err(format!(
            "1: trace schema version {} is not one this build reads (it reads version {SCHEMA_VERSION}); convert it with the faultline that wrote it",
            header.version
        ));
    }
    Ok(header)
}

/// One record line (`None` for a blank line); an error starts with the column.
fn parse_record(line: &str) -> Result<Option<TraceRecord>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(line).map(Some).map_err(|e| {
        format!(
            "{}: {e}; expected a trace record (docs/trace-format.md)",
            e.column()
        )
    })
}

/// The Lamport diagram of a scenario's run (recorded afresh): its last `n` events up to the
/// violation, or to the end of a run that held.
pub fn lamport_of(name: &str, s: &Scenario, n: u64) -> String {
    let opts = crate::runner::RunOptions {
        record_trace: true,
        ..Default::default()
    };
    let o = crate::runner::run(name, s, &opts);
    let upto = o.violations.first().map(|v| v.event);
    let file = TraceFile {
        header: header(s, &o),
        records: o.trace,
    };
    lamport::render(&file, lamport::Window::last_n(&file, n, upto))
}

/// Where a scenario file's Lamport diagram goes: beside it, `x.shrunk.ron` → `x.shrunk.svg`.
pub fn diagram_path(scenario_file: &Path) -> std::path::PathBuf {
    scenario_file.with_extension("svg")
}

/// Events a failure's diagram shows.
pub const FAILURE_DIAGRAM_EVENTS: u64 = 60;

/// Draws the diagram of a (shrunk) failure file beside it; returns its path.
pub fn write_failure_diagram(path: &Path, s: &Scenario) -> Result<std::path::PathBuf, String> {
    let out = diagram_path(path);
    let svg = lamport_of(&path.display().to_string(), s, FAILURE_DIAGRAM_EVENTS);
    crate::io::write_file(&out, svg.as_bytes())?;
    Ok(out)
}

/// A period when a fault held: a node down or paused, or the network partitioned.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    /// The node it concerns; `None` for the whole cluster (a partition).
    pub node: Option<u32>,
    pub from_ns: u64,
    /// When it ended; the trace's end if it never did.
    pub to_ns: u64,
    /// `crashed`, `paused`, `partitioned`.
    pub label: &'static str,
}

/// The fault's name in a fault record's payload: `Crash`, `Heal`, `Partition`...
pub fn fault_name(r: &TraceRecord) -> String {
    let fault = r.payload.as_ref().and_then(|p| p.get("fault"));
    match fault {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        _ => "fault".into(),
    }
}

/// The nodes a fault record hit.
pub fn fault_nodes(r: &TraceRecord) -> Vec<u32> {
    r.payload
        .as_ref()
        .and_then(|p| p.get("nodes"))
        .and_then(|n| n.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64().and_then(|v| u32::try_from(v).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The periods the trace's faults held: crash → restart, pause → resume and a `Slow` fault's
/// duration per node, and partition (or isolation, one-way or link cuts) → heal for the cluster.
pub fn fault_periods(records: &[TraceRecord]) -> Vec<Period> {
    let end = records.last().map_or(0, |r| r.time_ns);
    let mut slow: Vec<Period> = Vec::new();
    let mut open: Vec<Period> = Vec::new();
    let mut done = Vec::new();
    let mut close = |open: &mut Vec<Period>, node: Option<u32>, label: &str, at: u64| {
        if let Some(i) = open.iter().position(|p| p.node == node && p.label == label) {
            let mut p = open.swap_remove(i);
            p.to_ns = at;
            done.push(p);
        }
    };
    for r in records.iter().filter(|r| r.kind == RecordKind::Fault) {
        let t = r.time_ns;
        let name = fault_name(r);
        let nodes = fault_nodes(r);
        let begin = |open: &mut Vec<Period>, node: Option<u32>, label: &'static str| {
            if !open.iter().any(|p| p.node == node && p.label == label) {
                open.push(Period {
                    node,
                    from_ns: t,
                    to_ns: end,
                    label,
                });
            }
        };
        match name.as_str() {
            "Crash" => nodes
                .iter()
                .for_each(|&n| begin(&mut open, Some(n), "crashed")),
            "Restart" => nodes
                .iter()
                .for_each(|&n| close(&mut open, Some(n), "crashed", t)),
            "Pause" => nodes
                .iter()
                .for_each(|&n| begin(&mut open, Some(n), "paused")),
            "Resume" => nodes
                .iter()
                .for_each(|&n| close(&mut open, Some(n), "paused", t)),
            "Partition" | "Isolate" | "OneWay" | "CutLink" | "Bridge" => {
                begin(&mut open, None, "partitioned")
            }
            "Heal" => close(&mut open, None, "partitioned", t),
            // A slow node: from the fault for its duration (a later one replaces it).
            "Slow" => {
                let lasts = r
                    .payload
                    .as_ref()
                    .and_then(|p| p.pointer("/fault/Slow/duration"))
                    .and_then(|d| d.as_str())
                    .and_then(|d| sim::units::parse_duration(d).ok())
                    .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64);
                for &n in &nodes {
                    for p in slow.iter_mut().filter(|p| p.node == Some(n)) {
                        p.to_ns = p.to_ns.min(t);
                    }
                    slow.push(Period {
                        node: Some(n),
                        from_ns: t,
                        to_ns: t.saturating_add(lasts).min(end.max(t)),
                        label: "slow",
                    });
                }
            }
            _ => {}
        }
    }
    done.extend(open);
    done.extend(slow);
    done.sort_by_key(|p| (p.from_ns, p.node));
    done
}

/// A short label of a message or timer payload: its variant name (`AppendEntries`), or the
/// JSON text cut to `max` characters.
pub fn payload_label(payload: Option<&serde_json::Value>, max: usize) -> String {
    let text = match payload {
        None => String::new(),
        Some(serde_json::Value::Object(m)) if m.len() == 1 => {
            m.keys().next().cloned().unwrap_or_default()
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    if text.chars().count() > max {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_with_its_column() {
        let header = r#"{"schema":"faultline-trace","version":1,"scenario":"s","protocol":"raft","nodes":3,"seed":1,"trace_hash":"00","events":1,"verdict":"holds"}"#;
        let good = r#"{"event":1,"time_ns":0,"kind":"start","node":0}"#;
        let text = format!("{header}\n{good}\n{{\"event\":2,\"time_ns\":\"x\"}}\n");
        let err = parse(&text).unwrap_err();
        assert!(err.starts_with("3:"), "{err}");
        let unknown =
            format!("{header}\n{{\"event\":1,\"time_ns\":0,\"kind\":\"start\",\"colour\":1}}\n");
        let err = parse(&unknown).unwrap_err();
        assert!(err.contains("colour"), "unknown fields are refused: {err}");
        let newer = header.replace("\"version\":1", "\"version\":9");
        assert!(parse(&newer).unwrap_err().contains("version 9"));
        assert_eq!(
            parse(&format!("{header}\n{good}\n")).unwrap().records.len(),
            1
        );
    }
    #[test]
    fn a_slow_fault_holds_for_its_duration_until_replaced() {
        let header = r#"{"schema":"faultline-trace","version":1,"scenario":"s","protocol":"raft","nodes":3,"seed":1,"trace_hash":"00","events":3,"verdict":"holds"}"#;
        let slow = |event: u64, at: u64, node: u32, d: &str| {
            format!(
                r#"{{"event":{event},"time_ns":{at},"kind":"fault","node":{node},"payload":{{"fault":{{"Slow":{{"duration":"{d}","factor":10.0,"target":{{"Nodes":[{node}]}}}}}},"nodes":[{node}]}}}}"#
            )
        };
        let text = format!(
            "{header}\n{}\n{}\n{}\n{{\"event\":4,\"time_ns\":9000000000,\"kind\":\"start\",\"node\":0}}\n",
            slow(1, 1_000_000_000, 1, "3s"),
            slow(2, 2_000_000_000, 1, "1s"),
            slow(3, 5_000_000_000, 2, "10s"),
        );
        let trace = parse(&text).unwrap();
        let spans: Vec<(Option<u32>, u64, u64, &str)> = fault_periods(&trace.records)
            .iter()
            .map(|p| (p.node, p.from_ns / 1_000_000, p.to_ns / 1_000_000, p.label))
            .collect();
        assert_eq!(
            spans,
            vec![
                (Some(1), 1000, 2000, "slow"),
                (Some(1), 2000, 3000, "slow"),
                (Some(2), 5000, 9000, "slow"),
            ]
        );
    }
}
