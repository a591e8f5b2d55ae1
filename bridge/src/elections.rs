//! Cross-validation: the election time after a leader crash, on faultline's engine and on
//! madsim's simulator, from the same scenario and the same Raft code
//! (`faultline-madsim elections`).
//!
//! The scenario: 5 servers, election timeouts 150-300 ms, uniform 2-6 ms latency (madsim's
//! floor is 2 ms: see [`crate::net`]), datagram links, ideal clocks, no clients; every 2 s the
//! leader crashes and 500 ms later it restarts. The engine's `RaftMonitor` measures each
//! election on both sides (from the crash to the first server hearing from a new leader).
//! The two samples are compared with the two-sample Kolmogorov-Smirnov test: a small p-value
//! would say the two simulators' network and timer models disagree where both can express
//! the scenario.

use crate::madsim_run::run_scenario;
use faultline::scenario::{Scenario, parse};
use protocols::family::{Family, WorkloadConfig};
use protocols::kv::KvWorkloadConfig;
use protocols::raft::{RaftConfig, RaftFamily};
use sim::Summary;
use std::fmt;

/// The scenario with `crashes` leader crashes.
pub fn scenario(crashes: usize) -> Scenario {
    let faults: String = (0..crashes)
        .map(|k| {
            format!(
                "(at: \"{}ms\", do: Crash(Leader)), (at: \"{}ms\", do: Restart(Crashed)),\n",
                2000 * k + 1000,
                2000 * k + 1500
            )
        })
        .collect();
    let text = format!(
        r#"Scenario(
            name: "election time after {crashes} leader crashes",
            protocol: Raft((election_timeout: ("150ms", "300ms"))),
            nodes: 5,
            seed: 11,
            duration: "{}ms",
            network: (latency: Uniform("2ms", "6ms"), links: Datagram),
            clocks: (max_drift_ppm: 0),
            workload: Idle,
            faults: [{faults}],
            checks: [ElectionSafety, LogMatching, MonotonicTerm],
        )"#,
        2000 * crashes + 1000
    );
    parse("elections.ron", &text).expect("a valid scenario")
}

/// Election times (ms) on faultline's engine.
pub fn on_engine(s: &Scenario) -> Vec<f64> {
    let prepared = s.prepare(s.seed, false, None);
    let cfg = s.protocol.config_as::<RaftConfig>().expect("Raft").clone();
    let built = RaftFamily.build(
        &prepared.setup,
        &cfg,
        &KvWorkloadConfig::idle(),
        &s.checks(),
    );
    let report = built.simulate(prepared.sim, prepared.faults).run();
    report.metrics.values("raft.election_time_ms")
}

/// Election times (ms) on madsim.
pub fn on_madsim(s: &Scenario) -> Vec<f64> {
    let report = run_scenario(s, s.seed).expect("madsim can express it");
    assert!(report.violation.is_none(), "{}", report.describe());
    report.metrics.values("raft.election_time_ms")
}

/// The two-sample Kolmogorov-Smirnov statistic `D` (the largest distance between the two
/// empirical distribution functions) and its asymptotic p-value.
pub fn ks_test(a: &[f64], b: &[f64]) -> (f64, f64) {
    assert!(!a.is_empty() && !b.is_empty(), "two non-empty samples");
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    let ne = n * m / (n + m);
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    (d, kolmogorov_q(lambda))
}

/// `Q_KS(λ) = 2 Σ_{k≥1} (-1)^{k-1} e^{-2k²λ²}`, the Kolmogorov distribution's tail.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let k = f64::from(k);
        let term = (-2.0 * k * k * lambda * lambda).exp();
        sum += if k as u32 % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Both samples and the test.
pub struct Comparison {
    pub crashes: usize,
    pub engine: Vec<f64>,
    pub madsim: Vec<f64>,
    pub d: f64,
    pub p_value: f64,
}

/// Runs the scenario on both simulators.
pub fn compare(crashes: usize) -> Comparison {
    let s = scenario(crashes);
    let (engine, madsim) = (on_engine(&s), on_madsim(&s));
    let (d, p_value) = ks_test(&engine, &madsim);
    Comparison {
        crashes,
        engine,
        madsim,
        d,
        p_value,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "election time after a leader crash: 5 servers, 150-300 ms timeouts, 2-6 ms latency, {} crashes",
            self.crashes
        )?;
        for (name, v) in [("faultline", &self.engine), ("madsim", &self.madsim)] {
            if let Some(s) = Summary::of(v) {
                writeln!(
                    f,
                    "  {name:<9} n {:>4}  mean {:>6.1} ms  p10 {:>6.1}  p50 {:>6.1}  p90 {:>6.1}  max {:>6.1}",
                    s.count,
                    s.mean,
                    quantile(v, 0.1),
                    s.p50,
                    s.p90,
                    s.max
                )?;
            }
        }
        writeln!(
            f,
            "  two-sample Kolmogorov-Smirnov: D = {:.3}, p = {:.3} ({} at the 5% level)",
            self.d,
            self.p_value,
            if self.p_value >= 0.05 {
                "no difference"
            } else {
                "DIFFERENT"
            }
        )
    }
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ks_test_tells_the_same_distribution_from_a_shifted_one() {
        let a: Vec<f64> = (0..300).map(|i| f64::from(i) * 0.5).collect();
        let b: Vec<f64> = (0..300).map(|i| f64::from(i) * 0.5 + 0.25).collect();
        let (d, p) = ks_test(&a, &b);
        assert!(d < 0.01 && p > 0.99, "D {d} p {p}");
        let c: Vec<f64> = a.iter().map(|x| x + 20.0).collect();
        let (d, p) = ks_test(&a, &c);
        assert!((d - 20.0 / 150.0).abs() < 0.01, "D {d}");
        assert!(p < 0.01, "p {p}");
    }
}
