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
    // Every quantile the job asked for, in order.
    let marks: Vec<(String, f64)> = match r.rows.as_slice() {
        [row] => row
            .v
            .get("quantiles")
            .and_then(|q| q.as_object())
            .map(|q| {
                q.iter()
                    .filter_map(|(name, v)| {
                        let label = match name.as_str() {
                            "p50" => "median".to_owned(),
                            n => n.replace('_', "."),
                        };
                        Some((label, v.as_f64()?))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if !marks.is_empty() {
        let said: Vec<String> = marks
            .iter()
            .map(|(l, x)| format!("{l} {}", short(*x)))
            .collect();
        note += &format!("    {}", said.join(", "));
    }
    let area = header(root, r, &title, &note)?;
    let (y0, y1) = if o.log_y {
        (y_of(0.0, true), y_of(ymax.max(1.0), true) + 0.2)
    } else {
        (0.0, ymax.max(1.0) * 1.05)
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .margin_right(40)
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
        .axis_desc_style(("sans-serif", 16))
        .x_label_formatter(&super::tick);
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
    // The quantiles of one group, as marks over the bars (within range);
    // labels on two rows where neighbours would touch.
    let dark = RGBColor(0x33, 0x33, 0x33);
    let mut last_x = f64::NEG_INFINITY;
    let mut row_of_label = 0;
    for (label, x) in marks.iter().filter(|(_, x)| (b.lo..=b.hi).contains(x)) {
        let median = label == "median";
        let style = if median {
            dark.stroke_width(2)
        } else {
            dark.mix(0.55).stroke_width(1)
        };
        row_of_label = if (x - last_x) < (b.hi - b.lo) * 0.06 {
            1 - row_of_label
        } else {
            0
        };
        last_x = *x;
        let at = y1 - (y1 - y0) * 0.06 * f64::from(row_of_label);
        chart
            .draw_series(LineSeries::new(
                [(*x, y0), (*x, at - (y1 - y0) * 0.05)],
                style,
            ))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (*x, at),
                ("sans-serif", 13)
                    .into_font()
                    .color(&dark)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )))
            .map_err(de)?;
    }
    // Quantiles past the bins: named at the edge they lie beyond.
    let (mut left, mut right) = (0, 0);
    for (label, x) in &marks {
        let (edge, pos, arrow, k) = if *x > b.hi {
            right += 1;
            (
                b.hi,
                HPos::Right,
                format!("{label} {} \u{2192}", short(*x)),
                right,
            )
        } else if *x < b.lo {
            left += 1;
            (
                b.lo,
                HPos::Left,
                format!("\u{2190} {label} {}", short(*x)),
                left,
            )
        } else {
            continue;
        };
        let at = y1 - (y1 - y0) * 0.06 * f64::from(k);
        chart
            .draw_series(std::iter::once(Text::new(
                arrow,
                (edge, at),
                ("sans-serif", 13)
                    .into_font()
                    .color(&dark)
                    .pos(Pos::new(pos, VPos::Top)),
            )))
            .map_err(de)?;
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
        let curve = (0..=40).map(|i| {
            let x = b.lo + (b.hi - b.lo) * f64::from(i) / 40.0;
            (x, y_of(density(x, f), o.log_y))
        });
        let bars = b
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| (b.lo + width * (i as f64 + 0.5), y_of(c as f64, o.log_y)));
        legend(
            &mut chart,
            super::best_corner(curve.chain(bars), (b.lo, b.hi), (y0, y1)).0,
        )?;
    }
    Ok(())
}
