//! Reading and checking a sweep file before anything runs.
//!
//! [`read`] parses a sweep file's text and checks what the file alone can say: its syntax and
//! fields, `seeds`, every parameter's path syntax and values list, and the number of runs
//! (points × seeds, counted without overflow against [`MAX_RUNS`]). [`load`] then reads the
//! base scenario, follows every parameter's path in it (a typo is an error even if no value
//! would fail), checks that every chart fits the base scenario's family, and builds and
//! validates the points: each value once ([`CheckMode::Quick`], what `faultline check` does)
//! or every point of the grid ([`CheckMode::Full`], what `faultline sweep` does before its
//! first run).
//!
//! Every error names the sweep file with the line and column of what is wrong in it — the
//! parameter's path (the very step that does not exist), the value, the `plots:` entry, the
//! `base:` — never a position in the scenario text a point is built from. A point is built by
//! putting each value, exactly as written in the sweep file, on lines of its own in the base
//! scenario's serialized text, so a position the scenario parser reports inside a value maps
//! back to the same character in the sweep file; an error found elsewhere (a check that runs
//! after parsing) is pinned on the value that brings it, found by adding the point's values
//! one at a time.

use super::grid::Point;
use super::plots::PlotKind;
use super::tree::{self, Kind, Located, Node};
use super::{MAX_RUNS, SweepError, SweepSpec};
use crate::scenario::validate::did_you_mean;
use crate::scenario::{self, Scenario, ScenarioError, ron_options};
use protocols::family::Registry;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// How much of the grid [`load`] builds and validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckMode {
    /// Every value once: the first point, and for each parameter each of its values with the
    /// other parameters at their first values (points of the grid, so an error is a real
    /// one). Combinations beyond those are left to [`CheckMode::Full`]. For `faultline check`.
    Quick,
    /// Every point of the grid, kept for running. What `faultline sweep` does first.
    Full,
}

/// A sweep file that passed [`read`]: the spec, and where its parts are written.
#[derive(Clone, Debug)]
pub struct SweepFile {
    /// The file as given (for messages).
    pub file: String,
    /// Its text.
    pub text: String,
    /// The parsed sweep (with `seeds` overridden, if asked).
    pub spec: SweepSpec,
    locs: Locations,
}

/// Byte offsets into the sweep file's text.
#[derive(Clone, Debug, Default)]
struct Locations {
    base: usize,
    seeds: Option<usize>,
    first_seed: Option<usize>,
    params: Option<usize>,
    param: Vec<ParamLoc>,
    plots: Vec<usize>,
}

#[derive(Clone, Debug, Default)]
struct ParamLoc {
    /// The `(` of the entry.
    entry: usize,
    /// The path string's opening quote.
    path: usize,
    /// Whether the path string is written plainly (no escapes), so offsets into the path are
    /// offsets into the file after the quote.
    plain_path: bool,
    /// The `values` key.
    values_key: usize,
    /// Each value's span.
    values: Vec<(usize, usize)>,
}

impl SweepFile {
    /// `file:line:col: ` for a byte offset into the text.
    fn at(&self, offset: usize) -> String {
        let (l, c) = line_col(&self.text, offset);
        format!("{}:{l}:{c}: ", self.file)
    }

    fn err(&self, offset: usize, message: impl fmt::Display) -> SweepError {
        SweepError(format!("{}{message}", self.at(offset)))
    }

    /// Where step offset `at` of parameter `i`'s path is in the file.
    fn path_at(&self, i: usize, at: usize) -> usize {
        let p = &self.locs.param[i];
        if p.plain_path {
            p.path + 1 + at
        } else {
            p.path
        }
    }

    /// Parameter `i`'s value `j` exactly as written.
    pub fn raw(&self, i: usize, j: usize) -> &str {
        self.locs.param[i]
            .values
            .get(j)
            .and_then(|&(s, e)| self.text.get(s..e))
            .unwrap_or_default()
    }
}

/// 1-based line and column (in characters, as `ron` counts) of a byte offset.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The position of the first character at or after `line:col` that is not whitespace.
fn at_token(text: &str, line: usize, col: usize) -> (usize, usize) {
    let Some(start) = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .try_fold(0usize, usize::checked_add)
    else {
        return (line, col);
    };
    let Some(rest) = text.get(start..) else {
        return (line, col);
    };
    let offset = rest
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(p, _)| start + p);
    let skip = text[offset..]
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map_or(0, |(p, _)| p);
    line_col(text, offset + skip)
}

/// How a parameter is written, for messages.
const PARAM_FORM: &str = r#"(path: "protocol.fanout", values: [1, 2])"#;

/// What a `ron` error means in a sweep file, in its terms (no Rust type names).
fn ron_message(e: &ron::Error) -> String {
    use ron::Error as E;
    let whose = |outer: &Option<String>| match outer.as_deref() {
        Some("Param") => "a parameter",
        _ => "the sweep",
    };
    match e {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}` in {}{}; its fields are: {}",
            whose(outer),
            did_you_mean(found, expected.iter().copied()),
            expected.join(", ")
        ),
        E::MissingStructField { field, outer } => match outer.as_deref() {
            Some("Param") => format!("a parameter needs `{field}`: {PARAM_FORM}"),
            _ => format!("the sweep needs `{field}`"),
        },
        E::DuplicateStructField { field, outer } => {
            format!("`{field}` is given twice in {}", whose(outer))
        }
        E::NoSuchEnumVariant {
            expected, found, ..
        } => format!(
            "unknown chart `{found}`{}; the charts are: {}",
            did_you_mean(found, expected.iter().copied()),
            expected.join(", ")
        ),
        E::ExpectedDifferentStructName { expected, found } if *expected == "Param" => {
            format!("expected a parameter, {PARAM_FORM}, found `{found}(...)`")
        }
        E::ExpectedDifferentStructName { found, .. } => format!(
            "a sweep file holds `Sweep(...)`, not `{found}(...)`{}",
            if found == "Scenario" {
                ": this is a scenario file (run it with `faultline run`)"
            } else {
                ""
            }
        ),
        E::ExpectedNamedStructLike("Param") => format!("expected a parameter, {PARAM_FORM}"),
        E::ExpectedNamedStructLike(_) => {
            "expected `Sweep(` (a sweep file holds one `Sweep(...)`)".into()
        }
        E::ExpectedStructLike => format!("expected `(`: a parameter is written {PARAM_FORM}"),
        E::ExceededRecursionLimit => format!("nested more than {} levels deep", tree::MAX_DEPTH),
        E::UnclosedLineComment => {
            "the file ends inside a `//` comment, before the sweep is closed".into()
        }
        E::ExpectedInteger => "expected a whole number".into(),
        E::ExpectedIdentifier => "expected a name".into(),
        E::Eof => "unexpected end of the file".into(),
        E::Utf8Error(_) => "the file is not UTF-8 text".into(),
        E::InvalidValueForType { expected, found } => {
            format!("expected {}, found {found}", user_type(expected))
        }
        E::IntegerOutOfBounds => "the number is out of range".into(),
        E::InvalidIdentifier(found) | E::SuggestRawIdentifier(found) => {
            format!("expected a name, found {found}")
        }
        E::Message(m) => user_terms(m),
        other => {
            // ron's own messages ("Expected comma") are in the file's terms; lower-case them
            // like the others.
            let s = other.to_string();
            let mut c = s.chars();
            c.next()
                .map_or(s.clone(), |f| f.to_lowercase().chain(c).collect())
        }
    }
}

/// A scenario parser's message in the file's terms: `ron`'s messages name the Rust types a
/// value is read into (`in enum \`Latency\``, `for struct \`NetworkSpec\``); a sweep's
/// messages say what to write instead.
pub fn user_terms(message: &str) -> String {
    let mut m = message.to_string();
    if let Some(rest) = m.strip_prefix("Found invalid std identifier ") {
        let found = rest.split(", try").next().unwrap_or(rest);
        return format!("expected a name, found {found}");
    }
    if let Some(rest) = m.strip_prefix("Expected struct `")
        && let Some((_, found)) = rest.split_once("` but found ")
    {
        return format!("expected a section written (field: value, ...), found {found}");
    }
    if m.starts_with("Expected opening `(` for struct `") {
        return "expected a section written (field: value, ...)".into();
    }
    for (from, to) in [
        ("Unexpected enum variant named ", "unknown variant "),
        ("Unexpected variant named ", "unknown variant "),
        ("Unexpected field named ", "unknown field "),
        ("Unexpected missing field named ", "missing field "),
        ("Integer is out of bounds", "the number is out of range"),
    ] {
        if let Some(rest) = m.strip_prefix(from) {
            m = format!("{to}{rest}");
        }
    }
    // ` in enum `Latency``, ` in `NetworkSpec``: Rust type names.
    for lead in [" in enum `", " in `"] {
        while let Some(at) = m.find(lead) {
            let Some(end) = m[at + lead.len()..].find('`') else {
                break;
            };
            m.replace_range(at..at + lead.len() + end + 1, "");
        }
    }
    let mut c = m.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if a.is_ascii_uppercase() && b.is_ascii_lowercase() => {
            a.to_ascii_lowercase().to_string() + &m[1..]
        }
        _ => m,
    }
}

/// A serde type description in the file's terms.
fn user_type(t: &str) -> String {
    match t {
        "u64" | "usize" | "u32" => "a whole number (0 or more)".into(),
        "a string" | "string" => "a string in double quotes".into(),
        other => other.to_string(),
    }
}

/// Parses a sweep file's text and checks everything the file alone can say: syntax and
/// fields, `seeds`, each parameter's path syntax and values, and that points × seeds is at
/// most [`MAX_RUNS`] (with `seeds` overridden by `seeds` when given). `file` is only used in
/// messages.
pub fn read(file: &str, text: &str, seeds: Option<u64>) -> Result<SweepFile, SweepError> {
    let mut spec: SweepSpec = ron_options().from_str(text).map_err(|e| {
        // `ron` may stop before the whitespace in front of what it could not read.
        let (l, c) = at_token(text, e.span.start.line, e.span.start.col);
        SweepError(format!("{file}:{l}:{c}: {}", ron_message(&e.code)))
    })?;
    // The same text read as a tree with positions; `ron` accepted it, so this reads it too,
    // and an error here is still about the file.
    let root = tree::parse_located(text).map_err(|e| {
        let (l, c) = line_col(text, e.at);
        SweepError(format!("{file}:{l}:{c}: {}", e.message))
    })?;
    if let Some(s) = seeds {
        spec.seeds = s.max(1);
    }
    let sf = SweepFile {
        file: file.to_string(),
        text: text.to_string(),
        locs: locations(&root, &spec),
        spec,
    };
    check_file(&sf)?;
    Ok(sf)
}

/// Where the parts of the sweep are written (the start of the file for what is not there).
fn locations(root: &Located, spec: &SweepSpec) -> Locations {
    let value_at = |key: &str| root.field(key).map(|f| f.value.start);
    let mut locs = Locations {
        base: value_at("base").unwrap_or(root.start),
        seeds: value_at("seeds"),
        first_seed: value_at("first_seed"),
        params: root.field("params").map(|f| f.key_at),
        ..Locations::default()
    };
    let entries = root.field("params").map_or(&[][..], |f| f.value.items());
    for (i, p) in spec.params.iter().enumerate() {
        let Some(e) = entries.get(i) else {
            locs.param.push(ParamLoc {
                entry: locs.params.unwrap_or(0),
                path: locs.params.unwrap_or(0),
                ..ParamLoc::default()
            });
            continue;
        };
        let path = e.field("path").map(|f| &f.value);
        let values = e.field("values");
        locs.param.push(ParamLoc {
            entry: e.start,
            path: path.map_or(e.start, |v| v.start),
            plain_path: path.is_some_and(
                |v| matches!(&v.kind, Kind::Atom(a) if *a == format!("\"{}\"", p.path)),
            ),
            values_key: values.map_or(e.start, |f| f.key_at),
            values: values.map_or(vec![], |f| {
                f.value.items().iter().map(|v| (v.start, v.end)).collect()
            }),
        });
    }
    let plots = root.field("plots").map_or(&[][..], |f| f.value.items());
    locs.plots = (0..spec.plots.len())
        .map(|i| plots.get(i).map_or(root.start, |v| v.start))
        .collect();
    locs
}

/// The checks that need only the file.
fn check_file(sf: &SweepFile) -> Result<(), SweepError> {
    let spec = &sf.spec;
    let seeds_at = sf.locs.seeds.unwrap_or(0);
    if spec.seeds == 0 {
        return Err(sf.err(seeds_at, "seeds must be at least 1"));
    }
    if spec.first_seed.checked_add(spec.seeds - 1).is_none() {
        return Err(sf.err(
            sf.locs.first_seed.unwrap_or(seeds_at),
            format!(
                "{} seeds from {} go past the largest seed, {}",
                spec.seeds,
                spec.first_seed,
                u64::MAX
            ),
        ));
    }
    for (i, p) in spec.params.iter().enumerate() {
        if let Err(e) = tree::parse_path(&p.path) {
            return Err(sf.err(
                sf.path_at(i, e.at),
                format!("parameter {:?}: {}", p.path, e.message),
            ));
        }
        if p.values.is_empty() {
            return Err(sf.err(
                sf.locs.param[i].values_key,
                format!(
                    "parameter {} has no values: give it at least one, as in `values: [1, 2]`",
                    p.path
                ),
            ));
        }
        if sf.locs.param[i].values.len() != p.values.len() {
            return Err(sf.err(
                sf.locs.param[i].entry,
                format!("parameter {}: cannot find its values in the file", p.path),
            ));
        }
    }
    // Points × seeds, counted so that it cannot overflow before it is compared.
    let sizes: Vec<usize> = spec.params.iter().map(|p| p.values.len()).collect();
    let runs = sizes
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .and_then(|points| points.checked_mul(usize::try_from(spec.seeds).ok()?));
    if runs.is_none_or(|r| r > MAX_RUNS) {
        let grid = if sizes.is_empty() {
            "1 point".to_string()
        } else if sizes.len() <= 8 {
            let list: Vec<String> = sizes.iter().map(usize::to_string).collect();
            format!("{} points", list.join(" × "))
        } else {
            format!("the grid of {} parameters", sizes.len())
        };
        let total = runs.map_or("more runs than can be counted".to_string(), |r| {
            format!("{r} runs")
        });
        return Err(sf.err(
            sf.locs.params.unwrap_or(seeds_at),
            format!(
                "{grid} × {} seed{} = {total}; a sweep may have at most {MAX_RUNS} (use fewer \
                 values or seeds)",
                spec.seeds,
                if spec.seeds == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(())
}

/// What [`check`] found: a sweep ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepSummary {
    pub name: String,
    /// The base scenario file.
    pub base: PathBuf,
    /// The base scenario's protocol family.
    pub family: &'static str,
    pub points: usize,
    pub seeds: u64,
    /// Points × seeds.
    pub runs: usize,
    pub charts: Vec<PlotKind>,
    /// How many points were built and validated.
    pub checked: usize,
}

impl fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sweep \"{}\": {} points x {} seeds = {} runs of {} ({})",
            self.name,
            self.points,
            self.seeds,
            self.runs,
            self.base.display(),
            self.family
        )?;
        if !self.charts.is_empty() {
            let c: Vec<String> = self.charts.iter().map(|k| format!("{k:?}")).collect();
            write!(f, ", charts: {}", c.join(", "))?;
        }
        if self.checked < self.points {
            write!(
                f,
                "; every value checked ({} of {} points)",
                self.checked, self.points
            )?;
        }
        Ok(())
    }
}

/// A sweep read, checked and (in [`CheckMode::Full`]) built: ready to run.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub file: SweepFile,
    /// The base scenario's path.
    pub base: PathBuf,
    /// Every point in grid order ([`CheckMode::Full`]); empty in [`CheckMode::Quick`].
    pub points: Vec<Point>,
    pub summary: SweepSummary,
}

/// Checks a sweep file without running anything: for `faultline check FILE.sweep`. Same as
/// [`load`] without a seeds override; the summary says what the sweep would run.
pub fn check(
    registry: &Registry,
    path: &Path,
    mode: CheckMode,
) -> Result<SweepSummary, SweepError> {
    load(registry, path, mode, None).map(|l| l.summary)
}

/// Reads a sweep file and checks everything before any run: the file ([`read`]), the base
/// scenario, every parameter's path in it, every chart against the family, and the points
/// (`mode`). `seeds` overrides the file's seeds.
pub fn load(
    registry: &Registry,
    path: &Path,
    mode: CheckMode,
    seeds: Option<u64>,
) -> Result<Loaded, SweepError> {
    let file = path.display().to_string();
    let text = crate::io::read_text(path).map_err(|e| SweepError(format!("{file}: {e}")))?;
    let sf = read(&file, &text, seeds)?;
    let spec = &sf.spec;

    // The base scenario.
    let base = path.parent().unwrap_or(Path::new(".")).join(&spec.base);
    if spec.base.trim().is_empty() {
        return Err(sf.err(sf.locs.base, "base is empty: name the base scenario file"));
    }
    if base.is_dir() {
        return Err(sf.err(
            sf.locs.base,
            format!(
                "base {:?} is a directory ({}), not a scenario file",
                spec.base,
                base.display()
            ),
        ));
    }
    if !base.exists() {
        return Err(sf.err(
            sf.locs.base,
            format!(
                "base {:?}: no such file (looked for {}; the path is relative to the sweep file)",
                spec.base,
                base.display()
            ),
        ));
    }
    let base_scenario = scenario::load_with(registry, &base).map_err(|mut e| {
        e.message += &format!(" (the base scenario of {file})");
        SweepError(e.to_string())
    })?;
    let family = base_scenario.protocol.name();
    let base_text = ron::to_string(&base_scenario)
        .map_err(|e| SweepError(format!("cannot write out the base scenario: {e}")))?;
    let root = tree::parse(&base_text)
        .map_err(|e| SweepError(format!("cannot read back the base scenario: {e}")))?;

    // Every path exists in the base scenario, and no two parameters sweep the same part.
    let mut routes = Vec::with_capacity(spec.params.len());
    let mut owners: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
    let mut inner: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
    for (i, p) in spec.params.iter().enumerate() {
        let steps = tree::parse_path(&p.path).map_err(|e| sf.err(sf.path_at(i, e.at), &e))?;
        let route = tree::find(&root, &steps).map_err(|e| {
            sf.err(
                sf.path_at(i, e.at),
                format!("parameter {}: {}", p.path, e.message),
            )
        })?;
        let clash = (0..=route.len())
            .find_map(|n| owners.get(&route[..n]))
            .or_else(|| inner.get(&route));
        if let Some(&j) = clash {
            let (l, _) = line_col(&sf.text, sf.locs.param[j].path);
            return Err(sf.err(
                sf.path_at(i, 0),
                format!(
                    "parameter {} overlaps parameter {} (line {l}): a part of the scenario can \
                     be swept by one parameter only",
                    p.path, spec.params[j].path
                ),
            ));
        }
        for n in 0..route.len() {
            inner.entry(route[..n].to_vec()).or_insert(i);
        }
        owners.insert(route.clone(), i);
        routes.push(route);
    }

    // Every chart fits the base scenario's family.
    for (k, kind) in spec.plots.iter().enumerate() {
        if kind.family() != family {
            return Err(sf.err(
                sf.locs.plots[k],
                format!(
                    "chart {kind:?} needs a {} scenario, but the base scenario {} is {family}",
                    kind.family(),
                    spec.base
                ),
            ));
        }
    }

    // The points.
    let grid = Grid {
        registry,
        sf: &sf,
        name: base.display().to_string(),
        root,
        routes,
    };
    let sizes: Vec<usize> = spec.params.iter().map(|p| p.values.len()).collect();
    let total: usize = sizes.iter().product();
    let indices: Vec<usize> = match mode {
        CheckMode::Full => (0..total).collect(),
        CheckMode::Quick => {
            // The first point, then each value of each parameter with the others at their
            // first values.
            let mut v = vec![0];
            let mut stride = total;
            for &n in &sizes {
                stride /= n;
                v.extend((1..n).map(|j| j * stride));
            }
            v
        }
    };
    // Points are built on every core when there are many; the first failing point in grid
    // order is the one reported, whatever the number of cores.
    let built: Vec<Result<Point, Failed>> = if indices.len() > 64 {
        indices.par_iter().map(|&i| grid.point(i, &sizes)).collect()
    } else {
        indices.iter().map(|&i| grid.point(i, &sizes)).collect()
    };
    let mut points = Vec::with_capacity(indices.len());
    for b in built {
        let point = b.map_err(|f| grid.explain(&f.picks, &f.error, &f.lines))?;
        let index = point.index;
        for (k, kind) in spec.plots.iter().enumerate() {
            let f = point.scenario.protocol.name();
            if kind.family() != f {
                return Err(sf.err(
                    sf.locs.plots[k],
                    format!(
                        "chart {kind:?} needs a {} scenario, but point {index} ({}) is {f}",
                        kind.family(),
                        point.label(&[])
                    ),
                ));
            }
        }
        points.push(point);
    }
    let checked = points.len();
    if mode == CheckMode::Quick {
        points.clear();
    }
    let summary = SweepSummary {
        name: spec.name.clone(),
        base: base.clone(),
        family,
        points: total,
        seeds: spec.seeds,
        runs: total.saturating_mul(usize::try_from(spec.seeds).unwrap_or(usize::MAX)),
        charts: spec.plots.clone(),
        checked,
    };
    Ok(Loaded {
        file: sf,
        base,
        points,
        summary,
    })
}

/// A point that is not a valid scenario: its values, the error in its text, and the line
/// each value starts on in that text.
struct Failed {
    picks: Vec<usize>,
    error: Box<ScenarioError>,
    lines: Vec<Option<usize>>,
}

/// Builds points from the base scenario's tree.
struct Grid<'a> {
    registry: &'a Registry,
    sf: &'a SweepFile,
    /// The base scenario's file, for the points' names.
    name: String,
    root: Node,
    /// Each parameter's route in the tree.
    routes: Vec<Vec<usize>>,
}

/// A comment that marks where a value starts in a point's text.
fn marker(i: usize) -> String {
    format!("/*@sweep-parameter-{i}*/\n")
}

impl Grid<'_> {
    /// The point's text, with each chosen value (`picks[i]`, `None` for the base scenario's)
    /// exactly as written in the sweep file on lines of its own; and the line each starts on.
    fn text(&self, picks: &[Option<usize>]) -> (String, Vec<Option<usize>>) {
        let mut node = self.root.clone();
        for (i, pick) in picks.iter().enumerate() {
            if let Some(j) = pick
                && let Some(slot) = tree::at_route_mut(&mut node, &self.routes[i])
            {
                *slot = Node::Atom(format!("{}{}\n", marker(i), self.sf.raw(i, *j)));
            }
        }
        let text = node.to_string();
        let lines = picks
            .iter()
            .enumerate()
            .map(|(i, pick)| {
                pick.and_then(|_| {
                    let m = marker(i);
                    text.find(&m)
                        .map(|at| text[..at + m.len()].matches('\n').count() + 1)
                })
            })
            .collect();
        (text, lines)
    }

    fn parse(
        &self,
        label: &str,
        picks: &[Option<usize>],
    ) -> Result<Scenario, (ScenarioError, Vec<Option<usize>>)> {
        let (text, lines) = self.text(picks);
        let name = format!("{} [{label}]", self.name);
        scenario::parse_with(self.registry, &name, &text).map_err(|e| (e, lines))
    }

    /// If the error is inside one of the values, that parameter and the byte offset in the
    /// sweep file of the very character.
    fn inside(
        &self,
        e: &ScenarioError,
        picks: &[Option<usize>],
        lines: &[Option<usize>],
    ) -> Option<(usize, usize)> {
        for (i, (pick, start)) in picks.iter().zip(lines).enumerate() {
            let (Some(j), Some(start)) = (pick, start) else {
                continue;
            };
            let (s, end) = self.sf.locs.param[i].values[*j];
            let raw = &self.sf.text[s..end];
            let extra = raw.matches('\n').count();
            if e.line < *start || e.line > start + extra {
                continue;
            }
            // Lines after the first are whole lines of the sweep file.
            let k = e.line - start;
            let line_start = if k == 0 {
                s
            } else {
                raw.match_indices('\n')
                    .nth(k - 1)
                    .map_or(s, |(p, _)| s + p + 1)
            };
            let line_end = self.sf.text[line_start..]
                .find('\n')
                .map_or(self.sf.text.len(), |p| line_start + p);
            let offset = self.sf.text[line_start..line_end]
                .char_indices()
                .nth(e.col.saturating_sub(1))
                .map_or(line_end.min(end), |(p, _)| line_start + p);
            // Parameters never overlap, so the lines of one value hold no other.
            return Some((i, offset));
        }
        None
    }

    /// Builds and validates the point at `index` of a grid of `sizes`.
    fn point(&self, index: usize, sizes: &[usize]) -> Result<Point, Failed> {
        let spec = &self.sf.spec;
        let mut picks = vec![0; sizes.len()];
        let mut rest = index;
        for (i, &n) in sizes.iter().enumerate().rev() {
            picks[i] = rest % n;
            rest /= n;
        }
        let assignment: Vec<(String, String)> = spec
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.path.clone(), self.sf.raw(i, picks[i]).to_string()))
            .collect();
        let all: Vec<Option<usize>> = picks.iter().copied().map(Some).collect();
        let label = format!("point {index}");
        match self.parse(&label, &all) {
            Ok(scenario) => Ok(Point {
                index,
                assignment,
                scenario,
            }),
            Err((error, lines)) => Err(Failed {
                picks,
                error: Box::new(error),
                lines,
            }),
        }
    }

    /// Pins a point's error on a value: the one the error is inside, or else the first value
    /// that, added to the base scenario after the ones before it, makes it invalid.
    fn explain(&self, picks: &[usize], e: &ScenarioError, lines: &[Option<usize>]) -> SweepError {
        let sf = self.sf;
        let all: Vec<Option<usize>> = picks.iter().copied().map(Some).collect();
        let (culprit, offset, message, others) = match self.inside(e, &all, lines) {
            Some((i, offset)) => {
                let others: Vec<usize> = (0..picks.len()).filter(|&k| k != i).collect();
                (i, offset, user_terms(&e.message), others)
            }
            None => {
                let mut found = None;
                for i in 0..picks.len() {
                    let some: Vec<Option<usize>> = (0..picks.len())
                        .map(|k| (k <= i).then_some(picks[k]))
                        .collect();
                    if let Err((e2, lines2)) = self.parse("checking", &some) {
                        let offset = self
                            .inside(&e2, &some, &lines2)
                            .filter(|(k, _)| *k == i)
                            .map_or(sf.locs.param[i].values[picks[i]].0, |(_, o)| o);
                        found = Some((i, offset, user_terms(&e2.message), (0..i).collect()));
                        break;
                    }
                }
                match found {
                    Some(f) => f,
                    None => {
                        return sf.err(
                            sf.locs.params.unwrap_or(0),
                            format!("point {}: {}", describe(sf, picks), user_terms(&e.message)),
                        );
                    }
                }
            }
        };
        // Name the other values when the culprit is fine on its own.
        let with = if others.is_empty() {
            String::new()
        } else {
            let alone: Vec<Option<usize>> = (0..picks.len())
                .map(|k| (k == culprit).then_some(picks[k]))
                .collect();
            if self.parse("checking", &alone).is_ok() {
                let list: Vec<String> = others
                    .iter()
                    .map(|&k| {
                        format!(
                            "{}={}",
                            sf.spec.params[k].path,
                            crate::output::one_line(sf.raw(k, picks[k]))
                        )
                    })
                    .collect();
                format!(" (with {})", list.join(", "))
            } else {
                String::new()
            }
        };
        sf.err(
            offset,
            format!(
                "value {} for {}{with}: {message}",
                crate::output::one_line(sf.raw(culprit, picks[culprit])),
                sf.spec.params[culprit].path
            ),
        )
    }
}

/// `protocol.fanout=2, nodes=100`.
fn describe(sf: &SweepFile, picks: &[usize]) -> String {
    let parts: Vec<String> = picks
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            format!(
                "{}={}",
                sf.spec.params[i].path,
                crate::output::one_line(sf.raw(i, j))
            )
        })
        .collect();
    parts.join(", ")
}
