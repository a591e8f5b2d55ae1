//! Golden test files: a readable script of inputs, each followed by the output it must give.
//!
//! The format follows the `datadriven` files etcd-io/raft keeps in `testdata/`:
//!
//! ```text
//! # A comment. Blank lines separate cases.
//! start
//! ----
//! set timer 0 after 212ms: Election
//!
//! deliver from=1
//! RequestVote(term: 2, candidate: 1, last_log_index: 0, last_log_term: 0)
//! ----
//! send n1 RequestVoteResponse(term: 2, granted: true)
//! durable writes: 1
//! ```
//!
//! A case is a command line (a word and `key=value` arguments), optional input lines, a
//! `----` line, and the expected output up to the next blank line (so outputs never contain
//! blank lines: [`run`] drops them). The test supplies a function that runs one case and
//! returns its output; [`run`] compares every case and panics with every mismatch.
//!
//! When a change is intended, run the tests with `FAULTLINE_REWRITE=1` and the files are
//! rewritten with the outputs the code now gives; review the diff and commit it.

use std::fmt::Write as _;
use std::path::Path;

/// The environment variable that makes [`run`] rewrite expected outputs.
pub const REWRITE_ENV: &str = "FAULTLINE_REWRITE";

/// One case of a golden file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The command word (`deliver`).
    pub command: String,
    /// Its `key=value` arguments, in order (a bare word is a key with an empty value).
    pub args: Vec<(String, String)>,
    /// Lines between the command and `----`, joined with newlines.
    pub input: String,
    /// The expected output, as written.
    pub expected: String,
    /// The 1-based line of the command, for messages.
    pub line: usize,
}

impl Case {
    /// The value of argument `key`, if given.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Argument `key` parsed, or a panic naming the case.
    pub fn parse_arg<T: std::str::FromStr>(&self, key: &str) -> T {
        let v = self
            .arg(key)
            .unwrap_or_else(|| panic!("line {}: `{}` needs {key}=...", self.line, self.command));
        v.parse().unwrap_or_else(|_| {
            panic!(
                "line {}: {key}={v} is not a valid {}",
                self.line,
                std::any::type_name::<T>()
            )
        })
    }
}

/// A file's text split into comment/blank lines (kept as written) and cases.
#[derive(Clone, Debug)]
enum Chunk {
    Text(String),
    Case(Case),
}

/// Parses a golden file. Panics with the line number on a malformed case.
pub fn parse(text: &str) -> Vec<Case> {
    chunks(text)
        .into_iter()
        .filter_map(|c| match c {
            Chunk::Case(c) => Some(c),
            Chunk::Text(_) => None,
        })
        .collect()
}

fn chunks(text: &str) -> Vec<Chunk> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            out.push(Chunk::Text(line.to_string()));
            i += 1;
            continue;
        }
        let start = i;
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or_default().to_string();
        let args = words
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (w.to_string(), String::new()),
            })
            .collect();
        i += 1;
        let mut input = vec![];
        while i < lines.len() && lines[i] != "----" {
            assert!(
                !lines[i].trim().is_empty(),
                "line {}: the case at line {} has no `----` line before this blank line",
                i + 1,
                start + 1
            );
            input.push(lines[i]);
            i += 1;
        }
        assert!(
            i < lines.len(),
            "line {}: the case has no `----` line",
            start + 1
        );
        i += 1;
        let mut expected = vec![];
        while i < lines.len() && !lines[i].trim().is_empty() {
            expected.push(lines[i]);
            i += 1;
        }
        out.push(Chunk::Case(Case {
            command,
            args,
            input: input.join("\n"),
            expected: expected.join("\n"),
            line: start + 1,
        }));
    }
    out
}

/// Output as it is compared and written: no trailing spaces, no blank lines.
fn normalize(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs every case of the golden file at `path` through `step`, in order, and panics with
/// every case whose output differs from the file. With `FAULTLINE_REWRITE=1` in the
/// environment the file is rewritten with the actual outputs instead.
pub fn run(path: impl AsRef<Path>, step: impl FnMut(&Case) -> String) {
    let rewrite = std::env::var(REWRITE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    run_with(path.as_ref(), rewrite, step);
}

fn run_with(path: &Path, rewrite: bool, mut step: impl FnMut(&Case) -> String) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut rewritten = String::new();
    let mut failures = String::new();
    let mut cases = 0;
    for chunk in chunks(&text) {
        match chunk {
            Chunk::Text(t) => {
                rewritten += &t;
                rewritten.push('\n');
            }
            Chunk::Case(case) => {
                cases += 1;
                let got = normalize(&step(&case));
                if got != normalize(&case.expected) {
                    let _ = write!(
                        failures,
                        "\n{}:{}: {}{}\n  expected:\n{}\n  got:\n{}\n",
                        path.display(),
                        case.line,
                        case.command,
                        case.args
                            .iter()
                            .map(|(k, v)| if v.is_empty() {
                                format!(" {k}")
                            } else {
                                format!(" {k}={v}")
                            })
                            .collect::<String>(),
                        indent(&case.expected),
                        indent(&got)
                    );
                }
                let header = text.lines().nth(case.line - 1).unwrap_or_default();
                rewritten += header;
                rewritten.push('\n');
                if !case.input.is_empty() {
                    rewritten += &case.input;
                    rewritten.push('\n');
                }
                rewritten += "----\n";
                if !got.is_empty() {
                    rewritten += &got;
                    rewritten.push('\n');
                }
            }
        }
    }
    assert!(cases > 0, "{} has no cases", path.display());
    if rewrite {
        if rewritten != text {
            std::fs::write(path, &rewritten)
                .unwrap_or_else(|e| panic!("cannot rewrite {}: {e}", path.display()));
        }
        return;
    }
    assert!(
        failures.is_empty(),
        "golden file mismatch (run with {REWRITE_ENV}=1 to accept the new outputs):{failures}"
    );
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# header\n\nadd a=1 b=2\n----\n3\n\necho\nhello\nworld\n----\nhello world\n";

    #[test]
    fn parses_commands_arguments_inputs_and_outputs() {
        let cases = parse(FILE);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].command, "add");
        assert_eq!(cases[0].parse_arg::<u32>("b"), 2);
        assert_eq!(cases[0].expected, "3");
        assert_eq!(cases[0].line, 3);
        assert_eq!(cases[1].input, "hello\nworld");
        assert_eq!(cases[1].expected, "hello world");
    }

    fn eval(c: &Case) -> String {
        match c.command.as_str() {
            "add" => (c.parse_arg::<u32>("a") + c.parse_arg::<u32>("b")).to_string(),
            _ => c.input.replace('\n', " "),
        }
    }

    #[test]
    fn a_wrong_output_fails_and_names_the_line() {
        let dir = std::env::temp_dir().join(format!("golden-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.txt");
        std::fs::write(&good, FILE).unwrap();
        run_with(&good, false, eval);
        let bad = dir.join("bad.txt");
        std::fs::write(&bad, FILE.replace("\n3\n", "\n4\n")).unwrap();
        let err = std::panic::catch_unwind(|| run_with(&bad, false, eval)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("bad.txt:3: add a=1 b=2"), "{msg}");
        assert!(msg.contains("expected:\n    4\n  got:\n    3"), "{msg}");
        run_with(&bad, true, eval);
        assert_eq!(
            std::fs::read_to_string(&bad).unwrap(),
            FILE,
            "rewriting restores it"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
