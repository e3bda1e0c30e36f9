//! `--kind splits`: rows per map task from the manifest, stacked as used,
//! filtered, missing, malformed and other (blank, header, non-finite): how
//! the data was spread over the workers and where the bad rows came from.
//! One colour per category, the same in the legend; headroom above the
//! tallest bar keeps the legend off the bars.

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ACCENT, BAD, BAR, MUTED, Options, de, header, legend, thousands};
use crate::answer::Reduced;

const OTHER: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

/// The stacked categories, bottom to top, and their colours.
const CATEGORIES: [(&str, RGBColor); 5] = [
    ("used", BAR),
    ("filtered", MUTED),
    ("missing", ACCENT),
    ("malformed", BAD),
    ("other", OTHER),
];

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Reduced,
    o: &Options,
) -> anyhow::Result<()> {
    let m = r
        .manifest
        .as_ref()
        .context("the splits plot needs the _mapfold.json manifest that `mapfold run` writes")?;
    let get = |c: &serde_json::Map<String, serde_json::Value>, k: &str| {
        c.get(k).and_then(|v| v.as_u64()).unwrap_or(0)
    };
    let rows: Vec<[u64; 5]> = m
        .splits
        .iter()
        .map(|s| {
            let mut r = [0u64; 5];
            for (slot, (name, _)) in r.iter_mut().zip(&CATEGORIES[..4]) {
                *slot = get(&s.counters, name);
            }
            r[4] = get(&s.counters, "lines_in").saturating_sub(r[..4].iter().sum());
            r
        })
        .collect();
    let files: std::collections::BTreeSet<&str> =
        m.splits.iter().map(|s| s.file.as_str()).collect();
    let total = |i: usize| rows.iter().map(|r| r[i]).sum::<u64>();
    let worst = m
        .splits
        .iter()
        .zip(&rows)
        .max_by_key(|(_, r)| r[3])
        .filter(|(_, r)| r[3] > 0)
        .map(|(s, r)| {
            let name = std::path::Path::new(&s.file)
                .file_name()
                .map_or(s.file.clone(), |n| n.to_string_lossy().into_owned());
            format!(
                "; most malformed: {} in {name} bytes {}..{}",
                thousands(r[3]),
                s.start,
                s.start + s.length
            )
        })
        .unwrap_or_default();
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("Rows per map task ({})", m.job_id));
    let note = format!(
        "{} over {}; used {}, filtered {}, missing {}, malformed {}, other {}{worst}",
        super::plural(rows.len(), "task"),
        super::plural(files.len(), "file"),
        thousands(total(0)),
        thousands(total(1)),
        thousands(total(2)),
        thousands(total(3)),
        thousands(total(4))
    );
    let area = header(root, r, &title, &note)?;
    let ymax = rows
        .iter()
        .map(|r| r.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.5;
    let n = rows.len().max(1);
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..ymax)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(n.min(30))
        .x_label_formatter(&|x| {
            if x.fract() == 0.0 && *x >= 0.0 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .x_desc("map task")
        .y_desc("lines")
        .y_label_formatter(&|v| thousands(v.max(0.0).round() as u64))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(de)?;
    for (cat, (name, colour)) in CATEGORIES.iter().enumerate() {
        let series = rows.iter().enumerate().map(move |(i, r)| {
            let below: u64 = r[..cat].iter().sum();
            let x = i as f64;
            Rectangle::new(
                [(x - 0.4, below as f64), (x + 0.4, (below + r[cat]) as f64)],
                colour.filled(),
            )
        });
        chart
            .draw_series(series)
            .map_err(de)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], colour.filled()));
    }
    // Stacks fill the lower two thirds (the axis reaches 1.5 times the
    // tallest): the upper right is free.
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
