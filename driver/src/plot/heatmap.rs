//! `--kind heatmap`: a 2-D histogram (`--hist2d`) as coloured cells, the
//! grids of all keys summed. Viridis (perceptually uniform, readable in
//! grey and by most colour-blind readers); empty cells stay white so "no
//! data" is not a colour. The scale is linear, logarithmic or equalised
//! (`--color-scale`), with a colour bar in counts, and the note states the
//! pairs outside the grid and with a NaN.

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ColorScale, Options, de, header, thousands};
use crate::answer::Reduced;

struct Grid {
    x: (String, f64, f64, usize),
    y: (String, f64, f64, usize),
    /// counts[i][j]: X bin i, Y bin j.
    counts: Vec<Vec<u64>>,
    outside: u64,
    nan: u64,
}

fn axis(h: &serde_json::Value, name: &str) -> anyhow::Result<(String, f64, f64, usize)> {
    let a = &h[name];
    Ok((
        a["column"].as_str().unwrap_or(name).to_owned(),
        a["lo"].as_f64().context("hist2d lo")?,
        a["hi"].as_f64().context("hist2d hi")?,
        a["bins"].as_u64().context("hist2d bins")? as usize,
    ))
}

/// The 2-D histograms of all rows, summed (all share one grid).
fn collect(r: &Reduced) -> anyhow::Result<Grid> {
    let mut acc: Option<Grid> = None;
    for row in &r.rows {
        let Some(h) = row.v.get("hist2d") else {
            continue;
        };
        let counts: Vec<Vec<u64>> =
            serde_json::from_value(h["counts"].clone()).context("hist2d counts")?;
        let g = Grid {
            x: axis(h, "x")?,
            y: axis(h, "y")?,
            counts,
            outside: h["outside"].as_u64().unwrap_or(0),
            nan: h["nan"].as_u64().unwrap_or(0),
        };
        match &mut acc {
            None => acc = Some(g),
            Some(a) => {
                if a.x != g.x || a.y != g.y {
                    bail!("keys have different 2-D grids; plot one key's output at a time");
                }
                for (ra, rb) in a.counts.iter_mut().zip(&g.counts) {
                    for (x, y) in ra.iter_mut().zip(rb) {
                        *x += y;
                    }
                }
                a.outside += g.outside;
                a.nan += g.nan;
            }
        }
    }
    acc.context("this output has no 2-D histogram: run the job with --hist2d X=LO:HI:N,Y=LO:HI:M")
}

/// A count's position on the colour scale, in [0, 1].
fn shade(scale: ColorScale, c: u64, max: u64, sorted: &[u64]) -> f64 {
    let max = max.max(1) as f64;
    match scale {
        ColorScale::Linear => c as f64 / max,
        ColorScale::Log => (c as f64).ln_1p() / max.ln_1p(),
        // The fraction of non-empty cells with a smaller count.
        ColorScale::Equalized => {
            sorted.partition_point(|&x| x < c) as f64 / sorted.len().max(1) as f64
        }
    }
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let g = collect(r)?;
    let inside: u64 = g.counts.iter().flatten().sum();
    let max = g.counts.iter().flatten().copied().max().unwrap_or(0);
    let mut sorted: Vec<u64> = g
        .counts
        .iter()
        .flatten()
        .copied()
        .filter(|&c| c > 0)
        .collect();
    sorted.sort_unstable();
    let scale = o.color_scale;
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} by {}", g.y.0, g.x.0));
    let note = format!(
        "n = {}    in the grid {}    outside it {}    nan {}    colour: {} count; white: none",
        thousands(inside + g.outside + g.nan),
        thousands(inside),
        thousands(g.outside),
        thousands(g.nan),
        scale.name()
    );
    let area = header(root, r, &title, &note)?;
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(140));
    let (xa, ya) = ((g.x.1, g.x.2, g.x.3), (g.y.1, g.y.2, g.y.3));
    let mut chart = ChartBuilder::on(&main)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(xa.0..xa.1, ya.0..ya.1)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(g.x.0.as_str())
        .y_desc(g.y.0.as_str())
        .x_label_formatter(&super::tick)
        .y_label_formatter(&super::tick)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(de)?;
    let (dx, dy) = ((xa.1 - xa.0) / xa.2 as f64, (ya.1 - ya.0) / ya.2 as f64);
    chart
        .draw_series(g.counts.iter().enumerate().flat_map(|(i, row)| {
            let sorted = &sorted;
            row.iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(move |(j, &c)| {
                    let (x0, y0) = (xa.0 + dx * i as f64, ya.0 + dy * j as f64);
                    let colour = ViridisRGB::get_color(shade(scale, c, max, sorted));
                    Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], colour.filled())
                })
        }))
        .map_err(de)?;
    colour_bar(&bar, scale, max, &sorted)
}

/// Round counts up to `max` for the colour bar's labels: 1-2-5 steps
/// from 0 (linear), powers of ten from 1 with 2 and 5 between when few
/// (log, equalised).
fn bar_ticks(scale: ColorScale, max: u64, sorted: &[u64]) -> Vec<u64> {
    let max = max.max(1);
    match scale {
        ColorScale::Linear => {
            let raw = max as f64 / 5.0;
            let mag = 10f64.powi(raw.log10().floor() as i32);
            let step = [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| *s >= raw)
                .unwrap_or(mag * 10.0)
                .max(1.0) as u64;
            (0..=max / step).map(|k| k * step).collect()
        }
        ColorScale::Log | ColorScale::Equalized => {
            let lo = sorted.first().copied().unwrap_or(1).max(1);
            let pick = |digits: &[u64]| -> Vec<u64> {
                let mut out = Vec::new();
                let mut p = 1u64;
                while p <= max {
                    for d in digits {
                        let v = p.saturating_mul(*d);
                        if (lo..=max).contains(&v) {
                            out.push(v);
                        }
                    }
                    p = p.saturating_mul(10);
                }
                out
            };
            let ticks = pick(&[1]);
            if ticks.len() < 3 {
                pick(&[1, 2, 5])
            } else {
                ticks
            }
        }
    }
}

/// The colour scale as a bar, labelled in counts.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: ColorScale,
    max: u64,
    sorted: &[u64],
) -> anyhow::Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(16)
        .margin_bottom(64)
        .margin_right(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc("count")
        .axis_desc_style(("sans-serif", 14))
        .y_labels(0)
        .draw()
        .map_err(de)?;
    // Round counts (1-2-5 steps; powers of ten on a log scale, never 0
    // there), each where its colour is, clear of the bar.
    let base = area.get_base_pixel();
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    for c in bar_ticks(scale, max, sorted) {
        let t = shade(scale, c, max, sorted);
        let (px, py) = chart.backend_coord(&(0.0, t));
        area.draw(&Text::new(
            thousands(c),
            (px - base.0 - 8, py - base.1),
            font.pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(de)?;
    }
    chart
        .draw_series((0..100).map(|k| {
            let t = f64::from(k) / 100.0;
            Rectangle::new(
                [(0.0, t), (1.0, t + 0.01)],
                ViridisRGB::get_color(t).filled(),
            )
        }))
        .map_err(de)?;
    Ok(())
}
