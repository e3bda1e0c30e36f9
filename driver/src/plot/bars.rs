//! `--kind bars`: one bar per key, by key or by value; past `--top N` keys,
//! the top N by value and one "other" bar for the rest.

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Axis;
use super::data::Reduced;
use super::{BAR, MUTED, Options, SortBy, Stat, de, header, thousands};

/// The "other" bar: the statistic over the keys left out, where it has one.
fn other(stat: Stat, rest: &[&super::data::Row]) -> Option<f64> {
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
        Stat::Stddev => None,
    }
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let stat = o.stat.name();
    let mut rows: Vec<&super::data::Row> = r
        .rows
        .iter()
        .filter(|row| row.stat(stat).is_some())
        .collect();
    if rows.is_empty() {
        bail!("no key has a {stat}");
    }
    let total = rows.len();
    let mut rest = Vec::new();
    if rows.len() > o.top {
        rows.sort_by(|a, b| {
            b.stat(stat)
                .unwrap_or(0.0)
                .total_cmp(&a.stat(stat).unwrap_or(0.0))
        });
        rest = rows.split_off(o.top);
        if o.sort == SortBy::Key {
            let order = |k: &str| r.rows.iter().position(|x| x.key == k);
            rows.sort_by_key(|row| order(&row.key));
        }
    } else if o.sort == SortBy::Value {
        rows.sort_by(|a, b| {
            b.stat(stat)
                .unwrap_or(0.0)
                .total_cmp(&a.stat(stat).unwrap_or(0.0))
        });
    }
    let mut bars: Vec<(String, f64, bool)> = rows
        .iter()
        .map(|row| (row.key.clone(), row.stat(stat).unwrap_or(0.0), false))
        .collect();
    let other_value = other(o.stat, &rest);
    if let Some(v) = other_value {
        bars.push((format!("other ({})", rest.len()), v, true));
    }
    // Bars start at zero, so zero is always on the axis.
    let ya = Axis::over(bars.iter().map(|b| b.1).chain([0.0]), 0.05, true);
    for b in &mut bars {
        b.1 = ya.at(b.1);
    }
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} of {} per {}", stat, r.value_name, r.key_name));
    let mut note = format!("{} keys", thousands(total as u64));
    if !rest.is_empty() {
        note += &format!("; top {} by {stat}", o.top);
        note += &match other_value {
            Some(_) => format!(
                ", \"other\" is the {stat} over the remaining {}",
                thousands(rest.len() as u64)
            ),
            None => format!(
                ", {} more not drawn ({stat} has no combined value)",
                thousands(rest.len() as u64)
            ),
        };
    }
    let area = header(root, r, &title, &note)?;
    let n = bars.len();
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(64)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, ya.lo..ya.hi)
        .map_err(de)?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(40))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(r.key_name.as_str())
        .y_desc(format!("{stat} of {}{}", r.value_name, ya.unit()))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(de)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, b.1)],
                if b.2 { MUTED.filled() } else { BAR.filled() },
            )
        }))
        .map_err(de)?;
    Ok(())
}
