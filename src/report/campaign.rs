//! The campaign report: `faultline fuzz FILE --seeds A..B --out OUT --report DIR` writes
//! `DIR/report.html`, one self-contained page.
//!
//! It shows the campaign's summary (scenario, seeds run, failures, how often a known bug's
//! expected violation showed), then the failures grouped by signature
//! ([`crate::fuzz::report::Group`]), each with its count, its first seeds, the checker's
//! message and its reproducer: the shrunk scenario's text inline and linked (relative to the
//! page), and the Lamport diagram of its last [`super::LAMPORT_EVENTS`] events, drawn by
//! running the reproducer again with its trace recorded. Failures are saved (and shrunk) only
//! with `--out`; without it the page says so and shows the summary alone. A campaign without
//! failures says so in one sentence.

use super::{LAMPORT_EVENTS, REPORT_FILE, esc, fact, inline_svg, relative_href, secs_text};
use crate::fuzz::report::seed_list;
use crate::fuzz::report::{CampaignReport, Group};
use crate::runner::{self, RunOptions};
use crate::trace::{TraceFile, lamport};
use protocols::family::Registry;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Writes the report of a campaign over the scenario file `source` into `dir`; `out` is the
/// campaign's `--out` directory, if it had one. Returns the page's path.
pub fn write(
    dir: &Path,
    registry: &Registry,
    source: &Path,
    r: &CampaignReport,
    out: Option<&Path>,
) -> Result<PathBuf, String> {
    super::prepare_dir(dir)?;
    let mut b = String::new();
    let _ = writeln!(b, "<h1>Fuzz campaign: {}</h1>", esc(&r.scenario));
    summary(&mut b, source, r);
    if let Some(h) = &r.hits {
        b.push_str("<section id=\"hits\"><h2>Expected violation</h2>\n");
        if h.count == 0 {
            let _ = writeln!(
                b,
                "<p class=\"verdict mismatched\">{} was never found: the known bug did not show in {} seeds.</p>",
                esc(&h.invariant),
                r.seeds_run
            );
        } else {
            let _ = writeln!(
                b,
                "<p>{} found, as the scenario expects, in {} of {} seeds ({:.2}%): {}.</p>",
                esc(&h.invariant),
                h.count,
                r.seeds_run,
                100.0 * h.count as f64 / r.seeds_run.max(1) as f64,
                seed_list(&h.seeds, h.count)
            );
            match h.saved.first() {
                Some(first) => {
                    let _ = writeln!(
                        b,
                        "<p>{} hit file(s) saved; the first: <a href=\"{}\">{}</a>.</p>",
                        h.saved.len(),
                        relative_href(dir, first),
                        esc(&first.display().to_string())
                    );
                    reproducer_diagram(&mut b, registry, first, "hit");
                }
                None => b.push_str(NO_OUT),
            }
        }
        b.push_str("</section>\n");
    }
    b.push_str("<section id=\"groups\"><h2>Failures</h2>\n");
    if r.groups.is_empty() {
        let _ = writeln!(
            b,
            "<p id=\"no-failures\">No failures: none of the {} seeds run failed.</p>",
            r.seeds_run
        );
    } else {
        let _ = writeln!(
            b,
            "<p>{} failure(s) in {} group(s); failures with the same invariant and the same \
             message, numbers aside, are one group.</p>",
            r.failures.len(),
            r.groups.len()
        );
        if out.is_none() {
            b.push_str(NO_OUT);
        }
    }
    for (i, g) in r.groups.iter().enumerate() {
        group(&mut b, dir, registry, g, i + 1);
    }
    b.push_str("</section>\n");
    let coverage = r.coverage.text();
    if !coverage.is_empty() {
        let _ = writeln!(
            b,
            "<section id=\"coverage\"><h2>Coverage</h2>\n<details><summary>which coverage \
             points the runs reached</summary><pre>{}</pre></details>\n</section>",
            esc(&coverage)
        );
    }
    let text = crate::io::read_text(source)
        .unwrap_or_else(|e| format!("(cannot read {}: {e})", source.display()));
    let _ = writeln!(
        b,
        "<section id=\"scenario\"><h2>Scenario</h2>\n<p><code>{}</code></p>\n<pre id=\"scenario-source\">{}</pre>\n</section>",
        esc(&source.display().to_string()),
        esc(&text)
    );
    let title = format!("fuzz {} — {} failure(s)", r.scenario, r.failures.len());
    super::write_in(dir, REPORT_FILE, &super::page(&title, &b))
}

const NO_OUT: &str = "<p class=\"note no-out\">No reproducers: failing seeds are saved \
    as scenario files, and shrunk, only when the campaign runs with <code>--out DIR</code>; \
    run it again with <code>--out</code> to get them.</p>\n";

fn summary(b: &mut String, source: &Path, r: &CampaignReport) {
    let (class, text) = if r.failed() {
        (
            "mismatched",
            format!(
                "{} failure(s) in {} group(s)",
                r.failures.len(),
                r.groups.len()
            ),
        )
    } else {
        ("matched", "no failures".to_string())
    };
    let _ = writeln!(
        b,
        "<section id=\"summary\"><p id=\"verdict\" class=\"verdict {class}\"><b>{}</b> in {} of {} seeds</p>\n<table class=\"facts\">",
        esc(&text),
        r.seeds_run,
        r.seeds_planned
    );
    *b += &fact("file", &esc(&source.display().to_string()));
    *b += &fact("seeds", &esc(&format!("{} (shard {})", r.seeds, r.shard)));
    *b += &fact("expects", &esc(&r.expected));
    *b += &fact(
        "wall time",
        &format!("{:.1} s ({:.1} seeds/s)", r.wall_secs, r.seeds_per_sec),
    );
    if r.budget_exhausted {
        *b += &fact("stopped", "by --budget");
    } else if r.stopped_at_max_failures {
        *b += &fact("stopped", "by --max-failures");
    }
    if r.determinism_checked > 0 {
        *b += &fact("run twice", &r.determinism_checked.to_string());
    }
    if r.undecided.count > 0 {
        *b += &fact(
            "undecided",
            &esc(&format!(
                "{} seed(s): {} ({})",
                r.undecided.count,
                seed_list(&r.undecided.seeds, r.undecided.count),
                r.undecided.reason
            )),
        );
    }
    if let Some(g) = &r.guided {
        *b += &fact(
            "guided",
            &format!(
                "{} mutant run(s) of the {} kept for new coverage",
                g.mutants, g.corpus
            ),
        );
    }
    *b += &fact("build", &esc(&r.build));
    b.push_str("</table>\n</section>\n");
}

/// One group: its signature and seeds, then its reproducer and the reproducer's diagram.
fn group(b: &mut String, dir: &Path, registry: &Registry, g: &Group, n: usize) {
    let _ = writeln!(
        b,
        "<div class=\"group\" id=\"group-{n}\">\n<h3><span class=\"count\">{}×</span> <span class=\"signature\">{}</span></h3>",
        g.count,
        esc(&g.signature)
    );
    b.push_str("<table class=\"facts\">\n");
    *b += &fact("failure", &esc(&g.key));
    *b += &fact("message", &esc(&g.message));
    *b += &fact("seeds", &esc(&seed_list(&g.seeds, g.count)));
    *b += &fact("replay", &esc(&g.replay));
    if let Some(f) = &g.file {
        *b += &fact(
            "saved",
            &format!(
                "<a href=\"{}\">{}</a>",
                relative_href(dir, f),
                esc(&f.display().to_string())
            ),
        );
    }
    b.push_str("</table>\n");
    let reproducer = match (&g.shrunk, &g.file) {
        (Some(s), _) => {
            // The campaign draws the diagram beside the shrunk file too: linked when there.
            let beside = crate::trace::diagram_path(&s.file);
            let svg_link = if beside.is_file() {
                format!(
                    "; its diagram alone: <a href=\"{}\">{}</a>",
                    relative_href(dir, &beside),
                    esc(&beside.display().to_string())
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                b,
                "<p>Shrunk reproducer: <a class=\"reproducer-link\" href=\"{}\">{}</a> (faults {} → {}, {} nodes; \
                 <code>{} run {}</code>{svg_link})</p>",
                relative_href(dir, &s.file),
                esc(&s.file.display().to_string()),
                s.faults_before,
                s.faults_after,
                s.nodes,
                esc(&crate::cli::program()),
                esc(&s.file.display().to_string())
            );
            Some(s.file.clone())
        }
        (None, Some(f)) => {
            let why = g.shrink_error.as_deref().map_or(
                "it was not shrunk (beyond --shrink N groups)".to_string(),
                |e| format!("it could not be shrunk: {e}"),
            );
            let _ = writeln!(
                b,
                "<p class=\"note\">The saved failure stands as the reproducer: {}.</p>",
                esc(&why)
            );
            Some(f.clone())
        }
        (None, None) => None,
    };
    if let Some(path) = reproducer {
        match crate::io::read_text(&path) {
            Ok(text) => {
                let _ = writeln!(b, "<pre class=\"reproducer\">{}</pre>", esc(&text));
            }
            Err(e) => {
                let _ = writeln!(
                    b,
                    "<p class=\"note\">{}: {}</p>",
                    esc(&path.display().to_string()),
                    esc(&e)
                );
            }
        }
        reproducer_diagram(b, registry, &path, &format!("g{n}"));
    }
    b.push_str("</div>\n");
}

/// Runs the scenario file at `path` again with its trace and draws the Lamport diagram of its
/// last events up to its violation; a file that no longer loads is named, not fatal.
fn reproducer_diagram(b: &mut String, registry: &Registry, path: &Path, tag: &str) {
    let scenario = match crate::scenario::load_with(registry, path) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                b,
                "<p class=\"note\">No diagram: {}</p>",
                esc(&e.to_string())
            );
            return;
        }
    };
    let label = path.display().to_string();
    let outcome = runner::run(
        &label,
        &scenario,
        &RunOptions {
            record_trace: true,
            ..Default::default()
        },
    );
    let violation = outcome.violations.first();
    let found = violation.map_or_else(
        || format!("it ended {}", outcome.verdict),
        |v| {
            format!(
                "{} at {} (event {}): {}",
                v.invariant,
                secs_text(v.time_ns),
                v.event,
                v.message.trim_end()
            )
        },
    );
    let file = TraceFile::of(&scenario, &outcome);
    let window = lamport::Window::last_n(&file, LAMPORT_EVENTS, violation.map(|v| v.event));
    let svg = lamport::render(&file, window);
    let _ = writeln!(
        b,
        "<figure><figcaption>Run again (seed {}, trace {}): {}. Events {}–{} of {}:</figcaption>\n{}</figure>",
        outcome.seed,
        esc(&outcome.trace_hash),
        esc(&found),
        window.first,
        window.last,
        outcome.events,
        inline_svg(&svg, tag, Some(&format!("lamport-{tag}")), "lamport")
    );
}
