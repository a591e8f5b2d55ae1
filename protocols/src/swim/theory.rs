//! Closed forms from the SWIM paper and the formulas memberlist codes, for the node and for
//! the tests that hold runs to them (docs/references.md §4).

/// SWIM §3.1: the expected time from a failure to its first detection, in protocol periods,
/// with random target choice and a fraction `q_f` of members alive: `1 / (1 − e^{−q_f})`
/// (e/(e−1) ≈ 1.582 when every other member is alive). Independent of n.
pub fn expected_detection_periods(q_f: f64) -> f64 {
    1.0 / (1.0 - (-q_f).exp())
}

/// The same for a finite group: each of `alive` probers picks the failed member with
/// probability 1/(members − 1) per period, so a period detects with probability
/// `1 − (1 − 1/(members−1))^alive`.
pub fn expected_detection_periods_finite(members: usize, alive: usize) -> f64 {
    let p_miss = (1.0 - 1.0 / (members as f64 - 1.0)).powi(alive as i32);
    1.0 / (1.0 - p_miss)
}

/// memberlist `suspicionTimeout`: `mult × max(1, log10(max(1, n))) × interval`, the
/// Lifeguard minimum (nanoseconds).
pub fn suspicion_min_ns(mult: u32, n: usize, interval_ns: u64) -> u64 {
    let scale = (n.max(1) as f64).log10().max(1.0);
    (f64::from(mult) * scale * interval_ns as f64) as u64
}

/// Lifeguard's expected independent confirmations: `mult − 2`, or 0 when fewer other members
/// than that could confirm.
pub fn suspicion_confirmations(mult: u32, n: usize) -> u32 {
    let k = mult.saturating_sub(2);
    if n.saturating_sub(2) < k as usize {
        0
    } else {
        k
    }
}

/// Lifeguard's suspicion timeout after `c` independent confirmations (of `k` expected), from
/// the start of the suspicion: `max(min, max − (max − min)·log(c+1)/log(k+1))`; `max` with no
/// confirmation, `min` once `k` have arrived.
pub fn suspicion_timeout_ns(min: u64, max: u64, c: u32, k: u32) -> u64 {
    if k == 0 {
        return min;
    }
    let frac = (f64::from(c) + 1.0).ln() / (f64::from(k) + 1.0).ln();
    let t = max as f64 - (max as f64 - min as f64) * frac;
    (t.floor() as u64).max(min)
}

/// memberlist `retransmitLimit`: `mult × ceil(log10(n + 1))` (λ·log n of SWIM §4.1).
pub fn retransmit_limit(mult: u32, n: usize) -> u32 {
    let scale = ((n as f64) + 1.0).log10().ceil() as u32;
    mult * scale.max(1)
}

/// memberlist `pushPullScale`: the push-pull interval grows by `ceil(log2 n − log2 32) + 1`
/// above 32 members, so the cluster's total sync traffic stays bounded.
pub fn push_pull_scale(n: usize) -> u64 {
    if n <= 32 {
        1
    } else {
        ((n as f64).log2() - 32f64.log2()).ceil() as u64 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_time_is_e_over_e_minus_one_periods() {
        let e = std::f64::consts::E;
        assert!((expected_detection_periods(1.0) - e / (e - 1.0)).abs() < 1e-12);
        assert!((expected_detection_periods(0.95) - 1.6310).abs() < 1e-3);
        // A finite group tends to the limit.
        let f = expected_detection_periods_finite(1000, 999);
        assert!((f - 1.582).abs() < 2e-3, "{f}");
    }

    #[test]
    fn memberlist_lan_values_from_references() {
        // docs/references.md §4.2's computed table: min / max suspicion and retransmits.
        let s = 1_000_000_000;
        for (n, min, retrans) in [(10, 4, 8), (100, 8, 12), (1000, 12, 16), (10_000, 16, 20)] {
            assert_eq!(suspicion_min_ns(4, n, s), min * s, "n = {n}");
            assert_eq!(retransmit_limit(4, n), retrans, "n = {n}");
        }
        assert_eq!(retransmit_limit(4, 3), 4);
        // n = 100, k = 2: 0 confirmations 48 s, 1 → 22.8 s, 2 → 8 s.
        let (min, max) = (8 * s, 48 * s);
        assert_eq!(suspicion_confirmations(4, 100), 2);
        assert_eq!(suspicion_timeout_ns(min, max, 0, 2), max);
        let one = suspicion_timeout_ns(min, max, 1, 2) as f64 / s as f64;
        assert!((one - 22.77).abs() < 0.01, "{one}");
        assert_eq!(suspicion_timeout_ns(min, max, 2, 2), min);
        assert_eq!(suspicion_confirmations(4, 3), 0);
        assert_eq!(push_pull_scale(32), 1);
        assert_eq!(push_pull_scale(10_000), 10);
    }
}
