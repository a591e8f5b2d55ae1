//! The charts a sweep can draw, and its `index.md`.
//!
//! Each [`PlotKind`] reads the runs' metrics (names from the families' docs) and, where the
//! literature has one, draws the theoretical curve next to the measurement:
//! gossip convergence against Demers et al. 1987 §1.3's recurrences, rounds to full spread
//! against Pittel 1987 (log2 n + ln n) and Karp et al. 2000 (log3 n), Raft election-time CDFs
//! in the manner of the Raft paper's Figure 16 (Ongaro & Ousterhout 2014), failover windows
//! against the failure-detector timeout, and the rumor-mongering residue against
//! s = e^(-(k+1)(1-s)) (Demers et al. 1987 §1.4). The SWIM charts are in `plots_swim.rs`, the
//! Kafka ones in `plots_kafka.rs`.

use super::grid::{Point, RunRow};
use super::{SweepError, SweepSpec};
use protocols::failover::metric;
use protocols::gossip::{self, Direction, PeerView, Style, theory};
use reports::stats::{bands, cdf_with_missing};
use reports::{Axis, Chart, Corner, Series, render};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A chart a sweep can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlotKind {
    /// Gossip: informed fraction against rounds, one line per point (mean, 10–90% band over
    /// seeds), with the anti-entropy recurrence for push, pull and push-pull.
    Convergence,
    /// Gossip: rounds to full spread against `nodes` (log axis), one line per other
    /// parameters, with log2 n + ln n and log3 n.
    RoundsVsN,
    /// Raft: CDF of the time without a leader after a leader is lost, one line per point.
    ElectionCdf,
    /// Failover: unavailability and dual-belief windows against the failure-detector timeout
    /// (`protocol.timeout`), one line per other parameters (two charts).
    Failover,
    /// Gossip rumor mongering: the residue against `protocol.k`, with s = e^(-(k+1)(1-s)).
    Residue,
    /// SWIM: periods from a crash to its first suspicion against `nodes` (log axis), with
    /// SWIM §3.1's e/(e−1).
    SwimDetection,
    /// SWIM: periods to disseminate a death against `nodes` (log axis), with a fit a + b ln n.
    SwimDissemination,
    /// SWIM: false positives per run against the first numeric parameter, one line per the
    /// other parameters (Lifeguard on and off).
    SwimFalsePositives,
    /// Kafka: acknowledged writes never read against `protocol.min_insync_replicas`, one line
    /// per acks mode (mean, 10–90% band), and acknowledged sends per second (two charts).
    KafkaLoss,
}

impl PlotKind {
    /// The protocol family whose runs the chart reads.
    pub fn family(self) -> &'static str {
        match self {
            PlotKind::Convergence | PlotKind::RoundsVsN | PlotKind::Residue => "Gossip",
            PlotKind::ElectionCdf => "Raft",
            PlotKind::Failover => "Failover",
            PlotKind::SwimDetection
            | PlotKind::SwimDissemination
            | PlotKind::SwimFalsePositives => "Swim",
            PlotKind::KafkaLoss => "Kafka",
        }
    }
}

/// One chart written.
#[derive(Clone, Debug)]
pub struct ChartOut {
    pub kind: PlotKind,
    pub title: String,
    /// PNG and SVG.
    pub files: Vec<PathBuf>,
    /// What it shows, for the index.
    pub what: String,
}

/// A run's sample series, `(true time ns, value)` (empty when absent).
fn series<'a>(row: &'a RunRow, name: &str) -> &'a [(u64, f64)] {
    row.outcome.samples.get(name).map_or(&[], Vec::as_slice)
}

/// The mean of a run's samples of `name`.
pub(super) fn mean_of(row: &RunRow, name: &str) -> Option<f64> {
    let s = series(row, name);
    (!s.is_empty()).then(|| s.iter().map(|p| p.1).sum::<f64>() / s.len() as f64)
}

fn gossip_cfg(p: &Point) -> Option<&gossip::GossipConfig> {
    p.scenario.protocol.config_as()
}

fn need(kind: PlotKind, family: &str, p: &Point) -> Result<(), SweepError> {
    if p.scenario.protocol.name() == family {
        Ok(())
    } else {
        Err(SweepError(format!(
            "the {kind:?} chart needs a {family} scenario, not {}",
            p.scenario.protocol.name()
        )))
    }
}

/// Draws every chart the sweep asks for into `dir`.
pub fn draw_plots(
    dir: &Path,
    spec: &SweepSpec,
    points: &[Point],
    rows: &[RunRow],
) -> Result<Vec<ChartOut>, SweepError> {
    let mut out = vec![];
    for &kind in &spec.plots {
        // `check::load` has refused a chart that does not fit; this guards other callers.
        for p in points {
            need(kind, kind.family(), p)?;
        }
        let charts = match kind {
            PlotKind::Convergence => vec![convergence(spec, points, rows)],
            PlotKind::RoundsVsN => vec![rounds_vs_n(spec, points, rows)],
            PlotKind::ElectionCdf => vec![election_cdf(spec, points, rows)],
            PlotKind::Failover => failover(spec, points, rows),
            PlotKind::Residue => vec![residue(spec, points, rows)],
            PlotKind::SwimDetection => vec![super::plots_swim::detection(spec, points, rows)],
            PlotKind::SwimDissemination => {
                vec![super::plots_swim::dissemination(spec, points, rows)]
            }
            PlotKind::SwimFalsePositives => {
                vec![super::plots_swim::false_positives(spec, points, rows)]
            }
            PlotKind::KafkaLoss => vec![
                super::plots_kafka::loss(spec, points, rows),
                super::plots_kafka::throughput(spec, points, rows),
            ],
        };
        for (stem, chart, what) in charts {
            let files = render(&chart, &dir.join(stem)).map_err(|e| SweepError(e.to_string()))?;
            out.push(ChartOut {
                kind,
                title: chart.title.clone(),
                files,
                what,
            });
        }
    }
    Ok(out)
}

/// `n points × s seeds`, for titles.
pub(super) fn runs_note(spec: &SweepSpec, points: &[Point]) -> String {
    format!("{} point(s) × {} seed(s)", points.len(), spec.seeds)
}

fn label_or(p: &Point, skip: &[&str], fallback: &str) -> String {
    let l = p.label(skip);
    if l.is_empty() {
        fallback.to_string()
    } else {
        l
    }
}

pub(super) type Drawn = (&'static str, Chart, String);

fn convergence(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: informed fraction by round ({}, mean and 10–90% band)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("time (rounds since the update)"),
        Axis::new("informed fraction of nodes").range(0.0, 1.02),
    );
    let mut theories = BTreeMap::new();
    let mut last_round = 0.0f64;
    for p in points {
        let period = gossip_cfg(p).map_or(1, |c| c.period.nanos().max(1)) as f64;
        let runs: Vec<Vec<(f64, f64)>> = rows
            .iter()
            .filter(|r| r.point == p.index)
            .map(|r| {
                series(r, "gossip.informed_fraction")
                    .iter()
                    .map(|&(t, v)| ((t as f64 / period).floor(), v))
                    .collect()
            })
            .collect();
        // A run that stopped at full spread keeps its last value, so the band over seeds
        // compares runs at the same round.
        let end = runs
            .iter()
            .filter_map(|r| r.last().map(|p| p.0))
            .fold(0.0, f64::max);
        last_round = last_round.max(end);
        let mut pts = vec![];
        for r in &runs {
            pts.extend(r.iter().copied());
            if let Some(&(x, v)) = r.last() {
                pts.extend((x as u64 + 1..=end as u64).map(|x| (x as f64, v)));
            }
        }
        let b = bands(&pts, 0.1, 0.9);
        let mut s = Series::line(
            &label_or(p, &[], "measured"),
            b.iter().map(|b| (b.x, b.mean)).collect(),
        );
        s.band = b.iter().map(|b| (b.x, b.low, b.high)).collect();
        chart.series.push(s);
        if let Some(c) = gossip_cfg(p)
            && c.style == Style::AntiEntropy
            && c.fanout == 1
            && c.view == PeerView::Full
        {
            // The theory curve takes the colour of the first measured line it belongs to.
            theories
                .entry((format!("{:?}", c.direction), p.scenario.nodes))
                .or_insert((c.direction, p.index));
        }
    }
    for ((name, n), (dir, colour)) in theories {
        // Demers et al. 1987 §1.3: uninformed fraction p_i, from one informed node. The update
        // is written in round 0 and first spreads in round 1 (a node shows others its state at
        // the start of a round), so the recurrence starts one round late.
        let mut p = 1.0 - 1.0 / n as f64;
        let mut pts = vec![(0.0, 1.0 - p), (1.0, 1.0 - p)];
        for r in 2..=(last_round.max(2.0) as usize) {
            p = match dir {
                Direction::Push => theory::push_next_uninformed(p, n),
                Direction::Pull => theory::pull_next_uninformed(p),
                Direction::PushPull => {
                    theory::pull_next_uninformed(p) / p * theory::push_next_uninformed(p, n)
                }
            };
            pts.push((r as f64, 1.0 - p));
        }
        let mut s = Series::theory(&format!("theory: {name}, n={n} (lossless)"), pts);
        s.colour = Some(colour);
        chart.series.push(s);
    }
    let what = "gossip.informed_fraction sampled at each round boundary; lines are means over seeds, bands the 10th to 90th percentiles; dashed: the anti-entropy recurrences of Demers et al. 1987 §1.3 (push p -> p(1-1/n)^(n(1-p)), pull p -> p², push-pull their product), from one node informed in round 0 that first spreads in round 1.".to_string();
    ("convergence", chart, what)
}

/// A line's first point index (for ordering) and its `(x, y)` values.
type Group = (usize, Vec<(f64, f64)>);

/// Per-run values of `metric` (the mean of its samples) against `x`, one line per label of
/// the other parameters, mean with a min–max band over seeds.
pub(super) fn metric_vs_x(
    points: &[Point],
    rows: &[RunRow],
    skip: &str,
    x_of: impl Fn(&Point) -> Option<f64>,
    y_of: impl Fn(&RunRow) -> Option<f64>,
    prefix: &str,
) -> Vec<Series> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for p in points {
        let Some(x) = x_of(p) else { continue };
        let g = groups
            .entry(label_or(p, &[skip], "measured"))
            .or_insert((p.index, vec![]));
        for r in rows.iter().filter(|r| r.point == p.index) {
            if let Some(y) = y_of(r) {
                g.1.push((x, y));
            }
        }
    }
    // Lines in the order their first point appears in the grid.
    let mut ordered: Vec<(String, Group)> = groups.into_iter().collect();
    ordered.sort_by_key(|(_, (first, _))| *first);
    ordered
        .into_iter()
        .map(|(label, (_, pts))| {
            let b = bands(&pts, 0.0, 1.0);
            let name = if prefix.is_empty() {
                label
            } else {
                format!("{prefix}{label}")
            };
            let mut s = Series::line(&name, b.iter().map(|b| (b.x, b.mean)).collect());
            s.band = b.iter().map(|b| (b.x, b.low, b.high)).collect();
            s.markers = true;
            s
        })
        .collect()
}

fn rounds_vs_n(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: rounds to full spread ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("nodes n (log scale)").log(),
        Axis::new("rounds until every node is informed"),
    );
    chart.legend = Corner::UpperLeft;
    chart.series = metric_vs_x(
        points,
        rows,
        "nodes",
        |p| Some(p.scenario.nodes as f64),
        |r| mean_of(r, "gossip.update.rounds_to_100"),
        "",
    );
    let ns: Vec<usize> = {
        let mut v: Vec<usize> = points.iter().map(|p| p.scenario.nodes).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if let (Some(&lo), Some(&hi)) = (ns.first(), ns.last()) {
        let grid: Vec<f64> = (0..=40)
            .map(|i| lo as f64 * (hi as f64 / lo as f64).powf(i as f64 / 40.0))
            .collect();
        chart.series.push(Series::theory(
            "log2 n + ln n, +O(1) omitted (push, lossless)",
            grid.iter()
                .map(|&n| (n, theory::push_rounds(n as usize)))
                .collect(),
        ));
        let mut s = Series::theory(
            "log3 n, +O(ln ln n) omitted (push-pull, lossless)",
            grid.iter()
                .map(|&n| (n, theory::push_pull_rounds(n as usize)))
                .collect(),
        );
        s.colour = Some(7);
        chart.series.push(s);
    }
    let what = "gossip.update.rounds_to_100 per run (mean over its updates); points are means over seeds with min–max bands; dashed: log2 n + ln n (push, Pittel 1987) and log3 n (push-pull, Karp et al. 2000).".to_string();
    ("rounds_vs_n", chart, what)
}

fn election_cdf(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: time without a leader ({})",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("time without leader (ms, log scale)").log(),
        Axis::new("cumulative fraction of elections").range(0.0, 1.0),
    );
    for p in points {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| r.point == p.index)
            .flat_map(|r| series(r, "raft.election_time_ms").iter().map(|s| s.1))
            .collect();
        // Elections still going when their run ended have no time: the label counts them.
        let unfinished = rows
            .iter()
            .filter(|r| r.point == p.index)
            .map(|r| series(r, "raft.election_unfinished_ms").len())
            .sum::<usize>();
        let label = match unfinished {
            0 => format!(
                "{} ({} elections)",
                label_or(p, &[], "measured"),
                values.len()
            ),
            u => format!(
                "{} ({} elections, {u} without a leader by the end of the run)",
                label_or(p, &[], "measured"),
                values.len() + u
            ),
        };
        // Elections that never ended count in the denominator: the curve stops short of 1
        // by the fraction not elected within the run.
        let points = cdf_with_missing(&values, unfinished);
        chart.series.push(Series::line(&label, points));
    }
    let what = "raft.election_time_ms: from the moment a leader is lost to the moment a follower hears of a new one, every election of every seed; in the manner of Figure 16 of the Raft paper (Ongaro & Ousterhout 2014). Elections still without a leader when their run ended (raft.election_unfinished_ms) count as not elected within the run: they are in each curve's denominator, so a curve that stops below 1 shows the fraction never elected, and its label counts them.".to_string();
    ("election_cdf", chart, what)
}

fn failover(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Vec<Drawn> {
    let timeout_ms = |p: &Point| {
        p.scenario
            .protocol
            .config_as::<protocols::failover::FailoverConfig>()
            .map(|c| c.timeout.0.as_secs_f64() * 1e3)
    };
    let x = || Axis::new("failure-detector timeout (ms)");
    let mut unavailable = Chart::new(
        &format!(
            "{}: unavailability after a primary fault ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        x(),
        Axis::new("writes unavailable (ms)"),
    );
    unavailable.legend = Corner::UpperLeft;
    unavailable.series = metric_vs_x(
        points,
        rows,
        "protocol.timeout",
        timeout_ms,
        |r| mean_of(r, metric::UNAVAILABLE_MS),
        "",
    );
    let mut dual = Chart::new(
        &format!(
            "{}: time with two primaries ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        x(),
        Axis::new("dual-belief window (ms)"),
    );
    dual.legend = Corner::UpperRight;
    // A run where no two nodes ever believed they were primary has a window of zero.
    dual.series = metric_vs_x(
        points,
        rows,
        "protocol.timeout",
        timeout_ms,
        |r| Some(mean_of(r, metric::DUAL_BELIEF_MS).unwrap_or(0.0)),
        "",
    );
    vec![
        (
            "failover_unavailable",
            unavailable,
            format!(
                "{}: from the primary's fault to the first write accepted after it, per run (mean over its faults).",
                metric::UNAVAILABLE_MS
            ),
        ),
        (
            "failover_dual_belief",
            dual,
            format!(
                "{}: total time two or more nodes believed they were primary, per run.",
                metric::DUAL_BELIEF_MS
            ),
        ),
    ]
}

fn residue(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: rumor-mongering residue ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("k (counter limit, or 1/k coin)"),
        Axis::new("residue: fraction never informed (log scale)").log(),
    );
    chart.legend = Corner::UpperRight;
    let k_of = |p: &Point| gossip_cfg(p).map(|c| f64::from(c.k));
    chart.series = metric_vs_x(
        points,
        rows,
        "protocol.k",
        k_of,
        |r| mean_of(r, "gossip.residue"),
        "",
    );
    let ks: Vec<f64> = points.iter().filter_map(k_of).collect();
    let (lo, hi) = (
        ks.iter().copied().fold(f64::INFINITY, f64::min),
        ks.iter().copied().fold(0.0, f64::max),
    );
    if lo.is_finite() {
        let pts = (0..=50)
            .map(|i| lo + (hi - lo) * f64::from(i) / 50.0)
            .map(|k| (k, theory::residue_root(k)))
            .collect();
        chart
            .series
            .push(Series::theory("s = e^(-(k+1)(1-s)) (n → ∞, lossless)", pts));
    }
    // Runs whose rumor reached every node have residue 0, which a log axis cannot show: the
    // legend says how many there were, per k, instead of leaving them out silently.
    let zeros: Vec<String> = points
        .iter()
        .filter_map(|p| {
            let k = k_of(p)?;
            let runs: Vec<f64> = rows
                .iter()
                .filter(|r| r.point == p.index)
                .filter_map(|r| mean_of(r, "gossip.residue"))
                .collect();
            let z = runs.iter().filter(|&&v| v <= 0.0).count();
            (z > 0).then(|| format!("k={k}: {z}/{}", runs.len()))
        })
        .collect();
    if !zeros.is_empty() {
        chart.series.push(Series {
            name: format!("residue 0, off the log axis: {}", zeros.join(", ")),
            scatter: true,
            colour: Some(6),
            ..Default::default()
        });
    }
    let what = "gossip.residue per run (fraction of nodes never informed when the rumor died); points are means over seeds with min–max bands (runs with no residue cannot show on the log axis: the legend counts them per k); dashed: the root of s = e^(-(k+1)(1-s)) (Demers et al. 1987 §1.4, feedback + coin).".to_string();
    ("residue", chart, what)
}

/// Writes `index.md`: what was run, and each chart with the parameters and seeds behind it.
pub fn write_index(
    path: &Path,
    file: &str,
    spec: &SweepSpec,
    points: &[Point],
    rows: &[RunRow],
    charts: &[ChartOut],
) -> Result<(), SweepError> {
    let mut s = format!("# {}\n\n", spec.name);
    if !spec.about.is_empty() {
        s.push_str(&format!("{}\n\n", spec.about));
    }
    let last = spec.first_seed + spec.seeds - 1;
    s.push_str(&format!(
        "Sweep file `{file}`, base scenario `{}`. {} point(s), seeds {}..={last} for each: {} runs, {} matched their expectation. Every run is in `runs.csv`.\n\n",
        spec.base,
        points.len(),
        spec.first_seed,
        rows.len(),
        rows.iter().filter(|r| r.outcome.matched).count()
    ));
    s.push_str("## Parameters\n\n");
    if spec.params.is_empty() {
        s.push_str("None: the base scenario as it is.\n\n");
    }
    for p in &spec.params {
        let vals: Vec<&str> = p.values.iter().map(|v| v.get_ron().trim()).collect();
        s.push_str(&format!(
            "- `{}`: {}\n",
            p.path,
            vals.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.push_str("\n## Charts\n\n");
    for c in charts {
        let names: Vec<String> = c
            .files
            .iter()
            .filter_map(|f| f.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        s.push_str(&format!("### {:?}: {}\n\n", c.kind, c.title));
        if let Some(png) = names.iter().find(|n| n.ends_with(".png")) {
            s.push_str(&format!("![{}]({png})\n\n", c.title));
        }
        let csv_note = if names.iter().any(|n| n.ends_with(".csv")) {
            " (the CSV holds the plotted series, to redraw elsewhere)"
        } else {
            ""
        };
        s.push_str(&format!(
            "Files: {}{csv_note}. {}\n\n",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            c.what
        ));
        s.push_str(&format!(
            "Made from {} point(s) × seeds {}..={last}:\n\n",
            points.len(),
            spec.first_seed
        ));
        for p in points {
            let runs: Vec<&RunRow> = rows.iter().filter(|r| r.point == p.index).collect();
            let matched = runs.iter().filter(|r| r.outcome.matched).count();
            s.push_str(&format!(
                "- point {}: {} ({matched}/{} runs matched)\n",
                p.index,
                label_or(p, &[], "base"),
                runs.len()
            ));
        }
        s.push('\n');
    }
    crate::io::write_file(path, s.as_bytes()).map_err(SweepError)
}

/// The y range from 0 to the highest band, with room above it for a legend of `rows` lines.
pub(super) fn headroom(series: &[Series], rows: usize) -> f64 {
    let top = series
        .iter()
        .flat_map(|s| {
            s.band
                .iter()
                .map(|b| b.2)
                .chain(s.points.iter().map(|p| p.1))
        })
        .fold(0.0f64, f64::max);
    (top * (1.2 + 0.1 * rows as f64)).max(1.0)
}
