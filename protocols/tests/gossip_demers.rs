//! Demers et al. 1987, Table 1 ("performance of an epidemic on 1000 sites using feedback and
//! counters", push rumor mongering), reproduced by `counter: Demers`: residue and traffic
//! within 10% for every k = 1..5, on the complete graph with synchronous rounds; and Table 2
//! (blind and coin), which needs no counter rule.
//!
//! Owns the tests against Demers' simulation tables; the feedback coin and the anti-entropy
//! variants are compared with the analytic results in `gossip_theory.rs`. Table 1 values as
//! quoted in issue 15, to three digits (the PODC '87 version; CSL-89-1 p. 10 prints 0.18/1.7,
//! 0.037/3.3, 0.011/4.5, 0.0036/5.6, 0.0012/6.7; docs/references.md §3.1).
//!
//! The test can fail: with `counter: Cumulative` (counts every unnecessary contact, never
//! reset, judged on arrival; faultline's only rule before issue 15) the same seeds measure
//! residue 0.202, 0.060, 0.020, 0.0068, 0.0025 and traffic 1.60, 2.82, 3.92, 4.97, 5.98, and
//! `demers_counter_reproduces_table_1` fails on every row but k = 1's traffic (checked by
//! swapping the rule in; residue off by 15% to 110%). `cumulative_counter_misses_table_1`
//! keeps that difference checked for k = 1, 2.

#[path = "gossip_support.rs"]
mod support;

use protocols::gossip::{CounterRule, Direction, GossipConfig, Interest, Stop, Style};
use sim::Verdict;
use support::{Run, mean, one, sd};

const N: usize = 1000;

/// Table 1: (k, residue s, traffic m).
const TABLE_1: [(u32, f64, f64); 5] = [
    (1, 0.176, 1.74),
    (2, 0.037, 3.30),
    (3, 0.011, 4.53),
    (4, 0.0036, 5.64),
    (5, 0.0012, 6.68),
];

fn feedback_counter(k: u32, counter: CounterRule) -> GossipConfig {
    GossipConfig {
        style: Style::RumorMongering,
        direction: Direction::Push,
        interest: Interest::Feedback,
        stop: Stop::Counter,
        counter,
        k,
        ..GossipConfig::default()
    }
}

/// Per-seed residue and traffic (entry messages per node, Demers' m) for seeds `0..seeds`.
fn measure(cfg: &GossipConfig, seeds: u64) -> (Vec<f64>, Vec<f64>) {
    (0..seeds)
        .map(|seed| {
            let r = Run::spread(N, seed, cfg.clone()).run();
            assert_eq!(r.verdict, Verdict::Completed, "the rumor must die");
            (
                one(&r, "gossip.residue"),
                one(&r, "gossip.entry_messages_per_node"),
            )
        })
        .unzip()
}

/// Seeds per k: at least 200, and enough that the residue's standard error stays near 2.5%
/// of the mean. The residue is a count of a few nodes per run at large k (1.2 at k = 5, with
/// a per-run sd about equal to the mean), and the printed 0.0012 is itself rounded by up to
/// 4%, so 200 seeds (6% standard error) would leave a 10% test to chance.
fn seeds(k: u32) -> u64 {
    match k {
        1..=3 => 200,
        4 => 600,
        _ => 1500,
    }
}

/// Runs the Table 1 rows for `ks` with `counter: Demers`; residue and traffic within 10%.
/// (Three tests share the rows so the test harness can run them on separate threads.)
fn demers_counter_reproduces_table_1(ks: &[u32]) {
    let mut failures = Vec::new();
    for &(k, s_ref, m_ref) in TABLE_1.iter().filter(|row| ks.contains(&row.0)) {
        let (s, m) = measure(&feedback_counter(k, CounterRule::Demers), seeds(k));
        let (sm, mm) = (mean(&s), mean(&m));
        let se = sd(&s) / (s.len() as f64).sqrt();
        eprintln!(
            "Demers counter k={k} ({} seeds): residue {sm:.5} (se {se:.5}, Table 1 {s_ref}); \
             traffic {mm:.3} (Table 1 {m_ref})",
            s.len()
        );
        if (sm - s_ref).abs() > 0.1 * s_ref {
            failures.push(format!("k={k}: residue {sm:.5} vs {s_ref}"));
        }
        if (mm - m_ref).abs() > 0.1 * m_ref {
            failures.push(format!("k={k}: traffic {mm:.3} vs {m_ref}"));
        }
    }
    assert!(failures.is_empty(), "off Table 1 by > 10%: {failures:?}");
}

#[test]
fn demers_counter_reproduces_table_1_for_k_1_to_3() {
    demers_counter_reproduces_table_1(&[1, 2, 3]);
}

#[test]
fn demers_counter_reproduces_table_1_for_k_4() {
    demers_counter_reproduces_table_1(&[4]);
}

#[test]
fn demers_counter_reproduces_table_1_for_k_5() {
    demers_counter_reproduces_table_1(&[5]);
}

/// Table 2 ("... using blind and coin", first column 1/probability): (k, residue, traffic),
/// as printed in CSL-89-1 p. 10 (docs/references.md §3.1).
const TABLE_2: [(u32, f64, f64); 5] = [
    (1, 0.96, 0.04),
    (2, 0.20, 1.6),
    (3, 0.060, 2.8),
    (4, 0.021, 3.9),
    (5, 0.008, 4.9),
];

#[test]
fn blind_coin_reproduces_table_2() {
    // Blind counts every push when it is sent, so neither counter rule is involved. Residue
    // within 10% for k = 1..3. For k = 4 and 5 the table's residues (0.021, 0.008, one or two
    // printed digits) sit above both our runs (0.0195-0.0198, 0.0071 over 200-400 seeds) and
    // the differential-equation root of blind + coin, s = e^(-k(1-s)) (0.0198, 0.0070): those
    // rows get 20%. Traffic within 10% throughout.
    let mut failures = Vec::new();
    for (k, s_ref, m_ref) in TABLE_2 {
        let cfg = GossipConfig {
            interest: Interest::Blind,
            stop: Stop::Coin,
            ..feedback_counter(k, CounterRule::Demers)
        };
        let (s, m) = measure(&cfg, 200);
        let (sm, mm) = (mean(&s), mean(&m));
        eprintln!(
            "blind coin k={k}: residue {sm:.5} (Table 2 {s_ref}); traffic {mm:.3} (Table 2 {m_ref})"
        );
        let tolerance = if k >= 4 { 0.2 } else { 0.1 };
        if (sm - s_ref).abs() > tolerance * s_ref {
            failures.push(format!("k={k}: residue {sm:.5} vs {s_ref}"));
        }
        if (mm - m_ref).abs() > 0.1 * m_ref {
            failures.push(format!("k={k}: traffic {mm:.3} vs {m_ref}"));
        }
    }
    assert!(failures.is_empty(), "off Table 2: {failures:?}");
}

#[test]
fn cumulative_counter_misses_table_1() {
    // The old rule is a different model: it tracks the differential-equation root
    // s = e^(-(k+1)(1-s)) (0.203, 0.0595) instead of Table 1 (0.176, 0.037).
    for (k, s_ref, m_ref) in &TABLE_1[..2] {
        let (s, m) = measure(&feedback_counter(*k, CounterRule::Cumulative), 200);
        let (sm, mm) = (mean(&s), mean(&m));
        eprintln!("Cumulative counter k={k}: residue {sm:.5}, traffic {mm:.3}");
        assert!(
            (sm - s_ref).abs() > 0.1 * s_ref,
            "k={k}: residue {sm} within 10% of Table 1's {s_ref}"
        );
        assert!(
            (mm - m_ref).abs() > 0.05 * m_ref,
            "k={k}: traffic {mm} within 5% of Table 1's {m_ref}"
        );
    }
}
