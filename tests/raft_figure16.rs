//! Figure 16 of the Raft paper, reproduced by the library sweep `election_cdf.sweep` with
//! default settings: every election ends, and the six timeout ranges rank and measure as the
//! paper reports (docs/references.md §1.3).
//!
//! The paper's text gives four figures, each checked here with the tolerance written next to
//! it; the test fails with ideal clocks (`max_drift_ppm: 0`), where 150–150 ms never elects:
//! - 150–150 ms "consistently took longer than 10 seconds due to many split votes";
//! - 150–155 ms: median 287 ms;
//! - 150–200 ms: worst case 513 ms over 1000 trials;
//! - "elections complete in under one second when the timeout range is sufficiently broad".
//!
//! `election_cdf_disk.sweep` adds the time to persist a vote (docs/storage.md) and is held
//! to 15% on the 150–155 median and the broad ranges' medians.
//!
//! Our sweep has 100 crashes per range (the paper 100 for 150–150 ms, 1000 for the others),
//! four eligible servers instead of two, and no disk time, so the tolerances are wide enough
//! for a step-shaped CDF (each split vote adds one timeout, ~150 ms) and narrow enough to tell
//! one split vote from none or two. It runs 600 simulated runs of 750 s each (about 20 s on
//! two cores in the optimized test profile), plus the ideal-clock counter-example.

use faultline::sweep::{self, CheckMode, Point, RunRow};
use reports::stats::quantile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a sweep file as `faultline sweep` would (every core), returning its points and rows.
fn run_sweep(file: &Path) -> (Vec<Point>, Vec<RunRow>) {
    let registry = faultline::builtin::registry();
    let loaded =
        sweep::load(&registry, file, CheckMode::Full, None).unwrap_or_else(|e| panic!("{e}"));
    let rows = sweep::run_all(&loaded.file.spec, &loaded.points, 0, false).unwrap();
    (loaded.points, rows)
}

/// `150-155`: a point's timeout range, from its assignment `("150ms", "155ms")`.
fn range(p: &Point) -> String {
    let (_, v) = &p.assignment[0];
    v.replace(['(', ')', '"', ' '], "")
        .replace("ms", "")
        .replace(',', "-")
}

/// One range's election times (ms), sorted.
struct Times(Vec<f64>);

impl Times {
    fn median(&self) -> f64 {
        quantile(&self.0, 0.5)
    }
    fn p90(&self) -> f64 {
        quantile(&self.0, 0.9)
    }
    fn worst(&self) -> f64 {
        self.0[self.0.len() - 1]
    }
}

/// Checks that every run's crash hit a leader (so its first election had ended) and that the
/// election after it ended within the run; returns each range's election times.
fn every_election_ends(points: &[Point], rows: &[RunRow]) -> BTreeMap<String, Times> {
    let mut by_range: BTreeMap<String, Times> = BTreeMap::new();
    for r in rows {
        let p = &points[r.point];
        let what = format!("range {} seed {}", range(p), r.seed);
        let o = &r.outcome;
        assert!(o.matched, "{what}: {} {:?}", o.verdict, o.violations);
        let crashes: Vec<_> = o
            .applied_faults
            .iter()
            .filter_map(|(t, f)| match f {
                faultline::sim::Fault::Crash(faultline::sim::Target::Nodes(ids)) => {
                    Some((*t, ids.len()))
                }
                _ => None,
            })
            .collect();
        assert!(
            matches!(crashes[..], [(_, 1)]),
            "{what}: the crash must hit the leader (no leader yet means the first election had not ended): {crashes:?}"
        );
        let crash = crashes[0].0.as_nanos();
        let unfinished = o.samples.get("raft.election_unfinished_ms");
        assert!(
            unfinished.is_none(),
            "{what}: an election was still going when the run ended: {unfinished:?} ms"
        );
        let after: Vec<f64> = o
            .samples
            .get("raft.election_time_ms")
            .into_iter()
            .flatten()
            .filter(|(t, _)| *t >= crash)
            .map(|&(_, ms)| ms)
            .collect();
        assert_eq!(
            after.len(),
            1,
            "{what}: elections after the crash {after:?}"
        );
        by_range
            .entry(range(p))
            .or_insert(Times(vec![]))
            .0
            .push(after[0]);
    }
    for t in by_range.values_mut() {
        t.0.sort_by(f64::total_cmp);
    }
    by_range
}

#[test]
fn the_library_sweep_reproduces_figure_16() {
    // Without disk time the broad ranges run a little fast (docs/references.md §1.3).
    figure_16("election_cdf.sweep", 0.5);
}

/// With the time to persist a vote (syncs of 5-15 ms on 1-5 ms links, a broadcast of about
/// 15 ms as in the paper's cluster), the 150-155 median lies within 15% of the paper's 287 ms,
/// and the broad ranges' medians within 15% of those read off the paper's figure (141, 146
/// and 171 ms).
#[test]
fn with_disk_time_the_sweep_matches_figure_16_within_15_percent() {
    let t = figure_16("election_cdf_disk.sweep", 0.15);
    for (n, paper) in [("150-175", 141.0), ("150-200", 146.0), ("150-300", 171.0)] {
        let m = t[n].median();
        assert!(
            (m - paper).abs() <= 0.15 * paper,
            "{n} median {m:.0} ms vs the paper's {paper} ms"
        );
    }
}

/// Runs a Figure 16 sweep of the library and checks what the paper's text says, with the
/// 150-155 median within `tolerance` (a fraction) of 287 ms; returns each range's times.
fn figure_16(sweep_file: &str, tolerance: f64) -> BTreeMap<String, Times> {
    let (points, rows) = run_sweep(&root().join("scenarios/sweeps").join(sweep_file));
    let t = every_election_ends(&points, &rows);
    for (r, x) in &t {
        eprintln!(
            "{r:>8} ms: n {} median {:.0} p90 {:.0} worst {:.0} ms",
            x.0.len(),
            x.median(),
            x.p90(),
            x.worst()
        );
    }
    let names = [
        "150-150", "150-151", "150-155", "150-175", "150-200", "150-300",
    ];
    for n in names {
        assert_eq!(t[n].0.len(), 100, "{n}: one election per seed");
    }
    let (fixed, one, five) = (&t["150-150"], &t["150-151"], &t["150-155"]);
    let broad = [&t["150-175"], &t["150-200"], &t["150-300"]];

    // 150-150: "longer than 10 seconds". Most of ours are (the paper synchronised heartbeats
    // to force split votes; our followers hear the last heartbeat up to 4 ms apart, so a
    // minority end in the first rounds): the median must be over 10 s, and under 120 s (the
    // paper's median, read off the figure, is 41 s).
    assert!(
        (10_000.0..120_000.0).contains(&fixed.median()),
        "150-150 median {:.0} ms",
        fixed.median()
    );
    // 150-155: median 287 ms, that is one split vote (one timeout more than no split, which
    // ends by ~155 ms; two split votes take ~400 ms). Ours must be on that step: within
    // `tolerance` (±50% without disk time).
    assert!(
        (287.0 * (1.0 - tolerance)..=287.0 * (1.0 + tolerance)).contains(&five.median()),
        "{sweep_file}: 150-155 median {:.0} ms vs the paper's 287 ms",
        five.median()
    );
    // 150-200: worst 513 ms of 1000. Ours is the worst of 100, so likely lower, but it must
    // show a split vote (over ~250 ms) and may be a split vote longer: within a factor of 2
    // either way (257-1026 ms).
    let worst_200 = t["150-200"].worst();
    assert!(
        (513.0 / 2.0..=513.0 * 2.0).contains(&worst_200),
        "150-200 worst {worst_200:.0} ms vs the paper's 513 ms"
    );
    // Broad ranges end within one second, every time.
    for (n, x) in ["150-175", "150-200", "150-300"].iter().zip(broad) {
        assert!(x.worst() < 1000.0, "{n} worst {:.0} ms", x.worst());
    }

    // The order of the paper's lines: less randomness, longer elections — medians and worst
    // cases fall from 150-150 to 150-151 to 150-155 to the broad ranges; among those the
    // median grows with the range (the paper: 141, 146, 171 ms), 150-300 above both others
    // (150-175 and 150-200 differ by a few ms in the paper and here: not ranked).
    assert!(fixed.median() > one.median() && one.median() > five.median());
    assert!(fixed.worst() > one.worst() && one.worst() > five.worst());
    for x in broad {
        assert!(
            five.median() > x.median(),
            "150-155 median above the broad ranges'"
        );
        assert!(
            five.worst() > x.worst(),
            "150-155 worst above the broad ranges'"
        );
    }
    assert!(t["150-300"].median() > t["150-175"].median());
    assert!(t["150-300"].median() > t["150-200"].median());
    t
}

/// The counter-example: with ideal clocks (`max_drift_ppm: 0`), fixed timeouts never elect
/// even a first leader (all five servers start together and stay in lockstep), so the crash
/// hits nobody and every run ends with its election unfinished. This is what the default
/// clock spread is for.
#[test]
fn with_ideal_clocks_150_150_never_elects() {
    let dir = std::env::temp_dir().join(format!("faultline-fig16-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ideal.sweep");
    let base = root().join("scenarios/sweeps/base/raft_elections.ron");
    std::fs::write(
        &file,
        format!(
            r#"Sweep(
    name: "ideal clocks",
    base: "{}",
    params: [
        (path: "protocol.election_timeout", values: [("150ms", "150ms")]),
        (path: "clocks.max_drift_ppm", values: [0]),
    ],
    seeds: 4,
)"#,
            base.display()
        ),
    )
    .unwrap();
    let (_, rows) = run_sweep(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    for r in &rows {
        let o = &r.outcome;
        assert!(
            !o.samples.contains_key("raft.first_leader_ms"),
            "seed {}: a first leader with ideal clocks",
            r.seed
        );
        let unfinished = &o.samples["raft.election_unfinished_ms"];
        assert_eq!(unfinished.len(), 1);
        assert!(
            unfinished[0].1 >= 749_000.0,
            "seed {}: {unfinished:?}",
            r.seed
        );
    }
}
