//! HTML reports: one self-contained page per run (`faultline run FILE --report DIR`) and per
//! fuzz campaign (`faultline fuzz FILE --seeds A..B --report DIR`).
//!
//! A report is one `report.html` that opens from disk in any browser with the network off:
//! its style is an inline `<style>`, its pictures are inline SVG (the charts `--plot` draws,
//! the fault and operation timelines, the Lamport diagram), and it has no script. The only
//! `http(s)` addresses in it are plain `<a href>` links to the documentation of the tools that
//! open the exported files (Perfetto, ShiViz, Knossos, Elle, Porcupine); the exported files
//! themselves sit beside the page and are linked by relative paths.
//!
//! - [`run`]: the run report and the files it links (trace, Perfetto, ShiViz, history,
//!   Lamport SVG, charts);
//! - [`campaign`]: the campaign report (failure groups, their shrunk reproducers re-run for
//!   a Lamport diagram);
//! - [`timeline`]: the fault timeline and the operation timeline (inline SVG).
//!
//! This module holds what both pages share: escaping, the page frame and its style, inlining
//! an SVG document into the page, relative links, and the output directory.
//! `docs/reports.md` describes the pages.

pub mod campaign;
pub mod run;
pub mod timeline;

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

/// The report's file name inside its directory.
pub const REPORT_FILE: &str = "report.html";

/// Events drawn in a Lamport diagram: the last ones up to the violation (or the run's end),
/// as many as beside a shrunk failure.
pub const LAMPORT_EVENTS: u64 = crate::trace::FAILURE_DIAGRAM_EVENTS;

/// Text escaped for HTML element content and quoted attribute values (the XML escaper the
/// JUnit report uses: also valid HTML).
pub use crate::fuzz::junit::escape as esc;

/// Creates the report directory (and its parents); the error names it.
pub fn prepare_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the report directory {}: {e}", dir.display()))
}

/// Writes `text` as `dir/name` atomically; returns the path.
pub fn write_in(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    crate::io::write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// One run's line on the index page of a multi-file `run --report DIR`.
pub struct IndexRow {
    /// Its directory below DIR (the label `--trace` uses).
    pub label: String,
    pub scenario: String,
    pub verdict: String,
    pub expected: String,
    pub matched: bool,
}

/// `DIR/index.html` for several runs: one line each, linked to its report, mismatches first
/// named in the heading; returns its path.
pub fn write_index(dir: &Path, rows: &[IndexRow]) -> Result<PathBuf, String> {
    let failed = rows.iter().filter(|r| !r.matched).count();
    let mut body = format!(
        "<h1>{} runs: {} matched, {failed} did not</h1>\n<table class=\"metrics\" id=\"runs\">\n\
         <tr><th>run</th><th>scenario</th><th>verdict</th><th>expected</th><th></th></tr>\n",
        rows.len(),
        rows.len() - failed
    );
    for r in rows {
        body += &format!(
            "<tr class=\"{}\"><td><a href=\"{}/{REPORT_FILE}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            if r.matched { "matched" } else { "mismatched" },
            encode(&r.label),
            esc(&r.label),
            esc(&r.scenario),
            esc(&r.verdict),
            esc(&r.expected),
            if r.matched {
                "ok"
            } else {
                "<strong>MISMATCH</strong>"
            }
        );
    }
    body += "</table>\n";
    write_in(dir, "index.html", &page("faultline runs", &body))
}

/// A whole page: the frame, the inline style, `body` inside.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n{body}\n<footer>written by {}</footer>\n</body>\n</html>\n",
        esc(crate::BUILD),
        esc(title),
        esc(crate::BUILD)
    )
}

/// The page style: system fonts only (nothing is fetched), readable without colour.
const STYLE: &str = r#"
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 1.5em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
       border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.about { color: #555; margin-top: 0; }
nav a { margin-right: 1em; }
table.facts { border-collapse: collapse; } table.facts th { text-align: left; padding-right: 1.5em;
       font-weight: normal; color: #555; } table.facts td { font-family: monospace; }
table.metrics { border-collapse: collapse; font-size: 0.9em; }
table.metrics td, table.metrics th { padding: 0.1em 1em 0.1em 0; text-align: left; }
.verdict { font-size: 1.2em; padding: 0.5em 0.8em; border-radius: 4px; display: inline-block; }
.verdict.matched { background: #e3f4e3; border: 1px solid #3a3; }
.verdict.mismatched { background: #fbe3e3; border: 1px solid #c33; }
.violation { background: #fff4e5; border-left: 4px solid #d60; padding: 0.5em 1em; }
.violation .message { white-space: pre-wrap; font-family: monospace; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em;
      white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
figure svg, svg.chart, svg.lamport, svg.timeline { max-width: 100%; height: auto; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle;
       margin-right: 0.3em; border: 1px solid #888; }
.note { color: #555; font-style: italic; }
.group { border: 1px solid #ddd; border-radius: 4px; padding: 0.2em 1em 1em; margin: 1em 0; }
ul.files li { margin: 0.3em 0; }
footer { margin-top: 3em; color: #888; font-size: 0.8em; }
"#;

/// An SVG document inlined into the page: its XML prolog dropped, its own ids prefixed with
/// `prefix` (so two diagrams on one page never share an id, which would make one's arrows
/// point at the other's markers), and `id`/`class` set on its root element.
pub fn inline_svg(svg: &str, prefix: &str, id: Option<&str>, class: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return String::new();
    };
    let mut body = svg[start..].trim_end().to_string();
    for own in svg_ids(&body) {
        let new = format!("{prefix}-{own}");
        body = body
            .replace(&format!("id=\"{own}\""), &format!("id=\"{new}\""))
            .replace(&format!("url(#{own})"), &format!("url(#{new})"))
            .replace(&format!("href=\"#{own}\""), &format!("href=\"#{new}\""));
    }
    let mut attrs = String::new();
    if let Some(id) = id {
        let _ = write!(attrs, " id=\"{}\"", esc(id));
    }
    let _ = write!(attrs, " class=\"{}\"", esc(class));
    format!("<svg{attrs}{}", &body["<svg".len()..])
}

/// The values of the `id` attributes in an SVG text.
fn svg_ids(svg: &str) -> Vec<String> {
    let mut ids: Vec<String> = vec![];
    let mut rest = svg;
    while let Some(i) = rest.find(" id=\"") {
        rest = &rest[i + 5..];
        if let Some(end) = rest.find('"') {
            let id = &rest[..end];
            if !ids.iter().any(|x| x == id) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// A relative link from a page in `from_dir` to `target`, each path component
/// percent-encoded; the absolute path if they share no root.
pub fn relative_href(from_dir: &Path, target: &Path) -> String {
    // Canonical paths, so `..` and links compare equal; a file not written yet resolves
    // through its directory.
    let resolve = |p: &Path| {
        std::fs::canonicalize(p)
            .or_else(|e| match (p.parent(), p.file_name()) {
                (Some(dir), Some(name)) => std::fs::canonicalize(dir).map(|d| d.join(name)),
                _ => Err(e),
            })
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let (from, to) = (resolve(from_dir), resolve(target));
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return format!("file://{}", encode_path(&to));
    }
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| encode(&c.as_os_str().to_string_lossy())),
    );
    parts.join("/")
}

fn encode_path(parts: &[Component]) -> String {
    parts
        .iter()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .map(|c| format!("/{}", encode(&c.as_os_str().to_string_lossy())))
        .collect()
}

/// One path component percent-encoded for an `href` (RFC 3986 unreserved characters kept).
pub fn encode(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for b in component.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `3.809320 s`: a virtual time as the reports write it.
pub fn secs_text(ns: u64) -> String {
    format!("{:.6} s", ns as f64 / 1e9)
}

/// A row of a facts table: the name, then the value (already HTML).
pub fn fact(name: &str, value_html: &str) -> String {
    format!("<tr><th>{}</th><td>{value_html}</td></tr>\n", esc(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn inlined_svgs_get_their_own_ids_and_no_prolog() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><defs><marker id=\"arrow\"/></defs><line marker-end=\"url(#arrow)\"/></svg>\n";
        let out = inline_svg(svg, "g1", Some("lamport-g1"), "lamport");
        assert!(out.starts_with("<svg id=\"lamport-g1\" class=\"lamport\" xmlns="));
        assert!(out.contains("id=\"g1-arrow\"") && out.contains("url(#g1-arrow)"));
        assert!(!out.contains("<?xml") && !out.contains("\"arrow\""));
        assert_eq!(inline_svg("not svg", "p", None, "c"), "");
    }

    #[test]
    fn links_are_relative_and_encoded() {
        let base = std::env::temp_dir().join(format!("faultline-href-{}", std::process::id()));
        let (page, other) = (base.join("report"), base.join("out dir"));
        std::fs::create_dir_all(&page).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let file = other.join("x#1.ron");
        std::fs::write(&file, "").unwrap();
        assert_eq!(relative_href(&page, &file), "../out%20dir/x%231.ron");
        assert_eq!(relative_href(&page, &page.join("a.svg")), "a.svg");
        let _ = std::fs::remove_dir_all(&base);
    }
}
