//! The Lamport (space-time) diagram as SVG (`faultline trace FILE --lamport OUT.svg`, and
//! beside every shrunk fuzz failure): one column per node, time running down, one row per
//! event of a window of the trace, an arrow per message from the row that sent it to the row
//! that received it.
//!
//! Rows are events, not a time scale: a burst of events at one instant stays readable, and
//! the true time of every row is written in the left margin. Lost messages end in a red cross
//! half-way with their reason; messages sent before the window start at its top edge (dashed),
//! those still in flight at its end run to its bottom edge. Crashed and paused periods shade
//! the node's column; partitioned periods shade the whole width; every fault is a red line
//! across with its name. Role changes (the `role` annotation) are written beside the node, so
//! two nodes that both believe they lead are plain to see. Every mark has a tooltip (`<title>`)
//! with the full record.

use super::{TraceFile, fault_name, fault_periods, payload_label};
use crate::fuzz::junit::escape as esc;
use sim::{RecordKind, TraceRecord};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Which events to draw: `first..=last` (event numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub first: u64,
    pub last: u64,
}

impl Window {
    /// The last `n` events up to and including event `upto` (the trace's end if `None`).
    pub fn last_n(file: &TraceFile, n: u64, upto: Option<u64>) -> Window {
        let end = upto.unwrap_or(file.header.events).min(file.header.events);
        Window {
            first: end.saturating_sub(n.max(1) - 1).max(1),
            last: end,
        }
    }
}

const ROW: f64 = 18.0;
const COL: f64 = 120.0;
const LEFT: f64 = 96.0;
const TOP: f64 = 60.0;

/// `12.345 ms`: a true time as the diagram writes it.
pub fn time_text(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The diagram of `window` as a standalone SVG document.
pub fn render(file: &TraceFile, window: Window) -> String {
    let records: Vec<&TraceRecord> = file
        .records
        .iter()
        .filter(|r| (window.first..=window.last).contains(&r.event_number()))
        .collect();
    // Rows: one per event in the window.
    let mut row_of: BTreeMap<u64, usize> = BTreeMap::new();
    let mut rows: Vec<&TraceRecord> = Vec::new();
    // Events at no node but faults (workload timers, ticks) would be empty rows: left out.
    for r in records
        .iter()
        .filter(|r| r.is_event() && (r.node.is_some() || r.kind == RecordKind::Fault))
    {
        row_of.insert(r.event_number(), rows.len());
        rows.push(r);
    }
    let nodes = file.header.nodes.max(1) as usize;
    let width = (LEFT + COL * nodes as f64 + 40.0).max(560.0);
    let height = TOP + ROW * (rows.len().max(1) as f64 + 1.0) + 24.0;
    let x = |n: u32| LEFT + COL * (f64::from(n) + 0.5);
    let y = |row: usize| TOP + ROW * (row as f64 + 0.5);
    let bottom = TOP + ROW * rows.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, sans-serif" font-size="11">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f4e99"/></marker></defs>
<desc>A Lamport diagram: one column per node, one row per event, time running down.</desc>
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="16" font-size="13" font-weight="bold">{}</text>
<text x="8" y="30">{}</text>
"##,
        esc(&file.header.scenario),
        esc(&format!(
            "seed {} · {} · events {}–{} of {}",
            file.header.seed, file.header.verdict, window.first, window.last, file.header.events
        )),
    );
    // The row a true time falls on: the first row at or after it.
    let row_at = |t: u64| {
        rows.iter()
            .position(|r| r.time_ns >= t)
            .unwrap_or(rows.len())
    };
    for p in fault_periods(&file.records) {
        let (a, b) = (row_at(p.from_ns), row_at(p.to_ns));
        if a >= b {
            continue;
        }
        let (top, h) = (TOP + ROW * a as f64, ROW * (b - a) as f64);
        let (x0, w, fill) = match p.node {
            Some(n) => (x(n) - COL * 0.45, COL * 0.9, "#999999"),
            None => (LEFT, COL * nodes as f64, "#e8a0a0"),
        };
        let _ = writeln!(
            s,
            r#"<rect class="fault-period" x="{x0:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" fill-opacity="0.25"><title>{} {}–{}</title></rect>"#,
            p.label,
            time_text(p.from_ns),
            time_text(p.to_ns)
        );
    }
    for n in 0..nodes as u32 {
        let _ = writeln!(
            s,
            r##"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" font-weight="bold">node {n}</text><line x1="{cx:.1}" y1="{ly:.1}" x2="{cx:.1}" y2="{bottom:.1}" stroke="#444" stroke-width="1"/>"##,
            cx = x(n),
            ty = TOP - 14.0,
            ly = TOP - 6.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#666" font-size="9">{}</text>"##,
            LEFT - 6.0,
            y(i) + 3.0,
            time_text(r.time_ns)
        );
        let tip = esc(&serde_json::to_string(r).unwrap_or_default());
        match (r.kind, r.node) {
            (RecordKind::Fault, _) => {
                let _ = writeln!(
                    s,
                    r##"<line class="fault" x1="{LEFT:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#c00" stroke-dasharray="6 3"><title>{tip}</title></line><text x="{tx:.1}" y="{ty:.1}" fill="#c00">{name}</text>"##,
                    y = y(i),
                    x2 = LEFT + COL * nodes as f64,
                    tx = LEFT + 4.0,
                    ty = y(i) - 3.0,
                    name = esc(&fault_name(r))
                );
            }
            (_, Some(n)) => {
                let fill = match r.kind {
                    RecordKind::Drop => "#c00",
                    RecordKind::Start | RecordKind::Restart => "#2a2",
                    RecordKind::Timer => "#999",
                    _ => "#1f4e99",
                };
                let _ = writeln!(
                    s,
                    r#"<circle class="event" cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}"><title>{tip}</title></circle>"#,
                    x(n),
                    y(i)
                );
                if matches!(
                    r.kind,
                    RecordKind::Timer
                        | RecordKind::Request
                        | RecordKind::Start
                        | RecordKind::Restart
                ) {
                    let label = match r.kind {
                        RecordKind::Timer => payload_label(r.payload.as_ref(), 16),
                        other => other.as_str().to_string(),
                    };
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#666" font-size="9">{}</text>"##,
                        x(n) - 6.0,
                        y(i) + 3.0,
                        esc(&label)
                    );
                }
            }
            _ => {}
        }
    }
    messages(&mut s, &records, &row_of, &x, &y, bottom, rows.len() <= 80);
    roles(&mut s, &records, &row_of, &x, &y);
    if let Some(v) = &file.header.violation
        && (window.first..=window.last).contains(&v.event)
    {
        let _ = writeln!(
            s,
            r##"<text id="violation" x="8" y="{:.1}" fill="#c00" font-weight="bold">✗ {} at event {}: {}</text>"##,
            bottom + 18.0,
            esc(&v.invariant),
            v.event,
            esc(&v.message)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Arrows for the messages of the window.
fn messages(
    s: &mut String,
    records: &[&TraceRecord],
    row_of: &BTreeMap<u64, usize>,
    x: &dyn Fn(u32) -> f64,
    y: &dyn Fn(usize) -> f64,
    bottom: f64,
    labelled: bool,
) {
    // Message id → (sender, the sending row), for sends inside the window.
    let mut sent: BTreeMap<u64, (u32, usize, String)> = BTreeMap::new();
    let mut ended: std::collections::BTreeSet<u64> = Default::default();
    for r in records {
        let Some(&row) = row_of.get(&r.event_number()) else {
            continue;
        };
        match r.kind {
            RecordKind::Send | RecordKind::Duplicate if !r.is_event() => {
                let origin = r.copy_of.and_then(|o| sent.get(&o).cloned());
                let label = origin
                    .as_ref()
                    .map_or_else(|| payload_label(r.payload.as_ref(), 18), |o| o.2.clone());
                sent.insert(
                    r.msg.unwrap_or_default(),
                    (r.node.unwrap_or_default(), row, label),
                );
            }
            RecordKind::Deliver | RecordKind::Drop => {
                let (Some(id), Some(to)) = (r.msg, r.node) else {
                    continue;
                };
                ended.insert(id);
                let tip = esc(&serde_json::to_string(r).unwrap_or_default());
                let from = sent.get(&id).cloned();
                let (x1, y1, dashed) = match &from {
                    Some((f, srow, _)) => (x(*f), y(*srow), false),
                    None => (x(r.peer.unwrap_or(to)), TOP, true),
                };
                let lost = r.kind == RecordKind::Drop;
                let (x2, y2) = if lost && !r.is_event() {
                    // Lost at send: half-way to the receiver, on the sending row.
                    ((x1 + x(to)) / 2.0, y1 + ROW * 0.5)
                } else {
                    (x(to), y(row))
                };
                let colour = if lost { "#c00" } else { "#1f4e99" };
                let dash = if dashed {
                    r#" stroke-dasharray="4 3""#
                } else {
                    ""
                };
                let marker = if lost {
                    ""
                } else {
                    r#" marker-end="url(#arrow)""#
                };
                let _ = writeln!(
                    s,
                    r#"<line class="message" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{colour}" stroke-width="1.2"{dash}{marker}><title>{tip}</title></line>"#
                );
                if lost {
                    let _ = writeln!(
                        s,
                        r#"<path d="M{:.1},{:.1} l8,8 m0,-8 l-8,8" stroke="{colour}" stroke-width="1.5"><title>{}</title></path>"#,
                        x2 - 4.0,
                        y2 - 4.0,
                        esc(r.reason.as_deref().unwrap_or("dropped"))
                    );
                }
                if labelled && let Some((_, _, label)) = &from {
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" fill="{colour}" font-size="8" text-anchor="middle">{}</text>"##,
                        (x1 + x2) / 2.0,
                        (y1 + y2) / 2.0 - 2.0,
                        esc(label)
                    );
                }
            }
            _ => {}
        }
    }
    // Still in flight when the window ends: to its bottom edge, dashed.
    for (id, (from, row, _)) in &sent {
        if !ended.contains(id) {
            let x1 = x(*from);
            let _ = writeln!(
                s,
                r##"<line class="message in-flight" x1="{x1:.1}" y1="{:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#1f4e99" stroke-opacity="0.4" stroke-dasharray="4 3"><title>message {id}: still in flight</title></line>"##,
                y(*row),
                x1 + 12.0
            );
        }
    }
}

/// Role changes written beside their node.
fn roles(
    s: &mut String,
    records: &[&TraceRecord],
    row_of: &BTreeMap<u64, usize>,
    x: &dyn Fn(u32) -> f64,
    y: &dyn Fn(usize) -> f64,
) {
    for r in records
        .iter()
        .filter(|r| r.kind == RecordKind::Annotate && r.key.as_deref() == Some("role"))
    {
        let (Some(n), Some(&row)) = (r.node, row_of.get(&r.event_number())) else {
            continue;
        };
        let text = match &r.value {
            Some(serde_json::Value::String(v)) => v.clone(),
            _ => "(gone)".into(),
        };
        let leads = matches!(text.as_str(), "leader" | "primary");
        let _ = writeln!(
            s,
            r##"<text class="role" x="{:.1}" y="{:.1}" font-size="9" stroke="white" stroke-width="3" paint-order="stroke" font-weight="{}" fill="{}">→ {}</text>"##,
            x(n) + 6.0,
            y(row) + 3.0,
            if leads { "bold" } else { "normal" },
            if leads { "#b35900" } else { "#555" },
            esc(&text)
        );
    }
}
