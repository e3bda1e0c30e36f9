//! `--kind bars`: one horizontal bar per key, by key or by value; past
//! `--top N` keys, the top N by value, and the note says what the rest
//! hold (a bar for them would dwarf the ones shown: the sum of 280 keys
//! beside the top 20).
//!
//! Horizontal, so key labels of any length read left to right without
//! overlapping (cut with an ellipsis past 28 characters); each bar says
//! how many rows it stands on.

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::{BAR, Options, SortBy, Stat, de, header, measured, thousands, whole_tick};
use crate::answer::{Reduced, Row};

/// The longest key label drawn, in characters.
const LABEL: usize = 28;

/// The statistic over the keys left out, where it has one.
fn other(stat: Stat, rest: &[&Row]) -> Option<f64> {
    let sum = |k: &str| rest.iter().filter_map(|r| r.stat(k)).sum::<f64>();
    match stat {
        Stat::Count => Some(sum("count")),
        Stat::Sum => Some(sum("sum")),
        Stat::Mean => {
            let n = sum("count");
            (n > 0.0).then(|| sum("sum") / n)
        }
        Stat::Min => rest.iter().filter_map(|r| r.stat("min")).reduce(f64::min),
        Stat::Max => rest.iter().filter_map(|r| r.stat("max")).reduce(f64::max),
        // Neither combines from the keys' own values.
        Stat::Stddev | Stat::Median => None,
    }
}

/// One bar: label, value, rows behind it.
struct Bar {
    label: String,
    value: f64,
    n: u64,
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let which = o.stat_for(r);
    let stat = which.name();
    let mut rows: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| row.stat(stat).is_some())
        .collect();
    if rows.is_empty() {
        bail!("no key has a {stat}");
    }
    let total = rows.len();
    let by_value = |a: &&Row, b: &&Row| {
        b.stat(stat)
            .unwrap_or(0.0)
            .total_cmp(&a.stat(stat).unwrap_or(0.0))
    };
    let mut rest = Vec::new();
    if rows.len() > o.top {
        rows.sort_by(by_value);
        rest = rows.split_off(o.top);
        if o.sort == SortBy::Key {
            rows.sort_by(|a, b| crate::answer::key_order(&a.key, &b.key));
        }
    } else if o.sort == SortBy::Value {
        rows.sort_by(by_value);
    }
    let n_of = |row: &Row| {
        let c = |k: &str| row.stat(k).unwrap_or(0.0) as u64;
        c("count") + c("nonfinite") + c("missing")
    };
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| Bar {
            label: row.label(LABEL),
            value: row.stat(stat).unwrap_or(0.0),
            n: n_of(row),
        })
        .collect();
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} per {}", measured(which, r), r.key_name));
    let mut note = format!("{}; n = rows per bar", super::plural(total, "key"));
    if !rest.is_empty() {
        let left = thousands(rest.len() as u64);
        note += &format!("; top {} by {stat}; the other {left} keys", o.top);
        note += &match other(which, &rest) {
            Some(v) if which == Stat::Count || which == Stat::Sum => {
                format!(" hold {stat} {} (not drawn)", super::tick_label(v))
            }
            Some(v) => format!(" have {stat} {} together (not drawn)", super::tick_label(v)),
            None => " are not drawn".to_owned(),
        };
    }
    let area = header(root, r, &title, &note)?;
    // Bars start at zero; room on the right for the n labels.
    let xa = Axis::over(bars.iter().map(|b| b.value).chain([0.0]), 0.18, true);
    let n = bars.len();
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size((longest * 8 + 16).clamp(60, 260))
        .build_cartesian_2d(xa.lo..xa.hi, -0.5f64..n as f64 - 0.5)
        .map_err(de)?;
    // Top to bottom in order: bar i sits at y = n - 1 - i.
    let labels: Vec<String> = bars.iter().rev().map(|b| b.label.clone()).collect();
    let mut mesh = chart.configure_mesh();
    if which == Stat::Count && xa.unit().is_empty() {
        mesh.x_label_formatter(&whole_tick);
    } else {
        mesh.x_label_formatter(&super::tick);
    }
    mesh.disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(n.max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(format!("{}{}", measured(which, r), xa.unit()))
        .y_desc(r.key_name.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(de)?;
    let y = |i: usize| (n - 1 - i) as f64;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Rectangle::new(
                [(0.0, y(i) - 0.38), (xa.at(b.value), y(i) + 0.38)],
                BAR.filled(),
            )
        }))
        .map_err(de)?;
    let small = ("sans-serif", 12)
        .into_font()
        .color(&RGBColor(0x44, 0x44, 0x44));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let at = xa.at(b.value).max(0.0);
            Text::new(
                format!(" n={}", thousands(b.n)),
                (at, y(i)),
                small.pos(Pos::new(HPos::Left, VPos::Center)),
            )
        }))
        .map_err(de)?;
    Ok(())
}
