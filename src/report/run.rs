//! The run report: `faultline run FILE --report DIR` writes `DIR/report.html` and, beside it,
//! every file the page links to.
//!
//! ```text
//! DIR/report.html          the page (self-contained: inline style and SVG, no script)
//! DIR/trace.jsonl          the structured trace (docs/trace-format.md)
//! DIR/trace.perfetto.json  the trace as Chrome trace JSON (ui.perfetto.dev)
//! DIR/trace.shiviz.log     the trace as a ShiViz log
//! DIR/history.jsonl|.edn   the clients' history, when the workload has one
//! DIR/lamport.svg          the Lamport diagram the page shows
//! DIR/charts/*.png|svg|csv the charts of `--plot`, with their series
//! ```
//!
//! The page shows, top to bottom: the verdict against the expectation, the violation with
//! what its invariant means, the fault timeline, the operation timeline, the charts, the
//! Lamport diagram of the last [`super::LAMPORT_EVENTS`] events before the violation (or the
//! run's end), the exported files with what opens them, the metrics and the scenario's text.
//! The run must have been made with `record_trace` and `history` (`--report` sets both).

use super::timeline::{self, Mark};
use super::{LAMPORT_EVENTS, REPORT_FILE, esc, fact, inline_svg, secs_text};
use crate::runner::Outcome;
use crate::scenario::Scenario;
use crate::trace::{TraceFile, lamport, perfetto, shiviz};
use protocols::linearizability::History;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Writes the run report of `outcome` (a run of `scenario`, read from `source`) into `dir`
/// with the files it links; returns the page's path. An error names the file that could not
/// be written.
pub fn write(
    dir: &Path,
    source: &Path,
    scenario: &Scenario,
    outcome: &Outcome,
) -> Result<PathBuf, String> {
    super::prepare_dir(dir)?;
    let file = TraceFile::of(scenario, outcome);
    let mut files: Vec<(String, String)> = vec![];
    crate::trace::write(&dir.join("trace.jsonl"), &file.header, &file.records)?;
    files.push((
        "trace.jsonl".into(),
        "every event and effect of the run as JSON lines (docs/trace-format.md); \
         <code>faultline trace trace.jsonl</code> checks and summarises it"
            .into(),
    ));
    let perfetto = serde_json::to_string(&perfetto::export(&file))
        .map_err(|e| format!("cannot export the trace for Perfetto: {e}"))?;
    super::write_in(dir, "trace.perfetto.json", &perfetto)?;
    files.push((
        "trace.perfetto.json".into(),
        "the trace as Chrome trace JSON: open it in \
         <a href=\"https://ui.perfetto.dev/\">ui.perfetto.dev</a> (Open trace file) or chrome://tracing"
            .into(),
    ));
    super::write_in(dir, "trace.shiviz.log", &shiviz::export(&file))?;
    files.push((
        "trace.shiviz.log".into(),
        "the trace as a ShiViz log: paste it into \
         <a href=\"https://bestchai.bitbucket.io/shiviz/\">ShiViz</a> (the parser expression is its first line)"
            .into(),
    ));
    for (format, text) in &outcome.exports {
        let name = format!("history.{format}");
        super::write_in(dir, &name, text)?;
        files.push((name, history_note(format).into()));
    }
    let violation = outcome.violations.first();
    let window = lamport::Window::last_n(&file, LAMPORT_EVENTS, violation.map(|v| v.event));
    let lamport_svg = lamport::render(&file, window);
    super::write_in(dir, "lamport.svg", &lamport_svg)?;
    files.push((
        "lamport.svg".into(),
        "the Lamport diagram above, alone (any browser)".into(),
    ));
    let charts = crate::sweep::run_plot::plot_run(&dir.join("charts"), scenario, outcome)
        .map_err(|e| format!("cannot draw the charts: {e}"))?;
    let source_text = crate::io::read_text(source)
        .unwrap_or_else(|e| format!("(cannot read {}: {e})", source.display()));
    let mark = violation.map(|v| Mark {
        time_ns: v.time_ns,
        label: v.invariant.clone(),
    });

    let mut b = String::new();
    let _ = writeln!(b, "<h1>{}</h1>", esc(&scenario.name));
    if !scenario.about.is_empty() {
        let _ = writeln!(b, "<p class=\"about\">{}</p>", esc(&scenario.about));
    }
    b += "<nav><a href=\"#violation-section\">violation</a><a href=\"#faults\">faults</a>\
          <a href=\"#ops\">operations</a><a href=\"#charts\">charts</a>\
          <a href=\"#lamport-section\">Lamport diagram</a><a href=\"#files\">files</a>\
          <a href=\"#scenario\">scenario</a></nav>\n";
    summary(&mut b, source, scenario, outcome);
    violation_section(&mut b, scenario, outcome);

    b += "<section id=\"faults\"><h2>Faults</h2>\n";
    b += &timeline::fault_timeline(
        &file.records,
        file.header.nodes,
        outcome.virtual_time_ns,
        mark.as_ref(),
    );
    b += "\n<p class=\"legend\"><span><i class=\"swatch\" style=\"background:#777777\"></i>crashed</span>\
          <span><i class=\"swatch\" style=\"background:#d9a400\"></i>paused</span>\
          <span><i class=\"swatch\" style=\"background:#e07070\"></i>partitioned (the cluster row)</span>\
          <span><i class=\"swatch\" style=\"background:#8b0000\"></i>a fault event (hover for its name)</span></p>\n</section>\n";

    operations_section(&mut b, outcome, mark.as_ref());
    charts_section(&mut b, dir, &charts)?;

    let _ = writeln!(
        b,
        "<section id=\"lamport-section\"><h2>Lamport diagram</h2>\n<p>Events {}–{} of {}{}: one \
         column per node, one row per event, an arrow per message (lost ones end in a red \
         cross); hover any mark for its record.</p>\n<figure>{}</figure>\n</section>",
        window.first,
        window.last,
        outcome.events,
        if violation.is_some() {
            ", up to the violation"
        } else {
            ", the end of the run"
        },
        inline_svg(&lamport_svg, "run", Some("lamport"), "lamport")
    );

    b += "<section id=\"files\"><h2>Files</h2>\n<ul class=\"files\">\n";
    for (name, about) in &files {
        let _ = writeln!(
            b,
            "<li><a href=\"{}\">{}</a>: {about}</li>",
            super::encode(name),
            esc(name)
        );
    }
    b += "</ul>\n</section>\n";
    metrics_section(&mut b, outcome);
    let _ = writeln!(
        b,
        "<section id=\"scenario\"><h2>Scenario</h2>\n<p><code>{}</code></p>\n<pre id=\"scenario-source\">{}</pre>\n</section>",
        esc(&source.display().to_string()),
        esc(&source_text)
    );
    let title = format!("{} — {}", scenario.name, outcome.verdict);
    super::write_in(dir, REPORT_FILE, &super::page(&title, &b))
}

fn history_note(format: &str) -> &'static str {
    match format {
        "edn" => {
            "the clients' history as Jepsen EDN: check it with \
             <a href=\"https://github.com/jepsen-io/knossos\">Knossos</a> or \
             <a href=\"https://github.com/jepsen-io/elle\">Elle</a>"
        }
        "jsonl" => {
            "the clients' history as JSON lines, one invocation or completion a line: \
             for <a href=\"https://github.com/anishathalye/porcupine\">Porcupine</a> and \
             scripts (faultline reads it back with <code>History::from_jsonl</code>)"
        }
        _ => "the workload's export",
    }
}

/// The verdict box and the run's facts.
fn summary(b: &mut String, source: &Path, scenario: &Scenario, o: &Outcome) {
    let matched = if o.matched { "matched" } else { "mismatched" };
    let _ = writeln!(
        b,
        "<section id=\"summary\"><p id=\"verdict\" class=\"verdict {matched}\"><b>{}</b>, \
         expected {}: {}</p>",
        esc(o.verdict),
        esc(&o.expected),
        if o.matched {
            "as the scenario expects"
        } else {
            "NOT what the scenario expects"
        }
    );
    b.push_str("<table class=\"facts\">\n");
    *b += &fact("file", &esc(&source.display().to_string()));
    *b += &fact(
        "protocol",
        &esc(&format!(
            "{}, {} nodes",
            scenario.protocol.name(),
            scenario.nodes
        )),
    );
    *b += &fact("seed", &o.seed.to_string());
    *b += &fact("trace hash", &esc(&o.trace_hash));
    *b += &fact("config hash", &esc(&o.config_hash));
    *b += &fact("events", &o.events.to_string());
    *b += &fact("virtual time", &secs_text(o.virtual_time_ns));
    *b += &fact("wall time", &format!("{:.0} ms", o.wall_ms));
    *b += &fact(
        "replay",
        &esc(&format!(
            "{} run {} --seed {}",
            crate::cli::program(),
            source.display(),
            o.seed
        )),
    );
    *b += &fact("build", &esc(o.build));
    b.push_str("</table>\n");
    for (what, text) in [
        ("detail", &o.detail),
        ("nondeterministic", &o.nondeterministic),
        ("note", &o.replay_note),
    ] {
        if let Some(t) = text {
            let _ = writeln!(b, "<p class=\"note\">{what}: {}</p>", esc(t));
        }
    }
    b.push_str("</section>\n");
}

/// The violation: which invariant, when, the checker's message, what the invariant means.
fn violation_section(b: &mut String, scenario: &Scenario, o: &Outcome) {
    b.push_str("<section id=\"violation-section\"><h2>Violation</h2>\n");
    let Some(v) = o.violations.first() else {
        let _ = writeln!(
            b,
            "<p id=\"violation\" class=\"none\">No invariant was violated{}.</p>",
            o.detail.as_deref().map_or(String::new(), |d| format!(
                " (the run ended {}: {})",
                o.verdict,
                esc(d)
            ))
        );
        b.push_str("</section>\n");
        return;
    };
    let about = scenario
        .protocol
        .family
        .invariants()
        .into_iter()
        .find(|i| i.invariant.name() == v.invariant)
        .map(|i| i.about);
    let _ = writeln!(
        b,
        "<div id=\"violation\" class=\"violation\"><p><b class=\"invariant\">{}</b> violated at \
         {} (event {})</p>\n<div class=\"message\">{}</div>",
        esc(&v.invariant),
        secs_text(v.time_ns),
        v.event,
        esc(v.message.trim_end())
    );
    if let Some(about) = about {
        let _ = writeln!(
            b,
            "<p class=\"explanation\">{} holds when: {}</p>",
            esc(&v.invariant),
            esc(about)
        );
    }
    b.push_str("</div>\n</section>\n");
}

/// The operation timeline, from the `jsonl` history export.
fn operations_section(b: &mut String, o: &Outcome, mark: Option<&Mark>) {
    b.push_str("<section id=\"ops\"><h2>Client operations</h2>\n");
    let Some((_, text)) = o.exports.iter().find(|(f, _)| *f == "jsonl") else {
        b.push_str("<p id=\"operations\" class=\"none\">This protocol's workload has no client history.</p>\n</section>\n");
        return;
    };
    let history = match History::from_jsonl(text) {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(
                b,
                "<p id=\"operations\" class=\"none\">The history could not be read back: {}</p>\n</section>",
                esc(&e.to_string())
            );
            return;
        }
    };
    let sum = history.summary();
    let (ok, fail, info) = timeline::kind_counts(&history);
    let _ = writeln!(
        b,
        "<p>{} operations: {ok} ok, {fail} fail, {info} info ({} never completed), as the \
         exported history types them. One row per client process, a bar from invocation to \
         completion; hover a bar for the operation.{}</p>",
        sum.ops,
        sum.pending,
        if sum.ops > timeline::MAX_OPS_DRAWN {
            format!(
                " Only the first {} operations are drawn.",
                timeline::MAX_OPS_DRAWN
            )
        } else {
            String::new()
        }
    );
    b.push_str(&timeline::operations_timeline(
        &history,
        o.virtual_time_ns,
        mark,
    ));
    b.push_str(
        "\n<p class=\"legend\"><span><i class=\"swatch\" style=\"background:#2e9e3e\"></i>ok</span>\
         <span><i class=\"swatch\" style=\"background:#d62728\"></i>fail (did not take effect, such as a cas that found another value)</span>\
         <span><i class=\"swatch\" style=\"background:#ff9800\"></i>info (timed out or never \
         completed: may have taken effect)</span></p>\n</section>\n",
    );
}

/// The charts `--plot` draws, inline, each with links to its PNG and CSV.
fn charts_section(b: &mut String, dir: &Path, files: &[PathBuf]) -> Result<(), String> {
    b.push_str("<section id=\"charts\"><h2>Charts</h2>\n");
    let svgs: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
        .collect();
    if svgs.is_empty() {
        b.push_str("<p class=\"note\">This run has no series to chart.</p>\n");
    }
    for (i, svg) in svgs.iter().enumerate() {
        let text = crate::io::read_text(svg).map_err(|e| format!("{}: {e}", svg.display()))?;
        let stem = svg
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let link = |ext: &str| {
            let f = svg.with_extension(ext);
            if files.contains(&f) {
                format!(
                    " <a href=\"{}\">{}</a>",
                    super::relative_href(dir, &f),
                    ext.to_uppercase()
                )
            } else {
                String::new()
            }
        };
        let _ = writeln!(
            b,
            "<figure>{}<figcaption>{}:{}{}</figcaption></figure>",
            inline_svg(&text, &format!("chart{i}"), None, "chart"),
            esc(&chart_caption(&stem)),
            link("csv"),
            link("png")
        );
    }
    b.push_str("</section>\n");
    Ok(())
}

fn chart_caption(stem: &str) -> String {
    match stem {
        "operations" => "Client operations: latency by invocation time, coloured by outcome".into(),
        "leader" => "Who believes it leads, over time (fault periods shaded)".into(),
        "messages_per_second" => "Messages delivered per second".into(),
        other => format!("The series {}", other.replacen('_', ".", 1)),
    }
}

/// The run's metrics: counters, and the summaries of sample series.
fn metrics_section(b: &mut String, o: &Outcome) {
    b.push_str("<section id=\"metrics\"><h2>Metrics</h2>\n<table class=\"metrics\">\n");
    for (name, value) in &o.metrics {
        let text = match value {
            serde_json::Value::Object(m) => ["mean", "p50", "p90", "p99", "min", "max", "count"]
                .iter()
                .filter_map(|k| m.get(*k).map(|v| format!("{k} {}", number(v))))
                .collect::<Vec<_>>()
                .join("  "),
            v => number(v),
        };
        let _ = writeln!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(name), esc(&text));
    }
    b.push_str("</table>\n</section>\n");
}

fn number(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(f) if v.is_f64() => format!("{f:.3}"),
        _ => v.to_string(),
    }
}
