//! `faultline sweep`: the CSV has one row per run with the parameters, seed, verdict and
//! metrics; the charts are written as non-empty PNG and SVG whose text (axis labels) is
//! there with no system fonts; the index lists them; every example sweep file passes the
//! check and builds valid points; the documented examples parse. Errors, the check and list
//! indices are tested in `sweep_check.rs`.

use faultline::sweep::{self, CheckMode, SweepArgs};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small gossip sweep: 2 directions × 2 sizes × 2 seeds.
fn small_gossip_sweep(dir: &Path) -> PathBuf {
    let base = root().join("scenarios/sweeps/base/gossip_spread.ron");
    let text = format!(
        r#"Sweep(
    name: "test sweep",
    base: "{}",
    params: [
        (path: "protocol.direction", values: [Push, PushPull]),
        (path: "nodes", values: [50, 200]),
    ],
    seeds: 2,
    first_seed: 5,
    plots: [Convergence, RoundsVsN],
)"#,
        base.display()
    );
    let file = dir.join("test.sweep");
    std::fs::write(&file, text).unwrap();
    file
}

fn args(file: PathBuf, out: PathBuf) -> SweepArgs {
    SweepArgs {
        file,
        out,
        jobs: 2,
        seeds: None,
        quiet: true,
    }
}

#[test]
fn csv_has_one_row_per_run_with_parameters_seed_verdict_and_metrics() {
    let dir = scratch("csv");
    let out = dir.join("out");
    let summary = sweep::sweep(
        &faultline::builtin::registry(),
        &args(small_gossip_sweep(&dir), out.clone()),
    )
    .unwrap();
    assert!(summary.contains("4 points x 2 seeds = 8 runs"), "{summary}");
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 8, "{csv}");
    let head: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &head[..7],
        [
            "point",
            "protocol.direction",
            "nodes",
            "seed",
            "verdict",
            "matched",
            "events"
        ]
    );
    let col = |name: &str| {
        head.iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name} in {head:?}"))
    };
    let rounds = col("gossip.update.rounds_to_100.mean");
    let _ = col("gossip.messages");
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    // The first parameter varies slowest, then the second, then the seed.
    let keys: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[0], r[1], r[2], r[3])).collect();
    assert_eq!(
        keys,
        [
            ("0", "Push", "50", "5"),
            ("0", "Push", "50", "6"),
            ("1", "Push", "200", "5"),
            ("1", "Push", "200", "6"),
            ("2", "PushPull", "50", "5"),
            ("2", "PushPull", "50", "6"),
            ("3", "PushPull", "200", "5"),
            ("3", "PushPull", "200", "6"),
        ]
    );
    for r in &rows {
        assert_eq!(r.len(), head.len(), "ragged row {r:?}");
        assert_eq!((r[4], r[5]), ("holds", "true"), "{r:?}");
        let n: f64 = r[rounds].parse().unwrap();
        assert!(
            (3.0..40.0).contains(&n),
            "rounds to full spread {n} in {r:?}"
        );
    }
    // Different seeds are different runs.
    assert_ne!(
        lines[1].split(',').skip(4).collect::<Vec<_>>(),
        lines[2].split(',').skip(4).collect::<Vec<_>>()
    );
    // The same sweep with one worker writes the same CSV: runs are deterministic.
    let out1 = dir.join("out1");
    sweep::sweep(
        &faultline::builtin::registry(),
        &SweepArgs {
            jobs: 1,
            ..args(small_gossip_sweep(&dir), out1.clone())
        },
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(out1.join("runs.csv")).unwrap(), csv);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn charts_are_png_and_svg_with_axis_labels_and_an_index() {
    let dir = scratch("charts");
    let out = dir.join("out");
    sweep::sweep(
        &faultline::builtin::registry(),
        &args(small_gossip_sweep(&dir), out.clone()),
    )
    .unwrap();
    for (stem, labels) in [
        (
            "convergence",
            [
                "time (rounds since the update)",
                "informed fraction of nodes",
                "theory: Push, n=200 (lossless)",
            ],
        ),
        (
            "rounds_vs_n",
            [
                "nodes n (log scale)",
                "rounds until every node is informed",
                "log2 n + ln n, +O(1) omitted (push, lossless)",
            ],
        ),
    ] {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert!(
            png.len() > 5000 && png.starts_with(b"\x89PNG"),
            "{stem}.png: {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        for l in labels {
            assert!(svg.contains(l), "{stem}.svg lacks {l:?}");
        }
        assert!(svg.contains("test sweep"), "{stem}.svg lacks its title");
    }
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    for needle in [
        "# test sweep",
        "`convergence.png`",
        "`rounds_vs_n.svg`",
        "seeds 5..=6",
        "`protocol.direction`: `Push`, `PushPull`",
        "point 3: direction=PushPull, nodes=200",
    ] {
        assert!(
            index.contains(needle),
            "index.md lacks {needle:?}:\n{index}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_sweeps_are_refused_with_the_reason() {
    let dir = scratch("bad");
    let base = root().join("scenarios/sweeps/base/gossip_spread.ron");
    let cases = [
        (
            "unknown field",
            format!(r#"Sweep(name: "x", base: "{}", colour: 1)"#, base.display()),
            "colour",
        ),
        (
            "no such path",
            format!(
                r#"Sweep(name: "x", base: "{}", params: [(path: "protocol.nope.x", values: [1])])"#,
                base.display()
            ),
            "protocol.nope",
        ),
        (
            "invalid point",
            format!(
                r#"Sweep(name: "x", base: "{}", params: [(path: "protocol.fanout", values: [1, 0])])"#,
                base.display()
            ),
            "fanout",
        ),
        (
            "wrong family",
            format!(
                r#"Sweep(name: "x", base: "{}", plots: [ElectionCdf])"#,
                base.display()
            ),
            "needs a Raft scenario",
        ),
        (
            "missing base",
            r#"Sweep(name: "x", base: "nope.ron")"#.to_string(),
            "nope.ron",
        ),
    ];
    for (what, text, needle) in cases {
        let file = dir.join("bad.sweep");
        std::fs::write(&file, text).unwrap();
        let err = sweep::sweep(
            &faultline::builtin::registry(),
            &SweepArgs {
                seeds: Some(1),
                ..args(file, dir.join("out"))
            },
        )
        .unwrap_err();
        assert!(err.0.contains(needle), "{what}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn example_sweep_files_pass_the_check_and_every_point_validates() {
    let dir = root().join("scenarios/sweeps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sweep"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 10, "{files:?}");
    let registry = faultline::builtin::registry();
    let mut kinds = std::collections::BTreeSet::new();
    for f in &files {
        let quick = sweep::check(&registry, f, CheckMode::Quick)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let full = sweep::load(&registry, f, CheckMode::Full, None)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let spec = &full.file.spec;
        let grid: usize = spec.params.iter().map(|p| p.values.len()).product();
        assert_eq!(full.points.len(), grid, "{}", f.display());
        assert_eq!((quick.points, full.summary.checked), (grid, grid));
        assert!(quick.checked <= grid && quick.checked >= 1);
        kinds.extend(spec.plots.iter().copied());
    }
    assert_eq!(kinds.len(), 9, "every chart kind has an example: {kinds:?}");
}

#[test]
fn documented_examples_parse() {
    let doc = std::fs::read_to_string(root().join("docs/sweeps.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```ron")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.trim_start().starts_with("Sweep("))
        .collect();
    assert!(
        blocks.len() >= 2,
        "docs/sweeps.md has {} sweep examples",
        blocks.len()
    );
    for b in blocks {
        sweep::parse("docs/sweeps.md", b).unwrap_or_else(|e| panic!("{e}\n{b}"));
    }
}

/// Every example sweep draws its charts (one seed per point here; the files ask for more).
#[test]
fn example_sweeps_draw_their_charts() {
    let dir = scratch("examples");
    let seeds = std::env::var("SWEEP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for (file, charts) in [
        ("convergence", &["convergence"][..]),
        ("rounds_vs_n", &["rounds_vs_n"]),
        ("election_cdf", &["election_cdf"]),
        (
            "failover",
            &["failover_unavailable", "failover_dual_belief"],
        ),
        ("residue", &["residue"]),
        ("swim_detection", &["swim_detection"]),
        ("swim_dissemination", &["swim_dissemination"]),
        ("swim_slow", &["swim_false_positives"]),
        ("kafka_loss", &["kafka_loss", "kafka_throughput"]),
    ] {
        let out = std::env::var("SWEEP_OUT")
            .map_or_else(|_| dir.join(file), |o| PathBuf::from(o).join(file));
        let path = root().join(format!("scenarios/sweeps/{file}.sweep"));
        sweep::sweep(
            &faultline::builtin::registry(),
            &SweepArgs {
                seeds: Some(seeds),
                ..args(path, out.clone())
            },
        )
        .unwrap();
        for c in charts {
            for ext in ["png", "svg"] {
                let len = std::fs::metadata(out.join(format!("{c}.{ext}"))).map_or(0, |m| m.len());
                assert!(len > 5000, "{file}: {c}.{ext} has {len} bytes");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
