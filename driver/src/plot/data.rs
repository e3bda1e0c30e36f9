//! Reading a job's output for plotting: every `part-*` file (any number of
//! reducers), the counters record, and the manifest when there is one, which
//! names the value and key columns for the axes.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::manifest::Manifest;

/// Four significant digits, for a note.
pub(crate) fn short(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e6).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        let digits = (3 - x.abs().log10().floor().max(-1.0) as i32).clamp(0, 4) as usize;
        format!("{x:.digits$}")
    }
}

/// One reduced key.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub v: Value,
}

impl Row {
    /// A finished number of this key (`mean`, `count`, ...; `median` is
    /// the quantile `p50`), if present.
    pub fn stat(&self, name: &str) -> Option<f64> {
        match name {
            "median" => self.quantile("p50"),
            _ => self.v.get(name).and_then(Value::as_f64),
        }
    }

    /// A quantile of this key (`p25`, `p99_9`), if the job computed it.
    pub fn quantile(&self, name: &str) -> Option<f64> {
        self.v.get("quantiles")?.get(name).and_then(Value::as_f64)
    }

    /// The key as a person reads it: its fields as written in the data
    /// (no CSV quoting), joined with ` · `; a missing field as `(missing)`,
    /// an empty one as `(empty)`; at most `max` characters (an ellipsis
    /// marks a cut).
    pub fn label(&self, max: usize) -> String {
        let text = mapfold_core::key::fields(self.key.as_bytes())
            .into_iter()
            .map(|f| match f {
                None => "(missing)".to_owned(),
                Some(f) if f.is_empty() => "(empty)".to_owned(),
                Some(f) => String::from_utf8_lossy(&f).into_owned(),
            })
            .collect::<Vec<_>>()
            .join(" \u{b7} ");
        if text.chars().count() <= max {
            text
        } else {
            let cut: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{cut}\u{2026}")
        }
    }
}

/// A job's reduced output.
#[derive(Debug, Clone)]
pub struct Reduced {
    /// Rows in key order: numeric keys numerically, others by bytes.
    pub rows: Vec<Row>,
    pub counters: Option<Value>,
    pub manifest: Option<Manifest>,
    /// Axis names from the manifest's mapper flags.
    pub value_name: String,
    pub key_name: String,
    /// The job's other value columns, not drawn (see [`Reduced::column`]).
    pub other_columns: Vec<String>,
}

/// A total order of keys: numbers first, numerically (`total_cmp`, ties by
/// text), then every other key by its bytes. Comparing a number with a word
/// by bytes and two numbers by value would not be transitive.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    let num = |k: &str| k.parse::<f64>().ok().filter(|x| !x.is_nan());
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

impl Reduced {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut parts: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}: is it a job's output directory?", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-"))
            })
            .collect();
        parts.sort();
        let manifest = Manifest::read(dir)?;
        if parts.is_empty() && manifest.is_none() {
            bail!(
                "{} has no part-* files and no {}",
                dir.display(),
                crate::manifest::NAME
            );
        }
        let mut rows = Vec::new();
        let mut counters = None;
        for p in &parts {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            for (i, line) in text.lines().enumerate() {
                let (k, json) = line.split_once('\t').with_context(|| {
                    format!("{} line {}: expected KEY<TAB>JSON", p.display(), i + 1)
                })?;
                let v: Value = serde_json::from_str(json)
                    .with_context(|| format!("{} line {}: bad JSON", p.display(), i + 1))?;
                if k.is_empty() {
                    counters = Some(v["counters"].clone());
                } else {
                    rows.push(Row {
                        key: k.to_owned(),
                        v,
                    });
                }
            }
        }
        rows.sort_by(|a, b| key_order(&a.key, &b.key));
        let flag = |name: &str| -> Option<String> {
            let args = &manifest.as_ref()?.mapper_args;
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        Ok(Self {
            rows,
            counters,
            value_name: flag("--value").unwrap_or_else(|| "value".into()),
            key_name: flag("--key").unwrap_or_else(|| "key".into()),
            other_columns: Vec::new(),
            manifest,
        })
    }

    /// True when every key is a number (a series, like years).
    pub fn numeric_keys(&self) -> bool {
        !self.rows.is_empty()
            && self
                .rows
                .iter()
                .all(|r| r.key.parse::<f64>().is_ok_and(f64::is_finite))
    }

    /// What the job's counters say was left out, for notes: empty when
    /// every line was used.
    pub fn input_note(&self) -> String {
        let Some(c) = &self.counters else {
            return String::new();
        };
        let parts: Vec<String> = ["malformed", "filtered", "nonfinite"]
            .iter()
            .filter_map(|k| {
                let n = c.get(*k)?.as_u64()?;
                (n > 0).then(|| format!("{} {k}", super::thousands(n)))
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("; input lines not in the plot: {}", parts.join(", "))
        }
    }

    /// The quantiles' error bound, when the job computed them (every plot
    /// of such output says how close its quantiles are).
    pub fn quantile_note(&self) -> String {
        self.rows
            .iter()
            .find_map(|row| row.stat("quantile_error"))
            .map_or_else(String::new, |e| {
                format!("; quantiles within {:.2}%", e * 100.0)
            })
    }

    /// The `--corr` results in words, when the job computed them: r, the
    /// line and n for one key; the range of r over several.
    pub fn corr_note(&self) -> String {
        let rs: Vec<(&Row, f64)> = self
            .rows
            .iter()
            .filter_map(|row| Some((row, row.v.get("corr")?.get("r")?.as_f64()?)))
            .collect();
        let g = |row: &Row, k: &str| row.v["corr"][k].as_f64();
        match rs.as_slice() {
            [] => String::new(),
            [(row, r)] => {
                let c = &row.v["corr"];
                let (x, y) = (
                    c["x"].as_str().unwrap_or("x"),
                    c["y"].as_str().unwrap_or("y"),
                );
                let line = match (g(row, "slope"), g(row, "intercept")) {
                    (Some(s), Some(i)) => format!(", {y} = {} + {} {x}", short(i), short(s)),
                    _ => String::new(),
                };
                let n = c["n"].as_u64().unwrap_or(0);
                format!(
                    "; {y} on {x}: r = {:.3}{line} (n = {})",
                    r,
                    super::thousands(n)
                )
            }
            many => {
                let lo = many.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                let hi = many.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
                format!("; r from {lo:.3} to {hi:.3} over {} keys", many.len())
            }
        }
    }

    /// The value columns of a job with several (`--value temp,precip`),
    /// whose output nests one object per column: from the manifest, else
    /// the fields of the first key that hold a column's statistics.
    pub fn columns(&self) -> Vec<String> {
        if self.manifest.is_some() {
            let names: Vec<String> = self.value_name.split(',').map(str::to_owned).collect();
            return if names.len() > 1 { names } else { Vec::new() };
        }
        let Some(Value::Object(first)) = self.rows.first().map(|r| &r.v) else {
            return Vec::new();
        };
        first
            .iter()
            .filter(|(_, v)| v.get("count").is_some() && v.get("missing").is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The output as one column's: with several value columns, each key's
    /// object of `column` (the first by default) with the key's own
    /// fields (distinct counts, correlation, 2-D histogram) beside it.
    pub fn column(mut self, column: Option<&str>) -> anyhow::Result<Self> {
        let names = self.columns();
        if names.is_empty() {
            return match column {
                Some(c) if c != self.value_name => bail!(
                    "--column {c}: the job had one value column, {}",
                    self.value_name
                ),
                _ => Ok(self),
            };
        }
        let pick = column.unwrap_or(&names[0]).to_owned();
        if !names.contains(&pick) {
            bail!(
                "--column {pick}: the job's value columns are {}",
                names.join(", ")
            );
        }
        for row in &mut self.rows {
            let Value::Object(fields) = std::mem::take(&mut row.v) else {
                continue;
            };
            let mut own = match fields.get(&pick) {
                Some(Value::Object(o)) => o.clone(),
                _ => serde_json::Map::new(),
            };
            for (k, v) in fields {
                if !names.contains(&k) {
                    own.insert(k, v);
                }
            }
            row.v = Value::Object(own);
        }
        self.other_columns = names.into_iter().filter(|n| *n != pick).collect();
        self.value_name = pick;
        Ok(self)
    }

    /// The value columns not drawn, when the job had several.
    pub fn column_note(&self) -> String {
        if self.other_columns.is_empty() {
            return String::new();
        }
        format!(
            "; also in this output: {} (--column)",
            self.other_columns.join(", ")
        )
    }

    pub fn has_hist(&self) -> bool {
        self.rows.iter().any(|r| r.v.get("hist").is_some())
    }
}
