//! Resolving `--input` (files, directories, globs) and reading the header
//! that gives every split its schema.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mapfold_core::job::Job;
use mapfold_core::record::{Splitter, parse_number};

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

    pub fn is_gzip(&self) -> bool {
        self.path.extension().is_some_and(|e| e == "gz")
    }

    /// Reads the file from the start, decompressing `.gz` (concatenated
    /// members too, as Hadoop's codec does).
    pub fn open(&self) -> anyhow::Result<Box<dyn Read + Send>> {
        let f =
            File::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
        Ok(if self.is_gzip() {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                1 << 20,
                f,
            )))
        } else {
            Box::new(f)
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
/// Returns the first file whose first 64 KiB hold a record that spans
/// lines (a quoted field with a line break), if one does.
pub fn check_text(files: &[InputFile], spec: &Job) -> anyhow::Result<Option<String>> {
    let framing = mapfold_core::lines::Framing::text(spec.delimiter);
    let mut spans = None;
    for f in files {
        let mut head = Vec::new();
        f.open()?
            .take(64 << 10)
            .read_to_end(&mut head)
            .with_context(|| format!("reading {}", f.path.display()))?;
        if head.contains(&0) {
            bail!(
                "{} is not text (a NUL byte in its first 64 KiB): mapfold reads CSV or TSV \
                 text, plain or .gz; is it binary, or compressed another way?",
                f.path.display()
            );
        }
        if spans.is_none() && mapfold_core::lines::spans_lines(&head, framing) {
            spans = Some(f.path.display().to_string());
        }
    }
    Ok(spans)
}

/// The first record of an input file (at most 16 MiB of it), as the
/// tasks read it.
pub fn first_line(file: &InputFile, spec: &Job) -> anyhow::Result<Vec<u8>> {
    let framing = mapfold_core::lines::Framing::text(spec.delimiter);
    mapfold_core::lines::first_record(file.open()?.take(16 << 20), framing)
        .with_context(|| format!("reading the header of {}", file.path.display()))
}

/// The schema of local inputs, from their first lines (see [`agreed_schema`]).
pub fn header_schema(files: &[InputFile], spec: &Job) -> anyhow::Result<Option<String>> {
    let firsts = files
        .iter()
        .map(|f| Ok((f.path.display().to_string(), first_line(f, spec)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    agreed_schema(&firsts, spec)
}

/// The schema every split gets, from the first lines of all inputs
/// (`(name, first line)` pairs): the header of the first input that has a
/// line, after checking that no other input starts with a different header.
/// mapfold reads columns by position in every split (splits past the start
/// of a file never see its header), so files whose headers order or name
/// the columns differently would be read from the wrong columns: refused
/// here, before any task runs, naming both files.
pub fn agreed_schema(firsts: &[(String, Vec<u8>)], spec: &Job) -> anyhow::Result<Option<String>> {
    let Some((source, line)) = firsts.iter().find(|(_, l)| !trim_line(l).is_empty()) else {
        return Ok(None);
    };
    let Some(schema) = schema_from_line(line, spec, source)? else {
        return Ok(None);
    };
    let names: Vec<&str> = schema.split(',').collect();
    let used = spec.named_columns();
    for (other, l) in firsts {
        let fields = trimmed_fields(trim_line(l), spec);
        if fields.is_empty() || fields == names {
            continue;
        }
        // A header, not data: it has every name the job uses, or (columns
        // by index) the schema's width and no number in it.
        let header_like = if used.is_empty() {
            fields.len() == names.len()
                && fields.iter().all(|f| parse_number(f.as_bytes()).is_none())
        } else {
            used.iter().all(|u| fields.iter().any(|f| f == u))
        };
        if header_like {
            bail!(
                "{other} starts with the header {:?} but {source} with {:?}: mapfold reads \
                 columns by position (splits past the start of a file never see its header), \
                 so inputs with different headers would be read from the wrong columns; \
                 give them one column order, or run them as separate jobs",
                fields.join(","),
                names.join(",")
            );
        }
    }
    Ok(Some(schema))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut line = line;
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

fn trimmed_fields(line: &[u8], spec: &Job) -> Vec<String> {
    if line.is_empty() {
        return Vec::new();
    }
    let mut s = Splitter::new(spec.delimiter);
    let n = s.split(line);
    (0..n)
        .filter_map(|i| s.field(line, i))
        .map(|f| String::from_utf8_lossy(f).trim().to_owned())
        .collect()
}

/// The schema in `line` (the first line of `source`), when it is a header.
pub fn schema_from_line(line: &[u8], spec: &Job, source: &str) -> anyhow::Result<Option<String>> {
    let line = trim_line(line);
    if line.is_empty() {
        return Ok(None);
    }
    let names = trimmed_fields(line, spec);
    // Columns by index: the line is data when its value is a number or a
    // missing-value token; without a value column there is no telling, so
    // it is data (pass --schema to name a header).
    let value_is_data = spec.what.values.first().is_none_or(|v| {
        v.resolve(None)
            .ok()
            .and_then(|i| names.get(i))
            .is_some_and(|f| parse_number(f.as_bytes()).is_some() || spec.na.is(f.as_bytes()))
    });
    if !spec.needs_names() && value_is_data {
        return Ok(None);
    }
    if names.iter().any(|n| n.is_empty() || n.contains(',')) {
        bail!(
            "the header of {source} has empty names or names with commas; pass --schema N1,N2,..."
        );
    }
    Ok(Some(names.join(",")))
}
