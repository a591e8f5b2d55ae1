//! The SWIM charts: first-detection time and dissemination time against the pool size, with
//! SWIM §3.1's e/(e−1) and a logarithmic fit, and false positives against a swept parameter
//! (slow members, Lifeguard on or off).

use super::SweepSpec;
use super::grid::{Point, RunRow};
use super::plots::{Drawn, headroom, mean_of, metric_vs_x, runs_note};
use protocols::swim::theory;
use reports::{Axis, Chart, Corner, Series};

/// Pool sizes on a log grid from the smallest to the largest point.
fn n_grid(points: &[Point]) -> Vec<f64> {
    let lo = points.iter().map(|p| p.scenario.nodes).min().unwrap_or(2) as f64;
    let hi = points.iter().map(|p| p.scenario.nodes).max().unwrap_or(2) as f64;
    (0..=40)
        .map(|i| lo * (hi / lo).powf(f64::from(i) / 40.0))
        .collect()
}

pub(super) fn detection(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: time to first detection ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("members n (log scale)").log(),
        Axis::new("protocol periods from crash to first suspicion").range(0.0, 3.0),
    );
    chart.legend = Corner::LowerRight;
    chart.series = metric_vs_x(
        points,
        rows,
        "nodes",
        |p| Some(p.scenario.nodes as f64),
        |r| mean_of(r, "swim.first_detection_periods"),
        "",
    );
    chart.series.push(Series::theory(
        "SWIM §3.1: e/(e−1) ≈ 1.582 periods (random targets)",
        n_grid(points)
            .into_iter()
            .map(|n| (n, theory::expected_detection_periods(1.0)))
            .collect(),
    ));
    let what = "swim.first_detection_periods: from a crash to the first member suspecting it, in protocol periods, mean over the crashes of each run; points are means over seeds with min–max bands; dashed: SWIM §3.1's expected detection time with random target choice, 1/(1 − e^(−q_f)) with q_f = 1, independent of n. Runs use aligned periods and crashes just before a period boundary, the paper's model.".to_string();
    ("swim_detection", chart, what)
}

/// Least squares `y = a + b ln x`.
fn log_fit(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return None;
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.0.ln()).collect();
    let mx = xs.iter().sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(pts).map(|(x, p)| (x - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

pub(super) fn dissemination(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let mut chart = Chart::new(
        &format!(
            "{}: periods to disseminate a death ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new("members n (log scale)").log(),
        Axis::new("protocol periods from first to last declaration"),
    );
    chart.legend = Corner::UpperLeft;
    chart.series = metric_vs_x(
        points,
        rows,
        "nodes",
        |p| Some(p.scenario.nodes as f64),
        |r| mean_of(r, "swim.dissemination_periods"),
        "",
    );
    let all: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    if let Some((a, b)) = log_fit(&all) {
        chart.series.push(Series::theory(
            &format!("fit: {a:.2} + {b:.2} ln n (SWIM §4.1: O(log n))"),
            n_grid(points)
                .into_iter()
                .map(|n| (n, a + b * n.ln()))
                .collect(),
        ));
    }
    let what = "swim.dissemination_periods: from the first member declaring a crashed member dead to the last live member holding it dead, in protocol periods, mean over the crashes of each run; points are means over seeds with min–max bands; dashed: the least-squares fit a + b ln n over every point. SWIM §4.1: piggybacked infection-style dissemination reaches everyone in O(log n) periods; a straight line on this log axis is that law.".to_string();
    ("swim_dissemination", chart, what)
}

/// The value of the first parameter that is a number, for the x axis.
fn first_number(p: &Point) -> Option<(String, f64)> {
    p.assignment
        .iter()
        .find_map(|(path, v)| v.trim().parse::<f64>().ok().map(|x| (path.clone(), x)))
}

pub(super) fn false_positives(spec: &SweepSpec, points: &[Point], rows: &[RunRow]) -> Drawn {
    let (path, _) = points
        .first()
        .and_then(first_number)
        .unwrap_or_else(|| ("nodes".into(), 0.0));
    let axis = path.rsplit('.').next().unwrap_or(&path).to_string();
    let mut chart = Chart::new(
        &format!(
            "{}: false positives ({}, mean and min–max)",
            spec.name,
            runs_note(spec, points)
        ),
        Axis::new(&axis),
        Axis::new("healthy members declared dead, per run"),
    );
    chart.legend = Corner::UpperLeft;
    let series = metric_vs_x(
        points,
        rows,
        &path,
        |p| first_number(p).map(|x| x.1),
        |r| {
            Some(
                r.outcome
                    .metrics
                    .get("swim.false_positives")
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0),
            )
        },
        "",
    );
    // Headroom above the highest band for the legend, one line per series.
    chart.y = chart.y.range(0.0, headroom(&series, series.len()));
    chart.series = series;
    let what = format!(
        "swim.false_positives per run (a member declaring another dead while that member was up and had not been crashed, paused, partitioned or slowed within the excuse window) against {axis}, one line per value of the other parameters; points are means over seeds with min–max bands. Lifeguard (Dadgar et al. 2018) reports more than 50× fewer false positives than plain SWIM with slow members."
    );
    ("swim_false_positives", chart, what)
}
