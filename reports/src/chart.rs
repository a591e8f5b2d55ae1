//! A chart as data, drawn by plotters into a PNG and an SVG of the same picture.
//!
//! Owns the look of every faultline chart: white background, a title naming what was run,
//! axes labelled with units, one colour per series in a fixed order (so the same variant has
//! the same colour in every chart of a sweep), translucent bands, dashed theory curves, and a
//! legend. Log axes are drawn by plotting log10 of the values and labelling ticks with the
//! values themselves, so linear and log charts share one code path.

use crate::{FONT, ensure_fonts};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};

/// One axis.
#[derive(Clone, Debug, Default)]
pub struct Axis {
    /// The label, with the unit: "time (rounds)".
    pub label: String,
    /// Logarithmic scale (non-positive values are left out).
    pub log: bool,
    /// Fixed bounds; `None` fits the data.
    pub range: Option<(f64, f64)>,
    /// Ticks at whole numbers only (node ids, counts).
    pub integer: bool,
}

impl Axis {
    /// A linear axis fitted to the data.
    pub fn new(label: &str) -> Axis {
        Axis {
            label: label.to_string(),
            log: false,
            range: None,
            integer: false,
        }
    }

    /// The same axis with ticks at whole numbers only.
    pub fn integer(mut self) -> Axis {
        self.integer = true;
        self
    }

    /// The same axis with fixed bounds.
    pub fn range(mut self, low: f64, high: f64) -> Axis {
        self.range = Some((low, high));
        self
    }

    /// The same axis on a log scale.
    pub fn log(mut self) -> Axis {
        self.log = true;
        self
    }

    fn map(&self, v: f64) -> Option<f64> {
        match self.log {
            true if v > 0.0 => Some(v.log10()),
            true => None,
            false => v.is_finite().then_some(v),
        }
    }
}

/// One named line.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The line, in x order.
    pub points: Vec<(f64, f64)>,
    /// A shaded band `(x, low, high)` around the line (empty: none).
    pub band: Vec<(f64, f64, f64)>,
    /// A theory curve: dashed, and drawn in grey when `colour` is not set.
    pub dashed: bool,
    /// Mark each point with a dot.
    pub markers: bool,
    /// Dots only, no line joining them (a scatter).
    pub scatter: bool,
    /// Index into the palette; `None` takes the series' position among non-dashed series.
    pub colour: Option<usize>,
}

impl Series {
    /// A plain line.
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_string(),
            points,
            ..Default::default()
        }
    }

    /// A dashed theory curve.
    pub fn theory(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_string(),
            points,
            dashed: true,
            ..Default::default()
        }
    }
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    UpperLeft,
    UpperRight,
    LowerLeft,
    #[default]
    LowerRight,
}

/// A whole chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// What was run, in a line.
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// Pixel size of the PNG (and the SVG's view box).
    pub size: (u32, u32),
    /// The legend's corner, away from the data.
    pub legend: Corner,
}

impl Chart {
    /// An empty chart of the default size.
    pub fn new(title: &str, x: Axis, y: Axis) -> Chart {
        Chart {
            title: title.to_string(),
            x,
            y,
            series: vec![],
            size: (1000, 600),
            legend: Corner::LowerRight,
        }
    }
}

/// A chart that could not be drawn or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotError {
    /// The file being written.
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for PlotError {}

/// Colour-blind-friendly colours (Okabe & Ito 2008), in legend order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

const THEORY_GREY: RGBColor = RGBColor(60, 60, 60);

/// Draws `chart` into `<stem>.png` and `<stem>.svg`, writes the series it plots to
/// `<stem>.csv` ([`series_csv`]), and returns the three paths.
pub fn render(chart: &Chart, stem: &Path) -> Result<Vec<PathBuf>, PlotError> {
    ensure_fonts();
    let noted = note_hidden(chart);
    let chart = &noted;
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let csv = stem.with_extension("csv");
    let fail = |path: &Path, e: String| PlotError {
        path: path.to_path_buf(),
        message: e,
    };
    {
        let root = BitMapBackend::new(&png, chart.size).into_drawing_area();
        draw(&root, chart).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, chart.size).into_drawing_area();
        draw(&root, chart).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    std::fs::write(&csv, series_csv(chart)).map_err(|e| fail(&csv, e.to_string()))?;
    Ok(vec![png, svg, csv])
}

/// The chart with every series that a later one covers renamed to say so in the legend. A
/// later series is drawn over an earlier one, so without the note the earlier one would look
/// missing. A point is covered when the later series has a point at the same x within 1.5% of
/// the chart's y span (about a line's width): all points covered is "hidden under push-pull:
/// same values", at least 60% is "mostly under push-pull".
pub fn note_hidden(chart: &Chart) -> Chart {
    let mut out = chart.clone();
    let ys = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1));
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let tolerance = ((hi - lo).abs() * 0.015).max(f64::EPSILON);
    // The fraction of `a`'s points that `b` covers.
    let covered = |a: &Series, b: &Series| {
        let hit = a
            .points
            .iter()
            .filter(|p| {
                b.points
                    .iter()
                    .any(|q| q.0 == p.0 && (p.1 - q.1).abs() <= tolerance)
            })
            .count();
        hit as f64 / a.points.len().max(1) as f64
    };
    for (i, s) in chart.series.iter().enumerate() {
        if s.name.is_empty() || s.points.len() < 2 {
            continue;
        }
        let over = chart.series[i + 1..]
            .iter()
            .filter(|t| !t.name.is_empty() && t.dashed == s.dashed)
            .map(|t| (covered(s, t), t))
            .fold(None::<(f64, &Series)>, |best, c| match best {
                Some(b) if b.0 >= c.0 => Some(b),
                _ => Some(c),
            });
        match over {
            Some((f, t)) if f >= 1.0 => {
                out.series[i].name = format!("{} (hidden under {}: same values)", s.name, t.name)
            }
            Some((f, t)) if f >= 0.6 => {
                out.series[i].name = format!("{} (mostly under {})", s.name, t.name)
            }
            _ => {}
        }
    }
    out
}

/// The exact series a chart plots, as CSV, so it can be redrawn elsewhere (matplotlib,
/// pgfplots): a header `series,kind,<x axis label>,<y axis label>,low,high`, then one row
/// per point in series order; `kind` is `data` or `theory` (a dashed curve); `low` and
/// `high` are the shaded band at that point (empty without one). A band drawn at other x
/// values than its line gets rows of its own, with `y` empty.
pub fn series_csv(chart: &Chart) -> String {
    let mut out = format!(
        "series,kind,{},{},low,high\n",
        csv_field(&chart.x.label),
        csv_field(&chart.y.label)
    );
    for s in &chart.series {
        let name = csv_field(&s.name);
        let kind = if s.dashed { "theory" } else { "data" };
        let aligned =
            s.band.len() == s.points.len() && s.band.iter().zip(&s.points).all(|(b, p)| b.0 == p.0);
        for (i, &(x, y)) in s.points.iter().enumerate() {
            match s.band.get(i).filter(|_| aligned) {
                Some(&(_, low, high)) => out += &format!("{name},{kind},{x},{y},{low},{high}\n"),
                None => out += &format!("{name},{kind},{x},{y},,\n"),
            }
        }
        if !aligned {
            for &(x, low, high) in &s.band {
                out += &format!("{name},{kind},{x},,{low},{high}\n");
            }
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The bounds of the mapped data on one axis, padded, or the axis's fixed range.
fn bounds(axis: &Axis, values: impl Iterator<Item = f64>) -> (f64, f64) {
    if let Some((lo, hi)) = axis.range {
        let (lo, hi) = (axis.map(lo).unwrap_or(0.0), axis.map(hi).unwrap_or(1.0));
        return if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter_map(|v| axis.map(v)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.04;
    (lo - pad, hi + pad)
}

/// A linear coordinate (over mapped values) whose ticks are [`key_points`].
struct Ticked {
    lo: f64,
    hi: f64,
    points: Vec<f64>,
}

impl Ticked {
    fn new(axis: &Axis, lo: f64, hi: f64) -> Ticked {
        Ticked {
            lo,
            hi,
            points: key_points(axis, lo, hi),
        }
    }
}

impl plotters::coord::ranged1d::Ranged for Ticked {
    type ValueType = f64;
    // Labels come from the chart's own formatter (`tick`).
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.points.clone()
    }
}

/// Where an axis gets its ticks, in mapped coordinates: on a linear axis, steps of 1, 2 or 5
/// times a power of ten (at most 8 intervals); on a log axis, whole decades (1, 10, 100...),
/// with 2 and 5 times each decade when the data span fewer than three, and every k-th
/// decade when they span more than ten.
fn key_points(axis: &Axis, lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let within = |v: f64| v >= lo - 1e-9 && v <= hi + 1e-9;
    if axis.log {
        let (first, last) = (lo.ceil() as i64, hi.floor() as i64);
        let decades = last - first + 1;
        if decades >= 3 {
            let every = (decades as f64 / 10.0).ceil().max(1.0) as i64;
            return (first..=last)
                .filter(|d| d % every == 0)
                .map(|d| d as f64)
                .collect();
        }
        let mut points = vec![];
        for d in (lo.floor() as i64)..=(hi.ceil() as i64) {
            for m in [1.0f64, 2.0, 5.0] {
                let v = d as f64 + m.log10();
                if within(v) {
                    points.push(v);
                }
            }
        }
        return points;
    }
    let raw = span / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&st| span / st <= 8.0)
        .unwrap_or(10.0 * magnitude);
    let step = if axis.integer { step.max(1.0) } else { step };
    let start = (lo / step).ceil() as i64;
    let end = (hi / step).floor() as i64;
    (start..=end)
        .map(|k| k as f64 * step)
        .filter(|&v| within(v))
        .collect()
}

/// A tick label: the value itself, to three significant digits on log axes.
fn tick(axis: &Axis, v: f64) -> String {
    let v = if axis.log { 10f64.powf(v) } else { v };
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = if axis.log && a > 0.0 {
        // Three significant digits: 0.00316, 3.16, 316, 3160.
        let mag = a.log10().floor() as i32;
        let decimals = (2 - mag).max(0) as usize;
        let scale = 10f64.powi(mag - 2);
        format!("{:.*}", decimals, (v / scale).round() * scale)
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    let err = |e: &dyn fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let xs = chart.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.band.iter().map(|b| b.0))
    });
    let ys = chart.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let (x0, x1) = bounds(&chart.x, xs);
    let (y0, y1) = bounds(&chart.y, ys);
    let mut ctx = ChartBuilder::on(root)
        // Long titles get a smaller font so they fit the width.
        .caption(
            &chart.title,
            (
                FONT,
                if chart.title.chars().count() > 90 {
                    15
                } else {
                    18
                },
            )
                .into_font(),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(Ticked::new(&chart.x, x0, x1), Ticked::new(&chart.y, y0, y1))
        .map_err(|e| err(&e))?;
    let (fx, fy) = (|v: &f64| tick(&chart.x, *v), |v: &f64| tick(&chart.y, *v));
    ctx.configure_mesh()
        .x_desc(chart.x.label.as_str())
        .y_desc(chart.y.label.as_str())
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| err(&e))?;
    let map = |(x, y): (f64, f64)| Some((chart.x.map(x)?, chart.y.map(y)?));
    let mut next_colour = 0;
    for s in &chart.series {
        let index = match (s.colour, s.dashed) {
            (Some(i), _) => Some(i),
            (None, true) => None,
            (None, false) => {
                next_colour += 1;
                Some(next_colour - 1)
            }
        };
        let colour = index.map_or(THEORY_GREY, |i| PALETTE[i % PALETTE.len()]);
        // Past the palette's 8 colours, series repeat a colour but not a look: they get
        // markers and a dash pattern of their own (longer gaps each time round).
        let round = index.map_or(0, |i| i / PALETTE.len()) as u32;
        let (dashed, markers) = (s.dashed || round > 0, s.markers || round > 0);
        let (dash, gap) = if s.dashed { (8, 5) } else { (6, 3 * round) };
        if !s.band.is_empty() {
            let upper = s.band.iter().filter_map(|&(x, _, hi)| map((x, hi)));
            let lower: Vec<(f64, f64)> = s
                .band
                .iter()
                .filter_map(|&(x, lo, _)| map((x, lo)))
                .collect();
            let outline: Vec<(f64, f64)> = upper.chain(lower.into_iter().rev()).collect();
            ctx.draw_series(std::iter::once(Polygon::new(
                outline,
                colour.mix(0.18).filled(),
            )))
            .map_err(|e| err(&e))?;
        }
        let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|&p| map(p)).collect();
        let style = colour.stroke_width(2);
        let anno = if s.scatter {
            ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| err(&e))?
        } else if dashed {
            ctx.draw_series(DashedLineSeries::new(pts.clone(), dash, gap, style))
                .map_err(|e| err(&e))?
        } else {
            ctx.draw_series(LineSeries::new(pts.clone(), style))
                .map_err(|e| err(&e))?
        };
        // Unnamed series (pieces of a named one) stay out of the legend.
        if !s.name.is_empty() {
            // The swatch shows the line as drawn: solid or dashed, with its marker.
            // A scatter shows its dot alone.
            let split = if dashed && !s.scatter {
                (8, 12)
            } else {
                (10, 10)
            };
            let line = if s.scatter {
                TRANSPARENT.stroke_width(2)
            } else {
                colour.stroke_width(2)
            };
            let dot = if markers || s.scatter {
                colour.filled()
            } else {
                TRANSPARENT.filled()
            };
            anno.label(s.name.as_str()).legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (split.0, 0)], line)
                    + PathElement::new(vec![(split.1, 0), (20, 0)], line)
                    + Circle::new((10, 0), 3, dot)
            });
        }
        if markers && !s.scatter {
            ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    if chart.series.iter().any(|s| !s.name.is_empty()) {
        ctx.configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .position(match chart.legend {
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
                Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
                Corner::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .draw()
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(super::csv_field("n = 1,000"), "\"n = 1,000\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_field("plain"), "plain");
    }

    use super::*;

    #[test]
    fn a_series_drawn_under_an_identical_one_is_named_in_the_legend() {
        let mut c = Chart::new("t", Axis::new("x"), Axis::new("y"));
        let line = vec![(0.0, 0.0), (1.0, 0.5), (2.0, 1.0)];
        c.series.push(Series::line("push", line.clone()));
        c.series.push(Series::line(
            "pull",
            line.iter().map(|p| (p.0, p.1 + 1e-4)).collect(),
        ));
        c.series.push(Series::line(
            "anti-entropy",
            line.iter().map(|p| (p.0, p.1 * 0.5)).collect(),
        ));
        let noted = note_hidden(&c);
        assert_eq!(
            noted.series[0].name,
            "push (hidden under pull: same values)"
        );
        assert_eq!(noted.series[1].name, "pull", "the top one is visible");
        assert_eq!(
            noted.series[2].name, "anti-entropy",
            "a different curve is not hidden"
        );
    }

    #[test]
    fn ticks_fall_on_round_values_and_decades() {
        let lin = Axis::new("x");
        assert_eq!(
            key_points(&lin, 0.0, 10.0),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(
            key_points(&lin, -0.3, 1.04),
            vec![-0.2, 0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let log = Axis::new("x").log();
        // 1 to 10^4: decades only; the labels read 1, 10, 100, 1000, 10000.
        let decades = key_points(&log, -0.1, 4.1);
        assert_eq!(decades, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let labels: Vec<String> = decades.iter().map(|&v| tick(&log, v)).collect();
        assert_eq!(labels, ["1", "10", "100", "1000", "10000"]);
        // Under three decades, 2 and 5 times each: 20, 50, 100, 200, 500.
        let fine: Vec<String> = key_points(&log, 1.2, 2.8)
            .iter()
            .map(|&v| tick(&log, v))
            .collect();
        assert_eq!(fine, ["20", "50", "100", "200", "500"]);
        // 31 decades: every fourth (at most 10 labels).
        let sparse = key_points(&log, 0.0, 30.0);
        assert_eq!(sparse, [0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0, 28.0]);
    }

    #[test]
    fn ticks_read_as_values() {
        let lin = Axis::new("x");
        let log = Axis::new("x").log();
        assert_eq!(tick(&lin, 0.5), "0.5");
        assert_eq!(tick(&lin, 2.0), "2");
        assert_eq!(tick(&log, 3.0), "1000");
        assert_eq!(tick(&log, 2.5), "316");
        assert_eq!(tick(&log, -2.5), "0.00316");
        assert_eq!(tick(&log, 0.0), "1");
    }

    #[test]
    fn renders_png_and_svg_with_labels() {
        let dir = std::env::temp_dir().join(format!("reports-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Chart::new(
            "a test chart",
            Axis::new("time (rounds)"),
            Axis::new("informed fraction").range(0.0, 1.0),
        );
        let mut s = Series::line("push", vec![(0.0, 0.1), (1.0, 0.5), (2.0, 1.0)]);
        s.band = vec![(0.0, 0.0, 0.2), (1.0, 0.4, 0.6), (2.0, 1.0, 1.0)];
        c.series.push(s);
        c.series
            .push(Series::theory("theory", vec![(0.0, 0.0), (2.0, 1.0)]));
        let files = render(&c, &dir.join("t")).unwrap();
        for f in &files[..2] {
            assert!(
                std::fs::metadata(f).unwrap().len() > 1000,
                "{} is too small",
                f.display()
            );
        }
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(
            svg.contains("time (rounds)")
                && svg.contains("informed fraction")
                && svg.contains("a test chart")
        );
        // The CSV beside them holds exactly the plotted points, bands and theory.
        let csv = std::fs::read_to_string(&files[2]).unwrap();
        assert_eq!(
            csv,
            "series,kind,time (rounds),informed fraction,low,high\n\
             push,data,0,0.1,0,0.2\n\
             push,data,1,0.5,0.4,0.6\n\
             push,data,2,1,1,1\n\
             theory,theory,0,0,,\n\
             theory,theory,2,1,,\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
