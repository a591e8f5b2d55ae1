//! JUnit XML for fuzz campaigns, so CI systems (GitLab, Jenkins, GitHub test reporters) show
//! fuzz results like test results: one `<testcase>` per group of failures with one signature,
//! with a `<failure>` carrying the count, the first seeds, the replay command and the shrunk
//! reproducer, and one summarising the seeds without failure.
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

/// The report as a JUnit XML document: one failing test case per group of failures (with
/// its count, seeds, replay command and shrunk reproducer), one for a known bug that never
/// showed, and one passing case for the rest.
pub fn junit_xml(r: &CampaignReport) -> String {
    let missing_hit = r.hits.as_ref().filter(|h| h.count == 0);
    let failing = r.groups.len() + usize::from(missing_hit.is_some());
    let suite = escape(&format!(
        "fuzz {} (seeds {}, shard {})",
        r.file, r.seeds, r.shard
    ));
    let class = escape(&r.file);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x += &format!(
        "<testsuites tests=\"{}\" failures=\"{failing}\" time=\"{:.3}\">\n",
        failing + 1,
        r.wall_secs
    );
    x += &format!(
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failing}\" errors=\"0\" time=\"{:.3}\">\n",
        failing + 1,
        r.wall_secs
    );
    // The build, then coverage: points reached of those declared, and the runs reaching each.
    x += &format!(
        "    <properties><property name=\"build\" value=\"{}\"/>",
        escape(&r.build)
    );
    if !r.coverage.points.is_empty() {
        x += &format!(
            "<property name=\"coverage\" value=\"{} of {} points reached\"/>",
            r.coverage.reached, r.coverage.declared
        );
        for p in &r.coverage.points {
            x += &format!(
                "<property name=\"coverage.{}\" value=\"{}\"/>",
                escape(&p.point),
                p.runs
            );
        }
    }
    x += "</properties>\n";
    for g in &r.groups {
        x += &format!(
            "    <testcase classname=\"{class}\" name=\"{}\">\n",
            escape(&format!("{} ({} seed(s))", g.signature, g.count))
        );
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let mut body = format!(
            "{}\n{} failing seed(s), the first: {}\nreplay: {}\n",
            g.message,
            g.count,
            seeds.join(", "),
            g.replay
        );
        if let Some(s) = &g.shrunk {
            body += &format!(
                "shrunk: {} run {} (faults {} -> {})\n",
                crate::cli::program(),
                s.file.display(),
                s.faults_before,
                s.faults_after
            );
        }
        x += &format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            escape(&g.signature),
            escape(&g.key),
            escape(&body)
        );
        x += "    </testcase>\n";
    }
    if let Some(h) = missing_hit {
        x += &format!(
            "    <testcase classname=\"{class}\" name=\"{}\">\n      <failure message=\"{}\" type=\"{}\"/>\n    </testcase>\n",
            escape(&format!("expected violation of {}", h.invariant)),
            escape(&format!(
                "{} never showed in {} seeds",
                h.invariant, r.seeds_run
            )),
            escape(&h.invariant)
        );
    }
    let passed = r.seeds_run - r.failures.len() as u64;
    x += &format!("    <testcase classname=\"{class}\" name=\"{passed} seeds without failure\">\n");
    let mut out = format!(
        "{passed} of {} seeds run without failure ({:.1} seeds/s)",
        r.seeds_run, r.seeds_per_sec
    );
    if let Some(h) = r.hits.as_ref().filter(|h| h.count > 0) {
        out += &format!("; {} found (expected) in {} seeds", h.invariant, h.count);
    }
    x += &format!("      <system-out>{}</system-out>\n", escape(&out));
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
    fn one_testcase_per_group_plus_one_for_the_passing_seeds() {
        use crate::fuzz::report::{group, signature};
        let f = |seed: u64, message: &str| Failure {
            run: seed + 1,
            seed,
            key: "LogMatching".into(),
            signature: signature("LogMatching", message),
            verdict: "violated",
            message: message.into(),
            time_ns: 1_500_000_000,
            trace_hash: "00ff".into(),
            file: None,
            replay: format!("faultline run x.ron --seed {seed}"),
            shrunk: None,
        };
        let failures = vec![
            f(7, "logs differ at <index 3> & term 2"),
            f(8, "logs differ at <index 5> & term 9"),
        ];
        let r = CampaignReport {
            scenario: "s".into(),
            file: "x.ron".into(),
            build: "faultline test".into(),
            seeds: "0..10".into(),
            shard: "0/1".into(),
            expected: "holds".into(),
            seeds_planned: 10,
            seeds_run: 10,
            budget_exhausted: false,
            stopped_at_max_failures: false,
            determinism_checked: 0,
            undecided: Default::default(),
            wall_secs: 1.0,
            seeds_per_sec: 10.0,
            by_invariant: Default::default(),
            groups: group(&failures),
            failures,
            hits: None,
            coverage: Default::default(),
            guided: None,
        };
        let x = junit_xml(&r);
        assert_eq!(x.matches("<testcase ").count(), 2, "{x}");
        assert_eq!(x.matches("<failure ").count(), 1);
        assert!(x.contains("(2 seed(s))"), "{x}");
        assert!(x.contains("8 seeds without failure"));
        assert!(x.contains("&lt;index 3&gt; &amp; term 2"));
        assert!(x.contains("replay: faultline run x.ron --seed 7"));
        assert!(!x.contains("<index 3>"));
        assert!(x.contains("value=\"faultline test\""));
    }
}
