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
    /// Counts not yet folded into `counters` (see [`Metrics::count`]).
    recent: Vec<(&'static str, u64)>,
}

/// Names [`Metrics::count`] keeps in its short list before it falls back to the map.
const RECENT: usize = 32;

impl Metrics {
    /// Adds `n` to a counter.
    ///
    /// Protocols count per message, so this is on the hot path: a name is first looked up
    /// by its address in a short list (a literal passed twice is usually the same address,
    /// and one comparison of two words is cheaper than the string comparisons of a map
    /// search); the list is folded into `counters` by [`Metrics::settle`], which the engine
    /// calls before it reports. [`Metrics::counter`] reads both.
    pub fn count(&mut self, name: &'static str, n: u64) {
        let same = |e: &&mut (&'static str, u64)| {
            std::ptr::eq(e.0.as_ptr(), name.as_ptr()) && e.0.len() == name.len()
        };
        if let Some(e) = self.recent.iter_mut().find(same) {
            e.1 += n;
        } else if self.recent.len() < RECENT {
            self.recent.push((name, n));
        } else {
            *self.counters.entry(name).or_insert(0) += n;
        }
    }

    /// Folds the counts kept aside by [`Metrics::count`] into `counters`.
    pub fn settle(&mut self) {
        for (name, n) in self.recent.drain(..) {
            *self.counters.entry(name).or_insert(0) += n;
        }
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
        let recent: u64 = self
            .recent
            .iter()
            .filter(|e| e.0 == name)
            .map(|e| e.1)
            .sum();
        self.counters.get(name).copied().unwrap_or(0) + recent
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

    #[test]
    fn counts_add_up_before_and_after_settling() {
        let mut m = Metrics::default();
        // The same name at two addresses (as two crates' literals may be), and more names
        // than the short list holds.
        let owned = String::from("a.x");
        let other: &'static str = Box::leak(owned.into_boxed_str());
        m.count("a.x", 2);
        m.count(other, 3);
        const NAMES: [&str; 40] = [
            "n00", "n01", "n02", "n03", "n04", "n05", "n06", "n07", "n08", "n09", "n10", "n11",
            "n12", "n13", "n14", "n15", "n16", "n17", "n18", "n19", "n20", "n21", "n22", "n23",
            "n24", "n25", "n26", "n27", "n28", "n29", "n30", "n31", "n32", "n33", "n34", "n35",
            "n36", "n37", "n38", "n39",
        ];
        for round in 0..2 {
            for name in NAMES {
                m.count(name, round + 1);
            }
        }
        m.count("zero", 0);
        assert_eq!(m.counter("a.x"), 5);
        assert_eq!(m.counter("n39"), 3);
        assert_eq!(m.counter("n00"), 3);
        m.settle();
        assert_eq!(m.counters.get("a.x"), Some(&5));
        assert_eq!(m.counters.get("zero"), Some(&0));
        assert_eq!(m.counters.len(), 42);
        assert!(NAMES.iter().all(|n| m.counters[n] == 3));
        assert_eq!(m.counter("a.x"), 5);
    }
}
