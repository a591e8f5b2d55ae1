//! The structured trace (docs/trace-format.md): every library scenario's trace validates
//! against the schema and agrees with the verdict's event count; recording changes nothing;
//! the validator catches broken traces; the Perfetto, ShiViz and Lamport exports obey their
//! formats' rules.

use faultline::cli::expand;
use faultline::runner::{Outcome, RunOptions, run};
use faultline::scenario::{Scenario, load};
use faultline::trace::{self, TraceFile, lamport, perfetto, shiviz, validate::validate};
use serde_json::Value;
use sim::{RecordKind, TraceRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Runs longer than this many events are validated on a shortened run (their traces would
/// take gigabytes).
const MAX_EVENTS: u64 = 100_000;

fn scenario(rel: &str) -> (String, Scenario) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).join(rel);
    let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
    (path.display().to_string(), s)
}

fn traced(name: &str, s: &Scenario) -> (Outcome, TraceFile) {
    let o = run(
        name,
        s,
        &RunOptions {
            record_trace: true,
            ..Default::default()
        },
    );
    let file = TraceFile::of(s, &o);
    (o, file)
}

#[test]
fn every_library_trace_validates_and_agrees_with_the_verdict() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"));
    let dir = std::env::temp_dir().join(format!("faultline-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut annotated = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let mut described = BTreeSet::new();
    for f in expand(&[root]).unwrap() {
        let name = f.display().to_string();
        let mut s = load(&f).unwrap_or_else(|e| panic!("{e}"));
        let plain = run(&name, &s, &RunOptions::default());
        let plain = if plain.events > MAX_EVENTS {
            let keep = MAX_EVENTS as f64 / plain.events as f64;
            s.duration =
                faultline::units::Dur::from_nanos((s.duration.nanos() as f64 * keep) as u64);
            run(&name, &s, &RunOptions::default())
        } else {
            plain
        };
        let (o, file) = traced(&name, &s);
        assert_eq!(
            (&o.trace_hash, o.events, o.verdict),
            (&plain.trace_hash, plain.events, plain.verdict),
            "{name}: recording a trace changed the run"
        );
        // Through a file and back, as a user would.
        let path = dir.join("t.jsonl");
        trace::write(&path, &file.header, &file.records).unwrap();
        let back = trace::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.records.len(), file.records.len(), "{name}");
        if let Some(i) = (0..file.records.len()).find(|&i| back.records[i] != file.records[i]) {
            panic!(
                "{name}: record {} reads back as {:?}, written as {:?}",
                i + 1,
                back.records[i],
                file.records[i]
            );
        }
        let problems = validate(&back);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
        let events = back.records.iter().filter(|r| r.is_event()).count() as u64;
        assert_eq!(
            events, o.events,
            "{name}: event records vs the verdict's count"
        );
        if back.records.iter().any(|r| r.kind == RecordKind::Annotate) {
            annotated.insert(back.header.protocol.clone());
        }
        kinds.extend(back.records.iter().map(|r| (r.kind, r.is_event())));
        // Workload timers say what they are, not just their token.
        for r in back
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Workload)
        {
            let p = r.payload.as_ref().expect("a workload timer has a payload");
            assert!(p["token"].is_u64(), "{name}: {p}");
            if p["timer"]["waits_for"].is_string() {
                described.insert("kv");
            }
            if p["timer"]["update"].is_object() || p["timer"]["update"].is_string() {
                described.insert("gossip");
            }
        }
    }
    for family in ["Raft", "Failover", "Gossip"] {
        assert!(
            annotated.contains(family),
            "{family} publishes annotations: {annotated:?}"
        );
    }
    assert_eq!(
        described,
        BTreeSet::from(["gossip", "kv"]),
        "both workloads describe their timers"
    );
    use RecordKind::*;
    for k in [
        Start, Restart, Deliver, Timer, Request, Reply, Workload, Fault,
    ] {
        assert!(
            kinds.contains(&(k, true)),
            "the library exercises the {k:?} event"
        );
    }
    for k in [
        Send,
        Duplicate,
        TimerSet,
        TimerCancel,
        Invoke,
        Annotate,
        Drop,
    ] {
        assert!(
            kinds.contains(&(k, false)),
            "the library exercises the {k:?} effect"
        );
    }
    assert!(kinds.contains(&(Drop, true)), "drops on arrival");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every way of breaking a valid trace is reported.
#[test]
fn the_validator_catches_broken_traces() {
    let (name, s) = scenario("raft/lossy_network.ron");
    let (_, file) = traced(&name, &s);
    assert!(validate(&file).is_empty());
    let find = |k: RecordKind, event: bool| {
        file.records
            .iter()
            .position(|r| r.kind == k && r.is_event() == event && r.msg.is_some())
            .or_else(|| {
                file.records
                    .iter()
                    .position(|r| r.kind == k && r.is_event() == event)
            })
            .unwrap_or_else(|| panic!("{k:?}"))
    };
    type Break = Box<dyn Fn(&mut TraceFile)>;
    let breaks: Vec<(&str, &str, Break)> = vec![
        ("a missing send", "never sent", {
            let i = find(RecordKind::Send, false);
            Box::new(move |f| {
                f.records.remove(i);
            })
        }),
        ("a delivery twice", "twice", {
            let i = find(RecordKind::Deliver, true);
            Box::new(move |f| {
                let mut again = f.records[i].clone();
                again.event = Some(f.records.iter().filter(|r| r.is_event()).count() as u64 + 1);
                again.time_ns = f.records.last().unwrap().time_ns;
                f.records.push(again);
                f.header.events += 1;
            })
        }),
        ("a renumbered event", "follows event", {
            let i = find(RecordKind::Timer, true);
            Box::new(move |f| f.records[i].event = f.records[i].event.map(|n| n + 5))
        }),
        ("an effect filed under the wrong event", "filed in event", {
            let i = find(RecordKind::TimerSet, false);
            Box::new(move |f| f.records[i].within = f.records[i].within.map(|n| n + 1))
        }),
        ("a missing field", "needs", {
            let i = find(RecordKind::Deliver, true);
            Box::new(move |f| f.records[i].msg = None)
        }),
        ("time running backwards", "backwards", {
            let i = find(RecordKind::Deliver, true);
            Box::new(move |f| f.records[i].time_ns = 0)
        }),
        ("a node that does not exist", "does not exist", {
            let i = find(RecordKind::Timer, true);
            Box::new(move |f| f.records[i].node = Some(99))
        }),
        (
            "an event count that disagrees with the verdict",
            "counts",
            { Box::new(|f| f.header.events += 1) },
        ),
        ("an effect kind as an event", "is an effect", {
            let i = find(RecordKind::Send, false);
            Box::new(move |f| {
                f.records[i].event = f.records[i].within;
                f.records[i].within = None;
            })
        }),
    ];
    for (what, says, edit) in breaks {
        let mut broken = file.clone();
        edit(&mut broken);
        let problems = validate(&broken);
        assert!(
            problems.iter().any(|p| p.contains(says)),
            "{what}: expected a problem saying {says:?}, got {problems:#?}"
        );
    }
}

/// The Perfetto export: every flow has both ends inside slices of the same thread, one flow per
/// delivered message, and every process is named.
#[test]
fn perfetto_flows_start_and_end_inside_slices() {
    for rel in [
        "raft/lossy_network.ron",
        "raft/leader_crash.ron",
        "failover/fencing_partition.ron",
    ] {
        let (name, s) = scenario(rel);
        let (o, file) = traced(&name, &s);
        let doc = perfetto::export(&file);
        let events = doc["traceEvents"].as_array().expect("traceEvents");
        let mut slices: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
        let mut named = BTreeSet::new();
        let mut used = BTreeSet::new();
        for e in events {
            let pid = e["pid"].as_u64().expect("every event has a pid");
            match e["ph"].as_str().unwrap() {
                "X" => {
                    let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
                    assert!(dur > 0.0, "{name}: a slice with no length: {e}");
                    slices
                        .entry((pid, e["tid"].as_u64().unwrap()))
                        .or_default()
                        .push((ts, dur));
                    used.insert(pid);
                }
                "M" if e["name"] == "process_name" => {
                    named.insert(pid);
                }
                "C" => {
                    let args = e["args"].as_object().unwrap();
                    assert!(
                        args.values().all(Value::is_number),
                        "{name}: counters are numbers: {e}"
                    );
                }
                _ => {}
            }
        }
        assert!(used.is_subset(&named), "{name}: every process is named");
        let inside = |e: &Value| {
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            let t = e["ts"].as_f64().unwrap();
            slices
                .get(&key)
                .is_some_and(|v| v.iter().any(|&(ts, dur)| ts <= t && t < ts + dur))
        };
        let mut ends: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
        for e in events {
            let ph = e["ph"].as_str().unwrap();
            if ph == "s" || ph == "f" {
                assert!(inside(e), "{name}: a flow end outside any slice: {e}");
                let id = e["id"].as_u64().unwrap();
                let end = ends.entry(id).or_default();
                if ph == "s" {
                    end.0 += 1;
                } else {
                    assert_eq!(
                        e["bp"], "e",
                        "{name}: flow ends bind to the enclosing slice"
                    );
                    end.1 += 1;
                }
            }
        }
        assert!(
            ends.values().all(|&c| c == (1, 1)),
            "{name}: one start and one end per flow"
        );
        let delivered = o.metrics["net.delivered"].as_u64().unwrap();
        assert_eq!(
            ends.len() as u64,
            delivered,
            "{name}: a flow per delivered message"
        );
        let faults = events
            .iter()
            .filter(|e| e["cat"] == "fault" && e["ph"] == "i")
            .count();
        let applied = file
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Fault)
            .count();
        assert_eq!(faults, applied, "{name}: a marker per fault");
    }
}

/// The ShiViz log: the header ShiViz expects, and vector clocks by its rules — a host's own
/// entry starts at 1 and grows by exactly 1 per event, no host knows more of another than
/// that host has logged, and a receive knows everything its send knew.
#[test]
fn shiviz_clocks_obey_shivizs_rules() {
    let (name, s) = scenario("raft/lossy_network.ron");
    let (_, file) = traced(&name, &s);
    let log = shiviz::export(&file);
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some(shiviz::REGEX));
    assert_eq!(lines.next(), Some(""), "an empty execution delimiter");
    let rest: Vec<&str> = lines.collect();
    assert!(
        rest.len() > 1000 && rest.len().is_multiple_of(2),
        "{} lines",
        rest.len()
    );
    let mut own: BTreeMap<String, u64> = BTreeMap::new();
    let mut sent: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for pair in rest.chunks(2) {
        let (event, clock_line) = (pair[0], pair[1]);
        let (host, clock) = clock_line.split_once(' ').expect("host clock");
        let clock: BTreeMap<String, u64> = serde_json::from_str(clock).expect("a JSON clock");
        let mine = own.entry(host.to_string()).or_default();
        *mine += 1;
        assert_eq!(
            clock.get(host),
            Some(&*mine),
            "{host}'s own entry grows by 1: {event}"
        );
        for (h, &c) in &clock {
            if h != host {
                assert!(
                    c <= own.get(h).copied().unwrap_or(0),
                    "{host} knows the future of {h}"
                );
            }
        }
        // `(msg 12)`, or `(msg 14, a copy of msg 12)` for a duplicate: it carries msg 12's clock.
        let ids = event
            .split("(msg ")
            .nth(1)
            .and_then(|t| t.split(')').next());
        let msg = ids.map(|t| t.rsplit("msg ").next().unwrap_or(t));
        if let Some(id) = msg {
            if event.starts_with("send ") {
                sent.insert(id.to_string(), clock);
            } else if event.starts_with("receive ") {
                let at_send = &sent[id];
                assert!(
                    at_send
                        .iter()
                        .all(|(h, c)| clock.get(h).is_some_and(|v| v >= c)),
                    "a receive knows what its send knew: {event}"
                );
            }
        }
    }
}

/// The Lamport diagram of a violation: well-formed SVG, an arrow per message in its window,
/// the faults drawn, and two nodes that both believed they led during a split brain.
#[test]
fn the_lamport_diagram_draws_messages_faults_and_roles() {
    let (name, s) = scenario("raft/bug_vote_without_log_check.ron");
    let (o, file) = traced(&name, &s);
    assert_eq!(o.verdict, "violated", "{name} is a known bug");
    let window = lamport::Window::last_n(&file, 400, None);
    let svg = lamport::render(&file, window);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let class = |c: &str| {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|a| a.split(' ').any(|x| x == c))
            })
            .count()
    };
    let in_window = |r: &&TraceRecord| (window.first..=window.last).contains(&r.event_number());
    let delivered = file
        .records
        .iter()
        .filter(in_window)
        .filter(|r| {
            r.is_event()
                && matches!(r.kind, RecordKind::Deliver | RecordKind::Drop)
                && r.msg.is_some()
        })
        .count();
    let lost = file
        .records
        .iter()
        .filter(in_window)
        .filter(|r| !r.is_event() && r.kind == RecordKind::Drop)
        .count();
    assert!(delivered > 0);
    // Every delivery or drop in the window is an arrow; in-flight ones are extra.
    assert!(
        class("message") >= delivered + lost,
        "{} arrows for {}",
        class("message"),
        delivered + lost
    );
    let roles = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("role"))
        .filter_map(|n| n.text())
        .collect::<Vec<_>>();
    assert!(roles.iter().any(|t| t.contains("leader")), "{roles:?}");
    let faults_in_window = file
        .records
        .iter()
        .filter(in_window)
        .filter(|r| r.kind == RecordKind::Fault)
        .count();
    assert_eq!(class("fault"), faults_in_window);
}
