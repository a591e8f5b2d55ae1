//! `run --report DIR` and `fuzz --report DIR`: one self-contained HTML page per run and per
//! campaign, checked as written (no external fetches, every relative link resolves, the
//! numbers match the run's JSON and its history) and as Chromium renders it (headless
//! `--dump-dom`: the violation, the Lamport diagram, a chart, one operation bar per
//! operation of each outcome, the campaign's group and its shrunk reproducer's diagram).
//!
//! Without Chromium the rendering checks are skipped with a note, unless
//! `FAULTLINE_REQUIRE_CHROMIUM=1` (CI sets it), which makes a missing browser a failure.
//! `FAULTLINE_CHROMIUM=/path` picks the browser.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run faultline")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faultline-html-report-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

/// Text as an HTML serializer writes it in element content (Chromium's `--dump-dom`).
fn dom_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every start tag of the page: its name (lower case) and its attributes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = vec![];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        if tag.starts_with('/') || tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        let mut attrs = vec![];
        let mut a = &tag[name.len()..];
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq].trim().rsplit(' ').next().unwrap_or("").to_string();
            let value_end = a[eq + 2..].find('"').map_or(a.len(), |e| eq + 2 + e);
            attrs.push((key.to_lowercase(), a[eq + 2..value_end].to_string()));
            a = &a[(value_end + 1).min(a.len())..];
        }
        out.push((name.to_lowercase(), attrs));
    }
    out
}

/// Everything the page would fetch from elsewhere: `src`/`href`-like attributes with a
/// scheme or a `//` host (a plain `<a href>` to documentation is a link, not a fetch),
/// scripts and stylesheets of any origin, `@import` and `url(http...)` in styles.
fn external_fetches(html: &str) -> Vec<String> {
    let mut found = vec![];
    for (name, attrs) in tags(html) {
        if name == "script" && attrs.iter().any(|(k, _)| k == "src") {
            found.push("<script src>".to_string());
        }
        if name == "link" {
            found.push("<link>".to_string());
        }
        for (k, v) in &attrs {
            let fetched = matches!(
                k.as_str(),
                "src" | "href" | "xlink:href" | "srcset" | "poster" | "data" | "action"
            );
            let remote = v.contains("://") || v.starts_with("//");
            if fetched && remote && !(name == "a" && k == "href") {
                found.push(format!("<{name} {k}=\"{v}\">"));
            }
        }
    }
    for bad in ["@import", "url(http", "url(//"] {
        if html.contains(bad) {
            found.push(bad.to_string());
        }
    }
    found
}

/// The relative links of a page (not anchors, not documentation links).
fn local_links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|(name, _)| name == "a")
        .flat_map(|(_, attrs)| attrs)
        .filter(|(k, v)| k == "href" && !v.starts_with('#') && !v.contains("://"))
        .map(|(_, v)| v)
        .collect()
}

fn unpercent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Checks a written page for fetches and dangling links; returns its text.
fn read_page(page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    let fetches = external_fetches(&html);
    assert!(fetches.is_empty(), "the page fetches: {fetches:?}");
    let dir = page.parent().unwrap();
    for link in local_links(&html) {
        let target = dir.join(unpercent(&link));
        assert!(
            target.is_file(),
            "dangling link {link} ({})",
            target.display()
        );
    }
    html
}

/// The browser to render with, if there is one: `FAULTLINE_CHROMIUM` if set (a path that
/// is not a file counts as no browser), else the first Chromium on `PATH` or in /usr/bin.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAULTLINE_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The DOM Chromium builds from the page (headless, offline, a fresh profile); `None`, with
/// a note, when there is no Chromium and it is not required.
fn rendered_dom(page: &Path, scratch: &Path) -> Option<String> {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("FAULTLINE_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "FAULTLINE_REQUIRE_CHROMIUM=1 but no Chromium was found (FAULTLINE_CHROMIUM, else \
             chromium, chromium-browser or google-chrome in PATH or /usr/bin): install it \
             (apt-get install chromium) or unset FAULTLINE_REQUIRE_CHROMIUM"
        );
        eprintln!(
            "note: no Chromium found: the rendering checks of {} are skipped (set \
             FAULTLINE_REQUIRE_CHROMIUM=1 to make this a failure)",
            page.display()
        );
        return None;
    };
    let profile = scratch.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let (dom, log) = (scratch.join("dom.html"), scratch.join("chromium.log"));
    let url = format!("file://{}", path_str(&std::fs::canonicalize(page).unwrap()));
    // Output to files: a pipe nobody reads while we wait would fill and stall the browser.
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", path_str(&profile)),
            "--dump-dom",
            &url,
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // At most two minutes (1200 waits of 100 ms): a hung browser fails the test.
    let mut status = None;
    for _ in 0..1200 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{} did not finish rendering {url} in 2 minutes",
            browser.display()
        );
    };
    let text = std::fs::read_to_string(&dom).unwrap();
    assert!(
        status.success() && text.contains("</html>"),
        "{} failed on {url} ({status}):\n{}",
        browser.display(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Some(text)
}

/// The element that starts with `start` (an `<svg id=...` tag), up to its first `</svg>`.
fn svg_element<'a>(html: &'a str, start: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page"));
    let end = html[i..].find("</svg>").expect("the SVG is closed") + i;
    &html[i..end]
}

/// Operations of an exported JSON-lines history by the type it gives them: `(ok, fail,
/// info)`, an invocation never completed counting as info. Read from the file's text, apart
/// from the code that drew the page.
fn history_types(jsonl: &str) -> (usize, usize, usize) {
    let (mut invokes, mut ok, mut fail, mut info) = (0, 0, 0, 0);
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str().unwrap() {
            "invoke" => invokes += 1,
            "ok" => ok += 1,
            "fail" => fail += 1,
            "info" => info += 1,
            other => panic!("unknown type {other}"),
        }
    }
    let pending = invokes - ok - fail - info;
    (ok, fail, info + pending)
}

/// What a run report must show, in the written page or in the rendered DOM.
fn check_run_page(html: &str, invariant: &str, message: &str, history: (usize, usize, usize)) {
    let violation = &html[html.find("id=\"violation\"").expect("a violation block")..];
    let violation = &violation[..violation.find("</section>").unwrap()];
    assert!(
        violation.contains(&dom_text(invariant)) && violation.contains(&dom_text(message)),
        "the violation block names {invariant} and its message {message:?}:\n{violation}"
    );
    assert!(html.contains("id=\"verdict\" class=\"verdict matched\""));
    let lamport = svg_element(html, "<svg id=\"lamport\"");
    assert!(
        lamport.matches("class=\"message\"").count() >= 5 && lamport.contains(">node 0<"),
        "the Lamport diagram has node columns and message arrows"
    );
    let charts = html.matches("<svg class=\"chart\"").count();
    assert!(charts >= 1, "at least one chart, got {charts}");
    let faults = svg_element(html, "<svg id=\"fault-timeline\"");
    assert!(faults.contains("class=\"fault-tick\"") && faults.contains("class=\"period crashed\""));
    let ops = svg_element(html, "<svg id=\"operations\"");
    let (ok, fail, info) = history;
    for (kind, want) in [("ok", ok), ("fail", fail), ("info", info)] {
        let bars = ops.matches(&format!("class=\"op {kind}\"")).count();
        assert_eq!(
            bars, want,
            "{kind} bars against {kind} operations in the history"
        );
    }
}

#[test]
fn a_run_report_is_one_offline_page_with_the_violation_timelines_charts_and_diagram() {
    let dir = scratch("run");
    let report = dir.join("report");
    let scenario = "scenarios/raft/bug_forget_vote.ron";
    let run = faultline(&["run", scenario, "--json", "--report", path_str(&report)]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let v = &json["violations"][0];
    let (invariant, message) = (
        v["invariant"].as_str().unwrap(),
        v["message"].as_str().unwrap(),
    );
    assert_eq!(invariant, "ElectionSafety");

    for f in [
        "trace.jsonl",
        "trace.perfetto.json",
        "trace.shiviz.log",
        "history.edn",
        "history.jsonl",
        "lamport.svg",
    ] {
        assert!(report.join(f).is_file(), "{f} is written beside the page");
    }
    let html = read_page(&report.join("report.html"));
    for f in [
        "trace.jsonl",
        "trace.perfetto.json",
        "trace.shiviz.log",
        "history.edn",
    ] {
        assert!(
            local_links(&html).iter().any(|l| l == f),
            "the page links {f}"
        );
    }
    assert!(
        local_links(&html)
            .iter()
            .any(|l| l.starts_with("charts/") && l.ends_with(".csv"))
    );
    // The trace beside the page is the run's: same hash, every event.
    let trace = std::fs::read_to_string(report.join("trace.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(header["trace_hash"], json["trace_hash"]);
    assert_eq!(header["events"], json["events"]);
    // The scenario's text, escaped, in a <pre>.
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(scenario)).unwrap();
    let escaped = source
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(html.contains(&format!("<pre id=\"scenario-source\">{escaped}</pre>")));

    let history = history_types(&std::fs::read_to_string(report.join("history.jsonl")).unwrap());
    assert!(
        history.0 > 0 && history.1 > 0 && history.2 > 0,
        "{history:?}"
    );
    check_run_page(&html, invariant, message, history);
    if let Some(dom) = rendered_dom(&report.join("report.html"), &dir) {
        check_run_page(&dom, invariant, message, history);
        assert!(dom.contains(&format!(
            "<pre id=\"scenario-source\">{}</pre>",
            dom_text(&source)
        )));
    }

    // A report directory that cannot be made is an output error: exit 2, named.
    let blocked = dir.join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let bad = faultline(&["run", scenario, "--report", path_str(&blocked.join("sub"))]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot create the report directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a campaign report with failures must show.
fn check_campaign_page(html: &str, signature: &str, count: u64, shrunk_text: &str) {
    assert_eq!(html.matches("class=\"group\"").count(), 1, "one group");
    let group = &html[html.find("id=\"group-1\"").unwrap()..];
    assert!(group.contains(&format!(
        "<span class=\"count\">{count}×</span> <span class=\"signature\">{}</span>",
        dom_text(signature)
    )));
    assert!(
        group.contains(&dom_text(shrunk_text.trim_end())),
        "the shrunk reproducer's text is inline"
    );
    let lamport = svg_element(html, "<svg id=\"lamport-g1\"");
    assert!(
        lamport.contains(">node 0<") && lamport.contains("class=\"message\""),
        "the reproducer's Lamport diagram"
    );
}

#[test]
fn a_campaign_report_groups_failures_with_their_shrunk_reproducer_and_its_diagram() {
    let dir = scratch("campaign");
    // The known bug without its expectation: every violation is a failure to group and shrink.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft/bug_vote_without_log_check.ron"),
    )
    .unwrap();
    let file = dir.join("vote.ron");
    std::fs::write(
        &file,
        text.lines()
            .filter(|l| !l.trim_start().starts_with("expect:"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let (out, report) = (dir.join("out"), dir.join("report"));
    let run = faultline(&[
        "fuzz",
        path_str(&file),
        "--seeds",
        "0..20",
        "--jobs",
        "2",
        "--out",
        path_str(&out),
        "--report",
        path_str(&report),
        "--json",
        "--quiet",
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let group = &json["groups"][0];
    assert_eq!(json["groups"].as_array().unwrap().len(), 1);
    let signature = group["signature"].as_str().unwrap();
    let shrunk = PathBuf::from(group["shrunk"]["file"].as_str().expect("shrunk"));
    let shrunk_text = std::fs::read_to_string(&shrunk).unwrap();
    let page = report.join("report.html");
    let html = read_page(&page);
    // The reproducer is linked, relative to the page, and the link leads to it.
    let linked: Vec<PathBuf> = local_links(&html)
        .iter()
        .map(|l| std::fs::canonicalize(report.join(unpercent(l))).unwrap())
        .collect();
    assert!(linked.contains(&std::fs::canonicalize(&shrunk).unwrap()));
    let escaped = dom_text(&shrunk_text)
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(html.contains(escaped.trim_end()));
    check_campaign_page(
        &html.replace("&quot;", "\"").replace("&#39;", "'"),
        signature,
        group["count"].as_u64().unwrap(),
        &shrunk_text,
    );
    if let Some(dom) = rendered_dom(&page, &dir) {
        check_campaign_page(
            &dom,
            signature,
            group["count"].as_u64().unwrap(),
            &shrunk_text,
        );
    }

    // A known-bug campaign without --out: no failures, said plainly, and no reproducers.
    let plain = dir.join("plain");
    let known = faultline(&[
        "fuzz",
        "scenarios/raft/bug_vote_without_log_check.ron",
        "--seeds",
        "0..4",
        "--report",
        path_str(&plain),
        "--quiet",
    ]);
    assert_eq!(known.status.code(), Some(0));
    let html = read_page(&plain.join("report.html"));
    assert!(
        html.contains("<p id=\"no-failures\">No failures: none of the 4 seeds run failed.</p>")
    );
    assert!(html.contains("LeaderCompleteness found, as the scenario expects, in 4 of 4 seeds"));
    assert!(
        html.contains("class=\"note no-out\""),
        "says reproducers need --out"
    );
    assert!(!html.contains("class=\"group\""));

    let blocked = dir.join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let bad = faultline(&[
        "fuzz",
        path_str(&file),
        "--seeds",
        "0..2",
        "--report",
        path_str(&blocked.join("sub")),
        "--quiet",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot create the report directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several files: a report per run in its own directory, and an index linking them all, with
/// the mismatches named.
#[test]
fn several_runs_get_an_index_of_their_reports() {
    let dir = scratch("index");
    let out = faultline(&[
        "run",
        "scenarios/raft/bug_forget_vote.ron",
        "scenarios/gossip/anti_entropy_pull.ron",
        "--report",
        path_str(&dir),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = read_page(&dir.join("index.html"));
    assert!(external_fetches(&index).is_empty());
    let links = local_links(&index);
    assert_eq!(links.len(), 2, "{links:?}");
    for l in &links {
        assert!(l.ends_with("/report.html"), "{l}");
        assert!(dir.join(unpercent(l)).is_file(), "{l} does not resolve");
    }
    assert!(index.contains("2 runs: 2 matched, 0 did not"), "{index}");
    assert!(index.contains("violated ElectionSafety"), "{index}");
    let _ = std::fs::remove_dir_all(&dir);
}
