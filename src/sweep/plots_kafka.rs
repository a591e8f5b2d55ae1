//! The Kafka charts: acknowledged writes lost against `min.insync.replicas`, one line per
//! producer acks mode, and what the safer settings cost in acknowledged sends per second.
//!
//! Reads the queue workload's per-run report (`kafka.acked_loss_rate`, one sample at time 0:
//! acknowledged sends no consumer ever read, over acknowledged sends, as Jepsen's queue
//! checker counts them; and `kafka.throughput_msgs_per_s`). The x of a point is its
//! `min_insync_replicas` as configured, so the chart also draws a sweep that does not vary
//! it. Bands are the 10th to 90th percentiles over seeds: the loss of one run is heavy-tailed
//! (most acks=all runs lose nothing, a few lose a whole failover's worth), and a min–max band
//! would show only the worst seed. Kafka's rule, which the lines should show: min.insync.replicas
//! only constrains acks=all writes (Kafka documentation, `min.insync.replicas`), and with
//! clean leader election acks=all loses nothing at any setting; with unclean election a
//! replica outside the ISR can take over, and only min.insync.replicas equal to the
//! replication factor closes that door (Jepsen, Kafka 0.8, 2013). The loss is drawn on a log
//! axis (acks=all loses hundreds of times less than acks=0); means of zero are named in the
//! legend, as the residue chart does.

use super::SweepSpec;
use super::grid::{Point, RunRow};
use super::plots::{Drawn, headroom, mean_of, runs_note};
use protocols::kafka::{KafkaConfig, QueueWorkloadConfig, metric};
use reports::stats::bands;
use reports::{Axis, Chart, Corner, Series};
use std::collections::BTreeMap;

/// The parameter the x axis shows; lines are the other parameters' values.
const MIN_ISR: &str = "protocol.min_insync_replicas";

/// A point's `min.insync.replicas`.
fn min_isr(p: &Point) -> Option<f64> {
    p.scenario
        .protocol
        .config_as::<KafkaConfig>()
        .map(|c| f64::from(c.min_insync_replicas))
}

/// A point's line: the other parameters (`acks=One`), or its acks mode when nothing else is
/// swept.
fn line_of(p: &Point) -> String {
    let label = p.label(&[MIN_ISR]);
    if !label.is_empty() {
        return label;
    }
    p.scenario
        .workload
        .config_as::<QueueWorkloadConfig>()
        .map_or_else(|| "measured".into(), |w| format!("acks={:?}", w.acks))
}

/// One line's runs: its first point (for ordering) and `(min.insync.replicas, value)` per run.
type Line = (usize, Vec<(f64, f64)>);

/// `y_of` per run against min.insync.replicas, grouped into lines in grid order. Runs where
/// `y_of` has nothing (no acknowledged send, so no loss rate) are left out.
fn lines(
    points: &[Point],
    rows: &[RunRow],
    y_of: impl Fn(&RunRow) -> Option<f64>,
) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut groups: BTreeMap<String, Line> = BTreeMap::new();
    for p in points {
        let Some(x) = min_isr(p) else { continue };
        let g = groups.entry(line_of(p)).or_insert((p.index, vec![]));
        g.1.extend(
            rows.iter()
                .filter(|r| r.point == p.index)
                .filter_map(|r| y_of(r).map(|y| (x, y))),
        );
    }
    let mut ordered: Vec<(String, Line)> = groups.into_iter().collect();
    ordered.sort_by_key(|(_, (first, _))| *first);
    ordered
        .into_iter()
        .map(|(name, (_, pts))| (name, pts))
        .collect()
}

/// A line with markers: the mean at each x and the 10–90% band over seeds.
fn banded(name: &str, pts: &[(f64, f64)]) -> Series {
    let b = bands(pts, 0.1, 0.9);
    let mut s = Series::line(name, b.iter().map(|b| (b.x, b.mean)).collect());
    s.band = b.iter().map(|b| (b.x, b.low, b.high)).collect();
    s.markers = true;
    s
}

/// The x axis: whole numbers, with room around the first and last setting.
fn x_axis(points: &[Point]) -> Axis {
    let xs: Vec<f64> = points.iter().filter_map(min_isr).collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let axis =
        Axis::new("min.insync.replicas (replicas that must hold an acks=all write)").integer();
    if lo.is_finite() {
        axis.range(lo - 0.25, hi + 0.25)
    } else {
        axis
    }
}

/// `0.35%` with as many decimals as a small rate needs.
fn percent(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v < 0.1 {
        format!("{v:.3}%")
    } else if v < 10.0 {
        format!("{v:.2}%")
    } else {
        format!("{v:.1}%")
    }
}

/// The same values written once when they are all equal: `40.4% at each`.
fn per_x(values: Vec<String>) -> String {
    match values.first() {
        Some(v) if values.len() > 1 && values.iter().all(|w| w == v) => format!("{v} at each"),
        _ => values.join(", "),
    }
}

/// Acknowledged writes never read, in percent, against min.insync.replicas, on a log axis:
/// acks=all loses hundreds of times less than acks=0, and a linear axis would show it as
/// zero at every setting.
pub(super) fn loss(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let measured = lines(points, rows, |r| {
        mean_of(r, metric::LOSS_RATE).map(|v| v * 100.0)
    });
    // The axis floor: the decade at least one below both the smallest mean loss and 0.01%.
    // A band reaching down to runs without loss is drawn to the floor.
    let smallest = measured
        .iter()
        .flat_map(|(_, pts)| bands(pts, 0.0, 1.0))
        .map(|b| b.mean)
        .filter(|&m| m > 0.0)
        .fold(0.01f64, f64::min);
    let floor = 10f64.powf((smallest.log10() - 1.0).floor());
    let mut chart = Chart::new(
        &format!(
            "{}: acknowledged writes lost ({}, mean and 10–90% band)",
            spec.name,
            runs_note(spec, points)
        ),
        x_axis(points),
        Axis::new("acknowledged sends never read (% of acknowledged, log scale)")
            .log()
            .range(floor, 100.0),
    );
    chart.legend = Corner::LowerRight;
    let mut zeros = vec![];
    for (name, pts) in &measured {
        let b = bands(pts, 0.0, 1.0);
        let means = per_x(b.iter().map(|b| percent(b.mean)).collect());
        let lossy = per_x(
            b.iter()
                .map(|b| {
                    let n = pts.iter().filter(|p| p.0 == b.x && p.1 > 0.0).count();
                    format!("{n}/{}", b.count)
                })
                .collect(),
        );
        zeros.extend(
            b.iter()
                .filter(|b| b.mean <= 0.0)
                .map(|b| format!("{name} at {}", b.x)),
        );
        let mut s = banded(&format!("{name}: {means} (runs losing any: {lossy})"), pts);
        for band in &mut s.band {
            band.1 = band.1.max(floor);
            band.2 = band.2.max(floor);
        }
        chart.series.push(s);
    }
    // A mean of zero cannot sit on a log axis: the legend names those points instead.
    if !zeros.is_empty() {
        chart.series.push(Series {
            name: format!("no loss in any run, off the log axis: {}", zeros.join(", ")),
            scatter: true,
            colour: Some(6),
            ..Default::default()
        });
    }
    let what = format!(
        "{}: per run, the acknowledged sends (acks=0: sent) that no consumer ever read, over the acknowledged sends, after the consumers drained; against min.insync.replicas, one line per acks mode (and any other parameter), on a log axis; points are means over seeds with 10–90% bands (a band reaching the bottom edge includes runs that lost nothing), and the legend gives the means at each min.insync.replicas and how many runs lost anything. A mean of zero cannot be drawn on the log axis: the legend names those points. min.insync.replicas only constrains acks=all writes; with unclean leader election an out-of-sync replica can still take over, so only min.insync.replicas = replication.factor keeps every acknowledged write.",
        metric::LOSS_RATE
    );
    ("kafka_loss", chart, what)
}

/// Acknowledged sends per second against min.insync.replicas: what the safety costs.
pub(super) fn throughput(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: acknowledged sends per second ({}, mean and 10–90% band)",
            spec.name,
            runs_note(spec, points)
        ),
        x_axis(points),
        Axis::new("acknowledged sends per second (acks=0: sent)"),
    );
    chart.legend = Corner::UpperRight;
    chart.series = lines(points, rows, |r| mean_of(r, metric::THROUGHPUT))
        .iter()
        .map(|(name, pts)| {
            let means = per_x(
                bands(pts, 0.0, 1.0)
                    .iter()
                    .map(|b| format!("{:.1}/s", b.mean))
                    .collect(),
            );
            banded(&format!("{name}: {means}"), pts)
        })
        .collect();
    let top = headroom(&chart.series, chart.series.len());
    chart.y = chart.y.range(0.0, top);
    let what = format!(
        "{}: acknowledged sends per second of virtual time over the whole run, against min.insync.replicas, one line per acks mode; means over seeds with 10–90% bands. Each producer has one send outstanding, so slower acknowledgements and writes refused while the ISR is below min.insync.replicas (retried until they succeed or are given up) mean fewer sends: the price of the lines above.",
        metric::THROUGHPUT
    );
    ("kafka_throughput", chart, what)
}
