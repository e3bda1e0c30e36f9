//! `--kind series`: a statistic per numeric key (a year, a day) as a line.
//!
//! For the mean, what a reader needs is how sure it is and how spread the
//! data are: the 95% confidence band of the mean (mean +- 1.96 sd / sqrt(n))
//! around the line, on an axis fitted to that band, and the +-1 sd spread
//! as a lighter band behind it (clipped to the axis, and the note says so).
//! For the median (the default when the job ran with `--quantiles`), the
//! bands are the data's own quantiles: the middle half (p25..p75) and the
//! middle 90% (p5..p95), both inside the axis.
//! The min..max range only on request (`--range`): extremes of thousands of
//! values dwarf everything else. Long series are decimated per pixel column
//! with M4, and the note says so.

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::decimate::m4;
use super::{BAR, Options, Stat, de, header, legend, measured, thousands, whole_tick};
use crate::answer::{Reduced, Row};

/// Columns of plot area that the line is decimated to.
fn columns(o: &Options) -> usize {
    (o.width.saturating_sub(140)).max(50) as usize
}

/// Lowest low and highest high per pixel column, as a band's edges.
fn band(points: &[(f64, f64, f64)], cols: usize) -> Vec<(f64, f64, f64)> {
    if points.len() <= 2 * cols {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let w = (x1 - x0).max(f64::MIN_POSITIVE);
    let mut out: Vec<(f64, f64, f64)> = Vec::with_capacity(cols);
    let mut last_col = usize::MAX;
    for &(x, lo, hi) in points {
        let c = (((x - x0) / w * cols as f64) as usize).min(cols - 1);
        match out.last_mut() {
            Some(b) if c == last_col => {
                b.1 = b.1.min(lo);
                b.2 = b.2.max(hi);
            }
            _ => out.push((x, lo, hi)),
        }
        last_col = c;
    }
    out
}

/// The bands of the mean of one key: (95% CI half-width, sd), when it has
/// at least two values.
fn spread(row: &Row) -> Option<(f64, f64)> {
    let (n, sd) = (row.stat("count")?, row.stat("stddev")?);
    (n >= 2.0 && sd.is_finite()).then(|| (1.96 * sd / n.sqrt(), sd))
}

/// Tick values of a log10 axis over `lo..hi` (in log10 units): 1, 2 and
/// 5 times each power of ten inside it, only the powers when those are
/// many, every digit when there would be fewer than three.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let pick = |digits: &[f64]| -> Vec<f64> {
        let (a, b) = (lo.floor() as i32, hi.ceil() as i32);
        (a..=b)
            .flat_map(|k| digits.iter().map(move |d| d * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(&v.log10()))
            .collect()
    };
    let ticks = pick(&[1.0, 2.0, 5.0]);
    if ticks.len() > 12 {
        pick(&[1.0])
    } else if ticks.len() < 3 {
        pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    } else {
        ticks
    }
}

/// A filled band between two edges, clamped to the axis so nothing is
/// drawn outside it.
fn polygon(b: &[(f64, f64, f64)], ya: &Axis, colour: RGBAColor) -> Polygon<(f64, f64)> {
    let clamp = |y: f64| y.clamp(ya.lo, ya.hi);
    let pts: Vec<(f64, f64)> = b
        .iter()
        .map(|p| (p.0, clamp(p.2)))
        .chain(b.iter().rev().map(|p| (p.0, clamp(p.1))))
        .collect();
    Polygon::new(pts, colour.filled())
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let time = r.time_keys();
    if !r.numeric_keys() && time.is_none() {
        bail!(
            "a series needs numeric keys (like years) or time buckets (month(date)); use --kind \
             bars for {:?}",
            r.key_name
        );
    }
    let which = o.stat_for(r);
    let stat = which.name();
    let key = |row: &Row| match time {
        Some(_) => super::time::position(&row.key),
        None => row.key.parse::<f64>().ok(),
    };
    // On a log axis a value is drawn as its log10; a value at or below
    // zero has none.
    let log = o.log_y;
    let y = |v: f64| {
        if log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    };
    let rows: Vec<(f64, &Row)> = r
        .rows
        .iter()
        .filter_map(|row| Some((key(row)?, row)))
        .collect();
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|(x, row)| Some((*x, y(row.stat(stat)?)?)))
        .collect();
    if pts.is_empty() {
        bail!("no key has a {stat}");
    }
    let mean = which == Stat::Mean;
    let median = which == Stat::Median;
    // (x, low, high) of each band, in data units, from a key's row and mean.
    type Edge<'a> = &'a dyn Fn(&Row, f64) -> Option<(f64, f64)>;
    let edges = |f: Edge<'_>| -> Vec<(f64, f64, f64)> {
        rows.iter()
            .filter_map(|(x, row)| {
                let m = row.stat("mean")?;
                let (lo, hi) = f(row, m)?;
                Some((*x, y(lo).unwrap_or(f64::NEG_INFINITY), y(hi)?))
            })
            .collect()
    };
    let ci = if mean {
        edges(&|row, m| spread(row).map(|(h, _)| (m - h, m + h)))
    } else {
        Vec::new()
    };
    let sd = if mean {
        edges(&|row, m| spread(row).map(|(_, s)| (m - s, m + s)))
    } else {
        Vec::new()
    };
    let range = if (mean || median) && o.range {
        edges(&|row, _| Some((row.stat("min")?, row.stat("max")?)))
    } else {
        Vec::new()
    };
    // The median's bands are the data's own quantiles: the middle half
    // (p25..p75) and the middle 90% (p5..p95).
    let quantiles = |lo: &str, hi: &str| -> Vec<(f64, f64, f64)> {
        rows.iter()
            .filter_map(|(x, row)| {
                let lo = y(row.quantile(lo)?).unwrap_or(f64::NEG_INFINITY);
                Some((*x, lo, y(row.quantile(hi)?)?))
            })
            .collect()
    };
    let (ci, sd) = if median {
        (quantiles("p25", "p75"), quantiles("p5", "p95"))
    } else {
        (ci, sd)
    };
    // The axis shows the line and its inner band (the mean's confidence
    // interval, the median's middle half; min..max when asked for). The
    // outer band is context, clipped to it, and so is the inner one when
    // it would flatten the line into a fifth of the axis (skewed data: a
    // p75 ten times the median).
    let xa = Axis::over(pts.iter().map(|p| p.0), 0.0, false);
    // Counts are amounts: their axis starts at zero, so heights compare.
    let count = which == Stat::Count && !log;
    let with_bands = Axis::over(
        pts.iter().map(|p| p.1).chain(
            ci.iter()
                .chain(&range)
                .flat_map(|b| [b.1, b.2])
                .chain(count.then_some(0.0)),
        ),
        0.05,
        count,
    );
    let line_only = Axis::over(
        pts.iter().map(|p| p.1).chain(count.then_some(0.0)),
        0.08,
        count,
    );
    let ya = if (line_only.hi - line_only.lo) * with_bands.scale
        < (with_bands.hi - with_bands.lo) * line_only.scale / 5.0
    {
        line_only
    } else {
        with_bands
    };
    let scale = |b: &[(f64, f64, f64)]| -> Vec<(f64, f64, f64)> {
        b.iter()
            .map(|p| (xa.at(p.0), ya.at(p.1), ya.at(p.2)))
            .collect()
    };
    let pts: Vec<(f64, f64)> = pts.iter().map(|p| (xa.at(p.0), ya.at(p.1))).collect();
    let cols = columns(o);
    let line = m4(&pts, cols);
    let (ci, sd, range) = (
        band(&scale(&ci), cols),
        band(&scale(&sd), cols),
        band(&scale(&range), cols),
    );
    // The legend in the corner the line and the inner band leave free;
    // when none is, above them, in headroom made for it.
    let drawn: Vec<(f64, f64)> = line
        .iter()
        .copied()
        .chain(ci.iter().flat_map(|b| [(b.0, b.1), (b.0, b.2)]))
        .collect();
    let mut ya = ya;
    let (mut corner, covered) =
        super::best_corner(drawn.iter().copied(), (xa.lo, xa.hi), (ya.lo, ya.hi));
    if covered > 0 {
        ya.hi += (ya.hi - ya.lo) * 0.3;
        corner = SeriesLabelPosition::UpperRight;
    }
    let clipped = |b: &[(f64, f64, f64)]| b.iter().any(|b| b.1 < ya.lo || b.2 > ya.hi);
    let (sd_clipped, ci_clipped) = (clipped(&sd), clipped(&ci));

    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} per {}", measured(which, r), r.key_name));
    let mut note = super::plural(r.rows.len(), "key");
    if pts.len() < r.rows.len() {
        note += &format!(
            " ({} without a {stat}, not drawn)",
            r.rows.len() - pts.len()
        );
    }
    if mean {
        note += "; dark band: 95% confidence interval of the mean; light band: \u{b1}1 sd";
    }
    if median {
        note +=
            "; dark band: middle half of the values (p25..p75); light band: middle 90% (p5..p95)";
    }
    if ci_clipped {
        note += "; both bands reach past the axis, which fits the line";
    } else if sd_clipped {
        note += "; the light band reaches past the axis";
    }
    if log {
        let dropped = r.rows.len() - pts.len();
        note += "; log scale";
        if dropped > 0 {
            note += &format!(" ({dropped} keys at or below 0 not drawn)");
        }
    }
    if !range.is_empty() {
        note += "; outline: min..max";
    }
    if line.len() < pts.len() {
        note += &format!(
            "; decimated {} points to {} per pixel column (M4)",
            thousands(pts.len() as u64),
            thousands(line.len() as u64)
        );
    }
    let area = header(root, r, &title, &note)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        // Room for the last tick label past the plot's right edge.
        .margin_right(if time.is_some() { 60 } else { 40 })
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)
        .map_err(de)?;
    let whole = rows.iter().all(|(x, _)| x.fract() == 0.0) && xa.unit().is_empty();
    let mut mesh = chart.configure_mesh();
    if log {
        // Drawn below at 1, 2 and 5 times the powers of ten.
        mesh.y_labels(0);
    } else if count && ya.unit().is_empty() {
        mesh.y_label_formatter(&whole_tick);
    } else {
        mesh.y_label_formatter(&super::tick);
    }
    let x_label = |x: &f64| match time {
        Some(unit) => super::time::label(*x, unit),
        None if !whole => super::tick_label(*x),
        // Years and other whole keys: no ticks between them, no `.0`.
        None if x.fract() == 0.0 => format!("{x:.0}"),
        None => String::new(),
    };
    let y_desc = if log {
        format!("{} (log scale)", measured(which, r))
    } else {
        format!("{}{}", measured(which, r), ya.unit())
    };
    mesh.x_desc(format!(
        "{}{}",
        r.key_name,
        if time.is_some() {
            String::new()
        } else {
            xa.unit()
        }
    ))
    .y_desc(y_desc)
    .label_style(("sans-serif", 14))
    .axis_desc_style(("sans-serif", 16))
    // A time axis is labelled below, at calendar boundaries.
    .x_labels(if time.is_some() {
        0
    } else {
        rows.len().clamp(2, 10)
    })
    .light_line_style(TRANSPARENT)
    .x_label_formatter(&x_label)
    .draw()
    .map_err(de)?;
    if time.is_some() {
        let base = area.get_base_pixel();
        let font = ("sans-serif", 14).into_font().color(&BLACK);
        for (x, label) in super::time::ticks(xa.lo, xa.hi) {
            chart
                .draw_series(LineSeries::new([(x, ya.lo), (x, ya.hi)], BLACK.mix(0.15)))
                .map_err(de)?;
            let (px, py) = chart.backend_coord(&(x, ya.lo));
            area.draw(&Text::new(
                label,
                (px - base.0, py - base.1 + 8),
                font.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(de)?;
        }
    }
    if log {
        let base = area.get_base_pixel();
        let font = ("sans-serif", 14).into_font().color(&BLACK);
        for v in log_ticks(ya.lo, ya.hi) {
            let ly = v.log10();
            chart
                .draw_series(LineSeries::new([(xa.lo, ly), (xa.hi, ly)], BLACK.mix(0.15)))
                .map_err(de)?;
            let (px, py) = chart.backend_coord(&(xa.lo, ly));
            area.draw(&Text::new(
                super::tick_label(v),
                (px - base.0 - 8, py - base.1),
                font.pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(de)?;
        }
    }
    if !sd.is_empty() {
        chart
            .draw_series(std::iter::once(polygon(&sd, &ya, BAR.mix(0.12))))
            .map_err(de)?
            .label(if median { "p5..p95" } else { "\u{b1}1 sd" })
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 24, y + 5)], BAR.mix(0.12).filled()));
    }
    if !ci.is_empty() {
        chart
            .draw_series(std::iter::once(polygon(&ci, &ya, BAR.mix(0.35))))
            .map_err(de)?
            .label(if median {
                "p25..p75"
            } else {
                "95% CI of the mean"
            })
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 24, y + 5)], BAR.mix(0.35).filled()));
    }
    if !range.is_empty() {
        let grey = RGBColor(0x88, 0x88, 0x88);
        for edge in [1, 2] {
            let pts = range
                .iter()
                .map(move |b| (b.0, if edge == 1 { b.1 } else { b.2 }));
            let s = chart
                .draw_series(LineSeries::new(pts, grey.stroke_width(1)))
                .map_err(de)?;
            if edge == 1 {
                s.label("min..max").legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], grey.stroke_width(1))
                });
            }
        }
    }
    chart
        .draw_series(LineSeries::new(line.clone(), BAR.stroke_width(2)))
        .map_err(de)?
        .label(stat)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BAR.stroke_width(2)));
    legend(&mut chart, corner)?;
    Ok(())
}
