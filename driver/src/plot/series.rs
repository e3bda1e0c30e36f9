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
    if !r.numeric_keys() {
        bail!(
            "a series needs numeric keys (like years); use --kind bars for {:?}",
            r.key_name
        );
    }
    let which = o.stat_for(r);
    let stat = which.name();
    let key = |row: &Row| row.key.parse::<f64>().ok();
    let rows: Vec<(f64, &Row)> = r
        .rows
        .iter()
        .filter_map(|row| Some((key(row)?, row)))
        .collect();
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|(x, row)| Some((*x, row.stat(stat)?)))
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
                Some((*x, lo, hi))
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
            .filter_map(|(x, row)| Some((*x, row.quantile(lo)?, row.quantile(hi)?)))
            .collect()
    };
    let (ci, sd) = if median {
        (quantiles("p25", "p75"), quantiles("p5", "p95"))
    } else {
        (ci, sd)
    };
    // The axis shows the line and its confidence band (and min..max when
    // asked for); the sd band is context, clipped to it.
    let xa = Axis::over(pts.iter().map(|p| p.0), 0.0, false);
    // The median's outer band is data, not a model's spread: shown whole.
    let outer: &[(f64, f64, f64)] = if median { &sd } else { &[] };
    // Counts are amounts: their axis starts at zero, so heights compare.
    let count = which == Stat::Count;
    let ya = Axis::over(
        pts.iter().map(|p| p.1).chain(
            ci.iter()
                .chain(&range)
                .chain(outer)
                .flat_map(|b| [b.1, b.2])
                .chain(count.then_some(0.0)),
        ),
        0.05,
        count,
    );
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
    let sd_clipped = sd.iter().any(|b| b.1 < ya.lo || b.2 > ya.hi);

    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} per {}", measured(which, r), r.key_name));
    let mut note = format!("{} keys", thousands(r.rows.len() as u64));
    if pts.len() < r.rows.len() {
        note += &format!(
            " ({} without a {stat}, not drawn)",
            r.rows.len() - pts.len()
        );
    }
    if mean {
        note += "; dark band: 95% confidence interval of the mean; light band: \u{b1}1 sd";
        if sd_clipped {
            note += " (wider than the axis)";
        }
    }
    if median {
        note +=
            "; dark band: middle half of the values (p25..p75); light band: middle 90% (p5..p95)";
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
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)
        .map_err(de)?;
    let whole = rows.iter().all(|(x, _)| x.fract() == 0.0) && xa.unit().is_empty();
    let mut mesh = chart.configure_mesh();
    if count && ya.unit().is_empty() {
        mesh.y_label_formatter(&whole_tick);
    }
    mesh.x_desc(format!("{}{}", r.key_name, xa.unit()))
        .y_desc(format!("{}{}", measured(which, r), ya.unit()))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .x_labels(rows.len().clamp(2, 12))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|x| {
            if !whole {
                format!("{x}")
            } else if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(de)?;
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
        .draw_series(LineSeries::new(line, BAR.stroke_width(2)))
        .map_err(de)?
        .label(stat)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BAR.stroke_width(2)));
    legend(&mut chart)?;
    Ok(())
}
