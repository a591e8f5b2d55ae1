//! Metrics recorded during a run: named counters, timestamped samples and coverage points.
//!
//! Coverage points are the states of a protocol worth reaching (a conflicting suffix
//! truncated, a snapshot installed over a log, a vote refused for a stale log), marked with
//! `Context::cover`; campaigns report which were reached and guide their search by them
//! (`faultline fuzz --guided`). They never enter the trace hash.
//!
//! Names are `&'static str` so recording never allocates a key. Maps are `BTreeMap`, so any
//! output built from them is in a fixed order.

use crate::Time;
use std::collections::BTreeMap;

/// Counters and samples of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Named counters.
    pub counters: BTreeMap<&'static str, u64>,
    /// Named samples, each with the true time it was recorded at.
    pub samples: BTreeMap<&'static str, Vec<(Time, f64)>>,
    /// Coverage points reached, with how many times.
    pub coverage: BTreeMap<&'static str, u64>,
    /// Pairs of coverage points one node reached one after the other (the first, then a
    /// different second), with how many times: the "edges" guided fuzzing also counts as
    /// coverage, so a run reaching known points in a new order is new.
    pub coverage_edges: BTreeMap<(&'static str, &'static str), u64>,
    /// The last point each node reached.
    last_point: Vec<Option<&'static str>>,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn count(&mut self, name: &'static str, n: u64) {
        *self.counters.entry(name).or_insert(0) += n;
    }

    /// Records one sample.
    pub fn sample(&mut self, name: &'static str, at: Time, value: f64) {
        self.samples.entry(name).or_default().push((at, value));
    }

    /// Marks a coverage point as reached once more.
    pub fn cover(&mut self, point: &'static str) {
        *self.coverage.entry(point).or_insert(0) += 1;
    }

    /// Marks a coverage point as reached by `node`, and the edge from the point it reached
    /// before (if another).
    pub fn cover_by(&mut self, node: usize, point: &'static str) {
        self.cover(point);
        if self.last_point.len() <= node {
            self.last_point.resize(node + 1, None);
        }
        if let Some(prev) = self.last_point[node].replace(point)
            && prev != point
        {
            *self.coverage_edges.entry((prev, point)).or_insert(0) += 1;
        }
    }

    /// A counter's value (0 if never counted).
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// A sample series' values, in recording order.
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.samples
            .get(name)
            .map(|s| s.iter().map(|&(_, v)| v).collect())
            .unwrap_or_default()
    }
}

/// Summary statistics of a series, for reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises a series; `None` when it is empty. Quantiles are nearest-rank.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Summary {
            count: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            min: v[0],
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: v[v.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_uses_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&v).unwrap();
        assert_eq!(
            (s.min, s.p50, s.p90, s.p99, s.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(s.mean, 50.5);
        assert!(Summary::of(&[]).is_none());
    }
}
