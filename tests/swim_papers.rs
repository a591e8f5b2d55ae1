//! SWIM against its papers: the first-detection time of SWIM §3.1, dissemination in
//! O(log n) periods (§4.1), and the known-bug variants the checks must catch. The numbers
//! come from docs/references.md §4; docs/swim.md has the measurements.

use faultline::runner::{Outcome, RunOptions, run};
use faultline::scenario::{Scenario, load};

fn scenario(file: &str) -> (String, Scenario) {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let s = load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    (path, s)
}

fn run_seed(path: &str, s: &Scenario, seed: u64) -> Outcome {
    let o = run(
        path,
        s,
        &RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        },
    );
    assert!(
        o.matched,
        "{path} seed {seed}: {} (expected {}) {:?}",
        o.verdict, o.expected, o.violations
    );
    o
}

/// A sample metric's (mean, count) in one run.
fn summary(o: &Outcome, name: &str) -> (f64, f64) {
    let v = o.metrics.get(name).unwrap_or_else(|| panic!("no {name}"));
    let get = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap();
    (get("mean"), get("count"))
}

/// Mean of `name` over the samples of `seeds` runs of `file` with `nodes` members.
fn pooled(file: &str, nodes: usize, seeds: std::ops::Range<u64>, name: &str) -> (f64, f64) {
    let (path, mut s) = scenario(file);
    s.nodes = nodes;
    let (mut sum, mut count) = (0.0, 0.0);
    for seed in seeds {
        let (mean, n) = summary(&run_seed(&path, &s, seed), name);
        sum += mean * n;
        count += n;
    }
    (sum / count, count)
}

#[test]
fn first_detection_takes_e_over_e_minus_one_periods_whatever_n() {
    let e = std::f64::consts::E;
    let expected = e / (e - 1.0);
    let mut means = vec![];
    for n in [100, 1000] {
        let (mean, crashes) = pooled(
            "sweeps/base/swim_detection.ron",
            n,
            1..6,
            "swim.first_detection_periods",
        );
        // 5 runs of 40 crashes; a crash may go undetected in the 8 s before its restart
        // (a member that restarted 2 s earlier may still be held dead by some members).
        assert!(
            crashes >= 196.0,
            "n = {n}: only {crashes} of 200 crashes detected"
        );
        assert!(
            (mean - expected).abs() / expected < 0.10,
            "n = {n}: mean first detection {mean:.3} periods over {crashes} crashes, SWIM §3.1 \
             expects {expected:.3}"
        );
        means.push(mean);
    }
    // Independent of n: ten times the members, the same time within the noise.
    assert!((means[0] - means[1]).abs() < 0.25, "{means:?}");
}

#[test]
fn dissemination_grows_with_log_n_not_n() {
    let sizes = [10usize, 30, 100, 300, 1000];
    let periods: Vec<f64> = sizes
        .iter()
        .map(|&n| {
            pooled(
                "sweeps/base/swim_dissemination.ron",
                n,
                1..3,
                "swim.dissemination_periods",
            )
            .0
        })
        .collect();
    // Least squares periods = a + b ln n: the fit explains nearly everything...
    let xs: Vec<f64> = sizes.iter().map(|&n| (n as f64).ln()).collect();
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, periods.iter().sum::<f64>() / k);
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs
        .iter()
        .zip(&periods)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let ss_res: f64 = xs
        .iter()
        .zip(&periods)
        .map(|(x, y)| (y - a - b * x).powi(2))
        .sum();
    let ss_tot: f64 = periods.iter().map(|y| (y - my).powi(2)).sum();
    let r2 = 1.0 - ss_res / ss_tot;
    assert!(
        r2 > 0.9,
        "periods {periods:?} fit a + b ln n with R² {r2:.3}"
    );
    // ...with a positive slope of a few periods per e-fold, and a hundred times the members
    // cost only a few periods more (linear growth would cost a hundred times more).
    assert!(
        (0.3..3.0).contains(&b),
        "slope {b:.2} periods per ln n: {periods:?}"
    );
    assert!(
        periods[4] - periods[0] < 6.0 && periods[4] > periods[0],
        "{periods:?}"
    );
}

#[test]
fn the_known_bugs_are_caught() {
    for (file, invariant) in [
        ("swim/bug_no_incarnation_check.ron", "NoFlapping"),
        ("swim/bug_suspicion_no_timeout.ron", "DeadWithin"),
    ] {
        let (path, s) = scenario(file);
        let o = run_seed(&path, &s, s.seed);
        assert_eq!(o.verdict, "violated", "{file}");
        assert_eq!(o.violations[0].invariant, invariant, "{file}");
        // The same story without the bug holds.
        let mut fixed = s.clone();
        let cfg = fixed
            .protocol
            .config_as_mut::<protocols::swim::SwimConfig>()
            .expect("a SWIM scenario");
        cfg.bug = None;
        fixed.expect = Default::default();
        run_seed(&path, &fixed, s.seed);
    }
}
