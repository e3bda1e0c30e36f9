//! `--kind series`: a statistic per numeric key (a year, a day) as a line,
//! with the min..max range as a shaded band when the mean is drawn. Long
//! series are decimated per pixel column with M4, and the note says so.

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Axis;
use super::data::Reduced;
use super::decimate::m4;
use super::{BAR, Options, Stat, de, header, legend, thousands};

/// Columns of plot area that the line is decimated to.
fn columns(o: &Options) -> usize {
    (o.width.saturating_sub(140)).max(50) as usize
}

/// Lowest min and highest max per pixel column, as the band's edges.
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
    let stat = o.stat.name();
    let pts: Vec<(f64, f64)> = r
        .rows
        .iter()
        .filter_map(|row| Some((row.key.parse::<f64>().ok()?, row.stat(stat)?)))
        .collect();
    if pts.is_empty() {
        bail!("no key has a {stat}");
    }
    let ranges: Vec<(f64, f64, f64)> = if o.stat == Stat::Mean {
        r.rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.key.parse::<f64>().ok()?,
                    row.stat("min")?,
                    row.stat("max")?,
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    // Every number in axis units first, so nothing below overflows.
    let xa = Axis::over(pts.iter().map(|p| p.0), 0.0, false);
    let ya = Axis::over(
        pts.iter()
            .map(|p| p.1)
            .chain(ranges.iter().flat_map(|b| [b.1, b.2])),
        0.05,
        false,
    );
    let pts: Vec<(f64, f64)> = pts.iter().map(|p| (xa.at(p.0), ya.at(p.1))).collect();
    let ranges: Vec<(f64, f64, f64)> = ranges
        .iter()
        .map(|b| (xa.at(b.0), ya.at(b.1), ya.at(b.2)))
        .collect();
    let cols = columns(o);
    let line = m4(&pts, cols);
    let band = band(&ranges, cols);
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} of {} per {}", stat, r.value_name, r.key_name));
    let mut note = format!("{} keys", thousands(r.rows.len() as u64));
    if pts.len() < r.rows.len() {
        note += &format!(
            " ({} without a {stat}, not drawn)",
            r.rows.len() - pts.len()
        );
    }
    note += &format!("; line: {stat}");
    if !band.is_empty() {
        note += "; band: min..max";
    }
    if line.len() < pts.len() {
        note += &format!(
            "; decimated {} points to {} (first, last, min, max per pixel column)",
            thousands(pts.len() as u64),
            thousands(line.len() as u64)
        );
    }
    let area = header(root, r, &title, &note)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc(format!("{}{}", r.key_name, xa.unit()))
        .y_desc(format!("{stat} of {}{}", r.value_name, ya.unit()))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .x_label_formatter(&|x| {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        })
        .draw()
        .map_err(de)?;
    if !band.is_empty() {
        let poly: Vec<(f64, f64)> = band
            .iter()
            .map(|b| (b.0, b.2))
            .chain(band.iter().rev().map(|b| (b.0, b.1)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(poly, BAR.mix(0.18).filled())))
            .map_err(de)?
            .label("min..max")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 24, y + 5)], BAR.mix(0.18).filled()));
    }
    chart
        .draw_series(LineSeries::new(line, BAR.stroke_width(2)))
        .map_err(de)?
        .label(stat)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BAR.stroke_width(2)));
    legend(&mut chart)?;
    Ok(())
}
