//! `faultline trace FILE`: check a recorded trace against its schema, summarise it, and
//! convert it for Perfetto, ShiViz or a Lamport diagram.

use super::lamport::Window;
use super::{TraceFile, lamport, perfetto, shiviz, validate};
use crate::cli::{EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `faultline trace` was asked to do.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  faultline run scenarios/raft/leader_crash.ron --trace t.jsonl\n  faultline trace t.jsonl                       # what it holds, by kind\n  faultline trace t.jsonl --validate            # check every line against the schema\n  faultline trace t.jsonl --perfetto t.json     # open in ui.perfetto.dev\n  faultline trace t.jsonl --shiviz t.log        # upload to ShiViz\n  faultline trace t.jsonl --lamport t.svg --last 80\n\nThe format is in docs/trace-format.md. Exit codes: 0 done, 1 --validate found problems,\n2 the file cannot be read or is not a trace."
)]
pub struct TraceArgs {
    /// A trace written by `faultline run --trace` (JSON lines, header first).
    pub file: PathBuf,
    /// Check every record against the schema (fields per kind, event numbering, message and
    /// timer ids); exit 1 listing the problems if any.
    #[arg(long)]
    pub validate: bool,
    /// Write Chrome / Perfetto trace-event JSON: a process per node, handler slices, message
    /// flows, annotation counters, fault markers.
    #[arg(long, value_name = "OUT.json")]
    pub perfetto: Option<PathBuf>,
    /// Write a ShiViz log (parser expression, then events with vector clocks).
    #[arg(long, value_name = "OUT.log")]
    pub shiviz: Option<PathBuf>,
    /// Write a Lamport (space-time) diagram as SVG of the last --last events up to --upto.
    #[arg(long, value_name = "OUT.svg")]
    pub lamport: Option<PathBuf>,
    /// Events the Lamport diagram shows.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub last: u64,
    /// The last event the Lamport diagram shows (default: the trace's last, where a
    /// violation stopped the run).
    #[arg(long, value_name = "EVENT")]
    pub upto: Option<u64>,
}

/// Runs `faultline trace`.
pub fn cmd_trace(a: &TraceArgs) -> i32 {
    let file = match super::read(&a.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut code = EXIT_OK;
    if a.validate {
        let problems = validate::validate(&file);
        if problems.is_empty() {
            crate::say!(
                "{}: valid (schema version {}, {} events, {} records)",
                a.file.display(),
                file.header.version,
                file.header.events,
                file.records.len()
            );
        } else {
            eprintln!("{}: {} problem(s):", a.file.display(), problems.len());
            for p in &problems {
                eprintln!("  {p}");
            }
            code = EXIT_MISMATCH;
        }
    }
    type Export<'a> = &'a dyn Fn(&TraceFile) -> String;
    let outputs: [(&Option<PathBuf>, Export); 3] = [
        (&a.perfetto, &|f| perfetto::export(f).to_string()),
        (&a.shiviz, &shiviz::export),
        (&a.lamport, &|f| {
            lamport::render(f, Window::last_n(f, a.last, a.upto))
        }),
    ];
    for (path, make) in outputs {
        if let Some(path) = path {
            if let Err(e) = write(path, &make(&file)) {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
            crate::say!("  wrote {}", path.display());
        }
    }
    if !a.validate && a.perfetto.is_none() && a.shiviz.is_none() && a.lamport.is_none() {
        crate::output::print_text(&summary(&file));
    }
    code
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::io::write_file(path, text.as_bytes())
}

/// What a trace holds: its header and the records by kind.
pub fn summary(file: &TraceFile) -> String {
    let h = &file.header;
    let mut by: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for r in &file.records {
        let role = if r.is_event() { "event" } else { "effect" };
        *by.entry((role, r.kind.as_str())).or_default() += 1;
    }
    let end = file.records.last().map_or(0, |r| r.time_ns);
    let mut s = format!(
        "{}: {} on {} nodes, seed {}, {} — {} events, {} records, {:.3} s virtual, trace {}\n",
        h.scenario,
        h.protocol,
        h.nodes,
        h.seed,
        h.verdict,
        h.events,
        file.records.len(),
        end as f64 / 1e9,
        h.trace_hash
    );
    for ((role, kind), n) in by {
        s += &format!("  {role:6} {kind:13} {n}\n");
    }
    s
}
