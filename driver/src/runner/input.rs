//! Resolving `--input` (files, directories, globs) and reading the header
//! that gives every split its schema.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mapfold_core::binary::{Input, Layout, NPY_MAGIC, Npy, parse_npy};
use mapfold_core::cli::{InputFormat, JobArgs};
use mapfold_core::job::Job;

/// An input file, with its size and modification time when the job's
/// splits were planned: the job reads exactly that (see
/// [`check_unchanged`]).
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<std::time::SystemTime>,
}

impl InputFile {
    /// How the file differs from when it was planned, if it does.
    pub fn change(&self) -> Option<String> {
        let m = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) => return Some(format!("it can no longer be read ({e})")),
        };
        if m.len() != self.size {
            return Some(format!(
                "its size went from {} to {} bytes",
                self.size,
                m.len()
            ));
        }
        (m.modified().ok() != self.modified)
            .then(|| "it was modified (same size, new modification time)".to_owned())
    }

    /// The file's compression, by its suffix as Hadoop's
    /// `CompressionCodecFactory` picks it: a compressed file is read whole,
    /// as one split.
    pub fn codec(&self) -> Option<Codec> {
        Codec::of(&self.path.display().to_string())
    }

    /// Reads the file from the start, decompressed (see [`Codec`]).
    pub fn open(&self) -> anyhow::Result<Box<dyn Read + Send>> {
        let f =
            File::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
        let f = BufReader::with_capacity(1 << 20, f);
        Ok(match self.codec() {
            Some(c) => c.decoder(f)?,
            None => Box::new(f),
        })
    }
}

/// How a job's input files store their records, resolved (see
/// [`resolve_format`]): each format is one record reader behind
/// [`super::split::plan`] and [`super::split::feed`], and one
/// `-inputformat` for Hadoop. The job's flags say it (`--input-format`,
/// and for arrays `--dtype`, `--columns`, `--data-offset`), so the tasks
/// read what the runner planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV/TSV lines (TextInputFormat).
    Text,
    /// SequenceFiles, records as `KEY<TAB>VALUE` lines
    /// (SequenceFileAsTextInputFormat).
    Sequence,
    /// Rows of a binary array (FixedLengthInputFormat, rawbytes).
    Array(Layout),
}

impl Format {
    /// The format `job` says.
    pub fn of(job: &JobArgs) -> Self {
        match job.input_format() {
            Ok(InputFormat::Sequence) => Self::Sequence,
            Ok(InputFormat::Raw) => match job.job().map(|j| j.input) {
                Ok(Input::Raw(l)) => Self::Array(l),
                _ => Self::Text,
            },
            _ => Self::Text,
        }
    }

    /// Hadoop streaming's generic options for the format (before -files).
    pub fn hadoop_conf(self) -> Vec<String> {
        match self {
            Self::Array(l) => vec![
                "-D".to_owned(),
                format!("fixedlengthinputformat.record.length={}", record_len(l)),
                "-D".to_owned(),
                "stream.map.input=rawbytes".to_owned(),
            ],
            Self::Text | Self::Sequence => Vec::new(),
        }
    }

    /// Hadoop streaming's `-inputformat` for the format.
    pub fn hadoop_args(self) -> Vec<String> {
        let class = match self {
            Self::Text => return Vec::new(),
            Self::Sequence => "org.apache.hadoop.mapred.SequenceFileAsTextInputFormat",
            Self::Array(_) => "org.apache.hadoop.mapred.FixedLengthInputFormat",
        };
        vec!["-inputformat".to_owned(), class.to_owned()]
    }

    /// The smallest split Hadoop cuts for the format (`setMinSplitSize`).
    pub fn min_split(self) -> u64 {
        match self {
            Self::Sequence => super::seqfile::SYNC_INTERVAL,
            Self::Text | Self::Array(_) => 1,
        }
    }

    /// Each file must be one split: an array whose header is not a whole
    /// number of rows, read as records that a row may span.
    pub fn whole_files(self) -> bool {
        matches!(self, Self::Array(l) if l.data_offset % row_len(l) != 0)
    }
}

/// Bytes of one row of `l`.
pub fn row_len(l: Layout) -> u64 {
    (l.dtype.size() * l.columns) as u64
}

/// The record length Hadoop's FixedLengthInputFormat reads an array in:
/// a row, when the header is whole rows (records past it are rows, and
/// any split holds whole rows); else the largest length that divides both
/// the header and a row, so that the file is whole records, each file one
/// split, whose records the mapper joins into rows.
pub fn record_len(l: Layout) -> u64 {
    let row = row_len(l);
    let (mut a, mut b) = (row, l.data_offset);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resolves `job`'s input format from the first bytes of its inputs
/// (`starts`, `(name, bytes)`, at least a `.npy` header's worth) when it
/// is `auto`, checks that every input is of it (a Hadoop job reads one
/// input format), and writes into the job what its tasks read by: a
/// SequenceFile's records are tab-separated lines unless the job names
/// another delimiter; a `.npy` file's layout becomes `--input-format raw`
/// with its dtype, columns and header length, the same for every input.
pub fn resolve_format(job: &mut JobArgs, starts: &[(String, Vec<u8>)]) -> anyhow::Result<Format> {
    let seq = |b: &[u8]| super::seqfile::is_sequence(b);
    let npy = |b: &[u8]| b.starts_with(NPY_MAGIC);
    let asked = job.input_format()?;
    let kinds: Vec<(&str, InputFormat)> = starts
        .iter()
        .map(|(name, b)| {
            let k = if seq(b) {
                InputFormat::Sequence
            } else if npy(b) {
                InputFormat::Npy
            } else {
                InputFormat::Text
            };
            (name.as_str(), k)
        })
        .collect();
    let format = match asked {
        InputFormat::Auto => match kinds.first() {
            None => InputFormat::Text,
            Some(&(first, k)) => {
                if let Some(&(other, j)) = kinds.iter().find(|(_, j)| *j != k) {
                    bail!(
                        "{first} is {} but {other} is {}: a job reads one input format, as on \
                         Hadoop; run them as separate jobs",
                        k.describe(),
                        j.describe()
                    );
                }
                k
            }
        },
        InputFormat::Sequence | InputFormat::Npy => {
            if let Some((name, k)) = kinds.iter().find(|(_, k)| *k != asked) {
                bail!(
                    "{name} is {}, not {} as --input-format {} says",
                    k.describe(),
                    asked.describe(),
                    asked.as_str()
                );
            }
            asked
        }
        InputFormat::Text | InputFormat::Raw => asked,
    };
    match format {
        InputFormat::Sequence => {
            job.set_input_format(InputFormat::Sequence);
            if job.delimiter == "," {
                job.delimiter = "tab".to_owned();
            }
        }
        InputFormat::Npy => {
            let mut agreed: Option<(&str, Npy)> = None;
            for (name, b) in starts {
                let n = parse_npy(b)
                    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?
                    .ok_or_else(|| anyhow::anyhow!("{name} is not a .npy file"))?;
                match agreed {
                    None => agreed = Some((name, n)),
                    Some((first, a))
                        if (a.dtype, a.columns, a.data_offset)
                            != (n.dtype, n.columns, n.data_offset) =>
                    {
                        bail!(
                            "{first} holds {} columns of {} after a {}-byte header, but {name} \
                             {} of {} after {} bytes: one job reads arrays of one layout",
                            a.columns,
                            a.dtype.name(),
                            a.data_offset,
                            n.columns,
                            n.dtype.name(),
                            n.data_offset
                        );
                    }
                    Some(_) => {}
                }
            }
            if let Some((_, n)) = agreed {
                job.set_input_format(InputFormat::Raw);
                job.dtype = Some(n.dtype.name().to_owned());
                job.columns = n.columns;
                job.data_offset = n.data_offset as usize;
            }
        }
        InputFormat::Raw => {
            // A .npy file read raw past its header is its rows (how the
            // runners hand a resolved .npy job on).
            for (name, b) in starts {
                let header = parse_npy(b).ok().flatten().map(|n| n.data_offset);
                if seq(b) || header.is_some_and(|h| h != job.data_offset as u64) {
                    bail!(
                        "{name} starts with a header ({}): read it without --input-format raw",
                        if seq(b) {
                            "a SequenceFile's"
                        } else {
                            "a .npy array's"
                        }
                    );
                }
            }
        }
        // Text is what a task reads unless told otherwise: left out of
        // its words.
        InputFormat::Text | InputFormat::Auto => job.set_input_format(InputFormat::Auto),
    }
    let format = Format::of(job);
    if let Format::Array(_) = format {
        // The columns exist, under their names 0..N-1 or --schema's.
        let spec = job.job()?;
        mapfold_core::job::Plan::bind(&spec, spec.schema.as_deref())?;
    }
    Ok(format)
}

/// A compression Hadoop reads by suffix, and mapfold with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `.gz` (GzipCodec): concatenated members too.
    Gzip,
    /// `.bz2` (BZip2Codec): concatenated streams too (pbzip2).
    Bzip2,
    /// `.zst` (ZStandardCodec): every frame.
    Zstd,
    /// `.deflate` (DefaultCodec): one zlib stream.
    Deflate,
}

impl Codec {
    pub fn of(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "gz" => Self::Gzip,
            "bz2" => Self::Bzip2,
            "zst" => Self::Zstd,
            "deflate" => Self::Deflate,
            _ => return None,
        })
    }

    /// The decompressed bytes of `r`.
    pub fn decoder<'a, R: std::io::BufRead + Send + 'a>(
        self,
        r: R,
    ) -> anyhow::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Self::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Self::Deflate => Box::new(flate2::bufread::ZlibDecoder::new(r)),
        })
    }
}

/// The paths of one `--input` value, split as Hadoop's
/// `FileInputFormat.getPathStrings` splits them: at commas outside `{}`.
fn hadoop_paths(value: &str) -> Vec<String> {
    let mut out = split_outside_braces(value);
    out.retain(|p| !p.is_empty());
    out
}

/// `{a,b}` alternatives expanded into whole patterns (the `glob` crate
/// has none), innermost last: `x{1,2}` is `x1` and `x2`.
fn alternatives(pattern: &str) -> Vec<String> {
    // Braces escaped with `\` (GlobPattern's escape) are characters.
    let unescaped = || {
        let mut escaped = false;
        pattern.char_indices().filter(move |&(_, c)| {
            let plain = !escaped;
            escaped = plain && c == '\\';
            plain
        })
    };
    let Some(open) = unescaped().find(|&(_, c)| c == '{').map(|(i, _)| i) else {
        return vec![pattern.to_owned()];
    };
    let mut depth = 0;
    let Some(close) = unescaped()
        .skip_while(|&(i, _)| i < open)
        .find_map(|(j, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(j)
        })
    else {
        return vec![pattern.to_owned()];
    };
    let (head, inner, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    split_outside_braces(inner)
        .into_iter()
        .flat_map(|alt| alternatives(&format!("{head}{alt}{tail}")))
        .collect()
}

/// `value` split at commas outside `{}`, empty parts kept (`{,x}` has
/// two alternatives).
fn split_outside_braces(value: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0u32);
    for c in value.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// A Hadoop glob (braces expanded) as the `glob` crate writes it: `\c`,
/// Hadoop's escape, is the character `c` (`[c]` for one the crate takes
/// as a pattern), so `x\[1\].csv` names the file `x[1].csv`.
fn glob_of(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some(e @ ('[' | ']' | '*' | '?')) => {
                    out.push('[');
                    out.push(e);
                    out.push(']');
                }
                Some(e) => out.push(e),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// What one input path names: itself, or what it matches as a glob.
fn matches(i: &str) -> anyhow::Result<Vec<PathBuf>> {
    let p = Path::new(i);
    if !i.contains(['*', '?', '[', '{', '\\']) {
        match std::fs::metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("--input {i:?}: no such file or directory")
            }
            Err(e) => bail!("--input {i:?}: {e}"),
            Ok(_) if hidden(p) => bail!(
                "--input {i:?}: its name starts with `_` or `.`, which Hadoop's FileInputFormat \
                 takes as hidden (it would match no file there): rename it"
            ),
            Ok(_) => return Ok(vec![p.to_path_buf()]),
        }
    }
    let mut v = Vec::new();
    for pattern in alternatives(i) {
        let found = glob::glob(&glob_of(&pattern)).with_context(|| format!("bad glob {i:?}"))?;
        v.extend(found.filter_map(Result::ok).filter(|p| !hidden(p)));
    }
    v.sort();
    v.dedup();
    if v.is_empty() {
        bail!("--input {i:?} matches no files");
    }
    Ok(v)
}

/// The files of directory `dir` (not hidden), in name order, into `out`.
fn list_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !hidden(p))
        .collect();
    v.sort();
    for p in v {
        if !p.is_dir() {
            out.push(p);
        } else if recursive {
            list_dir(&p, true, out)?;
        } else {
            bail!(
                "{} is a directory inside the input directory {}: Hadoop fails on it (\"Not a \
                 file\"); pass --recursive to read the files below it too, or move it out",
                p.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Hidden files, as Hadoop's `FileInputFormat` skips them.
fn hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

/// Expands `--input` values as Hadoop's `FileInputFormat` does, so that one
/// command means the same files on every runner: a value is split at
/// commas outside braces (`a.csv,b.csv`), each part is a glob (`*`, `?`,
/// `[...]`, `{a,b}`), a directory stands for its files, and files and
/// directories whose names start with `_` or `.` are hidden (skipped in
/// listings, refused when named). A directory inside an input directory
/// fails, as on Hadoop ("Not a file"), unless `recursive` (Hadoop's
/// `mapreduce.input.fileinputformat.input.dir.recursive`). Stable order.
pub fn resolve(inputs: &[String], recursive: bool) -> anyhow::Result<Vec<InputFile>> {
    let mut paths = Vec::new();
    for value in inputs {
        for i in hadoop_paths(value) {
            for p in matches(&i)? {
                if p.is_dir() {
                    list_dir(&p, recursive, &mut paths)?;
                } else {
                    paths.push(p);
                }
            }
        }
    }
    if paths.is_empty() {
        bail!("no input files (directories were empty)");
    }
    paths
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).with_context(|| format!("reading {}", p.display()))?;
            let path = std::fs::canonicalize(&p).unwrap_or(p);
            Ok(InputFile {
                path,
                size: meta.len(),
                modified: meta.modified().ok(),
            })
        })
        .collect()
}

/// Fails naming the first input that changed since the job was planned
/// (truncated, appended to, rewritten, removed): its splits were cut for
/// the old contents, so lines may be lost, cut or read twice.
pub fn check_unchanged(files: &[InputFile]) -> anyhow::Result<()> {
    for f in files {
        if let Some(change) = f.change() {
            bail!(
                "the input {} changed while the job ran: {change}; nothing was committed. Run \
                 the job again once the file is complete (copy a file that is still being \
                 written, and read the copy)",
                f.path.display()
            );
        }
    }
    Ok(())
}

/// Refuses an input that is not text: a NUL byte in its first 64 KiB (after
/// decompressing `.gz`) means a binary or otherwise compressed file, whose
/// "lines" would all be malformed (and whose first would become the schema).
pub fn check_text(heads: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    for (name, head) in heads {
        if head[..head.len().min(64 << 10)].contains(&0) {
            bail!(
                "{name} is not text (a NUL byte in its first 64 KiB): mapfold reads CSV or TSV \
                 text, plain or compressed as .gz, .bz2, .zst or .deflate; is it binary, or \
                 compressed another way (its name must end with the codec's suffix)?"
            );
        }
    }
    Ok(())
}

/// A key column that holds, at the start of some input, an integer written
/// with leading zeros or a sign (`02134`): the column holds codes, which
/// sort as written only when every key field is text (`--text-keys`).
/// The column's name or number and the value, when one does.
pub fn padded_key(
    heads: &[(String, Vec<u8>)],
    spec: &Job,
) -> anyhow::Result<Option<(String, String)>> {
    use mapfold_core::lines::{Framing, MAX_LINE, for_each_record};
    let plan = mapfold_core::job::Plan::bind(spec, spec.schema.as_deref())?;
    if plan.keys.is_empty() {
        return Ok(None);
    }
    let mut splitter = mapfold_core::record::Splitter::new(spec.delimiter);
    let mut found = None;
    for (_, head) in heads {
        let mut look = |l: &[u8], _| -> std::io::Result<()> {
            let n = splitter.split(l);
            for (j, &k) in plan.keys.iter().enumerate() {
                if k < n
                    && let Some(f) = splitter.field(l, k)
                    && mapfold_core::key::is_padded_integer(f)
                {
                    found = Some((
                        spec.keys[j].text.clone(),
                        String::from_utf8_lossy(f).into_owned(),
                    ));
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
            }
            Ok(())
        };
        let _ = for_each_record(
            &head[..],
            Framing::text(spec.delimiter),
            MAX_LINE,
            &mut (&mut look, |_| Ok(())),
        );
        if found.is_some() {
            break;
        }
    }
    Ok(found)
}

/// The start of an input file as the driver looks at it: its first 64 KiB,
/// or up to 16 MiB while no line has ended (a header of thousands of
/// columns is longer).
pub fn head(file: &InputFile) -> anyhow::Result<Vec<u8>> {
    if file.codec().is_none() {
        // A SequenceFile's records, from its first 4 MiB (a compressed
        // block is 1 MB by default); other files are not read that far.
        let mut f =
            File::open(&file.path).with_context(|| format!("opening {}", file.path.display()))?;
        let mut start = Vec::new();
        (&mut f)
            .take(4)
            .read_to_end(&mut start)
            .with_context(|| format!("reading {}", file.path.display()))?;
        if super::seqfile::is_sequence(&start) {
            f.take(4 << 20)
                .read_to_end(&mut start)
                .with_context(|| format!("reading {}", file.path.display()))?;
            return Ok(super::seqfile::head(&start));
        }
    }
    let mut r = file.open()?;
    let mut head = Vec::new();
    let reading = || format!("reading {}", file.path.display());
    (&mut r)
        .take(64 << 10)
        .read_to_end(&mut head)
        .with_context(reading)?;
    if head.len() == 64 << 10 && !head.iter().any(|&b| b == b'\n' || b == b'\r') {
        r.take(16 << 20)
            .read_to_end(&mut head)
            .with_context(reading)?;
    }
    Ok(head)
}

#[cfg(feature = "emr")]
/// The text at the start of an input stored as `name` whose first bytes
/// are `raw`: decompressed as far as they go when its suffix names a codec
/// (see [`Codec`]), as the tasks read it.
pub fn text_head(name: &str, raw: Vec<u8>) -> Vec<u8> {
    let Some(codec) = Codec::of(name) else {
        return raw;
    };
    let mut text = Vec::new();
    let Ok(mut z) = codec.decoder(&raw[..]) else {
        return text;
    };
    let mut chunk = [0u8; 8192];
    // The head ends mid-stream: keep what decompressed before the cut.
    while let Ok(n @ 1..) = z.read(&mut chunk) {
        text.extend_from_slice(&chunk[..n]);
    }
    text
}

/// What the driver decides once per job from the start of its inputs, so
/// that no two tasks can decide differently: whole files when a record
/// spans lines (a split could start inside it), the schema (from the header,
/// when none is given: every split gets it, so splits that never see the
/// header still resolve column names) and, when a key column holds codes
/// with leading zeros, text keys. Columns that do not exist fail here,
/// once, not in every task.
pub fn decide_from_heads(job: &mut JobArgs, heads: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let framing = mapfold_core::lines::Framing::text(job.job()?.delimiter);
    if !job.whole_files
        && let Some((name, _)) = heads
            .iter()
            .find(|(_, head)| mapfold_core::lines::spans_lines(head, framing))
    {
        eprintln!(
            "mapfold: {name} has quoted fields that hold line breaks: each input file is read \
             as one split (--whole-files)"
        );
        job.whole_files = true;
    }
    if job.schema.is_none() && job.schema_file.is_none() {
        job.schema = agreed_schema(heads, &job.job()?)?;
    }
    let spec = job.job()?;
    mapfold_core::job::Plan::bind(&spec, spec.schema.as_deref())?;
    if !job.text_keys
        && let Some((column, value)) = padded_key(heads, &spec)?
    {
        eprintln!(
            "mapfold: key column {column} holds codes with leading zeros ({value}): keys sort \
             as text (--text-keys)"
        );
        job.text_keys = true;
    }
    Ok(())
}

/// The first bytes of each local input as stored (up to 64 KiB: magic
/// numbers, a `.npy` header), named by path.
pub fn starts(files: &[InputFile]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    files
        .iter()
        .map(|f| {
            let mut b = Vec::new();
            File::open(&f.path)
                .and_then(|h| h.take(64 << 10).read_to_end(&mut b))
                .with_context(|| format!("reading {}", f.path.display()))?;
            Ok((f.path.display().to_string(), b))
        })
        .collect()
}

/// The heads of local inputs (see [`head`]), named by path.
pub fn heads(files: &[InputFile]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    files
        .iter()
        .map(|f| Ok((f.path.display().to_string(), head(f)?)))
        .collect()
}

/// The schema every split gets, from the start of every input (`(name,
/// first bytes)` pairs): the header of the first input that starts with
/// one, by the rule the tasks apply ([`mapfold_core::header`]), after
/// checking that every other input that starts with a header has the same.
/// mapfold reads columns by position in every split (splits past the start
/// of a file never see its header), so files whose headers order or name
/// the columns differently would be read from the wrong columns: refused
/// here, before any task runs, naming both files.
pub fn agreed_schema(heads: &[(String, Vec<u8>)], spec: &Job) -> anyhow::Result<Option<String>> {
    let mut first: Option<(&str, Vec<Vec<u8>>)> = None;
    for (source, head) in heads {
        let names = mapfold_core::map::header_of(spec, head)
            .with_context(|| format!("reading the header of {source}"))?;
        let Some(names) = names else { continue };
        match &first {
            None => first = Some((source, names)),
            Some((_, agreed)) if *agreed == names => {}
            Some((one, agreed)) => bail!(
                "{source} starts with the header {:?} but {one} with {:?}: mapfold reads \
                 columns by position (splits past the start of a file never see its header), \
                 so inputs with different headers would be read from the wrong columns; \
                 give them one column order, or run them as separate jobs",
                joined(&names),
                joined(agreed)
            ),
        }
    }
    let Some((source, names)) = first else {
        return Ok(None);
    };
    if let Some((i, name)) = names.iter().enumerate().find(|(_, n)| n.contains(&b',')) {
        bail!(
            "column {} of the header of {source}, {:?}, holds a comma, which a schema cannot \
             carry: pass --schema N1,N2,... to name the columns",
            i + 1,
            String::from_utf8_lossy(name)
        );
    }
    Ok(Some(joined(&names)))
}

fn joined(names: &[Vec<u8>]) -> String {
    names
        .iter()
        .map(|n| String::from_utf8_lossy(n))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input values resolve as Hadoop's FileInputFormat resolves `-input`.
    #[test]
    fn inputs_resolve_as_hadoop_resolves_them() {
        let d = tempfile::tempdir().expect("tempdir");
        let at = |p: &str| d.path().join(p);
        for f in [
            "a.csv",
            "b.csv",
            "c.txt",
            "dir/x.csv",
            "dir/_hidden.csv",
            "dir/sub/y.csv",
            "odd/x[1].csv",
            "odd/x1.csv",
            "odd/{a}.csv",
        ] {
            std::fs::create_dir_all(at(f).parent().expect("parent")).expect("mkdir");
            std::fs::write(at(f), "k\n1\n").expect("write");
        }
        std::fs::create_dir_all(at("dir/.cache")).expect("mkdir");
        let names = |inputs: &[String], recursive: bool| -> anyhow::Result<Vec<String>> {
            Ok(resolve(inputs, recursive)?
                .iter()
                .map(|f| {
                    f.path
                        .strip_prefix(std::fs::canonicalize(d.path()).expect("canon"))
                        .expect("inside")
                        .display()
                        .to_string()
                })
                .collect())
        };
        let p = |s: &str| vec![format!("{}/{s}", d.path().display())];
        let both = vec![format!("{0}/a.csv,{0}/b.csv", d.path().display())];
        assert_eq!(names(&both, false).expect("two"), ["a.csv", "b.csv"]);
        assert_eq!(
            names(&p("{a,b}.csv"), false).expect("braces"),
            ["a.csv", "b.csv"]
        );
        assert_eq!(names(&p("*.csv"), false).expect("glob"), ["a.csv", "b.csv"]);
        // Glob characters in names are escaped with `\`, as in Hadoop's
        // GlobPattern; unescaped they are a pattern.
        assert_eq!(
            names(&p("odd/x[1].csv"), false).expect("class"),
            ["odd/x1.csv"]
        );
        assert_eq!(
            names(&p("odd/x\\[1\\].csv"), false).expect("escaped"),
            ["odd/x[1].csv"]
        );
        assert_eq!(
            names(&p("odd/\\{a\\}.csv"), false).expect("escaped braces"),
            ["odd/{a}.csv"]
        );
        // A directory inside an input directory fails, naming it, unless
        // --recursive, which skips hidden files and directories too.
        let err = names(&p("dir"), false)
            .expect_err("a subdirectory")
            .to_string();
        assert!(err.contains("sub") && err.contains("--recursive"), "{err}");
        assert_eq!(
            names(&p("dir"), true).expect("recursive"),
            ["dir/sub/y.csv", "dir/x.csv"]
        );
        // A hidden file named outright is refused, as Hadoop matches none.
        let err = names(&p("dir/_hidden.csv"), false)
            .expect_err("hidden")
            .to_string();
        assert!(err.contains("hidden"), "{err}");
        assert!(names(&p("nope*.csv"), false).is_err());
    }
}
