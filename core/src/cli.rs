//! What the three streaming binaries share: the job flags (also passed
//! through by the `mapfold` driver) and the exit-code convention.

use std::process::ExitCode;

use crate::agg::{Given, Measures, What};
use crate::error::Error;
use crate::header::HeaderMode;
use crate::job::Job;
use crate::spec::{self, Column, Where};

/// The job flags of `mapfold-map`, flattened into `mapfold run` as well.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct JobArgs {
    /// The value columns and the measures.
    #[command(flatten)]
    pub what: WhatArgs,

    /// Group by these columns (comma-separated names or indices), or by
    /// what is derived from one: `month(date)` (also year, quarter, week,
    /// day, hour, minute), `bin(x, 0.5)`, `file` (the input file's name),
    /// `hour(file)` (a timestamp in it). Without it, all rows form one
    /// group with key `*`.
    #[arg(long, value_name = "COL[,COL...]")]
    pub key: Vec<String>,

    /// The order of numeric dates such as `01/04/2016` in time-bucket keys:
    /// `mdy` (January 4th) or `dmy` (April 1st); without it they are
    /// malformed.
    #[arg(long, value_name = "mdy|dmy")]
    pub date_order: Option<String>,

    /// Sort every key field as text, by bytes. Key fields are always
    /// grouped exactly as written (`007` and `7` are two groups); by
    /// default those that are integers written the usual way (no leading
    /// zeros, no `+`) sort as numbers, so years come in order. `mapfold run`
    /// sets this when a key column holds integers with leading zeros (ZIP
    /// codes, station ids), so such codes sort as written.
    #[arg(long)]
    pub text_keys: bool,

    /// Field texts that mean "missing" in a column read as a number
    /// (comma-separated; an empty item is the empty field; `none` for
    /// none; default: the empty field, NA, N/A, n/a, #N/A, NULL, null,
    /// None, \N, <NA>). A missing value is counted as `missing`, and a
    /// comparison with a missing field does not hold.
    #[arg(long, value_name = "LIST", default_value = spec::DEFAULT_NA, hide_default_value = true)]
    pub na_values: String,

    /// Field texts that mean "missing" in a column read as text: keys
    /// (a missing key forms its own group `\N`), --distinct columns and
    /// text comparisons (default: the empty field and \N, so a word such
    /// as `None` or `NA` is a word).
    #[arg(long, value_name = "LIST", default_value = spec::DEFAULT_TEXT_NA, hide_default_value = true)]
    pub text_na_values: String,

    /// Read numbers whose digits are grouped with this character (`,` `.`
    /// `'` `_` or `space`): `23,288` as 23288 (a comma-separated file
    /// quotes such fields: `"23,288"`). Only well-formed groups are read
    /// (`1,5` stays malformed).
    #[arg(long, value_name = "C")]
    pub thousands: Option<String>,

    /// Column names, for splits that never see the header line (on a
    /// cluster, from the job configuration's `mapfold.schema`, which Hadoop
    /// streaming exports as `$mapfold_schema`).
    #[arg(long, value_name = "N1,N2,...")]
    pub schema: Option<String>,

    /// --schema read from a file (its first line): for headers too long
    /// for a command line, which the runners ship this way.
    #[arg(long, value_name = "PATH", conflicts_with = "schema")]
    pub schema_file: Option<std::path::PathBuf>,

    /// Whether each file starts with a header line: `auto` decides from
    /// the first line (only the first line of a file can be a header; see
    /// the README), `yes`, `no`, or `every` (a later line equal to the
    /// header is one too: files joined with `cat`).
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = HeaderMode::Auto)]
    pub header: HeaderMode,

    /// Field delimiter: one character, `tab` or `space`.
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: String,

    /// Keep only rows where this holds: `COL OP NUMBER` (OP: < <= > >= ==
    /// !=), `COL==WORD` or `COL!=WORD` (text; quote a number to compare it
    /// as text: `zip=="02134"`), or `COL in A,B,C`. Repeatable; all must
    /// hold.
    #[arg(long = "where", value_name = "EXPR")]
    pub wheres: Vec<String>,

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

    /// Read each input file as one split: needed when quoted fields hold
    /// line breaks, as a split may start inside such a record (`mapfold
    /// run` sets it when the start of an input has one; a task of a split
    /// without it fails on such a record rather than misread it).
    #[arg(long)]
    pub whole_files: bool,

    /// `text`, `npy` (a 1-D or 2-D NumPy array), `raw` (rows of --columns
    /// --dtype values, as `tofile` writes them), `sequence` (Hadoop
    /// SequenceFiles; mapfold run), or `auto` (by the first bytes). An
    /// array's columns are named 0 to N-1 unless --schema names them.
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    pub input_format: String,

    /// A raw array's numbers: bool, u8..u64, i8..i64, f32, f64.
    #[arg(long, value_name = "TYPE")]
    pub dtype: Option<String>,

    /// Values per row of a raw array.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub columns: usize,

    /// Bytes before a raw file's first row (a header).
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub data_offset: usize,
}

/// How input records are stored (see [`JobArgs::input_format`]), parsed
/// by hand: a second clap value enum costs the static mapper kilobytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    /// By the inputs' first bytes: a SequenceFile (`SEQ`), a `.npy` array,
    /// else text.
    #[default]
    Auto,
    /// CSV/TSV lines, plain or compressed (Hadoop's TextInputFormat).
    Text,
    /// Hadoop SequenceFiles: each record reaches the mapper as the line
    /// `KEY<TAB>VALUE` (SequenceFileAsTextInputFormat).
    Sequence,
    /// A NumPy `.npy` array.
    Npy,
    /// A raw binary array (--dtype, --columns).
    Raw,
}

impl InputFormat {
    const ALL: [Self; 5] = [Self::Auto, Self::Text, Self::Sequence, Self::Npy, Self::Raw];

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| "one of auto, text, sequence, npy, raw".to_owned())
    }

    /// What an input of this format is, in a message.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Auto | Self::Text => "text",
            Self::Sequence => "a SequenceFile",
            Self::Npy => "a .npy array",
            Self::Raw => "a raw array",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Text => "text",
            Self::Sequence => "sequence",
            Self::Npy => "npy",
            Self::Raw => "raw",
        }
    }
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

    /// `--input-format`, validated.
    pub fn input_format(&self) -> Result<InputFormat, Error> {
        InputFormat::parse(&self.input_format).map_err(|why| Error::Flag {
            flag: "--input-format",
            value: self.input_format.clone(),
            why,
        })
    }

    /// Sets `--input-format`.
    pub fn set_input_format(&mut self, f: InputFormat) {
        self.input_format = f.as_str().to_owned();
    }

    /// Validates the flags into the [`Job`].
    pub fn job(&self) -> Result<Job, Error> {
        let flag = |flag, value: &str, why: String| Error::Flag {
            flag,
            value: value.to_owned(),
            why,
        };
        let schema = match (&self.schema, &self.schema_file) {
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
        if !(0.0..=1.0).contains(&self.max_malformed) {
            return Err(flag(
                "--max-malformed",
                &self.max_malformed.to_string(),
                "a fraction between 0 and 1".into(),
            ));
        }
        if self.max_groups == 0 {
            return Err(flag("--max-groups", "0", "at least 1".into()));
        }
        if self.max_memory == 0 {
            return Err(flag("--max-memory", "0", "at least 1 (MiB)".into()));
        }
        let delimiter = spec::parse_delimiter(&self.delimiter)?;
        let input = match self.input_format()? {
            InputFormat::Auto | InputFormat::Text | InputFormat::Sequence => {
                crate::binary::Input::Text
            }
            InputFormat::Npy => crate::binary::Input::Npy,
            InputFormat::Raw => {
                let dtype = self.dtype.as_deref().ok_or_else(|| {
                    flag(
                        "--input-format",
                        "raw",
                        "give the numbers' type with --dtype (f64, u8, ...)".into(),
                    )
                })?;
                let dtype = crate::binary::Dtype::parse(dtype)
                    .map_err(|why| flag("--dtype", dtype, why))?;
                if self.columns == 0 {
                    return Err(flag("--columns", "0", "at least 1".into()));
                }
                crate::binary::Input::Raw(crate::binary::Layout {
                    dtype,
                    columns: self.columns,
                    data_offset: self.data_offset as u64,
                })
            }
        };
        // An array's columns have names 0 to N-1, and no header line.
        let (schema, header) = match input {
            crate::binary::Input::Raw(l) => (schema.or_else(|| Some(l.names())), HeaderMode::No),
            crate::binary::Input::Npy => (schema, HeaderMode::No),
            crate::binary::Input::Text => (schema, self.header),
        };
        let thousands = self
            .thousands
            .as_deref()
            .map(|t| spec::parse_thousands(t, delimiter))
            .transpose()?;
        let date_order = match self.date_order.as_deref() {
            None => crate::derive::DateOrder::Unknown,
            Some("mdy") => crate::derive::DateOrder::Mdy,
            Some("dmy") => crate::derive::DateOrder::Dmy,
            Some(o) => return Err(flag("--date-order", o, "mdy or dmy".to_owned())),
        };
        Ok(Job {
            what: self.what.what()?,
            keys: split_keys(&self.key)
                .iter()
                .map(|k| crate::job::Key::parse(k))
                .collect::<Result<_, _>>()?,
            date_order,
            text_keys: self.text_keys,
            na: spec::Na::parse(&self.na_values).with_thousands(thousands),
            text_na: spec::Na::parse(&self.text_na_values),
            schema,
            delimiter,
            header,
            wheres: self
                .wheres
                .iter()
                .map(|w| {
                    let mut w = Where::parse(w)?;
                    if let spec::Test::Time(_, _, order) = &mut w.test {
                        *order = date_order;
                    }
                    Ok(w)
                })
                .collect::<Result<_, Error>>()?,
            max_malformed: self.max_malformed,
            max_groups: self.max_groups,
            max_bytes: self.max_memory.saturating_mul(1 << 20),
            whole_files: self.whole_files,
            input,
        })
    }

    /// The flags as words for `mapfold-map`, defaults left out, in a fixed
    /// order (so the same job always gives the same command line).
    pub fn to_words(&self) -> Vec<String> {
        let mut w = self.what.to_words();
        if !self.key.is_empty() {
            w.extend(["--key".to_owned(), self.key.join(",")]);
        }
        if let Some(o) = &self.date_order {
            w.extend(["--date-order".to_owned(), o.clone()]);
        }
        if self.text_keys {
            w.push("--text-keys".to_owned());
        }
        if self.whole_files {
            w.push("--whole-files".to_owned());
        }
        if self.na_values != spec::DEFAULT_NA {
            // `=` form: the list may start with a comma or be empty.
            w.push(format!("--na-values={}", self.na_values));
        }
        if self.text_na_values != spec::DEFAULT_TEXT_NA {
            w.push(format!("--text-na-values={}", self.text_na_values));
        }
        if let Some(t) = &self.thousands {
            w.push(format!("--thousands={t}"));
        }
        if let Some(s) = &self.schema {
            w.extend(["--schema".to_owned(), s.clone()]);
        }
        if let Some(p) = &self.schema_file {
            w.extend(["--schema-file".to_owned(), p.display().to_string()]);
        }
        if self.header != HeaderMode::Auto {
            w.extend(["--header".to_owned(), self.header.as_str().to_owned()]);
        }
        if self.delimiter != "," {
            w.extend(["--delimiter".to_owned(), self.delimiter.clone()]);
        }
        for x in &self.wheres {
            w.extend(["--where".to_owned(), x.clone()]);
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
        if self.input_format != "auto" {
            w.extend(["--input-format".to_owned(), self.input_format.clone()]);
        }
        if let Some(d) = &self.dtype {
            w.extend(["--dtype".to_owned(), d.clone()]);
        }
        if self.columns != 1 {
            w.extend(["--columns".to_owned(), self.columns.to_string()]);
        }
        if self.data_offset != 0 {
            w.extend(["--data-offset".to_owned(), self.data_offset.to_string()]);
        }
        w
    }
}

/// What a job computes: its value columns and its measures' flags (every
/// registered [`crate::agg::Measure`]'s, defined in its own file). The
/// mapper writes these words into its counters record, so a reducer
/// learns the job from its input; the runners also give them to every
/// reduce task (`$mapfold_report`). As `mapfold-reduce`'s flags they can be
/// given by hand, and are then checked against the job's.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct WhatArgs {
    /// Column to aggregate: a name (from --schema or the header line) or a
    /// 1-based index. Repeatable (or a comma list) for several columns in
    /// one pass; the JSON then has one object per column under its name.
    /// Without it, the job counts rows per key.
    #[arg(long, value_name = "COL[,COL...]", value_delimiter = ',')]
    pub value: Vec<String>,

    #[command(flatten)]
    pub measures: MeasureFlags,
}

/// [`WhatArgs`] alone, to parse its words.
#[derive(clap::Parser, Debug)]
#[command(no_binary_name = true)]
struct WhatWords {
    #[command(flatten)]
    what: WhatArgs,
}

impl WhatArgs {
    /// True when nothing is given (every default).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Validates the flags into what the job computes.
    pub fn what(&self) -> Result<What, Error> {
        let flag = |value: &str, why: String| Error::Flag {
            flag: "--value",
            value: value.to_owned(),
            why,
        };
        let values: Vec<&str> = self.value.iter().map(|v| v.trim()).collect();
        if values.len() > crate::group::MAX_COLUMNS {
            return Err(flag(
                &self.value.join(","),
                format!("at most {} value columns", crate::group::MAX_COLUMNS),
            ));
        }
        if let Some(v) = values
            .iter()
            .enumerate()
            .find_map(|(i, v)| values[..i].contains(v).then_some(v))
        {
            return Err(flag(v, "this column is named twice".into()));
        }
        let values: Vec<Column> = values.iter().map(|v| Column((*v).to_owned())).collect();
        let measures = Measures::parse(&self.measures.0, &values)?;
        Ok(What { values, measures })
    }

    /// The flags as words, defaults left out, in registry order.
    pub fn to_words(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.value.is_empty() {
            w.extend(["--value".to_owned(), self.value.join(",")]);
        }
        for f in Measures::flags() {
            for v in self.measures.0.get(f.name) {
                if f.default == Some(v.as_str()) {
                    continue;
                }
                // `=` form: a layout may start with a minus.
                w.push(match f.bare {
                    Some(b) if b == v => format!("--{}", f.name),
                    _ => format!("--{}={v}", f.name),
                });
            }
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

    /// Parses [`WhatArgs::encode`]'s token.
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
        <WhatWords as clap::Parser>::try_parse_from(words)
            .map(|w| w.what)
            .map_err(|_| bad())
    }
}

/// The registered measures' flags, as clap arguments built from each
/// measure's [`crate::agg::Flag`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeasureFlags(pub Given);

impl clap::FromArgMatches for MeasureFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut f = Self::default();
        f.update_from_arg_matches(m)?;
        Ok(f)
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        for f in Measures::flags() {
            let given = m.value_source(f.name) == Some(clap::parser::ValueSource::CommandLine);
            if let (true, Some(vs)) = (given, m.get_many::<String>(f.name)) {
                let values = vs.cloned().collect();
                match self.0.0.iter_mut().find(|(n, _)| *n == f.name) {
                    Some((_, v)) => *v = values,
                    None => self.0.0.push((f.name, values)),
                }
            }
        }
        Ok(())
    }
}

impl clap::Args for MeasureFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Measures::flags().fold(cmd, |cmd, f| {
            let mut a = clap::Arg::new(f.name)
                .long(f.name)
                .value_name(f.value_name)
                .help(f.help)
                .allow_hyphen_values(f.hyphen)
                .action(if f.repeat {
                    clap::ArgAction::Append
                } else {
                    clap::ArgAction::Set
                });
            if let Some(b) = f.bare {
                a = a.num_args(0..=1).default_missing_value(b);
            }
            if let Some(d) = f.default {
                a = a.default_value(d);
            }
            cmd.arg(a)
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// The `--key` items: each flag's value split at commas outside
/// parentheses (`bin(x, 0.5),year` is two).
fn split_keys(flags: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for f in flags {
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in f.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(f[start..i].trim().to_owned());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(f[start..].trim().to_owned());
    }
    out.retain(|k| !k.is_empty());
    out
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
