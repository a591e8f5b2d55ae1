//! The run report's two timelines, as inline SVG on one true-time axis from zero to the run's
//! end:
//!
//! - the fault timeline: one row for the cluster and one per node, a bar for every period a
//!   fault held ([`crate::trace::fault_periods`]: crashed, paused, partitioned) and a tick for
//!   every fault event, on the node rows it hit (network faults on the cluster row);
//! - the operation timeline, after Maelstrom's `timeline.html`: one row per client process, a
//!   bar from each operation's invocation to its completion coloured by outcome (ok green,
//!   fail red, info orange; an info operation never completed runs to the end of the run).
//!
//! Both mark the violation, when there is one, with a red line across. Every mark has a
//! `<title>` tooltip, and every bar a class (`period crashed`, `op ok`...) the tests query.

use super::esc;
use crate::trace::{fault_name, fault_nodes, fault_periods};
use protocols::linearizability::{History, Op, Operation, Outcome, Ret};
use sim::{RecordKind, TraceRecord};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The drawing's width, in SVG units (it scales down with the page).
const WIDTH: f64 = 1000.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 24.0;
/// Below the rows: the time axis.
const AXIS: f64 = 34.0;

/// Operations drawn at most; a longer history is cut (and the page says so).
pub const MAX_OPS_DRAWN: usize = 20_000;

/// A moment marked across a timeline: the violation.
#[derive(Clone, Debug)]
pub struct Mark {
    pub time_ns: u64,
    pub label: String,
}

/// Network faults: drawn on the cluster row.
const NETWORK_FAULTS: &[&str] = &[
    "Partition",
    "Isolate",
    "OneWay",
    "CutLink",
    "Bridge",
    "Heal",
    "Degrade",
];

/// Maps true time onto the drawing.
struct Scale {
    end_ns: u64,
}

impl Scale {
    fn x(&self, t: u64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (t.min(self.end_ns) as f64 / self.end_ns.max(1) as f64)
    }
}

/// The fault timeline of a run with `nodes` nodes that ended at `end_ns`.
pub fn fault_timeline(
    records: &[TraceRecord],
    nodes: u32,
    end_ns: u64,
    mark: Option<&Mark>,
) -> String {
    const ROW: f64 = 20.0;
    let scale = Scale {
        end_ns: end_ns.max(1),
    };
    // Row 0 is the cluster, row n + 1 node n.
    let rows = nodes as usize + 1;
    let height = TOP + ROW * rows as f64 + AXIS;
    let row_y = |row: usize| TOP + ROW * row as f64;
    let mut s = open_svg("fault-timeline", height);
    for row in 0..rows {
        let name = if row == 0 {
            "cluster".to_string()
        } else {
            format!("node {}", row - 1)
        };
        stripe(&mut s, row, row_y(row), ROW, &name);
    }
    for p in fault_periods(records) {
        let row = p.node.map_or(0, |n| n as usize + 1);
        if row >= rows {
            continue;
        }
        let (x0, x1) = (scale.x(p.from_ns), scale.x(p.to_ns));
        let fill = match p.label {
            "crashed" => "#777777",
            "paused" => "#d9a400",
            "slow" => "#6f8fd0",
            _ => "#e07070",
        };
        let who = p
            .node
            .map_or("the cluster".to_string(), |n| format!("node {n}"));
        let _ = writeln!(
            s,
            r#"<rect class="period {label}" x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" fill-opacity="0.75"><title>{who} {label} from {} to {}</title></rect>"#,
            super::secs_text(p.from_ns),
            super::secs_text(p.to_ns),
            label = p.label,
            y = row_y(row) + 3.0,
            w = (x1 - x0).max(1.0),
            h = ROW - 6.0,
        );
    }
    let faults: Vec<&TraceRecord> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Fault && r.is_event())
        .collect();
    let labelled = faults.len() <= 40;
    for r in &faults {
        let name = fault_name(r);
        let hit = fault_nodes(r);
        let rows_hit: Vec<usize> = if hit.is_empty() || NETWORK_FAULTS.contains(&name.as_str()) {
            vec![0]
        } else {
            hit.iter()
                .map(|&n| n as usize + 1)
                .filter(|&row| row < rows)
                .collect()
        };
        let tip = esc(&format!(
            "{}: {name}{} (event {})",
            super::secs_text(r.time_ns),
            if hit.is_empty() {
                String::new()
            } else {
                format!(
                    " on {}",
                    hit.iter()
                        .map(|n| format!("n{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            r.event_number()
        ));
        let x = scale.x(r.time_ns);
        for row in rows_hit {
            let y = row_y(row);
            let _ = writeln!(
                s,
                r##"<line class="fault-tick" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#8b0000" stroke-width="2"><title>{tip}</title></line>"##,
                y + 1.0,
                y + ROW - 1.0
            );
            if labelled {
                // Near the right edge the name goes left of its tick, inside the drawing.
                let (tx, anchor) = if x > WIDTH - RIGHT - 60.0 {
                    (x - 2.0, "end")
                } else {
                    (x + 2.0, "start")
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{tx:.1}" y="{:.1}" font-size="8" fill="#8b0000" text-anchor="{anchor}">{}</text>"##,
                    y + 9.0,
                    esc(&name)
                );
            }
        }
    }
    close_svg(&mut s, &scale, TOP, TOP + ROW * rows as f64, mark)
}

/// The operation timeline of a client history, for a run that ended at `end_ns`.
pub fn operations_timeline(history: &History, end_ns: u64, mark: Option<&Mark>) -> String {
    const ROW: f64 = 14.0;
    let end_ns = history
        .operations()
        .filter_map(|o| o.completion.map(|c| c.time_ns))
        .fold(end_ns, u64::max);
    let scale = Scale {
        end_ns: end_ns.max(1),
    };
    let mut by_process: BTreeMap<u64, Vec<&Operation>> = BTreeMap::new();
    for op in history.operations().take(MAX_OPS_DRAWN) {
        by_process.entry(op.process).or_default().push(op);
    }
    let rows = by_process.len().max(1);
    let height = TOP + ROW * rows as f64 + AXIS;
    let mut s = open_svg("operations", height);
    for (row, (process, ops)) in by_process.iter().enumerate() {
        let y = TOP + ROW * row as f64;
        stripe(&mut s, row, y, ROW, &format!("process {process}"));
        for op in ops {
            let class = kind(op);
            let fill = match class {
                "ok" => "#2e9e3e",
                "fail" => "#d62728",
                _ => "#ff9800",
            };
            let done = op.completion.map_or(end_ns, |c| c.time_ns);
            let (x0, x1) = (scale.x(op.invoke_ns), scale.x(done));
            let _ = writeln!(
                s,
                r#"<rect class="op {class}" x="{x0:.2}" y="{:.1}" width="{:.2}" height="{:.1}" fill="{fill}"><title>{}</title></rect>"#,
                y + 2.0,
                (x1 - x0).max(1.0),
                ROW - 4.0,
                esc(&op_text(op))
            );
        }
    }
    close_svg(&mut s, &scale, TOP, TOP + ROW * rows as f64, mark)
}

/// The operation's completion type as the exported history writes it (Jepsen's `:type`):
/// `ok`, `fail` (it did not take effect; a cas that found another value is one), or `info`
/// (it may have: timed out, or never completed).
pub fn kind(op: &Operation) -> &'static str {
    match op.outcome() {
        Outcome::Ok(Ret::Cas(false)) | Outcome::Fail => "fail",
        Outcome::Ok(_) => "ok",
        Outcome::Info => "info",
    }
}

/// Operations by [`kind`]: `(ok, fail, info)`.
pub fn kind_counts(history: &History) -> (usize, usize, usize) {
    history
        .operations()
        .fold((0, 0, 0), |(ok, fail, info), op| match kind(op) {
            "ok" => (ok + 1, fail, info),
            "fail" => (ok, fail + 1, info),
            _ => (ok, fail, info + 1),
        })
}

/// An operation as its tooltip says it: `process 2, key 0: put 7 → ok (invoked at 1.2 s,
/// took 12.3 ms)`.
pub fn op_text(op: &Operation) -> String {
    let what = match op.op {
        Op::Put(v) => format!("put {v}"),
        Op::Get => "get".to_string(),
        Op::Cas { expected, new } => format!("cas {expected} → {new}"),
    };
    let result = match op.outcome() {
        Outcome::Ok(Ret::Put) => "ok".to_string(),
        Outcome::Ok(Ret::Get(Some(v))) => format!("ok, read {v}"),
        Outcome::Ok(Ret::Get(None)) => "ok, read nothing".to_string(),
        Outcome::Ok(Ret::Cas(true)) => "ok, swapped".to_string(),
        Outcome::Ok(Ret::Cas(false)) => "fail, it found another value".to_string(),
        Outcome::Fail => "fail".to_string(),
        Outcome::Info if op.is_pending() => "info (never completed)".to_string(),
        Outcome::Info => "info (timed out)".to_string(),
    };
    let took = op.latency_ns().map_or(String::new(), |l| {
        format!(", took {:.3} ms", l as f64 / 1e6)
    });
    format!(
        "process {}, key {}: {what} → {result} (invoked at {}{took})",
        op.process,
        op.key,
        super::secs_text(op.invoke_ns)
    )
}

fn open_svg(id: &str, height: f64) -> String {
    format!(
        r#"<svg id="{id}" class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="DejaVu Sans, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
"#
    )
}

/// A row's background (alternating) and its name in the left margin.
fn stripe(s: &mut String, row: usize, y: f64, h: f64, name: &str) {
    let fill = if row.is_multiple_of(2) {
        "#f4f4f4"
    } else {
        "#ffffff"
    };
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{fill}"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#333">{}</text>"##,
        WIDTH - LEFT - RIGHT,
        LEFT - 6.0,
        y + h / 2.0 + 4.0,
        esc(name)
    );
}

/// The violation line, the time axis below the rows, and the closing tag.
fn close_svg(s: &mut String, scale: &Scale, top: f64, bottom: f64, mark: Option<&Mark>) -> String {
    if let Some(m) = mark {
        let x = scale.x(m.time_ns);
        let _ = writeln!(
            s,
            r##"<line class="violation-mark" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#d00" stroke-width="2"><title>{}</title></line><text x="{x:.1}" y="{:.1}" text-anchor="end" fill="#d00" font-weight="bold">{}</text>"##,
            top - 12.0,
            esc(&format!("{} at {}", m.label, super::secs_text(m.time_ns))),
            top - 14.0,
            esc(&m.label)
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT:.1}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#444"/>"##,
        WIDTH - RIGHT
    );
    let (unit, per) = if scale.end_ns >= 2_000_000_000 {
        ("s", 1e9)
    } else if scale.end_ns >= 2_000_000 {
        ("ms", 1e6)
    } else {
        ("µs", 1e3)
    };
    let step = nice_step(scale.end_ns as f64 / per / 8.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let mut i = 0u64;
    loop {
        let value = step * i as f64;
        let t = (value * per).round() as u64;
        if t > scale.end_ns {
            break;
        }
        let x = scale.x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#333">{value:.decimals$}</text>"##,
            bottom + 4.0,
            bottom + 16.0
        );
        i += 1;
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">time ({unit})</text>"##,
        WIDTH - RIGHT,
        bottom + 30.0
    );
    s.push_str("</svg>");
    std::mem::take(s)
}

/// A round step near `raw`: 1, 2 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let base = raw / magnitude;
    let nice = if base <= 1.0 {
        1.0
    } else if base <= 2.0 {
        2.0
    } else if base <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.47), 0.5);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn every_operation_is_a_bar_of_its_outcome() {
        let mut h = History::new();
        let a = h.invoke(0, 1, Op::Put(5), 1_000_000);
        h.complete(a, Outcome::Ok(Ret::Put), 3_000_000);
        let b = h.invoke(
            1,
            1,
            Op::Cas {
                expected: 4,
                new: 6,
            },
            2_000_000,
        );
        h.complete(b, Outcome::Ok(Ret::Cas(false)), 4_000_000);
        let c = h.invoke(3, 2, Op::Put(1), 4_500_000);
        h.complete(c, Outcome::Fail, 4_600_000);
        h.invoke(2, 1, Op::Get, 5_000_000);
        let mark = Mark {
            time_ns: 6_000_000,
            label: "Linearizable".into(),
        };
        let svg = operations_timeline(&h, 10_000_000, Some(&mark));
        assert_eq!(svg.matches(r#"class="op ok""#).count(), 1);
        assert_eq!(svg.matches(r#"class="op fail""#).count(), 2);
        assert_eq!(svg.matches(r#"class="op info""#).count(), 1);
        assert!(svg.contains("process 2, key 1: get → info (never completed)"));
        assert!(svg.contains("cas 4 → 6 → fail, it found another value"));
        assert_eq!(kind_counts(&h), (1, 2, 1));
        assert!(svg.contains(r#"class="violation-mark""#));
        assert!(svg.starts_with(r#"<svg id="operations""#) && svg.ends_with("</svg>"));
    }
}
