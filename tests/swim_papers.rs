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

/// A run of a library scenario, which must match its expectation.
fn story(file: &str) -> Outcome {
    let (path, s) = scenario(file);
    run_seed(&path, &s, s.seed)
}

fn number(o: &Outcome, name: &str) -> f64 {
    o.metrics.get(name).and_then(|v| v.as_f64()).unwrap_or(0.0)
}

#[test]
fn a_healed_partition_rejoins_only_with_gossip_to_the_dead() {
    let o = story("swim/partition_heal.ron");
    // Each side declared the other dead (excused: a partition), and every member refuted.
    assert!(number(&o, "swim.excused_deaths") >= 20.0);
    assert!(number(&o, "swim.refutations") >= 40.0);
    assert_eq!(number(&o, "swim.false_positives"), 0.0);
    // Without gossip to the recently dead, nobody tells the other side after the heal.
    let (path, mut s) = scenario("swim/partition_heal.ron");
    let cfg = s
        .protocol
        .config_as_mut::<protocols::swim::SwimConfig>()
        .unwrap();
    cfg.gossip_to_the_dead_time = Some(protocols::units::Dur::secs(0));
    let o = run(&path, &s, &RunOptions::default());
    assert_eq!(o.verdict, "violated");
    assert_eq!(o.violations[0].invariant, "ViewsConvergeWithin");
}

#[test]
fn consuls_layout_keeps_lan_pools_whole_across_a_wan_cut() {
    let o = story("swim/consul_three_dcs.ron");
    // The cut separates dc2's servers in the WAN pool only: deaths there are excused, no
    // false positive anywhere, Serf's reconnect brings them back (ViewsConvergeWithin held).
    assert!(number(&o, "swim.excused_deaths") >= 1.0);
    assert!(number(&o, "swim.reconnects") >= 1.0);
    assert_eq!(number(&o, "swim.false_positives"), 0.0);
    // The crashed client (n50, dc3) is tracked in its LAN pool alone, and every member of that
    // pool holds it dead within a few seconds of the first declaration.
    assert_eq!(number(&o, "swim.crashes_tracked"), 1.0);
    let all = number(&o, "swim.all_dead_ms");
    assert!((2_000.0..30_000.0).contains(&all), "{all}");
    // WAN probes are rarer than LAN ones: 60 members, 9 of them also in the WAN pool, one
    // LAN probe per member-second and one WAN probe per server every 5 s.
    let probes_per_s = number(&o, "swim.probes") / 150.0;
    assert!((55.0..63.0).contains(&probes_per_s), "{probes_per_s}");
}

/// False positives over seeds 1..=3 of the slow-members base at `factor`, with `lifeguard`.
fn false_positives(factor: f64, lifeguard: protocols::swim::Lifeguard) -> f64 {
    let (path, mut s) = scenario("sweeps/base/swim_slow.ron");
    s.protocol
        .config_as_mut::<protocols::swim::SwimConfig>()
        .unwrap()
        .lifeguard = lifeguard;
    for f in &mut s.faults {
        if let sim::Fault::Slow { factor: x, .. } = &mut f.action {
            *x = factor;
        }
    }
    (1..4)
        .map(|seed| number(&run_seed(&path, &s, seed), "swim.false_positives"))
        .sum()
}

#[test]
fn lifeguard_cuts_false_positives_from_slow_members_tenfold() {
    use protocols::swim::Lifeguard;
    // Slow members that keep up with their traffic cause nothing, with or without Lifeguard.
    assert_eq!(false_positives(50.0, Lifeguard::OFF), 0.0);
    // Overloaded ones make plain SWIM declare healthy members dead hundreds of times; the
    // three extensions together cut that at least tenfold (the paper: more than 50x).
    let (mut swim, mut lifeguard) = (0.0, 0.0);
    for factor in [100.0, 200.0, 300.0] {
        let off = false_positives(factor, Lifeguard::OFF);
        let on = false_positives(factor, Lifeguard::default());
        assert!(off >= 100.0, "factor {factor}: plain SWIM {off}");
        assert!(
            on * 5.0 <= off,
            "factor {factor}: Lifeguard {on}, SWIM {off}"
        );
        swim += off;
        lifeguard += on;
    }
    assert!(
        swim >= 10.0 * lifeguard,
        "SWIM {swim} false positives, Lifeguard {lifeguard}"
    );
    // The local health multiplier alone already helps: a slow member that misses its nacks
    // stretches its own probe deadlines.
    let probe_only = Lifeguard {
        probe: true,
        suspicion: false,
        buddy: false,
    };
    assert!(false_positives(200.0, probe_only) * 3.0 < false_positives(200.0, Lifeguard::OFF));
}
