//! A job's answer as its output directory holds it: every `part-*` file
//! (any number of reducers) as keys and their JSON, the counters record,
//! and the manifest when there is one, which names the job's columns. The
//! plots and `mapfold show` read it from here.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::manifest::Manifest;

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

/// A total order of keys, field by field as written (quoting undone, so
/// `China, Hong Kong SAR` sorts among the C's): in each field a missing
/// value first, then numbers numerically (`total_cmp`), then text by its
/// bytes; keys alike so far by their text. Comparing a number with a word
/// by bytes and two numbers by value would not be transitive.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    SortKey::of(a).cmp(&SortKey::of(b)).then_with(|| a.cmp(b))
}

/// A key's fields as [`key_order`] compares them.
#[derive(Debug, PartialEq, PartialOrd)]
struct SortKey(Vec<Field>);

#[derive(Debug, PartialEq, PartialOrd)]
enum Field {
    Missing,
    Num(NumOrd),
    Text(Vec<u8>),
}

/// A number in `total_cmp` order.
#[derive(Debug, PartialEq)]
struct NumOrd(f64);

impl PartialOrd for NumOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.0.total_cmp(&other.0))
    }
}

impl SortKey {
    fn of(key: &str) -> Self {
        let fields = mapfold_core::key::fields(key.as_bytes());
        SortKey(
            fields
                .into_iter()
                .map(|f| match f {
                    None => Field::Missing,
                    Some(f) => match std::str::from_utf8(&f)
                        .ok()
                        .and_then(|t| t.parse::<f64>().ok())
                        .filter(|x| !x.is_nan())
                    {
                        Some(x) => Field::Num(NumOrd(x)),
                        None => Field::Text(f),
                    },
                })
                .collect(),
        )
    }

    /// Total: every part is (a NaN never becomes a number).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.partial_cmp(other).unwrap_or(std::cmp::Ordering::Equal)
    }
}

impl Reduced {
    /// Every key of the output in `dir`, in key order.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut rows = Vec::new();
        let mut r = Self::scan(dir, |key, json| {
            rows.push(Row {
                key: key.to_owned(),
                v: serde_json::from_str(json)?,
            });
            Ok(())
        })?;
        rows.sort_by_cached_key(|r| OrderedKey(SortKey::of(&r.key), r.key.clone()));
        r.rows = rows;
        Ok(r)
    }

    /// The first `n` keys of the output in `dir` in key order, and how
    /// many it has: one pass that holds `n` rows (an output of millions of
    /// keys is not read into memory to show ten of them).
    pub fn head(dir: &Path, n: usize) -> anyhow::Result<(Self, usize)> {
        let mut best: std::collections::BinaryHeap<(OrderedKey, String)> =
            std::collections::BinaryHeap::new();
        let mut total = 0;
        let mut r = Self::scan(dir, |key, json| {
            total += 1;
            let k = OrderedKey(SortKey::of(key), key.to_owned());
            if best.len() < n {
                best.push((k, json.to_owned()));
            } else if best.peek().is_some_and(|(top, _)| k < *top) {
                best.pop();
                best.push((k, json.to_owned()));
            }
            Ok(())
        })?;
        r.rows = best
            .into_sorted_vec()
            .into_iter()
            .map(|(k, json)| {
                Ok(Row {
                    key: k.1,
                    v: serde_json::from_str(&json)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((r, total))
    }

    /// Reads every `part-*` file of `dir`, handing each key and its JSON
    /// text to `row` (the counters record is kept), and the manifest; the
    /// rows are left to the caller.
    fn scan(
        dir: &Path,
        mut row: impl FnMut(&str, &str) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
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
        let mut counters = None;
        for p in &parts {
            let file =
                std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
            for (i, line) in std::io::BufRead::lines(std::io::BufReader::new(file)).enumerate() {
                let line = line.with_context(|| format!("reading {}", p.display()))?;
                let at = || format!("{} line {}", p.display(), i + 1);
                let (k, json) = line
                    .split_once('\t')
                    .with_context(|| format!("{}: expected KEY<TAB>JSON", at()))?;
                if k.is_empty() {
                    let v: Value = serde_json::from_str(json)
                        .with_context(|| format!("{}: bad JSON", at()))?;
                    counters = Some(v["counters"].clone());
                } else {
                    row(k, json).with_context(|| format!("{}: bad JSON", at()))?;
                }
            }
        }
        let flag = |name: &str| -> Option<String> {
            let args = &manifest.as_ref()?.mapper_args;
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        Ok(Self {
            rows: Vec::new(),
            counters,
            value_name: flag("--value").unwrap_or_else(|| "value".into()),
            key_name: flag("--key").unwrap_or_else(|| "key".into()),
            other_columns: Vec::new(),
            manifest,
        })
    }

    /// The job that made this output, from the manifest's mapper words
    /// (`None` without a manifest, or for words this version cannot read).
    pub fn job(&self) -> Option<mapfold_core::job::Job> {
        let words = &self.manifest.as_ref()?.mapper_args;
        mapfold_core::cli::JobArgs::from_words(words)
            .ok()?
            .job()
            .ok()
    }

    /// True when the job grouped its keys as text (`--text-keys`).
    pub fn text_keys(&self) -> bool {
        self.job().is_some_and(|j| j.text_keys)
    }

    /// True when every key is a number (a series, like years), and the
    /// keys are not codes: a job that kept its keys as text
    /// (`--text-keys`, FIPS or ZIP codes such as `01`) has none, nor does
    /// one whose keys are written with leading zeros.
    pub fn numeric_keys(&self) -> bool {
        !self.rows.is_empty()
            && !self.text_keys()
            && self.rows.iter().all(|r| {
                r.key.parse::<f64>().is_ok_and(f64::is_finite)
                    && !mapfold_core::key::is_padded_integer(r.key.as_bytes())
            })
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
}

/// A row's place in [`key_order`], computed once per row for sorting.
#[derive(Debug, PartialEq)]
struct OrderedKey(SortKey, String);

impl Eq for OrderedKey {}

impl PartialOrd for OrderedKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0).then_with(|| self.1.cmp(&other.1))
    }
}

#[cfg(test)]
mod tests {
    use super::key_order;

    #[test]
    fn keys_sort_by_their_fields_as_written() {
        let mut keys = vec![
            "\"China, Hong Kong SAR\"",
            "Afghanistan",
            "10",
            "9",
            "-1.5",
            "Chad",
            "\\N",
            "b,2",
            "b,10",
        ];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(
            keys,
            [
                "\\N",
                "-1.5",
                "9",
                "10",
                "Afghanistan",
                "Chad",
                "\"China, Hong Kong SAR\"",
                "b,2",
                "b,10"
            ]
        );
    }
}
