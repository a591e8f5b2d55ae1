//! What a campaign found, and how it is told: failures grouped by signature, hits of an
//! expected violation, the summary for people (`faultline fuzz`), the JSON (`--json`).
//!
//! A failure is a seed whose run violated a checked invariant the scenario did not expect,
//! panicked, stalled while the scenario expects `Holds`, or ran twice differently
//! (`nondeterministic`). Failures with the same *signature* — the failure key (the violated
//! invariant, or the kind of abnormal end) and the message with every number replaced by `N`
//! — are one group: "n4 and n1 both led term 4" and "n2 and n0 both led term 7" are the same
//! bug seen twice. A scenario that expects `Violates(X)` is a known-bug scenario: its seeds
//! that violate X are *hits*, counted and saved, never failures; its seeds that hold are
//! neither.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One failing seed.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub seed: u64,
    /// Which run of the campaign it was (1-based, in the campaign's order): with `--guided`,
    /// mutants are runs too.
    pub run: u64,
    /// The violated invariant, `panicked`, `stalled (...)` or `nondeterministic`.
    pub key: String,
    /// The key and the message with numbers replaced by `N`: what groups failures.
    pub signature: String,
    pub verdict: &'static str,
    /// The violation or panic message.
    pub message: String,
    pub time_ns: u64,
    pub trace_hash: String,
    /// The saved scenario file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The command that replays it.
    pub replay: String,
    /// The shrunk file, with fault counts before and after (the first failure of each group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<ShrunkFile>,
}

/// A shrunk failure file.
#[derive(Clone, Debug, Serialize)]
pub struct ShrunkFile {
    pub file: PathBuf,
    pub faults_before: usize,
    pub faults_after: usize,
    pub nodes: usize,
}

/// Failures with one signature.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub signature: String,
    pub key: String,
    /// How many of the reported failures have it.
    pub count: u64,
    /// The first seeds that have it (at most [`SHOWN`]).
    pub seeds: Vec<u64>,
    /// The first failure's saved file, and its shrunk reproducer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<ShrunkFile>,
    /// Why the first failure could not be shrunk (it did not fail again when run alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrink_error: Option<String>,
    /// The first failure's message, as found.
    pub message: String,
    pub replay: String,
}

/// The seeds of a known-bug scenario that showed the violation it expects.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Hits {
    /// The expected invariant.
    pub invariant: String,
    /// Seeds that violated it.
    pub count: u64,
    /// The first such seeds (at most [`SHOWN`]).
    pub seeds: Vec<u64>,
    /// Files saved for the first hits (at most [`MAX_SAVED_HITS`]).
    pub saved: Vec<PathBuf>,
}

/// Seeds whose end-of-run check could not decide within its budget (verdict `unknown`): not
/// failures, but reported, since a check that never decides proves nothing.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Undecided {
    pub count: u64,
    /// The first such seeds (at most [`SHOWN`]).
    pub seeds: Vec<u64>,
    /// Why the first one was undecided.
    pub reason: String,
}

/// Seeds listed per group or hit in reports.
pub const SHOWN: usize = 10;

/// Hits saved as files at most (every hit is counted).
pub const MAX_SAVED_HITS: usize = 100;

/// What a campaign found; `faultline fuzz --json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignReport {
    pub scenario: String,
    pub file: String,
    /// The build that ran it (`faultline::BUILD`).
    pub build: String,
    pub seeds: String,
    pub shard: String,
    /// What the scenario expects: `holds` or `violates X`.
    pub expected: String,
    /// Seeds this shard was to run, and ran.
    pub seeds_planned: u64,
    pub seeds_run: u64,
    /// Whether `--budget` ended the campaign before every planned seed ran.
    pub budget_exhausted: bool,
    /// Whether `--max-failures` ended it.
    pub stopped_at_max_failures: bool,
    /// Seeds run twice to check determinism.
    pub determinism_checked: u64,
    /// Seeds whose end-of-run check could not decide.
    pub undecided: Undecided,
    pub wall_secs: f64,
    pub seeds_per_sec: f64,
    /// Failing seeds by failure key, in seed order.
    pub by_invariant: BTreeMap<String, Vec<u64>>,
    /// Failures grouped by signature, in order of their first seed.
    pub groups: Vec<Group>,
    /// Every reported failure, in seed order.
    pub failures: Vec<Failure>,
    /// For a known-bug scenario (`expect: Violates(X)`): how often X was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<Hits>,
    /// Which of the family's coverage points the runs reached.
    pub coverage: super::coverage::CoverageReport,
    /// For a guided campaign: the corpus it kept and the mutants it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guided: Option<GuidedStats>,
}

/// What a guided campaign kept and ran.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GuidedStats {
    /// Runs kept for reaching new coverage.
    pub corpus: usize,
    /// Runs that were mutants of those (the rest were fresh seeds).
    pub mutants: u64,
}

impl CampaignReport {
    /// Whether the campaign found a problem: a failure, or a known-bug scenario whose
    /// violation never showed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || self.hits.as_ref().is_some_and(|h| h.count == 0)
    }
}

/// The message with every run of digits replaced by `N`, whitespace collapsed: what stays the
/// same when the same bug shows on other nodes, terms or times.
pub fn normalize(message: &str) -> String {
    let text = crate::output::one_line(message);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_number = false;
    while let Some(c) = chars.next() {
        let decimal_point =
            c == '.' && in_number && chars.peek().is_some_and(|n| n.is_ascii_digit());
        if c.is_ascii_digit() || decimal_point {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// The signature of a failure: its key and its normalized message.
pub fn signature(key: &str, message: &str) -> String {
    if message.is_empty() {
        key.to_string()
    } else {
        format!("{key}: {}", normalize(message))
    }
}

/// Groups failures (in seed order) by signature, in order of their first seed.
pub fn group(failures: &[Failure]) -> Vec<Group> {
    let mut groups: Vec<Group> = vec![];
    for f in failures {
        match groups.iter_mut().find(|g| g.signature == f.signature) {
            Some(g) => {
                g.count += 1;
                if g.seeds.len() < SHOWN {
                    g.seeds.push(f.seed);
                }
            }
            None => groups.push(Group {
                signature: f.signature.clone(),
                key: f.key.clone(),
                count: 1,
                seeds: vec![f.seed],
                file: f.file.clone(),
                shrunk: f.shrunk.clone(),
                shrink_error: None,
                message: f.message.clone(),
                replay: f.replay.clone(),
            }),
        }
    }
    groups
}

/// `0, 4, 9 and 12 more`: the seeds shown of `count`.
pub(crate) fn seed_list(seeds: &[u64], count: u64) -> String {
    let shown: Vec<String> = seeds.iter().map(u64::to_string).collect();
    let more = count.saturating_sub(seeds.len() as u64);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The summary for people.
pub fn summary_text(r: &CampaignReport) -> String {
    let stop = if r.budget_exhausted {
        ", stopped by --budget"
    } else if r.stopped_at_max_failures {
        ", stopped by --max-failures"
    } else {
        ""
    };
    let mut s = format!(
        "fuzz {}: seeds {} shard {}: {} of {} run in {:.1}s ({:.1} seeds/s){stop}; expects {}; {} failure(s) in {} group(s)\n",
        r.file,
        r.seeds,
        r.shard,
        r.seeds_run,
        r.seeds_planned,
        r.wall_secs,
        r.seeds_per_sec,
        r.expected,
        r.failures.len(),
        r.groups.len()
    );
    if let Some(h) = &r.hits {
        if h.count == 0 {
            s += &format!(
                "  {} was never found: the known bug did not show in {} seeds\n",
                h.invariant, r.seeds_run
            );
        } else {
            s += &format!(
                "  {} found (expected) in {} of {} seeds ({:.2}%): {}\n",
                h.invariant,
                h.count,
                r.seeds_run,
                100.0 * h.count as f64 / r.seeds_run.max(1) as f64,
                seed_list(&h.seeds, h.count)
            );
            if let Some(first) = h.saved.first() {
                s += &format!(
                    "  {} hit file(s) saved; the first: {} run {}\n",
                    h.saved.len(),
                    crate::cli::program(),
                    first.display()
                );
            }
        }
    }
    if r.undecided.count > 0 {
        s += &format!(
            "  {} seed(s) undecided (an end-of-run check ran out of budget, verdict unknown): {}\n      {}\n",
            r.undecided.count,
            seed_list(&r.undecided.seeds, r.undecided.count),
            r.undecided.reason
        );
    }
    if r.determinism_checked > 0 {
        s += &format!(
            "  determinism: {} seed(s) run twice\n",
            r.determinism_checked
        );
    }
    if let Some(g) = &r.guided {
        s += &format!(
            "  guided: {} run(s) were mutants of the {} kept for reaching new coverage; the rest fresh seeds\n",
            g.mutants, g.corpus
        );
    }
    s += &r.coverage.text();
    for g in &r.groups {
        s += &format!(
            "  [{}x] {}\n      seeds: {}\n      replay: {}\n",
            g.count,
            g.signature,
            seed_list(&g.seeds, g.count),
            g.replay
        );
        if let Some(sh) = &g.shrunk {
            s += &format!(
                "      shrunk: {} run {} (faults {} -> {}, {} nodes)\n",
                crate::cli::program(),
                sh.file.display(),
                sh.faults_before,
                sh.faults_after,
                sh.nodes
            );
        }
        if let Some(e) = &g.shrink_error {
            s += &format!("      not shrunk: {e}\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_numbers_and_keep_words() {
        assert_eq!(
            normalize("n4 and n1 both led term 4"),
            "nN and nN both led term N"
        );
        assert_eq!(normalize("at 1.500s (event 17)"), "at Ns (event N)");
        assert_eq!(
            signature("ElectionSafety", "n2 and n0 both led term 7"),
            "ElectionSafety: nN and nN both led term N"
        );
        assert_eq!(signature("panicked", ""), "panicked");
    }

    fn failure(seed: u64, key: &str, message: &str) -> Failure {
        Failure {
            seed,
            run: seed + 1,
            key: key.into(),
            signature: signature(key, message),
            verdict: "violated",
            message: message.into(),
            time_ns: 0,
            trace_hash: String::new(),
            file: None,
            replay: format!("replay {seed}"),
            shrunk: None,
        }
    }

    #[test]
    fn failures_group_by_signature_in_order_of_first_seed() {
        let fs = [
            failure(3, "ElectionSafety", "n1 and n2 both led term 4"),
            failure(5, "LogMatching", "logs differ at 7"),
            failure(9, "ElectionSafety", "n0 and n4 both led term 9"),
        ];
        let g = group(&fs);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].count, g[0].seeds.clone()), (2, vec![3, 9]));
        assert_eq!(
            g[0].replay, "replay 3",
            "the first failure represents its group"
        );
        assert_eq!(g[1].key, "LogMatching");
    }
}
