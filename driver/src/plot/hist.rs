//! `--kind hist`: one bar per bin, edges on the x axis; the underflow,
//! overflow and nan counts stated in the note, never dropped; the group's
//! quantiles as labelled marks when the job computed them; an optional
//! normal density with the job's mean and stddev, scaled to counts.

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::short;
use super::{ACCENT, BAR, Options, de, header, legend, log_tick, thousands, y_of};
use crate::answer::Reduced;

struct Bins {
    lo: f64,
    hi: f64,
    counts: Vec<u64>,
    underflow: u64,
    overflow: u64,
    nan: u64,
}

/// The histogram of all rows, bins summed (all rows share one layout).
fn collect(r: &Reduced) -> anyhow::Result<Bins> {
    let mut acc: Option<Bins> = None;
    for row in &r.rows {
        let Some(h) = row.v.get("hist") else { continue };
        let num = |k: &str| {
            h[k].as_f64()
                .with_context(|| format!("hist.{k} of key {:?}", row.key))
        };
        let counts: Vec<u64> = h["bins"]
            .as_array()
            .context("hist.bins")?
            .iter()
            .map(|c| c.as_u64().context("a bin count"))
            .collect::<anyhow::Result<_>>()?;
        let b = Bins {
            lo: num("lo")?,
            hi: num("hi")?,
            underflow: h["underflow"].as_u64().unwrap_or(0),
            overflow: h["overflow"].as_u64().unwrap_or(0),
            nan: h["nan"].as_u64().unwrap_or(0),
            counts,
        };
        match &mut acc {
            None => acc = Some(b),
            Some(a) => {
                if a.lo != b.lo || a.hi != b.hi || a.counts.len() != b.counts.len() {
                    bail!("keys have different histogram edges; plot one key's output at a time");
                }
                for (x, y) in a.counts.iter_mut().zip(&b.counts) {
                    *x += y;
                }
                a.underflow += b.underflow;
                a.overflow += b.overflow;
                a.nan += b.nan;
            }
        }
    }
    acc.context("this output has no histogram: run the job with --hist LO:HI:BINS")
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let b = collect(r)?;
    let in_range: u64 = b.counts.iter().sum();
    let n = in_range + b.underflow + b.overflow + b.nan;
    let width = (b.hi - b.lo) / b.counts.len() as f64;
    let fit = if o.fit_normal {
        match r.rows.as_slice() {
            [row] => match (row.stat("mean"), row.stat("stddev"), row.stat("count")) {
                (Some(m), Some(s), Some(c)) if s > 0.0 => Some((m, s, c)),
                _ => bail!("--fit normal needs a mean and a stddev (at least 2 values)"),
            },
            _ => bail!(
                "--fit normal needs one group; this output has {} keys",
                r.rows.len()
            ),
        }
    } else {
        None
    };
    let density = |x: f64, (m, s, c): (f64, f64, f64)| {
        c * width * (-0.5 * ((x - m) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
    };
    let mut ymax = b.counts.iter().copied().max().unwrap_or(0) as f64;
    if let Some(f) = fit {
        ymax = ymax.max(density(f.0, f));
    }
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("Histogram of {}", r.value_name));
    let mut note = format!(
        "n = {}    in range {}    underflow (< {}) {}    overflow (> {}) {}    nan {}",
        thousands(n),
        thousands(in_range),
        b.lo,
        thousands(b.underflow),
        b.hi,
        thousands(b.overflow),
        thousands(b.nan)
    );
    if let [row] = r.rows.as_slice()
        && let (Some(m), Some(lo), Some(hi)) =
            (row.quantile("p50"), row.quantile("p5"), row.quantile("p95"))
    {
        note += &format!(
            "    median {}, middle 90% {} .. {}",
            short(m),
            short(lo),
            short(hi)
        );
    }
    let area = header(root, r, &title, &note)?;
    let (y0, y1) = if o.log_y {
        (y_of(0.0, true), y_of(ymax.max(1.0), true) + 0.2)
    } else {
        (0.0, ymax.max(1.0) * 1.05)
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(b.lo..b.hi, y0..y1)
        .map_err(de)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(r.value_name.as_str())
        .y_desc(if o.log_y {
            "count (log scale)"
        } else {
            "count"
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16));
    let count_tick = |v: &f64| thousands(v.max(0.0).round() as u64);
    if o.log_y {
        mesh.y_label_formatter(&log_tick);
    } else {
        mesh.y_label_formatter(&count_tick);
    }
    mesh.draw().map_err(de)?;
    chart
        .draw_series(b.counts.iter().enumerate().map(|(i, &c)| {
            let x0 = b.lo + width * i as f64;
            let top = if c == 0 { y0 } else { y_of(c as f64, o.log_y) };
            Rectangle::new([(x0, y0), (x0 + width, top)], BAR.filled())
        }))
        .map_err(de)?;
    // The quantiles of one group, as marks over the bars (within range).
    if let [row] = r.rows.as_slice() {
        let dark = RGBColor(0x33, 0x33, 0x33);
        for (name, label) in [
            ("p5", "p5"),
            ("p25", "p25"),
            ("p50", "median"),
            ("p75", "p75"),
            ("p95", "p95"),
        ] {
            let Some(x) = row.quantile(name).filter(|x| (b.lo..=b.hi).contains(x)) else {
                continue;
            };
            let style = if name == "p50" {
                dark.stroke_width(2)
            } else {
                dark.mix(0.55).stroke_width(1)
            };
            chart
                .draw_series(LineSeries::new([(x, y0), (x, y1 * 0.95)], style))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (x, y1),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&dark)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                )))
                .map_err(de)?;
        }
    }
    if let Some(f) = fit {
        // On a log axis the density is drawn only where it is above the
        // axis floor (half a count): below it a clamped curve would be a
        // flat line along the bottom that means nothing.
        let floor = if o.log_y { 0.5 } else { f64::NEG_INFINITY };
        let pts: Vec<(f64, f64)> = (0..=400)
            .map(|i| b.lo + (b.hi - b.lo) * f64::from(i) / 400.0)
            .filter(|&x| density(x, f) >= floor)
            .map(|x| (x, y_of(density(x, f), o.log_y)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, ACCENT.stroke_width(3)))
            .map_err(de)?
            .label(format!("normal fit: mean {:.4}, sd {:.4}", f.0, f.1))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], ACCENT.stroke_width(3)));
        legend(&mut chart)?;
    }
    Ok(())
}
