//! What the plots say of a job's answer besides drawing it: the notes on
//! what was left out, how close the quantiles are, the correlation.

use crate::answer::{Reduced, Row};

/// Four significant digits, for a note.
pub(crate) fn short(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e6).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        let digits = (3 - x.abs().log10().floor().max(-1.0) as i32).clamp(0, 4) as usize;
        format!("{x:.digits$}")
    }
}

impl Reduced {
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

    /// The grain of the keys when every key is a time bucket (one key
    /// field, as `--key 'month(date)'` writes them).
    pub fn time_keys(&self) -> Option<super::time::Grain> {
        super::time::grain(self.rows.iter().map(|r| r.key.as_str()))
    }

    /// The job's `--where` filters, as given, when it had any: a plot of
    /// filtered rows says so.
    pub fn filter_note(&self) -> String {
        let Some(m) = &self.manifest else {
            return String::new();
        };
        let mut filters = Vec::new();
        let mut words = m.mapper_args.iter();
        while let Some(w) = words.next() {
            if w == "--where" {
                filters.extend(words.next().cloned());
            } else if let Some(f) = w.strip_prefix("--where=") {
                filters.push(f.to_owned());
            }
        }
        if filters.is_empty() {
            String::new()
        } else {
            format!("; only rows with {}", filters.join(" and "))
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
