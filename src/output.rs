//! Printing results: a seed banner and a verdict for people, one JSON object per run for
//! machines. Traces are written by [`crate::trace`] (docs/trace-format.md).

use crate::runner::Outcome;
use std::io::Write;

/// Writes one line to standard output. When standard output is gone (a closed pipe, a full
/// disk) the command cannot report anything more: say so on standard error and exit with code
/// 2, rather than panic as `println!` would.
pub fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}

/// Writes text (its own newlines included) to standard output, as [`print_line`] does.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(e) = written {
        let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
        std::process::exit(crate::cli::EXIT_BAD_INPUT);
    }
}

/// `println!` through [`print_line`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::print_line(&format!($($arg)*)) };
}

/// Text collapsed onto one line (whitespace runs become one space), for `//` comments and
/// one-line messages.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Multi-line text with each line made [`printable`] and the lines after the first indented,
/// so a long message (a linearizability counterexample) stays readable under its heading.
pub fn printable_lines(s: &str, indent: &str) -> String {
    s.lines()
        .map(printable)
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// Text with control characters shown as escapes (`\n`, `\u{1b}`), so a name or a path can
/// never start a line of its own or drive the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A piece of a file name: characters other than letters, digits, `-`, `_` and `.` become `_`.
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether to colour standard output: a terminal, and `NO_COLOR` unset (no-color.org).
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` in an ANSI colour (`32` green, `31` red, `33` yellow, `1;31` bold red), when
/// colouring.
fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The seed banner that starts every run's human output, printed before the run starts so
/// that a run which hangs or crashes has already said how to replay it.
pub fn banner(seed: u64, scenario: &str, config_hash: &str, file: &str) -> String {
    format!(
        "SEED={seed} scenario=\"{}\" config={config_hash} file={}",
        printable(scenario),
        printable(file)
    )
}

/// One run as one JSON line (`run --json`).
pub fn json_line(o: &Outcome) -> String {
    // Plain data with string keys: serializing cannot fail.
    serde_json::to_string(o).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The verdict, violations and metrics for people, after the banner.
pub fn human(o: &Outcome) -> String {
    let on = colour();
    let mark = if o.matched {
        paint("ok", "32", on)
    } else {
        paint("MISMATCH", "1;31", on)
    };
    let mut s = String::new();
    let detail = o
        .detail
        .as_deref()
        .map(|d| format!(" ({})", printable(d)))
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
            "  {}: {} at {:.6}s (event {}): {}\n",
            paint("violation", "33", on),
            v.invariant,
            v.time_ns as f64 / 1e9,
            v.event,
            printable_lines(v.message.trim_end(), "      ")
        );
    }
    if let Some(d) = &o.nondeterministic {
        s += &format!(
            "  {}: {}\n",
            paint("NONDETERMINISTIC", "1;31", on),
            d.replace('\n', "\n  ")
        );
    }
    if let Some(note) = &o.replay_note {
        s += &format!("  note: {note}\n");
    }
    s += &metrics_text(o);
    if !o.matched {
        s += &format!(
            "  replay: {} run {} --seed {}\n",
            crate::cli::program(),
            printable(&o.file),
            o.seed
        );
    }
    s
}

/// When `text` (a scenario file) records the run it was saved from (`// Trace hash ...` in
/// the header a fuzz campaign or the shrinker writes) and `o` differs from it: a note saying
/// so, and whether the file came from another build (`// Build: ...`).
pub fn replay_note(text: &str, o: &Outcome) -> Option<String> {
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
        .collect();
    let field = |prefix: &str| {
        header.iter().find_map(|l| {
            l.trim_start()
                .trim_start_matches("//")
                .trim()
                .strip_prefix(prefix)
                .map(|rest| {
                    rest.split(['.', ' '])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
        })
    };
    let recorded = field("Trace hash ")?;
    if recorded.is_empty() || recorded == o.trace_hash {
        return None;
    }
    let build = header.iter().find_map(|l| {
        l.trim_start()
            .trim_start_matches("//")
            .trim()
            .strip_prefix("Build: ")
            .map(|b| b.trim_end_matches('.').to_string())
    });
    Some(match build {
        Some(b) if b != o.build => format!(
            "this file was saved by {b} with trace hash {recorded}; this is {}, whose run differs (trace {}): the engine or the protocol changed between the builds, so the replay is not the run the file recorded",
            o.build, o.trace_hash
        ),
        Some(_) => format!(
            "this file recorded trace hash {recorded}, and the same build now gives {}: a determinism bug, or the file was edited",
            o.trace_hash
        ),
        None => format!(
            "this file recorded trace hash {recorded}; this run's is {} (the file does not say which build saved it)",
            o.trace_hash
        ),
    })
}

/// Every metric, one per line, grouped by the prefix before the first dot (`kv`, `raft`,
/// `net`...): counters and single values as numbers, series as mean and quantiles.
fn metrics_text(o: &Outcome) -> String {
    let fmt = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{v:.0}")
        } else {
            format!("{v:.3}")
        }
    };
    let width = o.metrics.keys().map(String::len).max().unwrap_or(0);
    let mut s = String::new();
    let mut group = "";
    for (k, v) in &o.metrics {
        let prefix = k.split('.').next().unwrap_or("");
        if prefix != group {
            s += &format!("  {prefix}:\n");
            group = prefix;
        }
        let value = match v {
            serde_json::Value::Object(m) => {
                let get = |f: &str| m.get(f).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
                format!(
                    "mean {}  p50 {}  p90 {}  p99 {}  min {}  max {}  n {}",
                    fmt(get("mean")),
                    fmt(get("p50")),
                    fmt(get("p90")),
                    fmt(get("p99")),
                    fmt(get("min")),
                    fmt(get("max")),
                    get("count")
                )
            }
            other => other.as_f64().map_or_else(|| other.to_string(), fmt),
        };
        s += &format!("    {k:<width$}  {value}\n");
    }
    s
}
