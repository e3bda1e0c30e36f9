//! What the three streaming binaries share: the job flags (also passed
//! through by the `mapfold` driver) and the exit-code convention.

use std::process::ExitCode;

use crate::agg::{Grid, HistLayout, quantiles};
use crate::error::Error;
use crate::spec::{self, MapSpec, Where};

/// The job flags of `mapfold-map`, flattened into `mapfold run` as well.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct JobArgs {
    /// The value columns and what the reducer reports of them.
    #[command(flatten)]
    pub report: ReportArgs,

    /// Group by these columns (comma-separated names or indices). Without
    /// it, all rows form one group with key `*`.
    #[arg(long, value_name = "COL[,COL...]", value_delimiter = ',')]
    pub key: Vec<String>,

    /// Group and show key fields exactly as written. By default a key field
    /// that is an integer is a number: `007` and `7` are one group, printed
    /// `7`, and keys sort numerically. Use this for identifiers with leading
    /// zeros (ZIP codes, station ids, account numbers); text keys sort by
    /// bytes.
    #[arg(long)]
    pub text_keys: bool,

    /// Field texts that mean "missing" (comma-separated; an empty item is
    /// the empty field; `none` for none). A missing value is counted as
    /// `missing`, a missing key forms its own group `\N`, and a comparison
    /// with a missing field does not hold.
    #[arg(long, value_name = "LIST", default_value = spec::DEFAULT_NA, hide_default_value = true)]
    pub na_values: String,

    /// Column names, for splits that never see the header line (on a
    /// cluster, from the job configuration's `mapfold.schema`, which Hadoop
    /// streaming exports as `$mapfold_schema`).
    #[arg(long, value_name = "N1,N2,...")]
    pub schema: Option<String>,

    /// --schema read from a file (its first line): for headers too long
    /// for a command line, which the runners ship this way.
    #[arg(long, value_name = "PATH", conflicts_with = "schema")]
    pub schema_file: Option<std::path::PathBuf>,

    /// Field delimiter: one character, `tab` or `space`.
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: String,

    /// Keep only rows where this holds: `COL OP NUMBER` (OP: < <= > >= ==
    /// !=), `COL==WORD` or `COL!=WORD` (text; quote a number to compare it
    /// as text: `zip=="02134"`), or `COL in A,B,C`. Repeatable; all must
    /// hold.
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,

    /// Fixed-edge histogram of the value: BINS equal bins over [LO, HI],
    /// plus underflow, overflow and nan bins. With several value columns,
    /// name the column: `--hist temp=-5:5:100` (repeatable, one per
    /// column).
    #[arg(long, value_name = "[COL=]LO:HI:BINS", allow_hyphen_values = true)]
    pub hist: Vec<String>,

    /// Relative error bound of --quantiles, rounded down to a power of two
    /// (0.01 gives 2^-7, 0.78%): finer costs more buckets per group.
    #[arg(long, value_name = "ALPHA", default_value_t = DEFAULT_QUANTILE_ERROR)]
    pub quantile_error: f64,

    /// Fail the task when more than this fraction of its lines are
    /// malformed (0 fails on the first; 1 never fails).
    #[arg(long, value_name = "FRACTION", default_value_t = spec::DEFAULT_MAX_MALFORMED)]
    pub max_malformed: f64,

    /// The most groups held in memory before the least-hit are written
    /// out early (default: no limit but --max-memory's; the table starts
    /// at 16384 groups and doubles while that combines many more lines).
    #[arg(long, value_name = "N", default_value_t = spec::DEFAULT_MAX_GROUPS, hide_default_value = true)]
    pub max_groups: usize,

    /// MiB of groups the mapper holds; past it, the groups hit least are
    /// written out early and the hot ones keep combining (results do not
    /// change, only how much is written).
    #[arg(long, value_name = "MIB", default_value_t = spec::DEFAULT_MAX_MEMORY_MIB)]
    pub max_memory: usize,
}

/// [`JobArgs`] alone, to parse its words.
#[derive(clap::Parser, Debug)]
#[command(no_binary_name = true)]
struct JobWords {
    #[command(flatten)]
    job: JobArgs,
}

impl JobArgs {
    /// The job of these `mapfold-map` words, every other flag at its
    /// default: as the command line would give it, defaults defined once.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Result<Self, String> {
        <JobWords as clap::Parser>::try_parse_from(words.iter().map(AsRef::as_ref))
            .map(|w| w.job)
            .map_err(|e| e.to_string())
    }

    /// What the reducer reports for this job (see [`ReportArgs`]).
    pub fn report_args(&self) -> ReportArgs {
        ReportArgs {
            quantiles: self.report.quantiles.clone().filter(|q| q != "default"),
            distinct: self.report.distinct.clone(),
            corr: self.report.corr.clone(),
            hist2d: self.report.hist2d.clone(),
            value: if self.report.value.len() > 1 {
                self.report.value.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Validates the flags into a [`MapSpec`].
    pub fn spec(&self) -> Result<MapSpec, Error> {
        let flag = |flag, value: &str, why: String| Error::Flag {
            flag,
            value: value.to_owned(),
            why,
        };
        let values: Vec<&str> = self.report.value.iter().map(|v| v.trim()).collect();
        if values.len() > crate::group::MAX_COLUMNS {
            return Err(flag(
                "--value",
                &self.report.value.join(","),
                format!("at most {} value columns", crate::group::MAX_COLUMNS),
            ));
        }
        if let Some(v) = values
            .iter()
            .enumerate()
            .find_map(|(i, v)| values[..i].contains(v).then_some(v))
        {
            return Err(flag("--value", v, "this column is named twice".into()));
        }
        let mut s = MapSpec::new(&values);
        s.text_keys = self.text_keys;
        s.na = spec::Na::parse(&self.na_values);
        s.keys = self
            .key
            .iter()
            .map(|k| spec::Column(k.trim().to_owned()))
            .collect();
        s.schema = match (&self.schema, &self.schema_file) {
            (_, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    flag("--schema-file", &path.display().to_string(), e.to_string())
                })?;
                Some(spec::parse_schema(text.lines().next().unwrap_or_default())?)
            }
            (Some(text), None) => Some(spec::parse_schema(text)?),
            // Hadoop streaming exports the job configuration's
            // `mapfold.schema` to every task as `$mapfold_schema`.
            (None, None) => std::env::var("mapfold_schema")
                .ok()
                .filter(|t| !t.is_empty())
                .map(|t| spec::parse_schema(&t))
                .transpose()?,
        };
        s.delimiter = spec::parse_delimiter(&self.delimiter)?;
        s.wheres = self
            .wheres
            .iter()
            .map(|w| Where::parse(w))
            .collect::<Result<_, _>>()?;
        for h in &self.hist {
            let (at, layout) = hist_column(h, &values).map_err(|why| flag("--hist", h, why))?;
            let layout = HistLayout::parse(layout).map_err(|why| flag("--hist", h, why))?;
            if s.hists[at].replace(layout).is_some() {
                return Err(flag("--hist", h, "a second histogram of one column".into()));
            }
        }
        if let Some(q) = &self.report.quantiles {
            parse_quantiles(q)?;
            if s.values.is_empty() {
                return Err(flag("--quantiles", q, "quantiles need --value".into()));
            }
            let bits = quantiles::bits_for_error(self.quantile_error)
                .map_err(|why| flag("--quantile-error", &self.quantile_error.to_string(), why))?;
            s.quantile_bits = Some(bits);
        }
        s.distinct = self
            .report
            .distinct
            .iter()
            .map(|c| spec::Column(c.trim().to_owned()))
            .collect();
        if let Some(c) = &self.report.corr {
            s.corr = Some(parse_corr(c)?);
        }
        if let Some(h) = &self.report.hist2d {
            s.hist2d = Some(parse_hist2d(h)?);
        }
        if !(0.0..=1.0).contains(&self.max_malformed) {
            return Err(flag(
                "--max-malformed",
                &self.max_malformed.to_string(),
                "a fraction between 0 and 1".into(),
            ));
        }
        s.max_malformed = self.max_malformed;
        if self.max_groups == 0 {
            return Err(flag("--max-groups", "0", "at least 1".into()));
        }
        s.max_groups = self.max_groups;
        if self.max_memory == 0 {
            return Err(flag("--max-memory", "0", "at least 1 (MiB)".into()));
        }
        s.max_bytes = self.max_memory.saturating_mul(1 << 20);
        Ok(s)
    }

    /// The flags as words for `mapfold-map`, defaults left out, in a fixed
    /// order (so the same job always gives the same command line).
    pub fn to_words(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.report.value.is_empty() {
            w.extend(["--value".to_owned(), self.report.value.join(",")]);
        }
        if !self.key.is_empty() {
            w.extend(["--key".to_owned(), self.key.join(",")]);
        }
        if self.text_keys {
            w.push("--text-keys".to_owned());
        }
        if self.na_values != spec::DEFAULT_NA {
            // `=` form: the list may start with a comma or be empty.
            w.push(format!("--na-values={}", self.na_values));
        }
        if let Some(s) = &self.schema {
            w.extend(["--schema".to_owned(), s.clone()]);
        }
        if let Some(p) = &self.schema_file {
            w.extend(["--schema-file".to_owned(), p.display().to_string()]);
        }
        if self.delimiter != "," {
            w.extend(["--delimiter".to_owned(), self.delimiter.clone()]);
        }
        for x in &self.wheres {
            w.extend(["--where".to_owned(), x.clone()]);
        }
        for h in &self.hist {
            w.push(format!("--hist={h}"));
        }
        match self.report.quantiles.as_deref() {
            None => {}
            Some("default") => w.push("--quantiles".to_owned()),
            Some(q) => w.push(format!("--quantiles={q}")),
        }
        for d in &self.report.distinct {
            w.extend(["--distinct".to_owned(), d.clone()]);
        }
        if let Some(c) = &self.report.corr {
            w.extend(["--corr".to_owned(), c.clone()]);
        }
        if let Some(h) = &self.report.hist2d {
            w.push(format!("--hist2d={h}"));
        }
        if self.report.quantiles.is_some() && self.quantile_error != DEFAULT_QUANTILE_ERROR {
            w.extend([
                "--quantile-error".to_owned(),
                self.quantile_error.to_string(),
            ]);
        }
        if self.max_malformed != spec::DEFAULT_MAX_MALFORMED {
            w.extend(["--max-malformed".to_owned(), self.max_malformed.to_string()]);
        }
        if self.max_groups != spec::DEFAULT_MAX_GROUPS {
            w.extend(["--max-groups".to_owned(), self.max_groups.to_string()]);
        }
        if self.max_memory != spec::DEFAULT_MAX_MEMORY_MIB {
            w.extend(["--max-memory".to_owned(), self.max_memory.to_string()]);
        }
        w
    }
}

/// The value column a `--hist` is for (its position in `values`) and its
/// layout: `COL=LO:HI:BINS`, or `LO:HI:BINS` when there is one column.
fn hist_column<'a>(text: &'a str, values: &[&str]) -> Result<(usize, &'a str), String> {
    match text.rsplit_once('=') {
        Some((col, layout)) => values
            .iter()
            .position(|v| *v == col.trim())
            .map(|at| (at, layout))
            .ok_or_else(|| format!("{:?} is not one of the --value columns", col.trim())),
        None => match values.len() {
            0 => Err("a histogram needs --value".into()),
            1 => Ok((0, text)),
            _ => Err("which column? with several --value columns, write COL=LO:HI:BINS".into()),
        },
    }
}

/// The default of `--quantile-error`.
pub const DEFAULT_QUANTILE_ERROR: f64 = 0.01;

/// Parses a `--quantiles` list (`default` for the default list): numbers
/// in `[0, 1]`.
/// What the reducer reports besides the states: the quantile list and the
/// names of the value, distinct, `--corr` and `--hist2d` columns. The
/// mapper derives it from its own flags ([`JobArgs::report_args`]) and
/// writes it into its counters record, so a reducer learns it from its
/// input; the runners also give it to every reduce task
/// (`$mapfold_report`). As `mapfold-reduce`'s flags it can be given by
/// hand, and is then checked against the job's.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct ReportArgs {
    /// Column to aggregate: a name (from --schema or the header line) or a
    /// 1-based index. Repeatable (or a comma list) for several columns in
    /// one pass; the JSON then has one object per column under its name.
    /// Without it, the job counts rows per key.
    #[arg(long, value_name = "COL[,COL...]", value_delimiter = ',')]
    pub value: Vec<String>,

    /// Quantiles of the value from a mergeable sketch: alone for p1 p5 p10
    /// p25 p50 p75 p90 p95 p99, or a list (`--quantiles 0.5,0.999`). Each
    /// is within --quantile-error (relative) of the exact order statistic
    /// of rank floor(q (n-1)), and identical however the data was split.
    /// Zeros are exact; NaN and infinities are left out.
    #[arg(long, value_name = "Q[,Q...]", num_args = 0..=1, default_missing_value = "default")]
    pub quantiles: Option<String>,

    /// Count the distinct values of this column per group (repeatable; any
    /// column, text or number, compared as written; missing values not
    /// counted): exact up to 1,024, then a HyperLogLog estimate (1.6%
    /// standard error), the same however the data was split.
    #[arg(long, value_name = "COL")]
    pub distinct: Vec<String>,

    /// Two columns together: covariance, Pearson's r, and the least-squares
    /// slope and intercept of Y on X per group, from exact sums rounded
    /// once. Rows where either is missing or not finite are left out.
    #[arg(long, value_name = "X,Y")]
    pub corr: Option<String>,

    /// A 2-D histogram of two columns: X's bins by Y's, exact counts, plus
    /// the pairs outside the grid and those with a NaN.
    #[arg(long, value_name = "X=LO:HI:N,Y=LO:HI:M", allow_hyphen_values = true)]
    pub hist2d: Option<String>,
}

/// [`ReportArgs`] alone, to parse its words.
#[derive(clap::Parser, Debug)]
#[command(no_binary_name = true)]
struct ReportWords {
    #[command(flatten)]
    report: ReportArgs,
}

impl ReportArgs {
    /// True when nothing is given (every default).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The [`Report`](crate::agg::Report) these flags ask for.
    pub fn report(&self) -> Result<crate::agg::Report, Error> {
        Ok(crate::agg::Report {
            quantiles: parse_quantiles(self.quantiles.as_deref().unwrap_or("default"))?,
            distinct: self.distinct.clone(),
            corr: self
                .corr
                .as_deref()
                .map(parse_corr)
                .transpose()?
                .map(|(x, y)| (x.0, y.0)),
            hist2d: self
                .hist2d
                .as_deref()
                .map(parse_hist2d)
                .transpose()?
                .map(|(x, y, _)| (x.0, y.0)),
            // One value column's object is the JSON itself: no names.
            values: if self.value.len() > 1 {
                self.value.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// The flags as `mapfold-reduce` words, defaults left out.
    pub fn to_words(&self) -> Vec<String> {
        let mut w = match self.quantiles.as_deref() {
            Some(q) if q != "default" => vec![format!("--quantiles={q}")],
            _ => Vec::new(),
        };
        for d in &self.distinct {
            w.extend(["--distinct".to_owned(), d.clone()]);
        }
        if let Some(c) = &self.corr {
            w.extend(["--corr".to_owned(), c.clone()]);
        }
        if let Some(h) = &self.hist2d {
            w.push(format!("--hist2d={h}"));
        }
        if !self.value.is_empty() {
            w.extend(["--value".to_owned(), self.value.join(",")]);
        }
        w
    }

    /// The words in one token of lower-case hex (NUL between words, which
    /// no argument holds): for the wire and the environment, where any
    /// byte of a column name would otherwise need quoting.
    pub fn encode(&self) -> String {
        let text = self.to_words().join("\0");
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`ReportArgs::encode`]'s token.
    pub fn decode(token: &[u8]) -> Result<Self, crate::error::DecodeError> {
        let bad = || crate::error::DecodeError::new("the job's report (hex words)", token);
        if !token.len().is_multiple_of(2) {
            return Err(bad());
        }
        let bytes = token
            .chunks(2)
            .map(|p| {
                std::str::from_utf8(p)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let words: Vec<&str> = if text.is_empty() {
            Vec::new()
        } else {
            text.split('\0').collect()
        };
        <ReportWords as clap::Parser>::try_parse_from(words)
            .map(|w| w.report)
            .map_err(|_| bad())
    }
}

pub fn parse_quantiles(text: &str) -> Result<Vec<f64>, Error> {
    if text == "default" {
        return Ok(quantiles::DEFAULT_QS.to_vec());
    }
    text.split(',')
        .map(|q| {
            q.trim()
                .parse::<f64>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| Error::Flag {
                    flag: "--quantiles",
                    value: text.to_owned(),
                    why: format!("{q:?} is not a quantile between 0 and 1 (0.5 is the median)"),
                })
        })
        .collect()
}

/// Parses `--corr X,Y`: two columns.
pub fn parse_corr(text: &str) -> Result<(spec::Column, spec::Column), Error> {
    match text.split_once(',') {
        Some((x, y)) if !x.trim().is_empty() && !y.trim().is_empty() && !y.contains(',') => Ok((
            spec::Column(x.trim().to_owned()),
            spec::Column(y.trim().to_owned()),
        )),
        _ => Err(Error::Flag {
            flag: "--corr",
            value: text.to_owned(),
            why: "two columns, X,Y (the line is Y on X)".into(),
        }),
    }
}

/// Parses `--hist2d X=LO:HI:N,Y=LO:HI:M`.
pub fn parse_hist2d(text: &str) -> Result<(spec::Column, spec::Column, Grid), Error> {
    let bad = |why: String| Error::Flag {
        flag: "--hist2d",
        value: text.to_owned(),
        why,
    };
    let axes: Vec<&str> = text.split(',').collect();
    let [x, y] = axes[..] else {
        return Err(bad(
            "expected X=LO:HI:N,Y=LO:HI:M, e.g. precip=-3:3:60,temp=-3:3:60".into(),
        ));
    };
    fn axis(a: &str) -> Option<(&str, &str)> {
        a.rsplit_once('=').filter(|(c, _)| !c.trim().is_empty())
    }
    let ((xc, xl), (yc, yl)) = match (axis(x), axis(y)) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(bad("each axis is COLUMN=LO:HI:BINS".into())),
    };
    let grid = Grid::parse(xl, yl).map_err(bad)?;
    Ok((
        spec::Column(xc.trim().to_owned()),
        spec::Column(yc.trim().to_owned()),
        grid,
    ))
}

/// A word quoted for a POSIX shell, only when it needs it; `$NAME` stays a
/// variable (in double quotes) so printed commands can use placeholders.
pub fn shell_word(w: &str) -> String {
    let var = w.strip_prefix('$').is_some_and(|v| {
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if var {
        format!("\"{w}\"")
    } else if !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,#@%+".contains(&b))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// True when the error is a closed downstream pipe (`| head`): not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || matches!(c.downcast_ref::<Error>(), Some(Error::Io(io)) if io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// True when the error is a full disk or quota (ENOSPC, EDQUOT).
pub fn is_no_space(e: &anyhow::Error) -> bool {
    let full = |io: &std::io::Error| {
        io.kind() == std::io::ErrorKind::StorageFull
            || io.kind() == std::io::ErrorKind::QuotaExceeded
    };
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(full)
            || matches!(c.downcast_ref::<Error>(), Some(Error::Io(io)) if full(io))
    })
}

/// Where standard output goes, when it is a file (Linux's /proc names it).
fn stdout_path() -> Option<String> {
    std::fs::read_link("/proc/self/fd/1")
        .ok()
        .map(|p| p.display().to_string())
        .filter(|p| p.starts_with('/'))
}

/// The exit code of a binary's `run()`: errors print with their causes,
/// a full disk with the file being written (exit
/// [`crate::error::NO_SPACE_EXIT`]: another attempt on the same disk
/// fails the same way).
pub fn exit(program: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if is_no_space(&e) => {
            let at = stdout_path().map_or(String::new(), |p| format!(" ({p})"));
            eprintln!(
                "{program}: error: writing standard output{at}: {e:#}: free space on that disk \
                 (or raise the quota) and run again"
            );
            ExitCode::from(crate::error::NO_SPACE_EXIT)
        }
        Err(e) => {
            eprintln!("{program}: error: {e:#}");
            let usage = e
                .chain()
                .any(|c| c.downcast_ref::<Error>().is_some_and(Error::is_usage));
            if let Some(x) = e
                .chain()
                .find_map(|c| c.downcast_ref::<crate::error::Exit>())
            {
                ExitCode::from(x.code)
            } else if usage {
                ExitCode::from(crate::error::USAGE_EXIT)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
