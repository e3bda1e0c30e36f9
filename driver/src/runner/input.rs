//! Resolving `--input` (files, directories, globs) and reading the header
//! that gives every split its schema.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mapfold_core::cli::JobArgs;
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

/// Hidden files, as Hadoop's `FileInputFormat` skips them.
fn hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

/// Expands files, directories (their non-hidden files) and globs, in a
/// stable order.
pub fn resolve(inputs: &[String]) -> anyhow::Result<Vec<InputFile>> {
    let mut paths = Vec::new();
    for i in inputs {
        let p = Path::new(i);
        let meta = std::fs::metadata(p);
        if let Err(e) = &meta
            && e.kind() != std::io::ErrorKind::NotFound
        {
            bail!("--input {i:?}: {e}");
        }
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("listing {i}"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !hidden(p))
                .collect();
            v.sort();
            paths.extend(v);
        } else if p.is_file() {
            paths.push(p.to_path_buf());
        } else if i.contains(['*', '?', '[']) {
            let mut v: Vec<PathBuf> = glob::glob(i)
                .with_context(|| format!("bad glob {i:?}"))?
                .filter_map(Result::ok)
                .filter(|p| p.is_file() && !hidden(p))
                .collect();
            if v.is_empty() {
                bail!("--input {i:?} matches no files");
            }
            v.sort();
            paths.extend(v);
        } else {
            bail!("--input {i:?}: no such file or directory");
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
                        spec.keys[j].0.clone(),
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
