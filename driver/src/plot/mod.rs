//! Pictures of a job's reduced output, as PNG (bitmap backend, embedded
//! DejaVu Sans via ab_glyph: no system font libraries) or SVG. The same input
//! gives the same bytes.
//!
//! One file per kind: [`hist`], [`series`], [`bars`], [`splits`]; [`data`]
//! reads the output, [`decimate`] keeps long series honest.

mod axis;
mod bars;
pub mod data;
pub mod decimate;
mod heatmap;
mod hist;
mod series;
mod splits;
mod time;

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, anyhow, bail};
use plotters::prelude::*;

use crate::answer::Reduced;

/// The kinds of plot.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bars per histogram bin (the bins summed over keys).
    Hist,
    /// A statistic per numeric key as a line; for the mean, its 95%
    /// confidence band and the +-1 sd spread.
    Series,
    /// One bar per key.
    Bars,
    /// Rows per map task from the manifest: used, filtered, malformed.
    Splits,
    /// A 2-D histogram (--hist2d) as coloured cells, keys summed.
    Heatmap,
}

/// How counts map to colour in a heatmap.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorScale {
    Linear,
    Log,
    /// By rank among the non-empty cells (histogram equalisation).
    Equalized,
}

impl ColorScale {
    pub fn name(self) -> &'static str {
        match self {
            ColorScale::Linear => "linear",
            ColorScale::Log => "log",
            ColorScale::Equalized => "equalised",
        }
    }
}

/// Which statistic a series or bar plot draws.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Count,
    Sum,
    Min,
    Max,
    Stddev,
    /// The 50% quantile (jobs run with --quantiles).
    Median,
}

impl Stat {
    pub fn name(self) -> &'static str {
        match self {
            Stat::Median => "median",
            Stat::Mean => "mean",
            Stat::Count => "count",
            Stat::Sum => "sum",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Stddev => "stddev",
        }
    }
}

/// Bar order.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Key,
    Value,
}

/// Everything a plot can be asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub kind: Option<Kind>,
    pub title: Option<String>,
    pub width: u32,
    pub height: u32,
    pub log_y: bool,
    pub fit_normal: bool,
    /// `None`: the median when the output has quantiles, else the mean.
    pub stat: Option<Stat>,
    pub sort: SortBy,
    pub top: usize,
    /// Draw each key's min..max (series of the mean).
    pub range: bool,
    pub color_scale: ColorScale,
    /// The value column drawn, when the job had several (default: the
    /// first).
    pub column: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            kind: None,
            title: None,
            width: 1000,
            height: 600,
            log_y: false,
            fit_normal: false,
            stat: None,
            sort: SortBy::Key,
            top: 30,
            range: false,
            color_scale: ColorScale::Log,
            column: None,
        }
    }
}

impl Options {
    /// The statistic drawn: as asked, else the median where the job
    /// computed quantiles (with their bands), else the mean, else (a job
    /// that counted rows) the count.
    pub fn stat_for(&self, r: &Reduced) -> Stat {
        self.stat.unwrap_or_else(|| {
            if r.rows.iter().any(|row| row.stat("median").is_some()) {
                Stat::Median
            } else if r.rows.iter().any(|row| row.stat("mean").is_some()) {
                Stat::Mean
            } else {
                Stat::Count
            }
        })
    }
}

/// A tick label of a count axis: whole numbers with thousands separators,
/// nothing between them (no `200.0`).
pub fn whole_tick(v: &f64) -> String {
    if v.fract() == 0.0 {
        thousands(*v as u64)
    } else {
        String::new()
    }
}

/// What a series or bar plot draws, as its titles say it: `rows` for the
/// count of a job that counted rows, else `mean of temp`.
pub fn measured(stat: Stat, r: &Reduced) -> String {
    if stat == Stat::Count && !r.rows.iter().any(|row| row.stat("mean").is_some()) {
        "rows".into()
    } else {
        format!("{} of {}", stat.name(), r.value_name)
    }
}

/// The kind a job's output asks for: a histogram for one group with
/// `--hist`, a series for numeric keys, bars for other keys, splits when
/// there is nothing but the manifest.
pub fn natural_kind(r: &Reduced) -> Kind {
    if r.rows.is_empty() {
        Kind::Splits
    } else if r.rows.len() == 1 && r.has_hist() {
        Kind::Hist
    } else if r.rows.len() == 1 && r.rows[0].v.get("hist2d").is_some() {
        Kind::Heatmap
    } else if r.rows.len() > 1 && (r.numeric_keys() || r.time_keys().is_some()) {
        Kind::Series
    } else {
        Kind::Bars
    }
}

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub(crate) const BAR: RGBColor = RGBColor(0x4C, 0x72, 0xB0);
pub(crate) const ACCENT: RGBColor = RGBColor(0xDD, 0x84, 0x52);
pub(crate) const BAD: RGBColor = RGBColor(0xC4, 0x4E, 0x52);
pub(crate) const MUTED: RGBColor = RGBColor(0x99, 0x99, 0x99);

fn register_font() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut ok = true;
    ONCE.call_once(|| {
        ok = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
    });
    if ok {
        Ok(())
    } else {
        bail!("the embedded font does not load")
    }
}

/// A drawing error as anyhow.
pub(crate) fn de<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing: {e:?}")
}

/// Checks, before a job runs, that a plot can be written to `out`: a
/// `.png` or `.svg` name in a directory that exists.
pub fn check_target(out: &Path) -> anyhow::Result<()> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png" | "svg")) {
        bail!(
            "--plot {}: the name must end in .png or .svg",
            out.display()
        );
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "--plot {}: the directory {} does not exist; create it first",
            out.display(),
            dir.display()
        );
    }
    if out.is_dir() {
        bail!(
            "--plot {}: a directory of that name is there",
            out.display()
        );
    }
    // Whether the picture can be written there is known only by writing:
    // a hidden file beside it, as `render` writes, removed at once.
    let probe = dir.join(format!(".mapfold-plot-probe-{}", std::process::id()));
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .with_context(|| {
            format!(
                "--plot {}: cannot write in {}; choose a writable place",
                out.display(),
                dir.display()
            )
        })?;
    Ok(())
}

/// Renders `dir`'s output to `out` (`.png` or `.svg`); returns the kind drawn.
/// The picture is drawn to a hidden file beside `out` and renamed into
/// place, so `out` is the whole picture or untouched.
pub fn render(dir: &Path, out: &Path, o: &Options) -> anyhow::Result<Kind> {
    check_target(out)?;
    let r = Reduced::load(dir)?.column(o.column.as_deref())?;
    let kind = o.kind.unwrap_or_else(|| natural_kind(&r));
    register_font()?;
    let size = (o.width, o.height);
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let name = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = out.with_file_name(format!(".{name}.mapfold-tmp-{}.{ext}", std::process::id()));
    let drawn = if ext == "svg" {
        draw(SVGBackend::new(&tmp, size).into_drawing_area(), &r, kind, o)
    } else {
        draw(
            BitMapBackend::new(&tmp, size).into_drawing_area(),
            &r,
            kind,
            o,
        )
    };
    let done = drawn
        .and_then(|()| std::fs::rename(&tmp, out).map_err(anyhow::Error::from))
        .with_context(|| format!("writing {}", out.display()));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done?;
    Ok(kind)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    r: &Reduced,
    kind: Kind,
    o: &Options,
) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(de)?;
    match kind {
        Kind::Hist => hist::draw(&root, r, o)?,
        Kind::Series => series::draw(&root, r, o)?,
        Kind::Bars => bars::draw(&root, r, o)?,
        Kind::Splits => splits::draw(&root, r, o)?,
        Kind::Heatmap => heatmap::draw(&root, r, o)?,
    }
    root.present().map_err(de)
}

/// `1 task`, `2 tasks`, `1,024 files`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    format!(
        "{} {what}{}",
        thousands(n as u64),
        if n == 1 { "" } else { "s" }
    )
}

/// Thousands separators for counts in notes.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Tick label of a log10 axis value: powers of ten only.
pub(crate) fn log_tick(v: &f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-9 && r >= 0.0 {
        format!("1e{r}")
    } else {
        String::new()
    }
}

/// Maps a count to the y value drawn (log10 when asked).
pub(crate) fn y_of(c: f64, log_y: bool) -> f64 {
    if log_y { c.max(0.5).log10() } else { c }
}

/// Draws the title and a note line at the top; returns the area below.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    r: &Reduced,
    title: &str,
    note: &str,
) -> anyhow::Result<DrawingArea<DB, plotters::coord::Shift>> {
    let (top, rest) = root.split_vertically(82);
    let note = format!(
        "{note}{}{}{}{}{}",
        r.filter_note(),
        r.quantile_note(),
        r.corr_note(),
        r.input_note(),
        r.column_note()
    );
    top.draw(&Text::new(
        title.to_owned(),
        (16, 10),
        ("sans-serif", 24).into_font().color(&BLACK),
    ))
    .map_err(de)?;
    // The note wraps at `;` onto a second line rather than run off the
    // edge (about 7 pixels per character at this size), and is cut there.
    let width = top.dim_in_pixel().0 as usize;
    let per_line = width.saturating_sub(32) / 7;
    for (i, line) in wrap(&note, per_line, 2).into_iter().enumerate() {
        top.draw(&Text::new(
            line,
            (16, 40 + 19 * i as i32),
            ("sans-serif", 14)
                .into_font()
                .color(&RGBColor(0x44, 0x44, 0x44)),
        ))
        .map_err(de)?;
    }
    Ok(rest)
}

/// `text` in at most `lines` lines of at most `width` characters, broken
/// after a `;` or a space where it can be; an ellipsis marks a cut.
fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let width = width.max(20);
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while !rest.is_empty() && out.len() < lines {
        if rest.len() <= width {
            out.push(rest.iter().collect());
            return out;
        }
        let last = out.len() + 1 == lines;
        let cut = if last {
            width - 1
        } else {
            let window = &rest[..width];
            window
                .iter()
                .rposition(|&c| c == ';')
                .map(|p| p + 1)
                .or_else(|| window.iter().rposition(|&c| c == ' '))
                .filter(|&p| p > width / 3)
                .unwrap_or(width)
        };
        let mut line: String = rest[..cut].iter().collect();
        if last {
            line.push('\u{2026}');
        }
        out.push(line.trim_end().to_owned());
        rest = rest[cut..]
            .iter()
            .skip_while(|c| **c == ' ')
            .copied()
            .collect();
    }
    out
}

/// The corner of the plot area `x` by `y` whose box (a third of each
/// side) holds the fewest of `points`, and how many it holds: where the
/// legend covers no data, or the least (upper right on a tie).
pub(crate) fn best_corner(
    points: impl IntoIterator<Item = (f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
) -> (SeriesLabelPosition, usize) {
    let mut n = [0usize; 4];
    let (w, h) = (
        (x.1 - x.0).max(f64::MIN_POSITIVE),
        (y.1 - y.0).max(f64::MIN_POSITIVE),
    );
    for (px, py) in points {
        let (fx, fy) = ((px - x.0) / w, (py - y.0) / h);
        let (left, right) = (fx <= 0.36, fx >= 0.64);
        let (low, high) = (fy <= 0.36, fy >= 0.64);
        for (i, hit) in [high && right, high && left, low && right, low && left]
            .into_iter()
            .enumerate()
        {
            n[i] += usize::from(hit);
        }
    }
    let corners = [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ];
    let best = (0..4).min_by_key(|&i| n[i]).unwrap_or(0);
    (corners[best].clone(), n[best])
}

/// A tick label: whole numbers without a decimal point and with thousands
/// separators (`3,000,000`, not `3000000.0`), others to 10 significant
/// digits (`0.3`, not `0.30000000000000004`).
pub(crate) fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = thousands(v.abs() as u64);
        return if v < 0.0 { format!("-{s}") } else { s };
    }
    let r: f64 = format!("{v:.9e}").parse().unwrap_or(v);
    format!("{r}")
}

/// [`tick_label`] as plotters' formatters take it.
pub(crate) fn tick(v: &f64) -> String {
    tick_label(*v)
}

/// The legend in corner `at` (see [`best_corner`]), the same on every kind.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(de)
}
