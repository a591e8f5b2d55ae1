//! JUnit XML for fuzz campaigns, so CI systems (GitLab, Jenkins, GitHub test reporters) show
//! fuzz results like test results: one `<testcase>` per failing seed, with a `<failure>`
//! carrying the violation and the replay command, and one summarising the passing seeds.
//!
//! Written by hand (the format is small) with XML escaping of every text and attribute.

use super::campaign::CampaignReport;

/// Escapes text for XML attributes and content; control characters XML 1.0 forbids are
/// dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The report as a JUnit XML document.
pub fn junit_xml(r: &CampaignReport) -> String {
    let passed = r.seeds_run - r.failures.len() as u64;
    let suite = escape(&format!(
        "fuzz {} (seeds {}, shard {})",
        r.file, r.seeds, r.shard
    ));
    let class = escape(&r.file);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x += &format!(
        "<testsuites tests=\"{}\" failures=\"{}\" time=\"{:.3}\">\n",
        r.failures.len() + 1,
        r.failures.len(),
        r.wall_secs
    );
    x += &format!(
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3}\">\n",
        r.failures.len() + 1,
        r.failures.len(),
        r.wall_secs
    );
    for f in &r.failures {
        x += &format!(
            "    <testcase classname=\"{class}\" name=\"seed {}\">\n",
            f.seed
        );
        let summary = format!("{}: {}", f.key, f.message);
        let mut body = format!(
            "{} {} at {:.6}s: {}\ntrace hash {}\nreplay: {}\n",
            f.verdict,
            f.key,
            f.time_ns as f64 / 1e9,
            f.message,
            f.trace_hash,
            f.replay
        );
        if let Some(s) = &f.shrunk {
            body += &format!(
                "shrunk: faultline run {} (faults {} -> {})\n",
                s.file.display(),
                s.faults_before,
                s.faults_after
            );
        }
        x += &format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            escape(&summary),
            escape(&f.key),
            escape(&body)
        );
        x += "    </testcase>\n";
    }
    x += &format!("    <testcase classname=\"{class}\" name=\"{passed} passing seeds\">\n");
    x += &format!(
        "      <system-out>{}</system-out>\n",
        escape(&format!(
            "{passed} of {} seeds run held ({:.1} seeds/s)",
            r.seeds_run, r.seeds_per_sec
        ))
    );
    x += "    </testcase>\n  </testsuite>\n</testsuites>\n";
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::campaign::Failure;

    #[test]
    fn escapes_markup_and_drops_forbidden_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\n"
        );
    }

    #[test]
    fn one_testcase_per_failure_plus_one_for_the_passing_seeds() {
        let f = Failure {
            seed: 7,
            key: "LogMatching".into(),
            verdict: "violated",
            message: "logs differ at <index 3> & term 2".into(),
            time_ns: 1_500_000_000,
            trace_hash: "00ff".into(),
            file: None,
            replay: "faultline run x.ron --seed 7".into(),
            shrunk: None,
        };
        let r = CampaignReport {
            scenario: "s".into(),
            file: "x.ron".into(),
            seeds: "0..10".into(),
            shard: "0/1".into(),
            seeds_planned: 10,
            seeds_run: 10,
            budget_exhausted: false,
            wall_secs: 1.0,
            seeds_per_sec: 10.0,
            by_invariant: Default::default(),
            failures: vec![f],
        };
        let x = junit_xml(&r);
        assert_eq!(x.matches("<testcase ").count(), 2);
        assert_eq!(x.matches("<failure ").count(), 1);
        assert!(x.contains("name=\"seed 7\""));
        assert!(x.contains("9 passing seeds"));
        assert!(x.contains("&lt;index 3&gt; &amp; term 2"));
        assert!(x.contains("replay: faultline run x.ron --seed 7"));
        assert!(!x.contains("<index 3>"));
    }
}
