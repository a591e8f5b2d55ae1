//! Coverage over a campaign: which of a family's coverage points (`Context::cover`) the runs
//! reached, in how many runs and how often, and what counts as *new* coverage for guided mode.
//!
//! A run's coverage is a map from point to hit count. Guided mode (see [`super::guided`]) calls
//! a run new when it reaches a point no earlier run reached, or reaches one a number of times
//! in a bucket no earlier run did (AFL's buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), so
//! "the conflicting suffix was truncated 9 times" is different from "once".

use protocols::family::MetricInfo;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A run's coverage: point name to hit count.
pub type RunCoverage = BTreeMap<String, u64>;

/// AFL's hit-count bucket of a count (0 for none).
pub fn bucket(count: u64) -> u8 {
    match count {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 3,
        4..=7 => 4,
        8..=15 => 5,
        16..=31 => 6,
        32..=127 => 7,
        _ => 8,
    }
}

/// One point across a campaign.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PointRow {
    /// Its name (`raft.truncate.conflict`).
    pub point: String,
    /// What it means, from the family (empty for a point the family does not declare).
    pub about: String,
    /// Runs that reached it.
    pub runs: u64,
    /// Times it was reached, over every run.
    pub hits: u64,
    /// The first run (in the campaign's order) that reached it: its seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seed: Option<u64>,
}

/// The campaign's coverage, for the summary, JSON and JUnit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoverageReport {
    /// Points the family declares.
    pub declared: usize,
    /// Declared points some run reached.
    pub reached: usize,
    /// Runs counted.
    pub runs: u64,
    /// Every declared point (in declaration order), then any undeclared one reached.
    pub points: Vec<PointRow>,
    /// Points reached that the family does not declare (a typo in a `cover` call, or a
    /// missing declaration).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undeclared: Vec<String>,
}

/// A coverage feature: a point or an edge (`a > b`), with the bucket of its hit count.
pub type Feature = (String, u8);

/// Adds up run coverage as a campaign goes.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    runs: u64,
    points: BTreeMap<String, PointRow>,
    /// Features seen, each with the number of runs that reached it: what guided mode calls
    /// known, and how rare each is.
    seen: BTreeMap<Feature, u64>,
}

impl Tally {
    /// Counts one run; returns the features (point or edge, bucket) it reached first.
    pub fn add(&mut self, seed: u64, run: &RunCoverage, edges: &RunCoverage) -> Vec<Feature> {
        self.runs += 1;
        for (point, &hits) in run {
            let row = self
                .points
                .entry(point.clone())
                .or_insert_with(|| PointRow {
                    point: point.clone(),
                    ..PointRow::default()
                });
            row.runs += 1;
            row.hits += hits;
            row.first_seed.get_or_insert(seed);
        }
        let mut new = vec![];
        for (name, &hits) in run.iter().chain(edges) {
            let f = (name.clone(), bucket(hits));
            let runs = self.seen.entry(f.clone()).or_insert(0);
            *runs += 1;
            if *runs == 1 {
                new.push(f);
            }
        }
        new
    }

    /// How many runs reached a feature so far.
    pub fn runs_reaching(&self, f: &Feature) -> u64 {
        self.seen.get(f).copied().unwrap_or(0)
    }

    /// The report, against the points a family declares.
    pub fn report(&self, declared: &[MetricInfo]) -> CoverageReport {
        let mut points: Vec<PointRow> = declared
            .iter()
            .map(|d| {
                let mut row = self.points.get(d.name).cloned().unwrap_or_default();
                row.point = d.name.to_string();
                row.about = d.about.to_string();
                row
            })
            .collect();
        let names: BTreeSet<&str> = declared.iter().map(|d| d.name).collect();
        let undeclared: Vec<String> = self
            .points
            .keys()
            .filter(|p| !names.contains(p.as_str()))
            .cloned()
            .collect();
        points.extend(undeclared.iter().map(|p| self.points[p].clone()));
        CoverageReport {
            declared: declared.len(),
            reached: declared
                .iter()
                .filter(|d| self.points.contains_key(d.name))
                .count(),
            runs: self.runs,
            points,
            undeclared,
        }
    }
}

impl CoverageReport {
    /// The summary's coverage lines: a count, then a line per point (runs reaching it, share
    /// of runs, total hits), points never reached marked.
    pub fn text(&self) -> String {
        if self.points.is_empty() {
            return String::new();
        }
        let mut s = format!(
            "  coverage: {} of {} declared point(s) reached over {} run(s)\n",
            self.reached, self.declared, self.runs
        );
        let width = self.points.iter().map(|p| p.point.len()).max().unwrap_or(0);
        for p in &self.points {
            let what = if p.runs == 0 {
                "NEVER reached".to_string()
            } else {
                format!(
                    "{:>7} run(s) {:>6.2}%  {:>9} hit(s)  first seed {}",
                    p.runs,
                    100.0 * p.runs as f64 / self.runs.max(1) as f64,
                    p.hits,
                    p.first_seed.unwrap_or_default()
                )
            };
            s += &format!("    {:width$}  {what}\n", p.point);
        }
        if !self.undeclared.is_empty() {
            s += &format!(
                "    (not declared by the family: {})\n",
                self.undeclared.join(", ")
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(points: &[(&str, u64)]) -> RunCoverage {
        points.iter().map(|(p, n)| (p.to_string(), *n)).collect()
    }

    #[test]
    fn new_means_a_new_point_or_a_new_bucket() {
        let mut t = Tally::default();
        assert_eq!(t.add(1, &run(&[("a", 1)]), &run(&[])).len(), 1);
        assert_eq!(t.add(1, &run(&[("a", 1)]), &run(&[])).len(), 0);
        assert_eq!(t.runs_reaching(&("a".into(), 1)), 2);
        assert_eq!(
            t.add(1, &run(&[("a", 2)]), &run(&[])).len(),
            1,
            "count 2 is another bucket"
        );
        assert_eq!(
            t.add(2, &run(&[("a", 9), ("b", 1)]), &run(&[("a > b", 1)]))
                .len(),
            3
        );
        assert!(
            t.add(3, &run(&[("a", 12)]), &run(&[])).is_empty(),
            "9 and 12 share the 8-15 bucket"
        );
        assert_eq!(bucket(128), bucket(1_000_000));
    }

    #[test]
    fn report_lists_declared_points_never_reached_and_undeclared_ones() {
        let mut t = Tally::default();
        t.add(5, &run(&[("x.one", 3)]), &run(&[]));
        t.add(6, &run(&[("x.one", 1), ("x.typo", 1)]), &run(&[]));
        let declared = [
            MetricInfo::new("x.one", "first"),
            MetricInfo::new("x.two", "second"),
        ];
        let r = t.report(&declared);
        assert_eq!((r.declared, r.reached, r.runs), (2, 1, 2));
        assert_eq!(r.points[0].runs, 2);
        assert_eq!(r.points[0].hits, 4);
        assert_eq!(r.points[0].first_seed, Some(5));
        assert_eq!(r.points[1].runs, 0);
        assert_eq!(r.undeclared, vec!["x.typo".to_string()]);
        let text = r.text();
        assert!(text.contains("1 of 2 declared"), "{text}");
        assert!(text.contains("x.two") && text.contains("NEVER"), "{text}");
        assert!(
            text.contains("not declared by the family: x.typo"),
            "{text}"
        );
    }
}
