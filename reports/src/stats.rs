//! Per-seed series reduced to what a chart shows: the mean with a min–max or quantile band at
//! each x, and empirical CDFs. Pure functions over floats; inputs are never reordered in place.

use std::collections::BTreeMap;

/// One x with the mean and a band of the values seen there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// How many values were seen at this x.
    pub count: usize,
}

/// The q-quantile (0..=1) of sorted values, by linear interpolation.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of no values");
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    if i + 1 < sorted.len() {
        sorted[i] * (1.0 - frac) + sorted[i + 1] * frac
    } else {
        sorted[i]
    }
}

/// Groups `(x, y)` values by x and reduces each group to its mean and the [q_low, q_high]
/// quantile band (0 and 1 give min–max). Xs are compared exactly: the callers' xs are round
/// numbers or parameters.
pub fn bands(points: &[(f64, f64)], q_low: f64, q_high: f64) -> Vec<Band> {
    let mut groups: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            // The bit pattern of a finite non-negative float orders like the float.
            groups.entry(order_key(x)).or_default().push(y);
        }
    }
    groups
        .into_iter()
        .map(|(k, mut ys)| {
            ys.sort_by(f64::total_cmp);
            let mean = ys.iter().sum::<f64>() / ys.len() as f64;
            Band {
                x: from_order_key(k),
                mean,
                low: quantile(&ys, q_low),
                high: quantile(&ys, q_high),
                count: ys.len(),
            }
        })
        .collect()
}

/// A u64 that sorts like the float (total order).
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// The empirical CDF of values: points (v, fraction ≤ v) as a step curve.
pub fn cdf(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mut out = Vec::with_capacity(2 * v.len());
    for (i, &x) in v.iter().enumerate() {
        out.push((x, i as f64 / n));
        out.push((x, (i + 1) as f64 / n));
    }
    out
}

/// The empirical CDF of values when `never` more samples have no value (an election that
/// never ended): they count in the denominator, so the curve ends at the fraction that did
/// end, `n / (n + never)`, instead of 1.
pub fn cdf_with_missing(values: &[f64], never: usize) -> Vec<(f64, f64)> {
    let finite = values.iter().filter(|x| x.is_finite()).count();
    let scale = finite as f64 / (finite + never).max(1) as f64;
    cdf(values)
        .into_iter()
        .map(|(x, y)| (x, y * scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cdf_with_missing_samples_stops_short_of_one() {
        let full = cdf(&[3.0, 1.0, 2.0]);
        assert_eq!(full.last(), Some(&(3.0, 1.0)));
        let short = cdf_with_missing(&[3.0, 1.0, 2.0], 1);
        assert_eq!(short.len(), full.len());
        assert_eq!(short.last(), Some(&(3.0, 0.75)));
        assert_eq!(short[1], (1.0, 0.25));
        assert_eq!(cdf_with_missing(&[], 4), vec![]);
    }

    #[test]
    fn bands_group_by_x_and_take_quantiles() {
        let pts = [(1.0, 1.0), (1.0, 3.0), (2.0, 5.0), (1.0, 2.0), (-1.0, 4.0)];
        let b = bands(&pts, 0.0, 1.0);
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].x, b[0].mean), (-1.0, 4.0));
        assert_eq!(
            (b[1].x, b[1].mean, b[1].low, b[1].high, b[1].count),
            (1.0, 2.0, 1.0, 3.0, 3)
        );
        assert_eq!(quantile(&[0.0, 10.0], 0.9), 9.0);
    }

    #[test]
    fn cdf_steps_reach_one() {
        let c = cdf(&[3.0, 1.0]);
        assert_eq!(c, vec![(1.0, 0.0), (1.0, 0.5), (3.0, 0.5), (3.0, 1.0)]);
    }
}
