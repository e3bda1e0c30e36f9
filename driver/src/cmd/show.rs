//! `mapfold show`: a job's answer as a table in the terminal, or exported
//! as a flat table (CSV, TSV, JSON lines, Parquet) for pandas, DuckDB and
//! spreadsheets. The part files stay as they are: they are the Hadoop
//! contract; this reads them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::answer::Reduced;
use crate::table::{Cell, Kind, Table};

/// Show a job's answer: one row per key, its statistics as columns.
///
/// In the terminal, numbers are shown to 7 significant digits (every digit
/// with --format), quantiles with the digits their bound supports, and
/// estimated distinct counts marked `~`, to their standard error.
/// Histogram bins are columns of their own, named by their edges
/// (`hist[-5,-4.9)`): shown when named with --columns, and in every
/// export.
///
/// Examples:
///   mapfold show out/by-year
///   mapfold show out/pages --top 20 --by sum
///   mapfold show out/by-year --format parquet -o by-year.parquet
#[derive(clap::Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A job's output directory.
    pub output_dir: PathBuf,
    /// Only the N keys with the largest --by (default: count).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// The column to rank by, for --top (a name as shown: sum, mean, p50,
    /// temp.mean); alone, sorts every key by it.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// Smallest first (with --top or --by).
    #[arg(long)]
    pub asc: bool,
    /// The columns to show, besides the keys: names or patterns, comma
    /// separated (`mean,p50`, `'hist*'`, `'temp.*'`).
    #[arg(long, value_name = "LIST")]
    pub columns: Option<String>,
    /// `table` for the terminal; `csv`, `tsv`, `jsonl` or `parquet` for a
    /// flat table with every column and every digit.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of standard output (needed for parquet
    /// on a terminal).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// How the table is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Tsv,
    Jsonl,
    Parquet,
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let r = Reduced::load(&a.output_dir)?;
    let mut t = Table::of(&r);
    let by = match (&a.by, a.top) {
        (Some(b), _) => Some(t.find(b).map_err(anyhow::Error::msg)?),
        (None, Some(_)) => Some(t.find("count").map_err(|why| {
            anyhow::anyhow!("--top ranks by count unless --by names a column: {why}")
        })?),
        (None, None) => None,
    };
    let picked = match &a.columns {
        Some(list) => Some(pick(&t, list)?),
        None => None,
    };
    if let Some(by) = by {
        t.top(by, a.asc, a.top);
    }
    if let Some(js) = &picked {
        t.select(js);
    }
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match a.format {
        Format::Table => {
            let width = terminal_width(a.out.is_none());
            render(&mut out, &t, &r, picked.is_some(), width, None)?;
        }
        Format::Csv => crate::export::delimited(&mut out, &t, b',')?,
        Format::Tsv => crate::export::delimited(&mut out, &t, b'\t')?,
        Format::Jsonl => crate::export::jsonl(&mut out, &t)?,
        Format::Parquet => {
            if a.out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                bail!("--format parquet writes binary: give -o FILE.parquet (or redirect)");
            }
            crate::export::parquet(&mut out, &t)?;
        }
    }
    out.flush().context("writing the table")?;
    Ok(())
}

/// The columns `list` names, in its order: each item a name (as
/// [`Table::find`] takes it) or a `*` pattern over the full names.
fn pick(t: &Table, list: &str) -> anyhow::Result<Vec<usize>> {
    let mut js = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.contains(['*', '?']) {
            let pat = glob::Pattern::new(&item.replace('[', "[[]"))
                .with_context(|| format!("--columns {item}: not a pattern"))?;
            let hits: Vec<usize> = (0..t.columns.len())
                .filter(|&j| !t.columns[j].key && pat.matches(&t.columns[j].name))
                .collect();
            if hits.is_empty() {
                bail!(
                    "--columns {item}: matches no column; the columns are {}",
                    t.names_summary()
                );
            }
            js.extend(hits);
        } else {
            js.push(
                t.find(item)
                    .map_err(|why| anyhow::anyhow!("--columns: {why}"))?,
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    js.retain(|j| seen.insert(*j));
    Ok(js)
}

/// The terminal's width: `$COLUMNS`, else 120 on a terminal, else none.
fn terminal_width(stdout: bool) -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(n);
    }
    (stdout && std::io::IsTerminal::is_terminal(&std::io::stdout())).then_some(120)
}

/// Prints the first `rows` keys of the answer in `dir` (all with `None`),
/// and how to see the rest: what `mapfold run` ends with.
pub fn print_head(dir: &Path, rows: usize) -> anyhow::Result<()> {
    let (r, total) = Reduced::head(dir, rows)?;
    let t = Table::of(&r);
    let mut out = std::io::stdout().lock();
    render(
        &mut out,
        &t,
        &r,
        false,
        terminal_width(true),
        Some((total, dir)),
    )?;
    Ok(())
}

/// A text column alike in every row (the names of `--corr`'s columns),
/// which says nothing per key.
fn constant_text(t: &Table, j: usize) -> bool {
    t.kind(j) == Kind::Text && t.rows.windows(2).all(|w| w[0][j] == w[1][j])
}

/// `p50`, `p99_9`: a quantile's column.
fn is_quantile_name(name: &str) -> bool {
    name.strip_prefix('p')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// The first number named `name` anywhere in `v`.
fn find_number(v: &serde_json::Value, name: &str) -> Option<f64> {
    let o = v.as_object()?;
    o.get(name)
        .and_then(serde_json::Value::as_f64)
        .or_else(|| o.values().find_map(|x| find_number(x, name)))
}

/// Tallies a terminal leaves out when every key's is zero.
fn is_tally(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    matches!(
        last,
        "missing" | "nonfinite" | "underflow" | "overflow" | "nan" | "outside"
    )
}

/// Writes `t` aligned for a terminal: the key columns, then the columns
/// that fit in `width`; when `t` is the head of an output of `head`'s
/// count of keys, how to see the rest in its directory; below it what was
/// left out, the error bounds and the line counters.
fn render(
    out: &mut dyn Write,
    t: &Table,
    r: &Reduced,
    chosen: bool,
    width: Option<usize>,
    head: Option<(usize, &Path)>,
) -> anyhow::Result<()> {
    let rows = &t.rows[..];
    let mut shown: Vec<usize> = (0..t.columns.len())
        .filter(|&j| {
            let c = &t.columns[j];
            chosen
                || c.key
                || !(c.wide
                    || is_tally(&c.name) && t.rows.iter().all(|row| row[j].as_f64() == Some(0.0))
                    || c.name.ends_with("std_error")
                    || constant_text(t, j))
        })
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| shown.iter().map(|&j| show_cell(t, row, j)).collect())
        .collect();
    let mut widths: Vec<usize> = shown
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([t.columns[j].name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Columns past the width are left out (named below), keys never.
    let mut left_out = Vec::new();
    if let Some(w) = width {
        let mut used = 0;
        let mut keep = Vec::new();
        for (i, &j) in shown.iter().enumerate() {
            let need = widths[i] + if i > 0 { 2 } else { 0 };
            if t.columns[j].key || used + need <= w {
                used += need;
                keep.push(i);
            } else {
                left_out.push(t.columns[j].name.clone());
            }
        }
        shown = keep.iter().map(|&i| shown[i]).collect();
        widths = keep.iter().map(|&i| widths[i]).collect();
        let cells_kept: Vec<Vec<String>> = cells
            .iter()
            .map(|c| keep.iter().map(|&i| c[i].clone()).collect())
            .collect();
        write_rows(out, t, &shown, &widths, &cells_kept)?;
    } else {
        write_rows(out, t, &shown, &widths, &cells)?;
    }
    if let Some((total, dir)) = head.filter(|(total, _)| *total > t.rows.len()) {
        writeln!(
            out,
            "({} more keys: mapfold show {})",
            crate::plot::thousands((total - t.rows.len()) as u64),
            mapfold_core::cli::shell_word(&dir.display().to_string())
        )?;
    }
    let hidden = t.columns.len() - shown.len() - left_out.len();
    let mut notes = Vec::new();
    if !left_out.is_empty() {
        let names = if left_out.len() > 6 {
            format!("{}, ...", left_out[..6].join(", "))
        } else {
            left_out.join(", ")
        };
        notes.push(format!(
            "{} more columns did not fit: {names}",
            left_out.len()
        ));
    }
    if hidden > 0 {
        notes.push(format!(
            "{hidden} columns not shown (histogram bins, zero tallies, flags, empty ones): --columns or --format csv"
        ));
    }
    let shows_quantiles = shown
        .iter()
        .any(|&j| is_quantile_name(t.columns[j].name.rsplit('.').next().unwrap_or("")));
    if let Some(e) = r
        .rows
        .first()
        .and_then(|row| find_number(&row.v, "quantile_error"))
        .filter(|_| shows_quantiles)
    {
        notes.push(format!(
            "quantiles within {}% of the exact ones",
            significant(e * 100.0, 2)
        ));
    }
    let estimated = (0..t.columns.len()).any(|j| {
        t.columns[j].name.ends_with(".exact")
            && t.rows.iter().any(|row| row[j] == Cell::Bool(false))
    });
    if estimated {
        notes.push(
            "~ marks a distinct count estimated (HyperLogLog, 1.6% standard error), rounded to \
             the error"
                .into(),
        );
    }
    if let Some(c) = &r.counters {
        notes.push(counters_line(c));
    }
    for n in notes {
        writeln!(out, "{n}")?;
    }
    Ok(())
}

fn write_rows(
    out: &mut dyn Write,
    t: &Table,
    shown: &[usize],
    widths: &[usize],
    cells: &[Vec<String>],
) -> anyhow::Result<()> {
    let right: Vec<bool> = shown
        .iter()
        .map(|&j| matches!(t.kind(j), Kind::Int | Kind::Num))
        .collect();
    let line = |out: &mut dyn Write, texts: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, text) in texts.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = widths[i].saturating_sub(text.chars().count());
            if right[i] {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(text);
            } else {
                s.push_str(text);
                if i + 1 < texts.len() {
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    let names: Vec<String> = shown.iter().map(|&j| t.columns[j].name.clone()).collect();
    line(out, &names)?;
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    line(out, &rule)?;
    for c in cells {
        line(out, c)?;
    }
    Ok(())
}

/// A cell as the terminal shows it.
fn show_cell(t: &Table, row: &[Cell], j: usize) -> String {
    let c = &t.columns[j];
    match &row[j] {
        Cell::Null if c.key => "(missing)".into(),
        Cell::Null => "-".into(),
        Cell::Text(s) if c.key && s.is_empty() => "(empty)".into(),
        Cell::Text(s) => s.clone(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(n) if c.key => n.to_string(),
        Cell::Int(n) => {
            // An estimated distinct count (`N.count` beside `N.exact`
            // false) no finer than its standard error (`N.std_error`).
            let base = c.name.strip_suffix(".count");
            let col = |name: &str| {
                let name = format!("{}.{name}", base.unwrap_or_default());
                t.columns.iter().position(|o| o.name == name)
            };
            let error = col("exact")
                .filter(|&e| base.is_some() && row[e] == Cell::Bool(false))
                .map(|_| {
                    col("std_error")
                        .and_then(|e| row[e].as_f64())
                        .unwrap_or(0.0)
                });
            let shown = match error {
                Some(rel) => to_step(*n, rel * *n as f64),
                None => *n,
            };
            let s = crate::plot::thousands(shown.unsigned_abs());
            let s = if shown < 0 { format!("-{s}") } else { s };
            if error.is_some() { format!("~{s}") } else { s }
        }
        Cell::UInt(n) => crate::plot::thousands(*n),
        Cell::Num(x) => significant(*x, 7),
    }
}

/// `n` rounded to the power of ten at or above `error` (12,345 within
/// 198 is 12,000): digits finer than the error are not shown.
fn to_step(n: i64, error: f64) -> i64 {
    if error.is_nan() || error < 1.0 {
        return n;
    }
    let step = 10f64.powi(error.log10().ceil() as i32);
    ((n as f64 / step).round() * step) as i64
}

/// `x` to `digits` significant digits, trailing zeros cut; an exponent
/// outside 1e-4..1e9.
pub fn significant(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return Cell::Num(x).text();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..9).contains(&mag) {
        let s = format!("{:.*e}", digits - 1, x);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        return format!("{m}e{e}");
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    // The integer part grouped as counts are (12,208,096.5) past 9,999.
    let (sign, rest) = s.split_at(usize::from(s.starts_with('-')));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    if int.len() < 5 {
        return s;
    }
    let grouped = crate::plot::thousands(int.parse().unwrap_or(0));
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// The line counters in one line: `lines_in` and each non-zero part.
fn counters_line(c: &serde_json::Value) -> String {
    let n = |k: &str| c.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let parts: Vec<String> = [
        "used",
        "header",
        "blank",
        "missing",
        "nonfinite",
        "filtered",
        "malformed",
    ]
    .iter()
    .filter(|k| n(k) > 0)
    .map(|k| format!("{} {k}", crate::plot::thousands(n(k))))
    .collect();
    format!(
        "lines: {} in = {}",
        crate::plot::thousands(n("lines_in")),
        if parts.is_empty() {
            "0".into()
        } else {
            parts.join(" + ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::significant;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(-0.17671394593860554, 7), "-0.1767139");
        assert_eq!(significant(48.0, 7), "48");
        assert_eq!(super::to_step(12_345, 197.5), 12_000);
        assert_eq!(super::to_step(987, 0.5), 987);
        assert_eq!(significant(-515511.14, 7), "-515,511.1");
        assert_eq!(significant(9999.5, 7), "9999.5");
        assert_eq!(significant(1234567.891, 7), "1,234,568");
        assert_eq!(significant(6.02e23, 7), "6.02e23");
        assert_eq!(significant(1.5e-7, 7), "1.5e-7");
    }
}
