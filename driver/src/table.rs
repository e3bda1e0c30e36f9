//! A job's answer as one flat table: a row per key, the key's fields as
//! their own columns, then every number the reducer wrote as a column of
//! its own, for the terminal and for the exports (`mapfold show`).
//!
//! Column names follow the JSON with one rule for nesting and three for
//! the shapes a flat table would otherwise spell badly:
//!
//! - nested objects join with `.`: `temp.mean` (a job with several value
//!   columns), `distinct.user.count`, `corr.r`;
//! - a quantile is named alone, `p50`, `p99_9` (`temp.p50`);
//! - a histogram bin is named by its edges, `hist[-5,-4.9)`, the last one
//!   closed, `hist[4.9,5]`, beside `hist.underflow`, `hist.overflow` and
//!   `hist.nan`;
//! - a 2-D histogram cell by both, `hist2d[0,0.5)[10,20)`.
//!
//! The flattening reads the JSON's shapes, not the aggregates' names, so a
//! new aggregate's numbers reach the table with no change here.

use std::collections::HashMap;

use serde_json::Value;

use crate::answer::Reduced;

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    /// A count past `i64::MAX`.
    UInt(u64),
    Num(f64),
    Bool(bool),
    Text(String),
}

impl Cell {
    /// The cell as a number, for sorting (`None` for null and text).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(*n as f64),
            Cell::UInt(n) => Some(*n as f64),
            Cell::Num(x) => Some(*x),
            Cell::Bool(b) => Some(f64::from(u8::from(*b))),
            Cell::Null | Cell::Text(_) => None,
        }
    }

    /// Every digit, as the reducer wrote it (shortest round trip): the
    /// exports' text. Null is empty; JSON's missing infinities are `inf`.
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(n) => n.to_string(),
            Cell::UInt(n) => n.to_string(),
            Cell::Num(x) if x.is_nan() => "nan".into(),
            Cell::Num(x) if x.is_infinite() => (if *x > 0.0 { "inf" } else { "-inf" }).into(),
            Cell::Num(x) => ryu::Buffer::new().format_finite(*x).to_owned(),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(t) => t.clone(),
        }
    }
}

/// What a column holds, decided over all its cells (for Parquet's types
/// and the terminal's alignment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Integers (counts; integer keys).
    Int,
    /// Numbers, some not integers.
    Num,
    Bool,
    Text,
}

/// A column: its name and whether it is one of the key's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub key: bool,
    /// A family a terminal leaves out unless asked (histogram bins and
    /// grid cells: hundreds of columns; `exact` flags and error bounds).
    pub wide: bool,
}

/// The flat table of an answer, rows in key order.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The table of `r`: key columns named by the job's `--key` (or
    /// `key1..`), then its numbers. A job without `--key` (one group, `*`)
    /// has no key column.
    pub fn of(r: &Reduced) -> Self {
        let key_names = key_names(r);
        let mut t = Table::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut add = |t: &mut Table, name: String, key: bool, wide: bool| -> usize {
            *index.entry(name.clone()).or_insert_with(|| {
                t.columns.push(Column { name, key, wide });
                t.columns.len() - 1
            })
        };
        let text_keys = r.text_keys();
        for name in &key_names {
            add(&mut t, name.clone(), true, false);
        }
        for row in &r.rows {
            let mut cells: Vec<(usize, Cell)> = Vec::new();
            if !key_names.is_empty() {
                let fields = mapfold_core::key::fields(row.key.as_bytes());
                for (i, f) in fields.into_iter().enumerate() {
                    let name = key_names.get(i).cloned().unwrap_or(format!("key{}", i + 1));
                    let at = add(&mut t, name, true, false);
                    cells.push((at, key_cell(f, text_keys)));
                }
            }
            let mut flat = Vec::new();
            flatten("", &row.v, false, &mut flat);
            for (name, wide, cell) in flat {
                let at = add(&mut t, name, false, wide);
                cells.push((at, cell));
            }
            let mut out = vec![Cell::Null; t.columns.len()];
            for (at, c) in cells {
                out[at] = c;
            }
            t.rows.push(out);
        }
        let n = t.columns.len();
        for row in &mut t.rows {
            row.resize(n, Cell::Null);
        }
        t
    }

    /// The kind of column `j` over its non-null cells (text when there are
    /// none).
    pub fn kind(&self, j: usize) -> Kind {
        let mut kind = None;
        for row in &self.rows {
            let k = match &row[j] {
                Cell::Null => continue,
                Cell::Int(_) | Cell::UInt(_) => Kind::Int,
                Cell::Num(_) => Kind::Num,
                Cell::Bool(_) => Kind::Bool,
                Cell::Text(_) => Kind::Text,
            };
            kind = Some(match (kind, k) {
                (None, k) => k,
                (Some(a), b) if a == b => a,
                (Some(Kind::Int | Kind::Num), Kind::Int | Kind::Num) => Kind::Num,
                _ => Kind::Text,
            });
        }
        kind.unwrap_or(Kind::Text)
    }

    /// The index of the column `name` names: its full name, or the last
    /// part of exactly one (`p50` for `temp.p50` when one column has it).
    pub fn find(&self, name: &str) -> Result<usize, String> {
        if let Some(j) = self.columns.iter().position(|c| c.name == name) {
            return Ok(j);
        }
        let tail: Vec<usize> = (0..self.columns.len())
            .filter(|&j| self.columns[j].name.ends_with(&format!(".{name}")))
            .collect();
        match tail[..] {
            [j] => Ok(j),
            [] => Err(format!(
                "no column {name:?}; the columns are {}",
                self.names_summary()
            )),
            _ => Err(format!(
                "{name:?} is in several columns: {}",
                tail.iter()
                    .map(|&j| self.columns[j].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The column names, histogram bins summarised, for messages.
    pub fn names_summary(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut wide = 0;
        for c in &self.columns {
            if c.name.contains('[') {
                wide += 1;
            } else {
                out.push(c.name.clone());
            }
        }
        if wide > 0 {
            out.push(format!("and {wide} bins (hist[...])"));
        }
        out.join(", ")
    }

    /// Keeps the rows with the `n` largest (smallest with `asc`) values of
    /// column `by`, in that order; rows without a number there come last.
    /// Ties keep key order, so the result is deterministic.
    pub fn top(&mut self, by: usize, asc: bool, n: Option<usize>) {
        self.rows
            .sort_by(|a, b| match (a[by].as_f64(), b[by].as_f64()) {
                (Some(x), Some(y)) if asc => x.total_cmp(&y),
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        if let Some(n) = n {
            self.rows.truncate(n);
        }
    }

    /// Only the key columns and the columns `js`, in that order.
    pub fn select(&mut self, js: &[usize]) {
        let keep: Vec<usize> = (0..self.columns.len())
            .filter(|&j| self.columns[j].key)
            .chain(js.iter().copied().filter(|&j| !self.columns[j].key))
            .collect();
        self.columns = keep.iter().map(|&j| self.columns[j].clone()).collect();
        for row in &mut self.rows {
            *row = keep.iter().map(|&j| row[j].clone()).collect();
        }
    }
}

/// The names of the key columns: the job's `--key` (an index under a
/// `--schema` becomes its name), `key1..` when the output has no
/// manifest, none for a job without keys.
fn key_names(r: &Reduced) -> Vec<String> {
    let job = r.job();
    if let Some(job) = &job {
        let schema = job.schema.as_deref();
        return job
            .keys
            .iter()
            .map(|k| match (&k.column, schema) {
                (Some(c), Some(s)) if k.is_plain() && !c.is_name() => match c.resolve(schema) {
                    Ok(i) => String::from_utf8_lossy(&s[i]).into_owned(),
                    Err(_) => k.text.clone(),
                },
                _ => k.text.clone(),
            })
            .collect();
    }
    // No manifest: as many key columns as the first key has fields,
    // unless every key is `*` (no keys).
    if r.rows.iter().all(|row| row.key == "*") {
        return Vec::new();
    }
    let n = r
        .rows
        .first()
        .map_or(0, |row| mapfold_core::key::fields(row.key.as_bytes()).len());
    (1..=n).map(|i| format!("key{i}")).collect()
}

/// A key field as written: an integer key as a number (it sorts and
/// compares as one), unless the job kept keys as text; a missing field
/// as null.
fn key_cell(f: Option<Vec<u8>>, text_keys: bool) -> Cell {
    let Some(f) = f else { return Cell::Null };
    let text = String::from_utf8_lossy(&f).into_owned();
    if !text_keys
        && !mapfold_core::key::is_padded_integer(&f)
        && let Ok(n) = text.parse::<i64>()
        && n.to_string() == text
    {
        return Cell::Int(n);
    }
    Cell::Text(text)
}

/// A histogram's bins: `{"lo":..,"hi":..,"bins":[..]}`.
fn as_hist(o: &serde_json::Map<String, Value>) -> Option<(f64, f64, &Vec<Value>)> {
    Some((
        o.get("lo")?.as_f64()?,
        o.get("hi")?.as_f64()?,
        o.get("bins")?.as_array()?,
    ))
}

/// A grid axis: `{"lo":..,"hi":..,"bins":N}`.
fn as_axis(v: Option<&Value>) -> Option<(f64, f64, u64)> {
    let o = v?.as_object()?;
    Some((
        o.get("lo")?.as_f64()?,
        o.get("hi")?.as_f64()?,
        o.get("bins")?.as_u64()?,
    ))
}

/// The text of bin `i`'s edges of `n` over `[lo, hi]`: `[a,b)`, the last
/// `[a,b]`; each edge to 12 significant digits, so `lo + i step` prints
/// as the decimal it stands for (`-4.9`, not `-4.8999999999999995`).
fn bin_name(lo: f64, hi: f64, n: usize, i: usize) -> String {
    let edge = |k: usize| {
        let x = if k == n {
            hi
        } else {
            lo + (hi - lo) * k as f64 / n as f64
        };
        let r: f64 = format!("{x:.11e}").parse().unwrap_or(x);
        let r = if r == 0.0 { 0.0 } else { r };
        ryu_plain(r)
    };
    let close = if i + 1 == n { ']' } else { ')' };
    format!("[{},{}{close}", edge(i), edge(i + 1))
}

/// Shortest digits, without ryu's `.0` on integers.
fn ryu_plain(x: f64) -> String {
    let s = ryu::Buffer::new().format_finite(x).to_owned();
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

/// Appends the columns of `v` under `prefix` as `(name, wide, cell)`.
fn flatten(prefix: &str, v: &Value, wide: bool, out: &mut Vec<(String, bool, Cell)>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match v {
        Value::Object(o) => {
            if let Some((lo, hi, bins)) = as_hist(o) {
                for (i, b) in bins.iter().enumerate() {
                    out.push((
                        format!("{prefix}{}", bin_name(lo, hi, bins.len(), i)),
                        true,
                        cell(b),
                    ));
                }
                for (k, x) in o {
                    if !matches!(k.as_str(), "lo" | "hi" | "bins") {
                        flatten(&join(k), x, wide, out);
                    }
                }
                return;
            }
            if let (Some((xl, xh, xn)), Some((yl, yh, yn)), Some(rows)) = (
                as_axis(o.get("x")),
                as_axis(o.get("y")),
                o.get("counts").and_then(Value::as_array),
            ) {
                let (xn, yn) = (xn as usize, yn as usize);
                for (i, row) in rows.iter().enumerate() {
                    let row = row.as_array().map_or(&[][..], Vec::as_slice);
                    for (j, c) in row.iter().enumerate() {
                        let name = format!(
                            "{prefix}{}{}",
                            bin_name(xl, xh, xn, i),
                            bin_name(yl, yh, yn, j)
                        );
                        out.push((name, true, cell(c)));
                    }
                }
                for (k, x) in o {
                    if !matches!(k.as_str(), "x" | "y" | "counts") {
                        flatten(&join(k), x, wide, out);
                    }
                }
                return;
            }
            for (k, x) in o {
                if k == "quantiles" {
                    // Quantiles by their own names: `p50`, `temp.p50`.
                    flatten(prefix, x, wide, out);
                } else {
                    let hidden = wide || matches!(k.as_str(), "exact" | "quantile_error");
                    flatten(&join(k), x, hidden, out);
                }
            }
        }
        Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, true, out);
            }
        }
        _ => out.push((prefix.to_owned(), wide, cell(v))),
    }
}

/// A JSON scalar as a cell: the reducer writes non-finite numbers as the
/// strings `"inf"`, `"-inf"` and `"nan"`.
fn cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Cell::Int)
            .or_else(|| n.as_u64().map(Cell::UInt))
            .or_else(|| n.as_f64().map(Cell::Num))
            .unwrap_or(Cell::Null),
        Value::String(s) => match s.as_str() {
            "inf" => Cell::Num(f64::INFINITY),
            "-inf" => Cell::Num(f64::NEG_INFINITY),
            "nan" => Cell::Num(f64::NAN),
            _ => Cell::Text(s.clone()),
        },
        Value::Array(_) | Value::Object(_) => Cell::Text(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_named_by_their_edges() {
        assert_eq!(bin_name(-5.0, 5.0, 100, 1), "[-4.9,-4.8)");
        assert_eq!(bin_name(-5.0, 5.0, 100, 99), "[4.9,5]");
        assert_eq!(bin_name(0.0, 1.0, 3, 0), "[0,0.333333333333)");
    }

    #[test]
    fn nested_json_flattens_by_shape() {
        let v: Value = serde_json::from_str(
            r#"{"temp":{"count":2,"mean":1.5,"quantiles":{"p50":1.0},"quantile_error":0.0078125,
                "hist":{"lo":0.0,"hi":2.0,"bins":[1,1],"underflow":0,"overflow":0,"nan":0}},
                "distinct":{"id":{"count":2,"exact":true}},"sum":"inf"}"#,
        )
        .expect("json");
        let mut out = Vec::new();
        flatten("", &v, false, &mut out);
        let names: Vec<&str> = out.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "temp.count",
                "temp.mean",
                "temp.p50",
                "temp.quantile_error",
                "temp.hist[0,1)",
                "temp.hist[1,2]",
                "temp.hist.underflow",
                "temp.hist.overflow",
                "temp.hist.nan",
                "distinct.id.count",
                "distinct.id.exact",
                "sum"
            ]
        );
        assert_eq!(out[11].2, Cell::Num(f64::INFINITY));
    }
}
