//! `docs/writing-a-protocol.md` cannot drift from this crate: every ```rust block in it must be
//! an excerpt of one of the crate's files (whitespace aside), every ```toml block an excerpt
//! of its Cargo.toml, every ```ron block an excerpt of one of its scenario files, and every
//! file a shell block names must exist. A doc block that no longer matches the code fails here.

use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> PathBuf {
    crate_dir().join("../..")
}

/// The doc's fenced blocks: (info string, 1-based line of the fence, text).
fn blocks(doc: &str) -> Vec<(String, usize, String)> {
    let mut out = vec![];
    let mut open: Option<(String, usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((info.trim().to_string(), i + 1, String::new())),
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some((_, _, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "the doc ends inside a code block");
    out
}

/// Whitespace runs collapsed to one space.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The files under `dir` (recursively) whose name ends with one of `exts`, normalized.
fn files(dir: &Path, exts: &[&str]) -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, exts));
        } else if exts.iter().any(|x| path.to_string_lossy().ends_with(x)) {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, normalize(&text)));
        }
    }
    out
}

#[test]
fn every_code_block_in_the_tutorial_is_real() {
    let doc_path = repo_root().join("docs/writing-a-protocol.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/writing-a-protocol.md");
    let dir = crate_dir();
    let mut sources = files(&dir.join("src"), &[".rs"]);
    sources.extend(files(&dir.join("tests"), &[".rs"]));
    let manifest = vec![(
        dir.join("Cargo.toml"),
        normalize(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()),
    )];
    let mut scenarios = files(&dir.join("scenarios"), &[".ron"]);
    scenarios.extend(files(&dir.join("fuzz"), &[".ron"]));
    scenarios.extend(files(&dir.join("tests/testdata"), &[".txt"]));

    let mut failures = vec![];
    let mut rust = 0;
    for (info, line, text) in blocks(&doc) {
        let haystack = match info.as_str() {
            "rust" => {
                rust += 1;
                &sources
            }
            "toml" => &manifest,
            "ron" | "golden" => &scenarios,
            "sh" => {
                check_shell(line, &text, &mut failures);
                continue;
            }
            _ => continue, // text: diagrams and sample output
        };
        let needle = normalize(&text);
        if !haystack.iter().any(|(_, file)| file.contains(&needle)) {
            failures.push(format!(
                "docs/writing-a-protocol.md:{line}: this ```{info} block is not an excerpt of the crate's files:\n{text}"
            ));
        }
    }
    assert!(
        rust >= 10,
        "expected the tutorial's Rust excerpts, found {rust}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Shell blocks run from the repository root: every path they name under `examples/` or
/// `docs/` must exist.
fn check_shell(line: usize, text: &str, failures: &mut Vec<String>) {
    for word in text.split_whitespace() {
        let path = word.trim_matches(|c: char| c == '`' || c == '\'' || c == '"');
        if (path.starts_with("examples/") || path.starts_with("docs/"))
            && !repo_root().join(path).exists()
        {
            failures.push(format!(
                "docs/writing-a-protocol.md:{line}: the shell block names {path}, which does not exist"
            ));
        }
    }
}
