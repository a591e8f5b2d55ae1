//! What the classic analyses predict, for tests and for plots next to measured curves.
//!
//! Owns closed forms and roots only; no simulation. Sources: Pittel 1987 and Frieze &
//! Grimmett 1985 (push on the complete graph: log2 n + ln n rounds), Karp et al. 2000
//! (push-pull: log3 n + O(log log n) rounds), Demers et al. 1987 §1.4 (the residue of
//! rumor mongering with feedback and coin: s = e^(-(k+1)(1-s)), and s ≈ e^(-m) for push).
//! These are floats for reports; nothing here steers a run.

/// Expected rounds for push to inform all of `n` nodes: log2 n + ln n (plus O(1)).
pub fn push_rounds(n: usize) -> f64 {
    let n = n as f64;
    n.log2() + n.ln()
}

/// Leading term of push-pull's rounds to full spread: log3 n (plus O(log log n)).
pub fn push_pull_rounds(n: usize) -> f64 {
    (n as f64).ln() / 3f64.ln()
}

/// Pull anti-entropy in the tail: the uninformed fraction after one more round, p -> p².
pub fn pull_next_uninformed(p: f64) -> f64 {
    p * p
}

/// Push anti-entropy: the uninformed fraction after one more round,
/// p -> p (1 - 1/n)^(n (1 - p)) (Demers et al. 1987 §1.3).
pub fn push_next_uninformed(p: f64, n: usize) -> f64 {
    let n = n as f64;
    p * (1.0 - 1.0 / n).powf(n * (1.0 - p))
}

/// The non-trivial root of s = e^(-(k+1)(1-s)): the fraction rumor mongering with feedback and
/// a coin of 1/k leaves uninformed (Demers et al. 1987 §1.4).
pub fn residue_root(k: f64) -> f64 {
    let c = k + 1.0;
    let f = |s: f64| s - (-c * (1.0 - s)).exp();
    // f < 0 at 0 and f > 0 just below the trivial root 1 (its slope there is 1 - c < 0).
    let (mut lo, mut hi) = (0.0f64, 1.0 - 1e-6);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residue_roots_match_the_reference_table() {
        // docs/references.md §3.1, exact roots for k = 1..5.
        for (k, s) in [(1.0, 0.2032), (2.0, 0.0595), (3.0, 0.0198), (4.0, 0.00698)] {
            let r = residue_root(k);
            assert!((r - s).abs() / s < 0.01, "k={k}: {r} vs {s}");
        }
        assert!((push_rounds(1000) - 16.87).abs() < 0.01);
        assert!((push_pull_rounds(1000) - 6.29).abs() < 0.01);
        assert!(push_next_uninformed(0.01, 1000) < 0.0038);
        assert_eq!(pull_next_uninformed(0.1), 0.1 * 0.1);
    }
}
